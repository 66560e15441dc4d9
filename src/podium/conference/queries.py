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
       coalesce(c.title, c.scope) AS description, r.host_seen_at,
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
       g.id AS grant_id, g.revoked_at IS NOT NULL AS revoked
FROM classes c JOIN conference_rooms r ON r.id = c.conference_room_id
LEFT JOIN media_grants g ON g.conference_room_id = r.id AND g.account_id = $3
WHERE c.id = $1 AND c.audience = $2
"""

# The account's grant in the room, made or given its current role; a revoked one stays so.
# `counted`: it was handed out since the room was last counted, so `connected` holds it.
UPSERT_GRANT = """
WITH old AS (
    SELECT g.admitted_at > coalesce(r.counted_at, '-infinity') AS counted
    FROM media_grants g JOIN conference_rooms r ON r.id = g.conference_room_id
    WHERE g.conference_room_id = $2 AND g.account_id = $3
)
INSERT INTO media_grants (id, conference_room_id, account_id, role, admitted_at)
VALUES ($1, $2, $3, $4, now())
ON CONFLICT (conference_room_id, account_id)
DO UPDATE SET role = EXCLUDED.role, admitted_at = now()
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
RETURNING id
"""

# A lifted ban gives the account its grant back (it joins again as before).
RESTORE_GRANT = """
UPDATE media_grants g SET revoked_at = NULL
FROM classes c
WHERE c.id = $1 AND c.audience = $2 AND g.conference_room_id = c.conference_room_id
  AND g.account_id = $3
"""

# Active grants of rooms: who may be in them, and as what.
GRANTS = """
SELECT conference_room_id, id, account_id, role FROM media_grants
WHERE conference_room_id = ANY($1::uuid[]) AND revoked_at IS NULL
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
FROM classes c JOIN conference_rooms r ON r.id = c.conference_room_id
JOIN media_grants g ON g.conference_room_id = r.id
WHERE c.id = $1 AND g.account_id = ANY($2::text[]) AND r.janus_server IS NOT NULL
"""
