"""SQL for account properties: each account's own JSON map within an audience."""

SELECT_PROPERTY = """
SELECT properties ? $3 AS present, properties -> $3 AS value
FROM account_properties WHERE audience = $1 AND account_id = $2
"""

# An atomic shallow merge: concurrent writes of different keys all survive.
MERGE_PROPERTY = """
INSERT INTO account_properties (audience, account_id, properties)
VALUES ($1, $2, jsonb_build_object($3::text, $4::jsonb))
ON CONFLICT (audience, account_id) DO UPDATE
SET properties = account_properties.properties || EXCLUDED.properties, updated_at = now()
RETURNING properties
"""

# Class-wide bans: one operation counter per account of an audience (see migration 0018).
LAST_BAN_OP = "SELECT last_op_id FROM ban_operations WHERE audience = $1 AND account_id = $2"

# The next operation, only against the last one the caller saw ($3); the first one, against 0.
NEXT_BAN_OP = """
UPDATE ban_operations SET last_op_id = last_op_id + 1, class_id = $4, banned = $5,
                          changed_by = $6, changed_at = now()
WHERE audience = $1 AND account_id = $2 AND last_op_id = $3
RETURNING last_op_id
"""
FIRST_BAN_OP = """
INSERT INTO ban_operations (audience, account_id, last_op_id, class_id, banned, changed_by)
VALUES ($1, $2, 1, $3, $4, $5)
ON CONFLICT (audience, account_id) DO NOTHING
RETURNING last_op_id
"""
