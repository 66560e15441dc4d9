"""Where a conference room lives on the Janus pool, and its secret there.

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-22
"""

from podium.db import run_script

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    run_script("""
    ALTER TABLE conference_rooms ADD COLUMN janus_server text, ADD COLUMN janus_secret text;
    CREATE INDEX conference_rooms_open_janus ON conference_rooms (janus_server)
        WHERE backend = 'janus' AND closed_at IS NULL;
    """)


def downgrade() -> None:
    run_script("""
    DROP INDEX conference_rooms_open_janus;
    ALTER TABLE conference_rooms DROP COLUMN janus_server, DROP COLUMN janus_secret;
    """)
