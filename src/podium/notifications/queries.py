"""SQL for tenant notifications: the outbox/feed, and the webhook jobs that deliver it."""

# One notification, and its webhook delivery job when the tenant has a webhook: written in the
# caller's transaction, so it exists exactly when the change it announces does.
NOTIFY = """
WITH n AS (
    INSERT INTO notifications (event_id, audience, type, payload)
    VALUES ($1, $2, $3, $4) RETURNING id, audience
)
INSERT INTO jobs (kind, payload)
SELECT 'webhook', jsonb_build_object('notification_id', n.id)
FROM n JOIN tenants t ON t.audience = n.audience WHERE t.webhook_url IS NOT NULL
"""

# Several notifications at once ($1 audiences, $2 types, $3 payloads), each with its delivery.
NOTIFY_MANY = """
WITH n AS (
    INSERT INTO notifications (event_id, audience, type, payload)
    SELECT gen_random_uuid(), x.audience, x.type, x.payload
    FROM unnest($1::text[], $2::text[], $3::jsonb[]) AS x (audience, type, payload)
    RETURNING id, audience
)
INSERT INTO jobs (kind, payload)
SELECT 'webhook', jsonb_build_object('notification_id', n.id)
FROM n JOIN tenants t ON t.audience = n.audience WHERE t.webhook_url IS NOT NULL
"""

FEED = """
SELECT id, event_id, type, payload AS data,
       (extract(epoch FROM created_at) * 1000)::bigint AS created_at
FROM notifications WHERE audience = $1 AND id > $2 ORDER BY id LIMIT $3
"""

DELIVERY = """
SELECT n.event_id, n.audience, n.type, n.payload,
       (extract(epoch FROM n.created_at) * 1000)::bigint AS created_at,
       t.webhook_url, t.webhook_secret
FROM notifications n JOIN tenants t ON t.audience = n.audience
WHERE n.id = $1
"""
