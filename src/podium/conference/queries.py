"""SQL for conference rooms."""

# Load of each Janus server: Σ over its open rooms of max(connected, reserve, 1), and the slots
# of placements still being made on Janus (a lease counts until its room is stored or it lapses).
SERVER_LOADS = """
SELECT janus_server, sum(load)::bigint AS load FROM (
    SELECT janus_server, greatest(connected, coalesce(reserve, 0), 1) AS load
    FROM conference_rooms
    WHERE backend = 'janus' AND janus_server IS NOT NULL
      AND (closed_at IS NULL OR closed_at > now())
    UNION ALL
    SELECT l.janus_server, l.slots FROM media_leases l
    WHERE l.expires_at > now()
      AND NOT EXISTS (SELECT 1 FROM conference_rooms r WHERE r.id = l.room_id)
) placed
GROUP BY janus_server
"""

# A placement's lease ($1 room, $2 server, $3 slots, $4 seconds); lapsed ones are cleared.
LEASE = """
WITH lapsed AS (DELETE FROM media_leases WHERE expires_at < now() - interval '1 hour')
INSERT INTO media_leases (room_id, janus_server, slots, expires_at)
VALUES ($1, $2, $3, now() + make_interval(secs => $4))
"""

DROP_LEASE = "DELETE FROM media_leases WHERE room_id = $1"

# What should be on the Janus servers: open rooms, and rooms closed lately (to destroy there).
JANUS_ROOMS = """
SELECT r.id, r.janus_server, r.janus_secret, r.reserve, c.kind, c.host,
       coalesce(c.title, c.scope) AS description, r.host_seen_at, r.source_room_id,
       r.closed_at IS NULL OR r.closed_at > now() AS open
FROM conference_rooms r JOIN classes c ON c.id = r.class_id
WHERE r.backend = 'janus' AND r.janus_server IS NOT NULL
  AND (r.closed_at IS NULL OR r.closed_at > now() - interval '1 day')
"""

# Held until the transaction ends: one placement lease (or join, or resize) at a time per server.
LOCK_SERVER = "SELECT pg_advisory_xact_lock(hashtext($1))"

# A class and its conference room by id, with the caller's grant there if any ($3: account).
MEDIA_TARGET = """
SELECT c.id AS class_id, c.kind, c.scope, c.host, c.conference_room_id AS room_id,
       (c.ends_at IS NOT NULL AND c.ends_at <= now()) OR r.closed_at IS NOT NULL AS closed,
       r.backend, r.janus_server, r.janus_secret, r.reserve, r.connected,
       r.source_room_id, g.id AS grant_id, g.revoked_at IS NOT NULL AS revoked,
       g.seated_room_id
FROM classes c JOIN conference_rooms r ON r.id = c.conference_room_id
LEFT JOIN media_grants g ON g.conference_room_id = r.id AND g.account_id = $3
WHERE c.id = $1 AND c.audience = $2
"""

# The account's grant in the class's room ($2), made or given its current role and its seat
# ($5: a replica room, or NULL for the class's own); a revoked one stays so. `counted`: it was
# handed out in that seat since the seat's room was last counted, so `connected` holds it.
UPSERT_GRANT = """
WITH old AS (
    SELECT g.admitted_at > coalesce(r.counted_at, '-infinity')
           AND g.seated_room_id IS NOT DISTINCT FROM $5::uuid AS counted
    FROM media_grants g JOIN conference_rooms r ON r.id = coalesce($5::uuid, $2)
    WHERE g.conference_room_id = $2 AND g.account_id = $3
)
INSERT INTO media_grants (id, conference_room_id, account_id, role, admitted_at, seated_room_id)
VALUES ($1, $2, $3, $4, now(), $5::uuid)
ON CONFLICT (conference_room_id, account_id)
DO UPDATE SET role = EXCLUDED.role, admitted_at = now(), seated_room_id = EXCLUDED.seated_room_id
RETURNING id, revoked_at IS NOT NULL AS revoked,
          coalesce((SELECT counted FROM old), false) AS counted
"""

CONNECTED = "SELECT connected FROM conference_rooms WHERE id = $1"
SET_CONNECTED = "UPDATE conference_rooms SET connected = $2 WHERE id = $1"

REVOKE_GRANT = """
INSERT INTO media_grants (id, conference_room_id, account_id, role, revoked_at)
VALUES ($1, $2, $3, 'subscriber', now())
ON CONFLICT (conference_room_id, account_id)
DO UPDATE SET revoked_at = coalesce(media_grants.revoked_at, now())
RETURNING id, seated_room_id
"""

# A room as hanging someone up there needs it.
SEAT_ROOM = "SELECT id AS room_id, janus_server, janus_secret FROM conference_rooms WHERE id = $1"

# The open replica rooms a viewer of the class's room ($1) may be seated in: the one they sit
# in already ($2) first (asking again is a reconnect), then the oldest.
SEATS = """
SELECT r.id AS room_id, r.janus_server, r.janus_secret, r.reserve, r.connected, r.source_room_id
FROM conference_rooms r
WHERE r.source_room_id = $1 AND r.backend = 'janus' AND r.janus_server IS NOT NULL
  AND (r.closed_at IS NULL OR r.closed_at > now())
ORDER BY r.id = $2 DESC NULLS LAST, r.created_at, r.id
"""

# A lifted ban gives the account its grant back (it joins again as before).
RESTORE_GRANT = """
UPDATE media_grants g SET revoked_at = NULL
FROM classes c
WHERE c.id = $1 AND c.audience = $2 AND g.conference_room_id = c.conference_room_id
  AND g.account_id = $3
"""

# Active grants of rooms: who may be in them (in the room they are seated in), and as what.
GRANTS = """
SELECT coalesce(seated_room_id, conference_room_id) AS conference_room_id, id, account_id, role
FROM media_grants
WHERE revoked_at IS NULL AND (seated_room_id = ANY($1::uuid[])
      OR (conference_room_id = ANY($1::uuid[]) AND seated_room_id IS NULL))
"""

# What a check saw: participants per room ($2), whether the host was there ($3), whether
# anyone was sending ($4: the first time marks when the room's first stream started).
SAW_ROOMS = """
UPDATE conference_rooms r
SET connected = s.connected, counted_at = now(),
    host_seen_at = CASE WHEN s.host_here THEN now() ELSE r.host_seen_at END,
    first_stream_at = CASE WHEN s.streaming THEN coalesce(r.first_stream_at, now())
                      ELSE r.first_stream_at END
FROM unnest($1::uuid[], $2::int[], $3::bool[], $4::bool[]) AS s (id, connected, host_here,
                                                                  streaming)
WHERE r.id = s.id
"""

# The grants of accounts in a class's conference room (to hang them up on Janus).
GRANTS_OF = """
SELECT g.id, r.id AS room_id, r.janus_server, r.janus_secret
FROM classes c JOIN media_grants g ON g.conference_room_id = c.conference_room_id
JOIN conference_rooms r ON r.id = coalesce(g.seated_room_id, g.conference_room_id)
WHERE c.id = $1 AND g.account_id = ANY($2::text[]) AND r.janus_server IS NOT NULL
"""

# -- forwarding presenters to replica rooms ---------------------------------------------------

# Open replica rooms whose source room is open, with both rooms' servers and secrets.
FORWARD_ROOMS = """
SELECT t.id AS target_id, t.janus_server AS target_server, t.janus_secret AS target_secret,
       s.id AS source_id, s.janus_server AS source_server, s.janus_secret AS source_secret
FROM conference_rooms t JOIN conference_rooms s ON s.id = t.source_room_id
WHERE t.backend = 'janus' AND t.janus_server IS NOT NULL AND s.janus_server IS NOT NULL
  AND (t.closed_at IS NULL OR t.closed_at > now())
  AND (s.closed_at IS NULL OR s.closed_at > now())
"""

# Every forward, with its rooms' servers and secrets (`busy`: a pass is setting it up).
FORWARDS = """
SELECT f.target_room_id, f.publisher_id, f.source_room_id, f.host, f.port, f.rtcp_port,
       f.streams, f.made_at, f.made_at IS NULL AND f.claimed_until > now() AS busy,
       t.janus_server AS target_server, t.janus_secret AS target_secret,
       s.janus_server AS source_server, s.janus_secret AS source_secret
FROM media_forwards f JOIN conference_rooms t ON t.id = f.target_room_id
JOIN conference_rooms s ON s.id = f.source_room_id
"""

# A pass takes a forward to set it up ($1 target, $2 publisher, $3 source, $4 seconds): a new
# one, or one whose setting up lapsed; another pass's claim or a made forward is left alone.
CLAIM_FORWARD = """
INSERT INTO media_forwards (target_room_id, publisher_id, source_room_id, claimed_until)
VALUES ($1, $2, $3, now() + make_interval(secs => $4))
ON CONFLICT (target_room_id, publisher_id) DO UPDATE
SET claimed_until = EXCLUDED.claimed_until, source_room_id = EXCLUDED.source_room_id
WHERE media_forwards.made_at IS NULL AND media_forwards.claimed_until <= now()
RETURNING true
"""

MADE_FORWARD = """
UPDATE media_forwards SET host = $3, port = $4, rtcp_port = $5, streams = $6, made_at = now()
WHERE target_room_id = $1 AND publisher_id = $2
"""

SET_FORWARD_STREAMS = """
UPDATE media_forwards SET streams = $3 WHERE target_room_id = $1 AND publisher_id = $2
"""

# Dropped only as it was seen ($3: its made_at), so a pass never drops another's fresh claim.
DROP_FORWARD = """
DELETE FROM media_forwards
WHERE target_room_id = $1 AND publisher_id = $2 AND made_at IS NOT DISTINCT FROM $3
"""

# Forwards made into each server (presenters shown in its replica rooms).
FORWARDS_IN = """
SELECT t.janus_server, count(*)::int AS forwards
FROM media_forwards f JOIN conference_rooms t ON t.id = f.target_room_id
WHERE f.made_at IS NOT NULL GROUP BY t.janus_server
"""
