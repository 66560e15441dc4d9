"""Participants of a class with their personal entry links, and Podium's own signing key.

Revision ID: 0008
Revises: 0007
Create Date: 2026-11-22
"""

from podium.db import run_script

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    run_script("""
    -- Signs entry links and the access tokens Podium issues for them; made once, shared by
    -- every process (gen_random_uuid draws from PostgreSQL's strong random source).
    CREATE TABLE server_keys (
        name text PRIMARY KEY,
        key text NOT NULL,
        created_at timestamptz NOT NULL DEFAULT now()
    );
    INSERT INTO server_keys (name, key)
    VALUES ('links', replace(gen_random_uuid()::text || gen_random_uuid()::text, '-', ''));

    CREATE TABLE participants (
        id uuid PRIMARY KEY,
        class_id uuid NOT NULL REFERENCES classes (id) ON DELETE CASCADE,
        audience text NOT NULL,
        account_id text NOT NULL,
        display_name text NOT NULL,
        picture text,
        role text NOT NULL CHECK (role IN ('owner', 'moderator', 'participant', 'guest')),
        permissions jsonb NOT NULL DEFAULT '{}',  -- overrides of the role's defaults
        state text,  -- the tenant's, opaque
        single_use boolean NOT NULL DEFAULT false,
        link_version integer NOT NULL DEFAULT 1,  -- rotating the link invalidates older ones
        link_used_at timestamptz,
        created_at timestamptz NOT NULL DEFAULT now(),
        updated_at timestamptz NOT NULL DEFAULT now(),
        canceled_at timestamptz,
        UNIQUE (class_id, account_id)
    );
    CREATE INDEX participants_by_class ON participants (class_id, created_at, id);
    """)


def downgrade() -> None:
    run_script("DROP TABLE participants; DROP TABLE server_keys;")
