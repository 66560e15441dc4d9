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
