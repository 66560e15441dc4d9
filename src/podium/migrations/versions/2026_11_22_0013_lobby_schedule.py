"""A lobby bound to the schedule: it opens a number of minutes before the class's start, even
when the start moves.

Revision ID: 0013
Revises: 0012
Create Date: 2026-11-22
"""

from podium.db import run_script

revision = "0013"
down_revision = "0012"
branch_labels = None
depends_on = None


def upgrade() -> None:
    run_script("""
    ALTER TABLE classes ADD COLUMN lobby_opens_before integer;  -- minutes before the start
    DROP INDEX classes_lobby_timer;
    CREATE INDEX classes_lobby_on ON classes (id) WHERE lobby_state = 1;
    """)


def downgrade() -> None:
    run_script("""
    DROP INDEX classes_lobby_on;
    CREATE INDEX classes_lobby_timer ON classes (lobby_timer)
        WHERE lobby_state = 1 AND lobby_timer IS NOT NULL;
    ALTER TABLE classes DROP COLUMN lobby_opens_before;
    """)
