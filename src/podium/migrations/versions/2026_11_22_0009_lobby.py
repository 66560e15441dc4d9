"""The lobby of a class, and each participant's place in its waiting queue.

Revision ID: 0009
Revises: 0008
Create Date: 2026-11-22
"""

from podium.db import run_script

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None


def upgrade() -> None:
    run_script("""
    ALTER TABLE classes
        ADD COLUMN lobby_state smallint NOT NULL DEFAULT 0 CHECK (lobby_state IN (0, 1)),
        ADD COLUMN lobby_timer timestamptz,  -- the lobby opens (state 0) at this instant
        ADD COLUMN lobby_message text;  -- shown to those waiting
    CREATE INDEX classes_lobby_timer ON classes (lobby_timer)
        WHERE lobby_state = 1 AND lobby_timer IS NOT NULL;
    ALTER TABLE participants
        ADD COLUMN waiting_since timestamptz,
        ADD COLUMN admitted_at timestamptz,
        ADD COLUMN denied_at timestamptz;
    """)


def downgrade() -> None:
    run_script("""
    ALTER TABLE participants
        DROP COLUMN waiting_since, DROP COLUMN admitted_at, DROP COLUMN denied_at;
    DROP INDEX classes_lobby_timer;
    ALTER TABLE classes DROP COLUMN lobby_state, DROP COLUMN lobby_timer, DROP COLUMN lobby_message;
    """)
