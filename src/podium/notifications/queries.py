"""SQL for tenant notifications: the outbox/feed, and the webhook jobs that deliver it."""

# Webhook deliveries go by stream (a class, or '' for the audience itself), in order: one open
# job per stream delivers what is undelivered (see jobs.py, keyed jobs). A job asked for again
# while it runs runs once more.
_DELIVER = """
INSERT INTO jobs (kind, key, payload)
SELECT DISTINCT ON (n.audience, n.stream) 'webhook', n.audience || '/' || n.stream,
       jsonb_build_object('audience', n.audience, 'stream', n.stream, 'from_id', n.id)
FROM n JOIN tenants t ON t.audience = n.audience WHERE t.webhook_url IS NOT NULL
ORDER BY n.audience, n.stream, n.id
ON CONFLICT (kind, key) WHERE key IS NOT NULL AND done_at IS NULL AND failed_at IS NULL
DO UPDATE SET rerun = jobs.rerun OR jobs.leased_until IS NOT NULL
"""

# One notification ($1 event id, $2 audience, $3 type, $4 payload, $5 stream), written in the
# caller's unit, so it exists exactly when the change it announces does; and its delivery.
NOTIFY = (
    """
WITH n AS (
    INSERT INTO notifications (event_id, audience, type, payload, stream)
    VALUES ($1, $2, $3, $4, $5) RETURNING id, audience, stream
)"""
    + _DELIVER
)

# Several at once ($1 audiences, $2 types, $3 payloads, $4 streams).
NOTIFY_MANY = (
    """
WITH n AS (
    INSERT INTO notifications (event_id, audience, type, payload, stream)
    SELECT gen_random_uuid(), x.audience, x.type, x.payload, x.stream
    FROM unnest($1::text[], $2::text[], $3::jsonb[], $4::text[])
        AS x (audience, type, payload, stream)
    RETURNING id, audience, stream
)"""
    + _DELIVER
)

# A stream's undelivered notifications from $3 on, oldest first ($4 at most), with where to.
PENDING = """
SELECT n.id, n.event_id, n.audience, n.type, n.payload,
       (extract(epoch FROM n.created_at) * 1000)::bigint AS created_at,
       t.webhook_url, t.webhook_secret
FROM notifications n JOIN tenants t ON t.audience = n.audience
WHERE n.audience = $1 AND n.stream = $2 AND n.id >= $3 AND n.delivered_at IS NULL
ORDER BY n.id LIMIT $4
"""

DELIVERED = "UPDATE notifications SET delivered_at = now() WHERE id = $1"

# A job written before streams (its payload names one notification): that notification's stream.
STREAM_OF = "SELECT audience, stream, id FROM notifications WHERE id = $1"

FEED = """
SELECT id, event_id, type, payload AS data,
       (extract(epoch FROM created_at) * 1000)::bigint AS created_at
FROM notifications WHERE audience = $1 AND id > $2 ORDER BY id LIMIT $3
"""
