"""Tenant notifications (the pull feed and the webhook outbox), durable jobs, room presence.

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-22
"""

from podium.db import run_script

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    run_script("""
    ALTER TABLE tenants ADD COLUMN webhook_url text, ADD COLUMN webhook_secret text;

    -- What tenants are told, in order: the pull feed reads it, webhooks deliver it. A row is
    -- written in the same transaction as the change it announces.
    CREATE TABLE notifications (
        id         bigserial PRIMARY KEY,
        event_id   uuid NOT NULL UNIQUE,
        audience   text NOT NULL,
        type       text NOT NULL,
        payload    jsonb NOT NULL,
        created_at timestamptz NOT NULL DEFAULT now()
    );
    CREATE INDEX notifications_audience ON notifications (audience, id);

    -- Durable work, retried with backoff; a claimed job is leased, so a crashed worker's job
    -- runs again once its lease ends.
    CREATE TABLE jobs (
        id           bigserial PRIMARY KEY,
        kind         text NOT NULL,
        payload      jsonb NOT NULL,
        run_at       timestamptz NOT NULL DEFAULT now(),
        leased_until timestamptz,
        attempts     integer NOT NULL DEFAULT 0,
        last_error   text,
        done_at      timestamptz,
        failed_at    timestamptz,
        created_at   timestamptz NOT NULL DEFAULT now()
    );
    CREATE INDEX jobs_due ON jobs (run_at) WHERE done_at IS NULL AND failed_at IS NULL;

    -- A class whose end has passed is announced once (`.stop`).
    ALTER TABLE classes ADD COLUMN stop_announced_at timestamptz;
    CREATE INDEX classes_to_stop ON classes (ends_at)
        WHERE stop_announced_at IS NULL AND ends_at IS NOT NULL;

    -- Who is connected to a room's live socket, per server process (`node`), refreshed by
    -- each process while it runs; rows of a process that died age out.
    CREATE TABLE room_agents (
        room_id    uuid NOT NULL REFERENCES event_rooms (id) ON DELETE CASCADE,
        account_id text NOT NULL,
        node       text NOT NULL,
        seen_at    timestamptz NOT NULL DEFAULT now(),
        PRIMARY KEY (room_id, account_id, node)
    );
    """)


def downgrade() -> None:
    run_script("""
    DROP TABLE room_agents, jobs, notifications;
    ALTER TABLE classes DROP COLUMN stop_announced_at;
    ALTER TABLE tenants DROP COLUMN webhook_url, DROP COLUMN webhook_secret;
    """)
