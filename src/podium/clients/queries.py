"""SQL for Session API clients and their refresh tokens."""

INSERT = """
INSERT INTO api_clients (client_id, audience, secret_hash, name) VALUES ($1, $2, $3, $4)
"""

SELECT = "SELECT client_id, audience, secret_hash FROM api_clients WHERE client_id = $1"

LIST = """
SELECT client_id, audience, name, created_at FROM api_clients
WHERE $1::text IS NULL OR audience = $1 ORDER BY audience, created_at
"""

DELETE = "DELETE FROM api_clients WHERE client_id = $1 RETURNING client_id"

SAVE_REFRESH = """
INSERT INTO refresh_tokens (token_hash, client_id, expires_at)
VALUES ($1, $2, now() + make_interval(secs => $3))
"""

# A refresh token works once, for its own client, before it expires.
USE_REFRESH = """
UPDATE refresh_tokens SET used_at = now()
WHERE token_hash = $1 AND client_id = $2 AND used_at IS NULL AND expires_at > now()
RETURNING client_id
"""
