"""SQL for event rooms and their events."""

from __future__ import annotations

# Takes the room's next sequence number and stores the event in one statement; the row lock on
# the room orders concurrent posts, so numbers have no gaps. Nothing is stored in a closed room.
INSERT_EVENT = """
WITH r AS (
    UPDATE event_rooms SET last_seq = last_seq + 1
    WHERE id = $1 AND (closed_at IS NULL OR closed_at > now())
    RETURNING id, last_seq, opened_at
)
INSERT INTO events (id, room_id, seq, type, set, label, attribute, data, removed, occurred_at,
                    created_by)
SELECT $2, r.id, r.last_seq, $3, $4, $5, $6, $7, $8,
       (extract(epoch FROM (clock_timestamp() - r.opened_at)) * 1000000000)::bigint, $9
FROM r
RETURNING id, room_id, seq, type, set, label, attribute, data, removed, occurred_at, created_by,
          (extract(epoch FROM created_at) * 1000)::bigint AS created_at
"""

SELECT_ROOM = "SELECT id, audience, closed_at FROM event_rooms WHERE id = $1"

_EVENT_COLUMNS = """id, room_id, seq, type, set, label, attribute, data, removed, occurred_at,
    created_by, (extract(epoch FROM created_at) * 1000)::bigint AS created_at"""


def list_events(forward: bool) -> str:
    """Events of room $1 in sequence order, filtered by $2 type, $3 set, $4 label, $5 attribute
    (NULL = any), after (forward) or before (backward) the cursor $6 (a sequence number) or $7
    (unix ms of `created_at`), at most $8. The (room_id, …, seq) indexes serve each filter."""
    seq_cmp, time_cmp, order = (">", ">", "ASC") if forward else ("<", "<", "DESC")
    return f"""
SELECT {_EVENT_COLUMNS} FROM events
WHERE room_id = $1
  AND ($2::text IS NULL OR type = $2)
  AND ($3::text IS NULL OR set = $3)
  AND ($4::text IS NULL OR label = $4)
  AND ($5::text IS NULL OR attribute = $5)
  AND ($6::bigint IS NULL OR seq {seq_cmp} $6)
  AND ($7::bigint IS NULL OR created_at {time_cmp} to_timestamp($7 / 1000.0))
ORDER BY seq {order}
LIMIT $8
"""
