"""Bans in event rooms.

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-22
"""

from podium.db import run_script

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    run_script("""
    CREATE TABLE room_bans (
        room_id    uuid NOT NULL REFERENCES event_rooms (id) ON DELETE CASCADE,
        account_id text NOT NULL,
        reason     text,
        banned_by  text NOT NULL,
        created_at timestamptz NOT NULL DEFAULT now(),
        PRIMARY KEY (room_id, account_id)
    );
    """)


def downgrade() -> None:
    run_script("DROP TABLE room_bans;")
