"""SQL for the lobby and its waiting queue."""

from podium.auth.queries import LOBBY_TIMER

# When the lobby opens by itself: a number of minutes before the class's start (so it follows
# the start when that moves), or a fixed timer. The opener decides in SQL; reads select the parts
# (LOBBY_TIMER) and `auth.admission.opens_at` puts them together: the expression in every read
# measured 10-15 % of a class read's database time.
OPENS_AT = """CASE WHEN c.lobby_opens_before IS NOT NULL AND c.starts_at IS NOT NULL
    THEN c.starts_at - make_interval(mins => c.lobby_opens_before) ELSE c.lobby_timer END"""

_CLASS = f"""c.id, c.kind, c.audience, c.event_room_id,
    extract(epoch FROM c.starts_at)::bigint AS starts_at,
    c.ends_at IS NOT NULL AND c.ends_at <= now() AS closed, c.lobby_state,
    {LOBBY_TIMER}, c.lobby_message,
    (SELECT r.backend FROM conference_rooms r WHERE r.id = c.conference_room_id) AS backend"""

# $1 class id, $2 audience, $3 kind or null (the class routes of any kind).
CLASS = f"""
SELECT {_CLASS} FROM classes c
WHERE c.id = $1 AND c.audience = $2 AND ($3::text IS NULL OR c.kind = $3)
"""

SET = f"""
UPDATE classes c SET lobby_state = $2, lobby_timer = to_timestamp($3), lobby_message = $4,
                     lobby_opens_before = $5, updated_at = now()
WHERE c.id = $1
RETURNING {_CLASS}
"""

# Turning the lobby on moves everyone who does not bypass it out of the call: they must be
# admitted again. Answers their accounts (to hang them up on Janus).
HOLD_BACK = """
UPDATE participants SET admitted_at = NULL
WHERE class_id = $1 AND canceled_at IS NULL AND role NOT IN ('owner', 'moderator')
  AND NOT coalesce((permissions ->> 'ignore_lobby')::boolean, false)
  AND admitted_at IS NOT NULL
RETURNING account_id
"""

WAIT = """
UPDATE participants SET waiting_since = coalesce(waiting_since, now())
WHERE id = $1 AND admitted_at IS NULL
RETURNING id, display_name, picture, role
"""

QUEUE = """
SELECT id AS participant_id, display_name, picture, role,
       floor(extract(epoch FROM waiting_since) * 1000)::bigint AS waiting_since,
       denied_at IS NOT NULL AS denied
FROM participants
WHERE class_id = $1 AND canceled_at IS NULL AND waiting_since IS NOT NULL
  AND admitted_at IS NULL
ORDER BY waiting_since, id
"""

# $2: the ids to admit, or null for everyone waiting.
ADMIT = """
UPDATE participants SET admitted_at = now(), denied_at = NULL
WHERE class_id = $1 AND canceled_at IS NULL AND admitted_at IS NULL
  AND (($2::uuid[] IS NULL AND waiting_since IS NOT NULL) OR id = ANY($2::uuid[]))
RETURNING id
"""

DENY = """
UPDATE participants SET denied_at = now(), admitted_at = NULL
WHERE class_id = $1 AND canceled_at IS NULL AND id = ANY($2::uuid[])
RETURNING id
"""

SET_MESSAGE = """
UPDATE classes SET lobby_message = $2, updated_at = now() WHERE id = $1 RETURNING id
"""

# Lobbies whose timer has passed open now (a batch, skipping those another process holds).
OPEN_DUE = f"""
UPDATE classes c SET lobby_state = 0, lobby_timer = NULL, lobby_opens_before = NULL,
                     updated_at = now()
WHERE c.id IN (
    SELECT c.id FROM classes c
    WHERE c.lobby_state = 1 AND {OPENS_AT} <= now()
    LIMIT 100 FOR UPDATE SKIP LOCKED)
RETURNING c.id, c.audience, c.event_room_id
"""
