"""SQL for classes. Each class is read and written together with its two rooms."""

from __future__ import annotations

# The read shape's columns. $3 / $4: the class / account property keys asked for (filtered
# in SQL so a read never ships a large properties map it does not need); $5: the caller.
_READ_COLUMNS = """
    c.id, c.kind, c.audience, c.scope, c.title,
    extract(epoch FROM c.starts_at)::bigint AS starts_at,
    extract(epoch FROM c.ends_at)::bigint AS ends_at,
    c.tags, c.preserve_history, c.reserve, c.host, c.locked_chat,
    c.event_room_id, c.conference_room_id, r.backend,
    CASE WHEN cardinality($3::text[]) = 0 THEN '{}'::jsonb ELSE (
        SELECT coalesce(jsonb_object_agg(p.key, p.value), '{}'::jsonb)
        FROM jsonb_each(c.properties) p WHERE p.key = ANY($3::text[])) END AS properties,
    CASE WHEN cardinality($4::text[]) = 0 THEN '{}'::jsonb ELSE (
        SELECT coalesce(jsonb_object_agg(p.key, p.value), '{}'::jsonb)
        FROM account_properties a, jsonb_each(a.properties) p
        WHERE a.audience = c.audience AND a.account_id = $5 AND p.key = ANY($4::text[]))
    END AS account_properties
"""

SELECT_BY_ID = f"""
SELECT {_READ_COLUMNS}
FROM classes c JOIN conference_rooms r ON r.id = c.conference_room_id
WHERE c.id = $1 AND c.audience = $2 AND c.kind = $6
"""

SELECT_BY_SCOPE = f"""
SELECT {_READ_COLUMNS}
FROM classes c JOIN conference_rooms r ON r.id = c.conference_room_id
WHERE c.scope = $1 AND c.audience = $2 AND c.kind = $6
"""

# One statement makes the class and both rooms: it commits whole or not at all.
INSERT_CLASS = """
WITH c AS (
    INSERT INTO classes (id, kind, audience, scope, title, starts_at, ends_at, tags, properties,
                         preserve_history, reserve, host, locked_chat, event_room_id,
                         conference_room_id)
    VALUES ($1, $2, $3, $4, $5, to_timestamp($6), to_timestamp($7), $8,
            coalesce($9::jsonb, '{}'::jsonb), $10, $11, $12, $13, $14, $15)
    ON CONFLICT (audience, scope) DO NOTHING
    RETURNING *
), e AS (
    INSERT INTO event_rooms (id, class_id, audience, preserve_history, locked_types, tags)
    SELECT event_room_id, id, audience, preserve_history, $16, tags FROM c
), r AS (
    INSERT INTO conference_rooms (id, class_id, audience, backend, reserve, starts_at, ends_at)
    SELECT conference_room_id, id, audience, $17, reserve, starts_at, ends_at FROM c
)
SELECT id FROM c
"""

SELECT_ID_BY_SCOPE = "SELECT id, kind FROM classes WHERE audience = $1 AND scope = $2"

SELECT_EXISTING = """
SELECT id FROM classes WHERE {where} AND audience = $2 AND kind = $3
"""

# Columns an update may set, and the SQL expression each takes its parameter through.
UPDATABLE = {
    "starts_at": "to_timestamp(${n})",
    "ends_at": "to_timestamp(${n})",
    "reserve": "${n}",
    "host": "${n}",
    "title": "${n}",
    "tags": "${n}",
}


def update_class(columns: list[str], by_scope: bool) -> str:
    """UPDATE of the given columns (names from UPDATABLE only) and the rooms that follow them.

    Parameters: $1 id or scope, $2 audience, $3 kind, $4 whether the time changes, then one per
    column. A class that has closed keeps its time: the WHERE refuses, and the caller tells
    "closed" from "not found" with SELECT_EXISTING.
    """
    sets = ", ".join(
        f"{col} = {UPDATABLE[col].format(n=i)}" for i, col in enumerate(columns, start=5)
    )
    where = "scope = $1" if by_scope else "id = $1"
    return f"""
WITH c AS (
    UPDATE classes SET {sets}, updated_at = now()
    WHERE {where} AND audience = $2 AND kind = $3
      AND NOT ($4 AND ends_at IS NOT NULL AND ends_at <= now())
    RETURNING *
), r AS (
    UPDATE conference_rooms r
    SET starts_at = c.starts_at, ends_at = c.ends_at, reserve = c.reserve,
        closed_at = CASE WHEN c.ends_at <= now() THEN coalesce(r.closed_at, now()) END
    FROM c WHERE r.id = c.conference_room_id
), e AS (
    UPDATE event_rooms e
    SET tags = c.tags,
        closed_at = CASE WHEN c.ends_at <= now() THEN coalesce(e.closed_at, now())
                    ELSE e.closed_at END
    FROM c WHERE e.id = c.event_room_id
)
SELECT id FROM c
"""
