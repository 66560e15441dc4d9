"""SQL for recordings: productions, each publisher's recording, the rooms made from others."""

from __future__ import annotations

# A production for a run that ended ($1 id, $2 class, $3 its event room, $4 conference room,
# $5 Janus server); a second end of the same run makes nothing.
START_PRODUCTION = """
INSERT INTO productions (id, class_id, event_room_id, conference_room_id, janus_server)
VALUES ($1, $2, $3, $4, $5)
ON CONFLICT (event_room_id) DO NOTHING
RETURNING id
"""

# What a class's run needs to record: whether it records, and where its media was.
SELECT_RUN = """
SELECT c.record, r.backend, r.janus_server FROM classes c
JOIN conference_rooms r ON r.id = $2 WHERE c.id = $1
"""

# A recreate: the class's productions are soft-deleted and their events' dump forgotten.
DELETE_PRODUCTIONS = """
UPDATE productions SET deleted_at = now(), room_events_uri = NULL
WHERE class_id = $1 AND deleted_at IS NULL
RETURNING id
"""

SELECT_PRODUCTION = """
SELECT p.*, c.kind, c.audience, c.scope, c.tags, c.host,
       floor(extract(epoch FROM e.opened_at) * 1000)::bigint AS room_opened_ms,
       floor(extract(epoch FROM coalesce(e.closed_at, now())) * 1000)::bigint AS room_closed_ms
FROM productions p JOIN classes c ON c.id = p.class_id JOIN event_rooms e ON e.id = p.event_room_id
WHERE p.id = $1
"""

# Feeds on Janus are media grants: the account each one belongs to.
SELECT_FEED_ACCOUNTS = """
SELECT id::text AS feed, account_id FROM media_grants
WHERE conference_room_id = $1 AND id::text = ANY($2::text[])
"""

UPSERT_RECORDING = """
INSERT INTO recordings (id, production_id, account_id, started_at, segments, duration_ms)
VALUES ($1, $2, $3, $4, $5, $6)
ON CONFLICT (production_id, account_id) DO UPDATE
SET started_at = EXCLUDED.started_at, segments = EXCLUDED.segments,
    duration_ms = EXCLUDED.duration_ms
RETURNING id
"""

SELECT_RECORDINGS = """
SELECT * FROM recordings WHERE production_id = $1 ORDER BY started_at, account_id
"""

# A step done: the next one is due ($2 the step done, $3 the next; only if the production is
# still at the step done and not deleted — a late job of an old run changes nothing).
ADVANCE = """
UPDATE productions SET step = $3, failed_at = NULL, error = NULL,
    collected_at = CASE WHEN $2 = 'collect' THEN now() ELSE collected_at END
WHERE id = $1 AND step = $2 AND deleted_at IS NULL
RETURNING id
"""

FAIL = """
UPDATE productions SET error = $2, failed_at = CASE WHEN $3 THEN now() END
WHERE id = $1 AND step = $4
"""

ADJUSTED = """
UPDATE productions SET original_room_id = $2, modified_room_id = $3, modified_segments = $4,
    adjusted_at = now(), step = 'dump', failed_at = NULL, error = NULL
WHERE id = $1 AND step = 'adjust' AND deleted_at IS NULL
RETURNING id
"""

SET_CUT_ORIGINAL = "UPDATE recordings SET cut_original_segments = $2 WHERE id = $1"

DUMPED = """
UPDATE productions SET room_events_uri = $2, step = 'transcode', failed_at = NULL, error = NULL
WHERE id = $1 AND step = 'dump' AND deleted_at IS NULL
RETURNING id
"""

TRANSCODED = """
UPDATE productions SET stream_id = $2, stream_duration_ms = $3, stream_prefix = $4,
    transcoded_at = now(),
    step = 'done', failed_at = NULL, error = NULL
WHERE id = $1 AND step = 'transcode' AND deleted_at IS NULL
RETURNING id
"""

# A restart from a step ($2; the current one when null): the failure forgotten.
RESTART = """
UPDATE productions p SET step = coalesce($2, p.step), failed_at = NULL, error = NULL,
    transcoded_at = CASE WHEN coalesce($2, p.step) IN ('collect', 'adjust', 'dump', 'transcode')
                         THEN NULL ELSE p.transcoded_at END
FROM classes c
WHERE p.class_id = c.id AND c.id = $1 AND c.audience = $3 AND c.kind = $4
  AND p.deleted_at IS NULL
  AND p.created_at = (SELECT max(created_at) FROM productions q
                      WHERE q.class_id = c.id AND q.deleted_at IS NULL)
RETURNING p.id, p.step, p.adjusted_at IS NOT NULL AS adjusted, p.janus_server
"""

SELECT_DUMP = """
SELECT p.id, p.class_id, c.audience FROM productions p JOIN classes c ON c.id = p.class_id
WHERE p.id = $1 AND p.deleted_at IS NULL
"""

# The room's events in order, as re-timing takes them.
SELECT_ROOM_EVENTS = """
SELECT id, seq, type, set, label, attribute, data, removed, occurred_at, created_by,
       floor(extract(epoch FROM created_at) * 1000)::bigint AS created_at
FROM events WHERE room_id = $1 ORDER BY occurred_at, seq
"""

# An event room made from another ($1 id, $2 source, $3 opened at ms, $4 closed at ms); the
# class, audience, history and tags are the source's; it is closed (nothing is posted live).
MAKE_ROOM = """
INSERT INTO event_rooms (id, class_id, audience, opened_at, closed_at, preserve_history,
                         locked_types, tags, source_room_id, adjusted_at)
SELECT $1, class_id, audience, to_timestamp($3 / 1000.0), to_timestamp($4 / 1000.0),
       true, locked_types, tags, id, CASE WHEN $5 THEN now() END
FROM event_rooms WHERE id = $2
"""

# Adjust is one-shot per room: the first adjust marks it.
MARK_ADJUSTED = """
UPDATE event_rooms SET adjusted_at = now(), closed_at = coalesce(closed_at, now())
WHERE id = $1 AND adjusted_at IS NULL RETURNING id
"""

# Events copied into a room in one statement ($1 room; arrays of the columns; seq numbered in
# the order given).
COPY_EVENTS = """
WITH e AS (
    INSERT INTO events (id, room_id, seq, type, set, label, attribute, data, removed,
                        occurred_at, created_by, created_at)
    SELECT gen_random_uuid(), $1, n, t, s, l, a, d, r, o, b, to_timestamp(c / 1000.0)
    FROM unnest($2::text[], $3::text[], $4::text[], $5::text[], $6::jsonb[], $7::bool[],
                $8::bigint[], $9::text[], $10::bigint[])
         WITH ORDINALITY AS x(t, s, l, a, d, r, o, b, c, n)
    RETURNING 1
)
UPDATE event_rooms SET last_seq = (SELECT count(*) FROM e) WHERE id = $1
"""

# --- editions -------------------------------------------------------------------------------

_EDITION = """e.id, e.source_room_id, e.created_by, e.committed_room_id, e.committed_at,
    floor(extract(epoch FROM e.created_at) * 1000)::bigint AS created_at"""

_CHANGE = """c.id, c.edition_id, c.kind, c.event, c.event_id, c.created_by,
    floor(extract(epoch FROM c.created_at) * 1000)::bigint AS created_at"""

# A room, its class, and whether it is a recording's original room (what editions are of).
SELECT_EDITABLE_ROOM = """
SELECT r.id, r.class_id, r.audience,
       EXISTS (SELECT 1 FROM productions p WHERE p.original_room_id = r.id
               AND p.deleted_at IS NULL) AS is_original
FROM event_rooms r WHERE r.id = $1
"""

INSERT_EDITION = f"""
INSERT INTO editions AS e (id, source_room_id, created_by) VALUES ($1, $2, $3)
RETURNING {_EDITION}
"""

SELECT_EDITIONS = f"""
SELECT {_EDITION} FROM editions e WHERE e.source_room_id = $1 ORDER BY e.created_at, e.id
"""

SELECT_EDITION = f"""
SELECT {_EDITION}, r.class_id, r.audience, k.scope,
       round(extract(epoch FROM r.opened_at) * 1000)::bigint AS opened_ms,
       round(extract(epoch FROM r.closed_at) * 1000)::bigint AS closed_ms
FROM editions e JOIN event_rooms r ON r.id = e.source_room_id JOIN classes k ON k.id = r.class_id
WHERE e.id = $1
"""

DELETE_EDITION = "DELETE FROM editions WHERE id = $1"

INSERT_CHANGE = f"""
INSERT INTO edition_changes AS c (id, edition_id, kind, event_id, event, created_by)
VALUES ($1, $2, $3, $4, $5, $6)
RETURNING {_CHANGE}
"""

SELECT_CHANGES = f"""
SELECT {_CHANGE} FROM edition_changes c WHERE c.edition_id = $1 ORDER BY c.created_at, c.id
"""

SELECT_CHANGE = """
SELECT c.id, r.class_id, r.audience FROM edition_changes c
JOIN editions e ON e.id = c.edition_id JOIN event_rooms r ON r.id = e.source_room_id
WHERE c.id = $1
"""

DELETE_CHANGE = "DELETE FROM edition_changes WHERE id = $1"

SELECT_PRODUCTION_OF_ROOM = """
SELECT p.id, p.class_id, p.janus_server, c.tags FROM productions p
JOIN classes c ON c.id = p.class_id
WHERE p.original_room_id = $1 AND p.deleted_at IS NULL
"""

COMMITTED = """
UPDATE editions SET committed_room_id = $2, committed_at = now()
WHERE id = $1 AND committed_at IS NULL RETURNING id
"""

# The committed room becomes the class's modified room; the production runs again from its
# dump (its old dump was of the old room).
EDITED = """
UPDATE productions SET modified_room_id = $2, modified_segments = $3, step = 'dump',
    room_events_uri = NULL, transcoded_at = NULL, failed_at = NULL, error = NULL
WHERE id = $1
"""
