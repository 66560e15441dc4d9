"""SQL for conference rooms."""

# Load of each Janus server: Σ over its open rooms of max(connected, reserve); connected
# participants are counted once joining media is tracked, until then the reserve.
SERVER_LOADS = """
SELECT janus_server, sum(greatest(coalesce(reserve, 0), 1))::bigint AS load
FROM conference_rooms
WHERE backend = 'janus' AND janus_server IS NOT NULL
  AND (closed_at IS NULL OR closed_at > now())
GROUP BY janus_server
"""

# What should be on the Janus servers: open rooms, and rooms closed lately (to destroy there).
JANUS_ROOMS = """
SELECT r.id, r.janus_server, r.janus_secret, r.reserve, c.kind,
       coalesce(c.title, c.scope) AS description,
       r.closed_at IS NULL OR r.closed_at > now() AS open
FROM conference_rooms r JOIN classes c ON c.id = r.class_id
WHERE r.backend = 'janus' AND r.janus_server IS NOT NULL
  AND (r.closed_at IS NULL OR r.closed_at > now() - interval '1 day')
"""

# Held until the transaction ends: one placement at a time per server.
LOCK_SERVER = "SELECT pg_advisory_xact_lock(hashtext($1))"
