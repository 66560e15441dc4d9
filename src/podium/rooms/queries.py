"""SQL for event rooms and their events."""

from __future__ import annotations

from podium.rooms.models import CHECKING_KINDS

# Takes the room's next sequence number and stores the event in one statement; the row lock on
# the room orders concurrent posts, so numbers have no gaps. Nothing is stored in a closed room.
# A room that does not preserve history keeps only the newest version of a labelled item.
INSERT_EVENT = """
WITH r AS (
    UPDATE event_rooms SET last_seq = last_seq + 1
    WHERE id = $1 AND (closed_at IS NULL OR closed_at > now())
    RETURNING id, last_seq, opened_at, preserve_history
), older AS (
    DELETE FROM events e USING r
    WHERE e.room_id = r.id AND NOT r.preserve_history AND $5::text IS NOT NULL
      AND e.set = $4 AND e.label = $5
)
INSERT INTO events (id, room_id, seq, type, set, label, attribute, data, removed, occurred_at,
                    created_by)
SELECT $2, r.id, r.last_seq, $3, $4, $5, $6, $7, $8,
       (extract(epoch FROM (clock_timestamp() - r.opened_at)) * 1000000000)::bigint, $9
FROM r
RETURNING id, room_id, seq, type, set, label, attribute, data, removed, occurred_at, created_by,
          floor(extract(epoch FROM created_at) * 1000)::bigint AS created_at
"""

_CHECKING = "(" + ", ".join(f"'{kind}'" for kind in CHECKING_KINDS) + ")"
_ROOM_COLUMNS = f"""id, audience, class_id, class_id AS classroom_id,
    extract(epoch FROM opened_at)::bigint AS opened_at,
    extract(epoch FROM closed_at)::bigint AS closed_at,
    tags, preserve_history, locked_types, whiteboard_access, last_seq,
    closed_at IS NOT NULL AND closed_at <= now() AS closed,
    coalesce((SELECT kind IN {_CHECKING} FROM classes c WHERE c.id = event_rooms.class_id),
             false) AS checks_whiteboard"""

SELECT_ROOM = f"SELECT {_ROOM_COLUMNS} FROM event_rooms WHERE id = $1 AND audience = $2"
SELECT_ROOM_BY_ID = f"SELECT {_ROOM_COLUMNS} FROM event_rooms WHERE id = $1"

# The room, and whether account $3 is banned from it: what a post needs to know.
SELECT_ROOM_FOR_POST = f"""
SELECT {_ROOM_COLUMNS},
    EXISTS (SELECT 1 FROM room_bans b WHERE b.room_id = $1 AND b.account_id = $3) AS banned
FROM event_rooms WHERE id = $1 AND audience = $2
"""

# An end in the past is clamped to now, as the original event service did (it closes the room
# now; the room never ends before it was closed, nor before it opened).
UPDATE_ROOM = f"""
UPDATE event_rooms SET
    closed_at = CASE WHEN NOT $3 THEN closed_at
                     WHEN $4::float8 IS NULL THEN NULL
                     ELSE greatest(to_timestamp($4), now()) END,
    tags = CASE WHEN $5 THEN $6 ELSE tags END
WHERE id = $1 AND audience = $2 AND (closed_at IS NULL OR closed_at > now())
RETURNING {_ROOM_COLUMNS}
"""

MERGE_LOCKED_TYPES = f"""
UPDATE event_rooms SET locked_types = locked_types || $3
WHERE id = $1 AND audience = $2
RETURNING {_ROOM_COLUMNS}
"""

# `true` gives access, `false` takes it away (the account leaves the map); in one statement, so
# two moderators' changes merge.
MERGE_WHITEBOARD_ACCESS = f"""
UPDATE event_rooms SET whiteboard_access = (
    SELECT coalesce(jsonb_object_agg(key, value), '{{}}'::jsonb)
    FROM jsonb_each(whiteboard_access || $3::jsonb) WHERE value = 'true'::jsonb)
WHERE id = $1 AND audience = $2
RETURNING {_ROOM_COLUMNS}
"""

# Entering an open room counts the agent among the room's agents (again: nothing changes).
ENTER = """
WITH e AS (
    INSERT INTO room_entries (room_id, account_id, label)
    SELECT id, $2, $3 FROM event_rooms
    WHERE id = $1 AND (closed_at IS NULL OR closed_at > now())
    ON CONFLICT (room_id, account_id, label) DO UPDATE SET label = EXCLUDED.label
    RETURNING room_id, account_id, label, created_at
)
SELECT e.label || '.' || e.account_id AS agent_id, e.room_id,
       floor(extract(epoch FROM e.created_at) * 1000)::bigint AS created_at,
       EXISTS (SELECT 1 FROM room_bans b WHERE b.room_id = e.room_id
               AND b.account_id = e.account_id) AS banned
FROM e
"""

BAN = """
INSERT INTO room_bans (room_id, account_id, reason, banned_by) VALUES ($1, $2, $3, $4)
ON CONFLICT (room_id, account_id) DO UPDATE SET reason = EXCLUDED.reason
"""

UNBAN = "DELETE FROM room_bans WHERE room_id = $1 AND account_id = $2"

SELECT_BANS = """
SELECT account_id, reason, banned_by,
       floor(extract(epoch FROM created_at) * 1000)::bigint AS created_at
FROM room_bans WHERE room_id = $1 ORDER BY created_at, account_id
"""

_EVENT_COLUMNS = """id, room_id, seq, type, set, label, attribute, data, removed, occurred_at,
    created_by, floor(extract(epoch FROM created_at) * 1000)::bigint AS created_at"""


def list_events(forward: bool, by_time: bool) -> str:
    """Events of room $1 in the room's order, filtered by $2 type, $3 set, $4 label, $5
    attribute (NULL = any), after (forward) or before (backward) the cursor: $6 a sequence
    number, or $7 unix ms of `created_at` (`by_time`); at most $8. Each cursor walks an index
    (room_id, …, seq) or (room_id, created_at, seq), so a deep page costs what the first does."""
    cmp, order = (">", "ASC") if forward else ("<", "DESC")
    # The time cursor is whole milliseconds (created_at is shown truncated to them): "after"
    # starts at the next millisecond, "before" ends before the cursor's own.
    after_or_before = (
        "events.created_at >= to_timestamp(($7::bigint + 1) / 1000.0)"
        if forward
        else "events.created_at < to_timestamp($7::bigint / 1000.0)"
    )
    cursor = (
        f"{after_or_before} AND $6::bigint IS NULL"
        if by_time
        else f"($6::bigint IS NULL OR seq {cmp} $6) AND $7::bigint IS NULL"
    )
    # `events.` names the column: bare `created_at` would be the output alias (milliseconds).
    ordering = f"events.created_at {order}, seq {order}" if by_time else f"seq {order}"
    return f"""
SELECT {_EVENT_COLUMNS} FROM events
WHERE room_id = $1
  AND ($2::text IS NULL OR type = $2)
  AND ($3::text IS NULL OR set = $3)
  AND ($4::text IS NULL OR label = $4)
  AND ($5::text IS NULL OR attribute = $5)
  AND {cursor}
ORDER BY {ordering}
LIMIT $8
"""


# The newest version of each item of sets $2 as of $3 (nanoseconds since the room opened; NULL =
# now), each with `original_occurred_at`, when its first version occurred; removed items are gone.
# Filtered by the newest version's attribute $4 (NULL = any) and by first versions strictly before
# $5 (NULL = any: the original's page cursor); newest first, as the original answered; at most $6.
SELECT_STATE = f"""
SELECT * FROM (
    SELECT DISTINCT ON (set, label) {_EVENT_COLUMNS},
           min(occurred_at) OVER (PARTITION BY set, label) AS original_occurred_at
    FROM events
    WHERE room_id = $1 AND set = ANY($2::text[]) AND ($3::bigint IS NULL OR occurred_at <= $3)
    ORDER BY set, label, seq DESC
) latest
WHERE NOT removed AND ($4::text IS NULL OR attribute = $4)
  AND ($5::bigint IS NULL OR original_occurred_at < $5)
ORDER BY original_occurred_at DESC, seq DESC
LIMIT $6
"""

ROOM_LAST_SEQ = "SELECT last_seq FROM event_rooms WHERE id = $1"

# Stored events of room $1 after sequence $2 (and before $3 unless NULL), at most $4: what a
# live subscriber missed.
EVENTS_AFTER = f"""
SELECT {_EVENT_COLUMNS} FROM events
WHERE room_id = $1 AND seq > $2 AND ($3::bigint IS NULL OR seq < $3)
ORDER BY seq LIMIT $4
"""

# The room's agents, oldest first: those who entered (with their label) and those connected to
# its live socket now (label `live`, counted from their first socket), each with whether the
# account is banned; $3 offset, $4 limit.
LIST_AGENTS = """
WITH a AS (
    SELECT label || '.' || account_id AS agent_id, account_id, created_at
    FROM room_entries WHERE room_id = $1
    UNION ALL
    SELECT 'live.' || account_id, account_id, min(joined_at)
    FROM room_agents WHERE room_id = $1 AND seen_at > now() - make_interval(secs => $2)
    GROUP BY account_id
)
SELECT a.agent_id, $1::uuid AS room_id,
       floor(extract(epoch FROM a.created_at) * 1000)::bigint AS created_at,
       b.account_id IS NOT NULL AS banned
FROM a LEFT JOIN room_bans b ON b.room_id = $1 AND b.account_id = a.account_id
ORDER BY a.created_at, a.agent_id
OFFSET $3 LIMIT $4
"""

# Presence: who has a live socket on a room, per server process (`node`).
AGENT_JOINED = """
INSERT INTO room_agents (room_id, account_id, node) VALUES ($1, $2, $3)
ON CONFLICT (room_id, account_id, node) DO UPDATE SET seen_at = now()
"""
AGENT_LEFT = "DELETE FROM room_agents WHERE room_id = $1 AND account_id = $2 AND node = $3"
AGENTS_SEEN = "UPDATE room_agents SET seen_at = now() WHERE node = $1"
NODE_GONE = "DELETE FROM room_agents WHERE node = $1"
