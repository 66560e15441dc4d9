"""SQL for SIP dial-in."""

# $1 class, $2 audience, $3 kind or null; $4 the caller's account (their participant, if any).
CLASS = """
SELECT c.id, c.kind, c.sip_state, c.sip_dialin_id,
       (SELECT p.role FROM participants p WHERE p.class_id = c.id AND p.account_id = $4
          AND p.canceled_at IS NULL) AS account_role
FROM classes c WHERE c.id = $1 AND c.audience = $2 AND ($3::text IS NULL OR c.kind = $3)
"""

SET_STATE = """
UPDATE classes SET sip_state = $2, sip_dialin_id = coalesce(sip_dialin_id, $3), updated_at = now()
WHERE id = $1
"""

# The class's SIP state, its row held until the unit ends: PINs are drawn for one class at a
# time (NO KEY UPDATE: participants can still be added meanwhile).
LOCK_SIP_STATE = "SELECT sip_state FROM classes WHERE id = $1 FOR NO KEY UPDATE"

# Every participant's PIN (cancelled ones keep theirs: PINs stay unique in the class).
PINS = """
SELECT id, attendee_pin, canceled_at IS NOT NULL AS canceled FROM participants WHERE class_id = $1
"""

SET_PINS = """
UPDATE participants p SET attendee_pin = x.pin
FROM unnest($1::uuid[], $2::text[]) AS x (id, pin)
WHERE p.id = x.id AND p.attendee_pin IS NULL
"""

# The class a dial-in id names (SIP on, open, not cancelled) and, with a PIN, its attendee.
DIALIN = """
SELECT c.id AS class_id, c.kind, c.audience, c.scope, c.title, c.sip_state, c.event_room_id,
       c.conference_room_id, p.id AS participant_id, p.account_id, p.display_name, p.role
FROM classes c
LEFT JOIN participants p ON p.class_id = c.id AND p.attendee_pin = $2 AND p.canceled_at IS NULL
WHERE c.sip_dialin_id = $1 AND c.sip_state > 0 AND c.canceled_at IS NULL
  AND (c.ends_at IS NULL OR c.ends_at > now())
"""

# A nonce is spent once: a replayed request is refused for 30 days (then the nonce is forgotten;
# the original scheme carries no timestamp to refuse older ones by).
SPEND_NONCE = """
WITH gone AS (DELETE FROM sip_nonces WHERE seen_at < now() - interval '30 days')
INSERT INTO sip_nonces (nonce) VALUES ($1) ON CONFLICT DO NOTHING RETURNING nonce
"""
