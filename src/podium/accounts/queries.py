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
