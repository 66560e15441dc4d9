"""Nonces the SIP bridge has used: a signed verify request works once.

Revision ID: 0011
Revises: 0010
Create Date: 2026-11-22
"""

from podium.db import run_script

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None


def upgrade() -> None:
    run_script("""
    CREATE TABLE sip_nonces (
        nonce text PRIMARY KEY,
        seen_at timestamptz NOT NULL DEFAULT now()
    );
    CREATE INDEX sip_nonces_seen ON sip_nonces (seen_at);
    """)


def downgrade() -> None:
    run_script("DROP TABLE sip_nonces;")
