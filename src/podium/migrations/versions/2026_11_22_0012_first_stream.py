"""When a conference room's first stream started (a room lasts at most so long after it).

Revision ID: 0012
Revises: 0011
Create Date: 2026-11-22
"""

from podium.db import run_script

revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None


def upgrade() -> None:
    run_script("ALTER TABLE conference_rooms ADD COLUMN first_stream_at timestamptz;")


def downgrade() -> None:
    run_script("ALTER TABLE conference_rooms DROP COLUMN first_stream_at;")
