"""SQL for classes. Each class is read and written together with its two rooms."""

from __future__ import annotations

from podium.auth.queries import LOBBY_TIMER


def addressed(template: str) -> tuple[str, str]:
    """A statement about one class, as (by id, by scope): `{where}` becomes the match on $1.

    Every such statement takes $1 the id or the scope, $2 the caller's audience, $3 the kind;
    its own parameters follow from $4.
    """
    return (
        template.format(where="c.id = $1 AND c.audience = $2 AND c.kind = $3"),
        template.format(where="c.scope = $1 AND c.audience = $2 AND c.kind = $3"),
    )


# The class's recording as its read shows it: the latest production of its runs (a recreate
# soft-deletes them), what it has reached, and its original and modified rooms. (The
# recordings capability writes these; the read shape is the class's.)
LATEST_PRODUCTION = """
SELECT p.*, (SELECT r.id FROM recordings r WHERE r.production_id = p.id
             ORDER BY r.duration_ms DESC, r.started_at LIMIT 1) AS original_stream_id
FROM productions p WHERE p.class_id = c.id AND p.deleted_at IS NULL
ORDER BY p.created_at DESC LIMIT 1
"""
PRODUCTION_COLUMNS = """p.id AS production_id, p.step AS recording_step,
    p.error AS recording_error, p.failed_at IS NOT NULL AS recording_failed,
    p.original_stream_id, p.adjusted_at IS NOT NULL AS adjusted,
    p.transcoded_at IS NOT NULL AS transcoded, p.original_room_id, p.modified_room_id,
    p.room_events_uri, p.stream_id"""

# The read shape. $4 / $5: the class / account property keys asked for (filtered in SQL so a
# read never ships a large properties map it does not need); $6: the caller's account.
SELECT_CLASS = addressed(
    """
SELECT c.id, c.kind, c.audience, c.scope, c.title,
    extract(epoch FROM c.starts_at)::bigint AS starts_at,
    extract(epoch FROM c.ends_at)::bigint AS ends_at,
    c.tags, c.preserve_history, c.reserve, c.host, c.locked_chat,
    c.event_room_id, c.conference_room_id, r.backend, r.timed_out, c.lobby_state,
    {lobby_timer}, c.lobby_message,
    c.sip_state, c.sip_dialin_id,
    CASE WHEN cardinality($4::text[]) = 0 THEN '{{}}'::jsonb ELSE (
        SELECT coalesce(jsonb_object_agg(p.key, p.value), '{{}}'::jsonb)
        FROM jsonb_each(c.properties) p WHERE p.key = ANY($4::text[])) END AS properties,
    CASE WHEN cardinality($5::text[]) = 0 THEN '{{}}'::jsonb ELSE (
        SELECT coalesce(jsonb_object_agg(p.key, p.value), '{{}}'::jsonb)
        FROM account_properties a, jsonb_each(a.properties) p
        WHERE a.audience = c.audience AND a.account_id = $6 AND p.key = ANY($5::text[]))
    END AS account_properties,
    (SELECT position FROM class_positions p WHERE p.class_id = c.id AND p.account_id = $6)
        AS saved_position,
    c.record, {production}
FROM classes c JOIN conference_rooms r ON r.id = c.conference_room_id
LEFT JOIN LATERAL ({latest_production}) p ON true
WHERE {where}
""".replace("{lobby_timer}", LOBBY_TIMER)
    .replace("{production}", PRODUCTION_COLUMNS)
    .replace("{latest_production}", LATEST_PRODUCTION)
)

SELECT_EXISTING = addressed("""
SELECT c.id, c.event_room_id, c.conference_room_id, c.reserve, coalesce(c.title, c.scope) AS name,
       r.backend, r.janus_server, r.janus_secret
FROM classes c JOIN conference_rooms r ON r.id = c.conference_room_id WHERE {where}
""")

SELECT_PROPERTY = addressed("""
SELECT c.properties ? $4 AS present, c.properties -> $4 AS value FROM classes c WHERE {where}
""")

# An atomic shallow merge: concurrent writes of different properties all survive.
MERGE_PROPERTY = addressed("""
UPDATE classes c SET properties = c.properties || jsonb_build_object($4::text, $5::jsonb),
                     updated_at = now()
WHERE {where}
RETURNING c.properties
""")

SAVE_POSITION = addressed("""
INSERT INTO class_positions (class_id, account_id, position)
SELECT c.id, $4, $5 FROM classes c WHERE {where}
ON CONFLICT (class_id, account_id) DO UPDATE
SET position = EXCLUDED.position, updated_at = now()
RETURNING class_id
""")

# New rooms replace the current ones (the lifecycle closed those first, in the same unit); the
# class's time is the one given (both bounds open when none is), so it is real-time again and
# will end again. A concurrent recreate that lost the race finds the rooms changed and makes
# nothing ($4, $5: the new room ids; $6 locked_chat; $7, $8: time; $9: the new room's locked
# types; $10, $11: its Janus server and secret; $12: the event room it replaces).
RECREATE = addressed("""
WITH old AS (
    SELECT c.id, c.event_room_id, c.conference_room_id, r.backend
    FROM classes c JOIN conference_rooms r ON r.id = c.conference_room_id WHERE {where}
), c AS (
    UPDATE classes SET event_room_id = $4, conference_room_id = $5, locked_chat = $6,
        starts_at = to_timestamp($7), ends_at = to_timestamp($8), updated_at = now(),
        ended_at = NULL, end_cause = NULL
    FROM old WHERE classes.id = old.id AND classes.event_room_id = $12
    RETURNING classes.*, old.backend
), e AS (
    INSERT INTO event_rooms (id, class_id, audience, preserve_history, locked_types, tags)
    SELECT event_room_id, id, audience, preserve_history, $9, tags FROM c
), r AS (
    INSERT INTO conference_rooms (id, class_id, audience, backend, reserve, starts_at, ends_at,
                                  janus_server, janus_secret)
    SELECT conference_room_id, id, audience, backend, reserve, starts_at, ends_at, $10, $11
    FROM c
)
SELECT (SELECT id FROM old) AS existed, (SELECT id FROM c) AS recreated
""")

# One statement makes the class and both rooms: it commits whole or not at all.
INSERT_CLASS = """
WITH c AS (
    INSERT INTO classes (id, kind, audience, scope, title, starts_at, ends_at, tags, properties,
                         preserve_history, reserve, host, locked_chat, event_room_id,
                         conference_room_id, record)
    VALUES ($1, $2, $3, $4, $5, to_timestamp($6), to_timestamp($7), $8,
            coalesce($9::jsonb, '{}'::jsonb), $10, $11, $12, $13, $14, $15, $20)
    ON CONFLICT (audience, scope) DO NOTHING
    RETURNING *
), e AS (
    INSERT INTO event_rooms (id, class_id, audience, preserve_history, locked_types, tags)
    SELECT event_room_id, id, audience, preserve_history, $16, tags FROM c
), r AS (
    INSERT INTO conference_rooms (id, class_id, audience, backend, reserve, starts_at, ends_at,
                                  janus_server, janus_secret)
    SELECT conference_room_id, id, audience, $17, reserve, starts_at, ends_at, $18, $19 FROM c
)
SELECT id FROM c
"""

SELECT_ID_BY_SCOPE = "SELECT id, kind FROM classes WHERE audience = $1 AND scope = $2"


# Columns an update may set, and the SQL expression each takes its parameter through.
UPDATABLE = {
    "starts_at": "to_timestamp(${n})",
    "ends_at": "to_timestamp(${n})",
    "reserve": "${n}",
    "host": "${n}",
    "title": "${n}",
    "tags": "${n}",
    "record": "${n}",
}


def update_class(columns: list[str], by_scope: bool) -> str:
    """UPDATE of the given columns (names from UPDATABLE only) and the rooms that follow them.

    Parameters: $1 id or scope, $2 audience, $3 kind, $4 whether the time changes, then one per
    column. A class that has closed keeps its time: the WHERE refuses, and the caller tells
    "closed" from "not found" with SELECT_EXISTING. Answers the class's id and whether its end
    has now come (the caller ends it through the lifecycle, in the same unit).
    """
    sets = ", ".join(
        f"{col} = {UPDATABLE[col].format(n=i)}" for i, col in enumerate(columns, start=5)
    )
    template = f"""
WITH c AS (
    UPDATE classes c SET {sets}, updated_at = now()
    WHERE {{where}} AND NOT ($4 AND c.ends_at IS NOT NULL AND c.ends_at <= now())
    RETURNING c.*
), r AS (
    UPDATE conference_rooms r
    SET starts_at = c.starts_at, ends_at = c.ends_at, reserve = c.reserve
    FROM c WHERE r.id = c.conference_room_id
), e AS (
    UPDATE event_rooms e SET tags = c.tags FROM c WHERE e.id = c.event_room_id
)
SELECT id, coalesce(ends_at <= now(), false) AS ended FROM c
"""
    return addressed(template)[by_scope]


# The lifecycle's end ($1 class ids, $2 cause, $3 whether the class ends this second, $4 whether
# its host timed out): each class once (`ended_at`), both rooms closed with it.
END = """
WITH ended AS (
    UPDATE classes c SET ended_at = now(), end_cause = $2, updated_at = now(),
        ends_at = CASE WHEN $3 THEN date_trunc('second', now()) ELSE c.ends_at END
    WHERE c.id = ANY($1::uuid[]) AND c.ended_at IS NULL
    RETURNING c.id, c.kind, c.audience, c.scope, c.tags, c.event_room_id, c.conference_room_id
), e AS (
    UPDATE event_rooms e SET closed_at = coalesce(e.closed_at, now())
    FROM ended WHERE e.id = ended.event_room_id
), r AS (
    UPDATE conference_rooms r
    SET closed_at = coalesce(r.closed_at, now()), timed_out = r.timed_out OR $4
    FROM ended WHERE r.id = ended.conference_room_id
    RETURNING r.id, r.timed_out
), copies AS (  -- the replica rooms of the run
    UPDATE conference_rooms r SET closed_at = coalesce(r.closed_at, now())
    FROM ended WHERE r.source_room_id = ended.conference_room_id
)
SELECT ended.*, coalesce(r.timed_out, false) AS timed_out
FROM ended LEFT JOIN r ON r.id = ended.conference_room_id
"""

# The current run of classes that ended before (what "class ended" carries).
SELECT_RUN = """
SELECT id, kind, audience, scope, tags, event_room_id, conference_room_id FROM classes
WHERE id = ANY($1::uuid[])
"""

# Classes whose end has passed and that have not ended yet ($1: how many; rows another
# process holds are skipped).
DUE_BY_TIME = """
SELECT c.id, 'time_passed' AS cause FROM classes c
WHERE c.ended_at IS NULL AND c.ends_at IS NOT NULL AND c.ends_at <= now()
ORDER BY c.ends_at LIMIT $1 FOR UPDATE SKIP LOCKED
"""

# Started classes on Janus whose first stream started longer ago than $3 seconds, or whose host
# was last seen longer ago than $2 seconds by a check that looked within the last $4 seconds
# (a check that could not look, Janus being away, times nobody out).
DUE_BY_MEDIA = """
SELECT c.id, CASE WHEN r.first_stream_at < now() - make_interval(secs => $3)
                  THEN 'stream_cap' ELSE 'host_timed_out' END AS cause
FROM conference_rooms r JOIN classes c ON c.conference_room_id = r.id
WHERE r.backend = 'janus' AND r.closed_at IS NULL
  AND c.ended_at IS NULL AND (c.ends_at IS NULL OR c.ends_at > now())
  AND (r.first_stream_at < now() - make_interval(secs => $3)
       OR (r.host_seen_at < now() - make_interval(secs => $2)
           AND r.counted_at > now() - make_interval(secs => $4)
           AND (c.starts_at IS NULL OR c.starts_at <= now())))
LIMIT $1 FOR UPDATE OF c SKIP LOCKED
"""

# Where the class's transcoded stream is kept (the latest production's, once transcoded).
SELECT_STREAM_PREFIX = """
SELECT stream_prefix FROM productions
WHERE class_id = $1 AND deleted_at IS NULL AND transcoded_at IS NOT NULL
ORDER BY created_at DESC LIMIT 1
"""

# End a class now (its moderators' "end for everyone"): its end becomes now, once; a class that
# had not started yet starts a moment before, so its time stays a range (ends after it starts).
# Answers nothing for a class that is not there (or ended already).
END_NOW = """
UPDATE classes SET ends_at = now(),
    starts_at = CASE WHEN starts_at >= now() THEN now() - interval '1 millisecond'
                     ELSE starts_at END
WHERE id = $1 AND audience = $2 AND ended_at IS NULL AND canceled_at IS NULL
RETURNING id, kind
"""

KIND_OF = "SELECT kind FROM classes WHERE id = $1 AND audience = $2"
ROOMS_OF = (
    "SELECT id, event_room_id, conference_room_id FROM classes WHERE id = $1 AND audience = $2"
)

# A class's stage handed to another account (its host): only while the class runs. Answers the
# event room the pages hear it in.
SET_HOST = """
UPDATE classes SET host = $3
WHERE id = $1 AND audience = $2 AND ended_at IS NULL AND canceled_at IS NULL
RETURNING id, event_room_id
"""

# -- replicas of a webinar ---------------------------------------------------------------------

# A replica of an open webinar ($2) with its own conference room ($5 on server $6, secret $7,
# reserve $8), sharing the webinar's event room; its scope ($4) must be free among the
# audience's ($3) classes and replicas. Answers the original (NULL: it has closed) and the
# replica (NULL: the scope is taken).
INSERT_REPLICA = """
WITH o AS (
    SELECT c.id, c.audience, c.conference_room_id
    FROM classes c JOIN conference_rooms r ON r.id = c.conference_room_id
    WHERE c.id = $2 AND r.closed_at IS NULL AND c.ended_at IS NULL
      AND NOT (c.ends_at IS NOT NULL AND c.ends_at <= now())
), rep AS (
    INSERT INTO replicas (id, class_id, audience, scope, conference_room_id)
    SELECT $1, o.id, $3, $4, $5 FROM o
    WHERE NOT EXISTS (SELECT 1 FROM classes WHERE audience = $3 AND scope = $4)
    ON CONFLICT (audience, scope) DO NOTHING
    RETURNING id
), r AS (
    INSERT INTO conference_rooms (id, class_id, audience, backend, reserve, janus_server,
                                  janus_secret, source_room_id)
    SELECT $5, o.id, o.audience, 'janus', $8, $6, $7, o.conference_room_id FROM o, rep
)
SELECT (SELECT id FROM o) AS original, (SELECT id FROM rep) AS made
"""

# A replica by id or by scope ($1) in the audience ($2): its class, scope and room.
REPLICA_COLUMNS = """
SELECT p.id, p.class_id, p.scope, p.conference_room_id, r.reserve
FROM replicas p JOIN conference_rooms r ON r.id = p.conference_room_id
"""
SELECT_REPLICA = (
    REPLICA_COLUMNS + "WHERE p.id = $1 AND p.audience = $2",
    REPLICA_COLUMNS + "WHERE p.scope = $1 AND p.audience = $2",
)
# A webinar's replicas of its current run, oldest first ($1 class, $2 audience).
REPLICAS_OF = (
    REPLICA_COLUMNS
    + """
JOIN classes c ON c.id = p.class_id
WHERE p.class_id = $1 AND p.audience = $2 AND r.source_room_id = c.conference_room_id
ORDER BY p.created_at, p.id
"""
)

# A recreate ends the run: its replicas go (their rooms closed with the run; scopes free again).
DROP_REPLICAS = "DELETE FROM replicas WHERE class_id = $1"
