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

# Classes whose end has passed, announced once each (`webinar.stop`, `minigroup.stop`).
ANNOUNCE_STOPS = """
WITH due AS (
    UPDATE classes SET stop_announced_at = now()
    WHERE id IN (
        SELECT id FROM classes
        WHERE stop_announced_at IS NULL AND ends_at IS NOT NULL AND ends_at <= now()
        ORDER BY ends_at LIMIT 100 FOR UPDATE SKIP LOCKED)
    RETURNING id, kind, audience, scope, tags, event_room_id, conference_room_id
), closed_e AS (  -- the class's rooms close with it
    UPDATE event_rooms e SET closed_at = coalesce(e.closed_at, now())
    FROM due WHERE e.id = due.event_room_id
), closed_r AS (
    UPDATE conference_rooms r SET closed_at = coalesce(r.closed_at, now())
    FROM due WHERE r.id = due.conference_room_id
), n AS (
    INSERT INTO notifications (event_id, audience, type, payload)
    SELECT gen_random_uuid(), audience, kind || '.stop',
           jsonb_build_object('id', id, 'scope', scope, 'tags', tags, 'timed_out',
               (SELECT r.timed_out FROM conference_rooms r WHERE r.id = due.conference_room_id))
    FROM due
    RETURNING id, audience
), j AS (
    INSERT INTO jobs (kind, payload)
    SELECT 'webhook', jsonb_build_object('notification_id', n.id)
    FROM n JOIN tenants t ON t.audience = n.audience WHERE t.webhook_url IS NOT NULL
)
SELECT count(*) FROM due
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

SET_WEBHOOK = """
UPDATE tenants SET webhook_url = $2, webhook_secret = $3, updated_at = now()
WHERE audience = $1 RETURNING audience
"""
