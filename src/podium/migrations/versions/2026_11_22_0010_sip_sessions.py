"""SIP dial-in (spec 003) and the Session API (spec 004): dial-in ids and attendee PINs, session
fields on classes, API clients with their refresh tokens.

Revision ID: 0010
Revises: 0009
Create Date: 2026-11-22
"""

from podium.db import run_script

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None


def upgrade() -> None:
    run_script("""
    ALTER TABLE classes
        ADD COLUMN sip_state smallint NOT NULL DEFAULT 0 CHECK (sip_state IN (0, 1, 2)),
        ADD COLUMN sip_dialin_id text UNIQUE,
        ADD COLUMN canceled_at timestamptz,  -- a cancelled session: nobody enters, for good
        ADD COLUMN picture text,
        ADD COLUMN feature_flags text[] NOT NULL DEFAULT '{}',
        ADD COLUMN client_id text;  -- the Session API client that made it
    CREATE INDEX classes_sessions ON classes (audience, created_at, id) WHERE kind = 'session';
    ALTER TABLE participants ADD COLUMN attendee_pin text,
        ADD CONSTRAINT participants_pin UNIQUE (class_id, attendee_pin);

    -- Session API clients (OAuth2 client credentials); only a hash of the secret is kept.
    CREATE TABLE api_clients (
        client_id text PRIMARY KEY,
        audience text NOT NULL REFERENCES tenants (audience) ON DELETE CASCADE,
        secret_hash text NOT NULL,
        name text,
        created_at timestamptz NOT NULL DEFAULT now()
    );
    CREATE TABLE refresh_tokens (
        token_hash text PRIMARY KEY,
        client_id text NOT NULL REFERENCES api_clients (client_id) ON DELETE CASCADE,
        expires_at timestamptz NOT NULL,
        used_at timestamptz
    );
    """)


def downgrade() -> None:
    run_script("""
    DROP TABLE refresh_tokens; DROP TABLE api_clients;
    ALTER TABLE participants DROP CONSTRAINT participants_pin, DROP COLUMN attendee_pin;
    DROP INDEX classes_sessions;
    ALTER TABLE classes DROP COLUMN sip_state, DROP COLUMN sip_dialin_id, DROP COLUMN canceled_at,
        DROP COLUMN picture, DROP COLUMN feature_flags, DROP COLUMN client_id;
    """)
