"""Listing a room's events by the original client's time cursor without scanning.

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-22
"""

from podium.db import run_script

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # created_at comes from clock_timestamp() inside the insert that holds the room's row lock,
    # so within a room it rises with seq: ordering by (created_at, seq) is the room's order.
    run_script("CREATE INDEX events_room_created ON events (room_id, created_at, seq);")


def downgrade() -> None:
    run_script("DROP INDEX events_room_created;")
