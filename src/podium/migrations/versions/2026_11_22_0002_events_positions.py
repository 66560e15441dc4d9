"""Events in event rooms (with a gapless per-room sequence) and saved viewing positions.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-22
"""

from podium.db import run_script

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    run_script("""
    -- Each stored event takes the room's next number: a live client resumes after the last
    -- number it saw, with no gap and no duplicate.
    ALTER TABLE event_rooms ADD COLUMN last_seq bigint NOT NULL DEFAULT 0;

    CREATE TABLE events (
        id          uuid PRIMARY KEY,
        room_id     uuid NOT NULL REFERENCES event_rooms (id) ON DELETE CASCADE,
        seq         bigint NOT NULL,
        type        text NOT NULL,
        set         text NOT NULL,
        label       text,
        attribute   text,
        data        jsonb NOT NULL,
        removed     boolean NOT NULL DEFAULT false,
        occurred_at bigint NOT NULL,  -- nanoseconds since the room opened
        created_by  text NOT NULL,
        created_at  timestamptz NOT NULL DEFAULT clock_timestamp(),
        UNIQUE (room_id, seq)
    );
    CREATE INDEX events_room_type ON events (room_id, type, seq);
    CREATE INDEX events_room_set_label ON events (room_id, set, label, seq);

    -- Where each viewer stopped in a class's recording: one row per (class, account).
    CREATE TABLE class_positions (
        class_id   uuid NOT NULL REFERENCES classes (id) ON DELETE CASCADE,
        account_id text NOT NULL,
        position   integer NOT NULL CHECK (position BETWEEN 0 AND 86400),
        updated_at timestamptz NOT NULL DEFAULT now(),
        PRIMARY KEY (class_id, account_id)
    );
    """)


def downgrade() -> None:
    run_script("""
    DROP TABLE class_positions, events;
    ALTER TABLE event_rooms DROP COLUMN last_seq;
    """)
