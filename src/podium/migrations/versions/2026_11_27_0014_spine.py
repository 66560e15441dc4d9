"""The spine: job leases per claim, media placement leases, one class lifecycle.

- jobs: a lease is a token per claim (a worker that lost its lease cannot finish what another
  now owns); claims go by kind.
- media_leases: slots a Janus placement holds while the room is made on Janus, outside any
  transaction; they count towards the server's load until the room is stored or they lapse.
- classes: `stop_announced_at` becomes `ended_at` (the lifecycle ended the class: rooms closed,
  `.stop` written once, "class ended" emitted) with its cause.

Revision ID: 0014
Revises: 0013
Create Date: 2026-11-27
"""

from podium.db import run_script

revision = "0014"
down_revision = "0013"
branch_labels = None
depends_on = None


def upgrade() -> None:
    run_script("""
    ALTER TABLE jobs ADD COLUMN lease_token uuid;
    DROP INDEX jobs_due;
    CREATE INDEX jobs_open ON jobs (kind, run_at) WHERE done_at IS NULL AND failed_at IS NULL;

    CREATE TABLE media_leases (
        room_id      uuid PRIMARY KEY,
        janus_server text NOT NULL,
        slots        integer NOT NULL,
        expires_at   timestamptz NOT NULL
    );
    CREATE INDEX media_leases_server ON media_leases (janus_server, expires_at);

    ALTER TABLE classes RENAME COLUMN stop_announced_at TO ended_at;
    ALTER TABLE classes ADD COLUMN end_cause text;
    DROP INDEX classes_to_stop;
    CREATE INDEX classes_to_end ON classes (ends_at) WHERE ended_at IS NULL AND ends_at IS NOT NULL;
    """)


def downgrade() -> None:
    run_script("""
    DROP INDEX classes_to_end;
    ALTER TABLE classes DROP COLUMN end_cause;
    ALTER TABLE classes RENAME COLUMN ended_at TO stop_announced_at;
    CREATE INDEX classes_to_stop ON classes (ends_at)
        WHERE stop_announced_at IS NULL AND ends_at IS NOT NULL;

    DROP TABLE media_leases;

    DROP INDEX jobs_open;
    CREATE INDEX jobs_due ON jobs (run_at) WHERE done_at IS NULL AND failed_at IS NULL;
    ALTER TABLE jobs DROP COLUMN lease_token;
    """)
