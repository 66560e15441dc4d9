"""Who may join a conference room's media, and what Podium last saw in it.

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-22
"""

from podium.db import run_script

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    run_script("""
    -- One per account and room. The Janus token is derived from the server's key and the
    -- grant's id (never stored); the grant's id is the participant id (feed) on Janus.
    CREATE TABLE media_grants (
        id uuid PRIMARY KEY,
        conference_room_id uuid NOT NULL REFERENCES conference_rooms (id) ON DELETE CASCADE,
        account_id text NOT NULL,
        role text NOT NULL CHECK (role IN ('publisher', 'subscriber')),
        created_at timestamptz NOT NULL DEFAULT now(),
        admitted_at timestamptz,  -- last handed out (counted in `connected` until a check)
        revoked_at timestamptz,
        UNIQUE (conference_room_id, account_id)
    );
    ALTER TABLE conference_rooms
        ADD COLUMN connected integer NOT NULL DEFAULT 0,
        ADD COLUMN counted_at timestamptz,  -- when Janus last told how many are in it
        ADD COLUMN host_seen_at timestamptz,
        ADD COLUMN timed_out boolean NOT NULL DEFAULT false;
    """)


def downgrade() -> None:
    run_script("""
    DROP TABLE media_grants;
    ALTER TABLE conference_rooms
        DROP COLUMN connected, DROP COLUMN counted_at, DROP COLUMN host_seen_at,
        DROP COLUMN timed_out;
    """)
