"""What the original's web client library needs (issue 14): who entered an event room, each room's
whiteboard access, the two-party (p2p) and chat kinds, and class-wide bans with the operation id a
ban is changed against.

Revision ID: 0018
Revises: 0017
Create Date: 2026-11-28
"""

from podium.db import run_script

revision = "0018"
down_revision = "0017"
branch_labels = None
depends_on = None


def upgrade() -> None:
    run_script("""
    ALTER TABLE event_rooms ADD COLUMN whiteboard_access jsonb NOT NULL DEFAULT '{}';
    ALTER TABLE room_agents ADD COLUMN joined_at timestamptz NOT NULL DEFAULT now();
    CREATE TABLE room_entries (
        room_id    uuid NOT NULL REFERENCES event_rooms (id) ON DELETE CASCADE,
        account_id text NOT NULL,
        label      text NOT NULL,
        created_at timestamptz NOT NULL DEFAULT now(),
        PRIMARY KEY (room_id, account_id, label)
    );
    ALTER TABLE classes DROP CONSTRAINT classes_kind_check,
        ADD CONSTRAINT classes_kind_check
            CHECK (kind IN ('webinar', 'minigroup', 'session', 'p2p', 'chat'));
    -- One operation counter per account of an audience: a ban or unban names the last one its
    -- caller saw, so two moderators acting at once cannot undo each other unseen.
    CREATE TABLE ban_operations (
        audience   text NOT NULL,
        account_id text NOT NULL,
        last_op_id bigint NOT NULL,
        class_id   uuid NOT NULL,
        banned     boolean NOT NULL,
        changed_by text NOT NULL,
        changed_at timestamptz NOT NULL DEFAULT now(),
        PRIMARY KEY (audience, account_id)
    );
    """)


def downgrade() -> None:
    run_script("""
    DROP TABLE ban_operations, room_entries;
    ALTER TABLE event_rooms DROP COLUMN whiteboard_access;
    ALTER TABLE room_agents DROP COLUMN joined_at;
    ALTER TABLE classes DROP CONSTRAINT classes_kind_check,
        ADD CONSTRAINT classes_kind_check CHECK (kind IN ('webinar', 'minigroup', 'session'));
    """)
