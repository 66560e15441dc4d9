"""The origins of each tenant's web apps: browsers there may call Podium (auth/cors.py).

Revision ID: 0017
Revises: 0016
Create Date: 2026-11-28
"""

from podium.db import run_script

revision = "0017"
down_revision = "0016"
branch_labels = None
depends_on = None


def upgrade() -> None:
    run_script("ALTER TABLE tenants ADD COLUMN cors_origins text[] NOT NULL DEFAULT '{}';")


def downgrade() -> None:
    run_script("ALTER TABLE tenants DROP COLUMN cors_origins;")
