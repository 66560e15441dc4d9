"""SQL for the Session API: sessions are classes of kind `session`."""

_SESSION = """c.id, c.audience, c.client_id, c.title, c.picture, c.feature_flags,
    extract(epoch FROM c.starts_at)::bigint AS starts_at,
    extract(epoch FROM c.ends_at)::bigint AS ends_at,
    extract(epoch FROM c.canceled_at)::bigint AS canceled_at"""

SESSION = f"""
SELECT {_SESSION} FROM classes c WHERE c.id = $1 AND c.audience = $2 AND c.kind = 'session'
"""

# What the Session API adds to the class it made. Guests wait in the lobby: it is on from the
# start, hosts (moderators) bypass it.
SET_EXTRA = """
UPDATE classes SET picture = $2, feature_flags = $3, client_id = $4, lobby_state = 1
WHERE id = $1
"""

SET_PICTURE = "UPDATE classes SET picture = $2, updated_at = now() WHERE id = $1"

# Cancel for good: nobody enters (the links check canceled_at); the lifecycle ends it in the
# same unit (both rooms close; a session that never took place is not announced as stopped).
CANCEL = """
UPDATE classes SET canceled_at = now(), updated_at = now()
WHERE id = $1 AND canceled_at IS NULL
RETURNING id
"""

PARTICIPANTS_OF = """
SELECT p.id, p.class_id, p.display_name, p.picture, p.role, p.state, p.link_version,
       extract(epoch FROM p.canceled_at)::bigint AS canceled_at, c.client_id
FROM participants p JOIN classes c ON c.id = p.class_id
WHERE p.class_id = ANY($1::uuid[]) AND ($2 OR p.canceled_at IS NULL)
ORDER BY p.created_at, p.id
"""

PARTICIPANT = """
SELECT p.id, p.class_id,
       extract(epoch FROM c.starts_at)::bigint AS starts_at,
       extract(epoch FROM c.ends_at)::bigint AS ends_at,
       extract(epoch FROM c.canceled_at)::bigint AS canceled_at,
       p.canceled_at IS NOT NULL AS participant_canceled
FROM participants p JOIN classes c ON c.id = p.class_id
WHERE p.id = $1 AND p.audience = $2 AND c.kind = 'session'
"""

# The page: $1 audience, $2/$3 start window (or null), $4 include cancelled, $5 a participant
# state (or null), $6 whether cancelled participants count for it, $7 limit, $8 offset.
# `{order}` is one of ORDER_BY's values (never caller text).
LIST = f"""
SELECT {_SESSION}, count(*) OVER () AS total
FROM classes c
WHERE c.audience = $1 AND c.kind = 'session'
  AND ($2::timestamptz IS NULL OR c.starts_at >= $2)
  AND ($3::timestamptz IS NULL OR c.starts_at <= $3)
  AND ($4 OR c.canceled_at IS NULL)
  AND ($5::text IS NULL OR EXISTS (
      SELECT 1 FROM participants p
      WHERE p.class_id = c.id AND p.state = $5 AND ($6 OR p.canceled_at IS NULL)))
ORDER BY {{order}}
LIMIT $7 OFFSET $8
"""

# (by start time?, newest first?) → ORDER BY
ORDER_BY = {
    (False, False): "c.created_at, c.id",
    (False, True): "c.created_at DESC, c.id DESC",
    (True, False): "c.starts_at, c.id",
    (True, True): "c.starts_at DESC, c.id DESC",
}
