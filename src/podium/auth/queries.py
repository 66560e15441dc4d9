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
