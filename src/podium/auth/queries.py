"""SQL for tenants."""

SELECT_TENANTS = """
SELECT audience, algorithm, key, issuer, service_account FROM tenants ORDER BY audience
"""

UPSERT_TENANT = """
INSERT INTO tenants (audience, algorithm, key, issuer, service_account)
VALUES ($1, $2, $3, $4, $5)
ON CONFLICT (audience) DO UPDATE
SET algorithm = EXCLUDED.algorithm, key = EXCLUDED.key, issuer = EXCLUDED.issuer,
    service_account = EXCLUDED.service_account, updated_at = now()
WHERE (tenants.algorithm, tenants.key, tenants.issuer, tenants.service_account)
   IS DISTINCT FROM (EXCLUDED.algorithm, EXCLUDED.key, EXCLUDED.issuer, EXCLUDED.service_account)
"""

INSERT_TENANT = """
INSERT INTO tenants (audience, algorithm, key, issuer, service_account)
VALUES ($1, $2, $3, $4, $5)
ON CONFLICT (audience) DO NOTHING
RETURNING audience
"""

DELETE_TENANT = "DELETE FROM tenants WHERE audience = $1 RETURNING audience"

SELECT_ISSUING_KEY = "SELECT key FROM server_keys WHERE name = 'links'"

SET_WEBHOOK = """
UPDATE tenants SET webhook_url = $2, webhook_secret = $3, updated_at = now()
WHERE audience = $1 RETURNING audience
"""

# When a class's lobby opens by itself, as reads select it: the parts, which
# `admission.opens_at` puts together (computing it in SQL measured 10-15 % of a class read's
# database time). Needs `c` = classes.
LOBBY_TIMER = "extract(epoch FROM c.lobby_timer)::bigint AS lobby_timer, c.lobby_opens_before"

# One participant's standing with the lobby of their class ($1 participant, $2 class).
STANDING = f"""
SELECT p.role, p.permissions, p.admitted_at IS NOT NULL AS admitted,
       p.denied_at IS NOT NULL AS denied, p.waiting_since IS NOT NULL AS waiting,
       extract(epoch FROM c.starts_at)::bigint AS starts_at,
       c.lobby_state, {LOBBY_TIMER}, c.lobby_message
FROM participants p JOIN classes c ON c.id = p.class_id
WHERE p.id = $1 AND p.class_id = $2 AND p.canceled_at IS NULL
"""

SELECT_CORS = "SELECT audience, cors_origins FROM tenants"
SET_CORS = (
    "UPDATE tenants SET cors_origins = $2, updated_at = now() WHERE audience = $1 RETURNING 1"
)
