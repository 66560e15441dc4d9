"""SQL for participants."""

_COLUMNS = """p.id, p.class_id, p.account_id, p.display_name, p.picture, p.role, p.permissions,
    p.state, p.single_use, p.link_version, p.canceled_at IS NOT NULL AS canceled, p.attendee_pin,
    floor(extract(epoch FROM p.created_at) * 1000)::bigint AS created_at"""

# Made only in an open class of the caller's audience: $2 class, $3 audience.
INSERT = f"""
INSERT INTO participants AS p (id, class_id, audience, account_id, display_name, picture, role,
                               permissions, state, single_use)
SELECT $1::uuid, c.id, c.audience, coalesce($4, 'participant:' || $1::uuid::text), $5, $6, $7,
       $8, $9, $10
FROM classes c WHERE c.id = $2 AND c.audience = $3
ON CONFLICT (class_id, account_id) DO NOTHING
RETURNING {_COLUMNS}
"""

# The class a participant is added to: exists, and whether it has closed.
CLASS_STATE = """
SELECT c.id, c.kind, c.ends_at IS NOT NULL AND c.ends_at <= now() AS closed, c.sip_state
FROM classes c WHERE c.id = $1 AND c.audience = $2
"""

SELECT = f"SELECT {_COLUMNS} FROM participants p WHERE p.id = $1 AND p.audience = $2"

# A page in creation order ($4 offset, $5 limit: one more than asked, to tell if more follow).
LIST = f"""
SELECT {_COLUMNS} FROM participants p
WHERE p.class_id = $1 AND p.audience = $2 AND ($3 OR p.canceled_at IS NULL)
ORDER BY p.created_at, p.id OFFSET $4 LIMIT $5
"""

# Columns an update may set, and how each takes its parameter.
UPDATABLE = {
    "display_name": "${n}",
    "picture": "${n}",
    "role": "${n}",
    "permissions": "${n}",
    "state": "${n}",
    "single_use": "${n}",
}


def update(columns: list[str]) -> str:
    """$1 id, $2 audience, $3 whether to rotate the link, then one per column."""
    sets = "".join(f", {c} = {UPDATABLE[c].format(n=i)}" for i, c in enumerate(columns, start=4))
    return f"""
UPDATE participants p SET updated_at = now(){sets},
    link_version = p.link_version + CASE WHEN $3 THEN 1 ELSE 0 END,
    link_used_at = CASE WHEN $3 THEN NULL ELSE p.link_used_at END
WHERE p.id = $1 AND p.audience = $2 AND p.canceled_at IS NULL
RETURNING {_COLUMNS}
"""


# Cancel: the link dies (its version moves on) and the account is banned from the event room.
CANCEL = """
WITH p AS (
    UPDATE participants p SET canceled_at = now(), updated_at = now(),
                              link_version = p.link_version + 1
    WHERE p.id = $1 AND p.audience = $2 AND p.canceled_at IS NULL
    RETURNING p.*
), ban AS (
    INSERT INTO room_bans (room_id, account_id, reason, banned_by)
    SELECT c.event_room_id, p.account_id, 'participant cancelled', $3
    FROM p JOIN classes c ON c.id = p.class_id
    ON CONFLICT (room_id, account_id) DO NOTHING
)
SELECT p.id, p.class_id, p.account_id, c.event_room_id
FROM p JOIN classes c ON c.id = p.class_id
"""

# An entry token's participant with what decides whether it opens the class now.
FOR_LINK = """
SELECT p.id, p.class_id, p.audience, p.account_id, p.role, p.link_version, p.single_use,
       p.link_used_at IS NOT NULL AS used, p.canceled_at IS NOT NULL AS canceled,
       p.display_name, c.title, c.ended_at IS NOT NULL AS ended,
       c.kind, c.canceled_at IS NOT NULL AS class_canceled,
       EXISTS (SELECT 1 FROM room_bans b WHERE b.room_id = c.event_room_id
               AND b.account_id = p.account_id) AS banned,
       extract(epoch FROM c.starts_at)::float8 AS starts_at,
       extract(epoch FROM c.ends_at)::float8 AS ends_at
FROM participants p JOIN classes c ON c.id = p.class_id
WHERE p.id = $1
"""

# Spend the link: only while it is the current one, not cancelled, unused when single-use, and
# inside the class's time window. One statement, so a single-use link opens exactly once.
USE_LINK = """
UPDATE participants p SET link_used_at = now()
FROM classes c
WHERE p.id = $1 AND c.id = p.class_id AND p.link_version = $2 AND p.canceled_at IS NULL
  AND NOT (p.single_use AND p.link_used_at IS NOT NULL)
  AND (c.starts_at IS NULL OR c.starts_at <= now()) AND (c.ends_at IS NULL OR c.ends_at > now())
  AND c.canceled_at IS NULL
  AND NOT EXISTS (SELECT 1 FROM room_bans b WHERE b.room_id = c.event_room_id
                  AND b.account_id = p.account_id)
RETURNING p.id
"""
