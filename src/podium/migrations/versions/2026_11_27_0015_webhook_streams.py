"""Webhooks in order per class: notifications belong to a stream (their class, or the audience),
are marked delivered, and one job per stream delivers them in order (keyed jobs: one open job per
key; a job asked for again while it runs runs once more).

Revision ID: 0015
Revises: 0014
Create Date: 2026-11-27
"""

from podium.db import run_script

revision = "0015"
down_revision = "0014"
branch_labels = None
depends_on = None


def upgrade() -> None:
    run_script("""
    ALTER TABLE jobs ADD COLUMN key text, ADD COLUMN rerun boolean NOT NULL DEFAULT false;
    CREATE UNIQUE INDEX jobs_one_open_per_key ON jobs (kind, key)
        WHERE key IS NOT NULL AND done_at IS NULL AND failed_at IS NULL;

    ALTER TABLE notifications ADD COLUMN stream text NOT NULL DEFAULT '',
                              ADD COLUMN delivered_at timestamptz;
    -- What was there before is not delivered again.
    UPDATE notifications SET delivered_at = created_at;
    CREATE INDEX notifications_undelivered ON notifications (audience, stream, id)
        WHERE delivered_at IS NULL;
    """)


def downgrade() -> None:
    run_script("""
    DROP INDEX notifications_undelivered;
    ALTER TABLE notifications DROP COLUMN delivered_at, DROP COLUMN stream;
    DROP INDEX jobs_one_open_per_key;
    ALTER TABLE jobs DROP COLUMN rerun, DROP COLUMN key;
    """)
