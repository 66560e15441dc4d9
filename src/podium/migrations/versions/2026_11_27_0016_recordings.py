"""Recordings: whether a class records; a production per run of a class (its recordings
collected, adjusted, dumped, transcoded); each publisher's recording; event rooms made from
others (original and modified rooms); editions and their changes.

Revision ID: 0016
Revises: 0015
Create Date: 2026-11-27
"""

from podium.db import run_script

revision = "0016"
down_revision = "0015"
branch_labels = None
depends_on = None


def upgrade() -> None:
    run_script("""
    ALTER TABLE classes ADD COLUMN record boolean NOT NULL DEFAULT true;

    -- O is made from R, M from O, a committed edition's room from its source.
    ALTER TABLE event_rooms ADD COLUMN source_room_id uuid REFERENCES event_rooms (id),
                            ADD COLUMN adjusted_at timestamptz;  -- adjust is one-shot per room

    -- One production per run of a class (its real-time event room R): the steps collect,
    -- adjust, dump, transcode, in that order; `step` is the one running or next (or failed).
    CREATE TABLE productions (
        id                 uuid PRIMARY KEY,
        class_id           uuid NOT NULL REFERENCES classes (id) ON DELETE CASCADE,
        event_room_id      uuid NOT NULL UNIQUE REFERENCES event_rooms (id),
        conference_room_id uuid NOT NULL REFERENCES conference_rooms (id),
        janus_server       text,
        step               text NOT NULL DEFAULT 'collect'
                           CHECK (step IN ('collect', 'adjust', 'dump', 'transcode', 'done')),
        failed_at          timestamptz,
        error              text,
        collected_at       timestamptz,
        adjusted_at        timestamptz,
        transcoded_at      timestamptz,
        original_room_id   uuid REFERENCES event_rooms (id),
        modified_room_id   uuid REFERENCES event_rooms (id),
        modified_segments  jsonb,
        room_events_uri    text,
        stream_id          uuid,  -- the transcoded stream (MP4 + HLS)
        stream_prefix      text,  -- where it is in storage: <prefix>/stream.mp4, <prefix>/hls/
        stream_duration_ms bigint,
        deleted_at         timestamptz,  -- a recreate soft-deletes the class's productions
        created_at         timestamptz NOT NULL DEFAULT now()
    );
    CREATE INDEX productions_class ON productions (class_id, created_at)
        WHERE deleted_at IS NULL;

    -- Each publisher's recording: its original stream (pauses left out), when it started
    -- (unix ms) and its segments (ms after that, half-open).
    CREATE TABLE recordings (
        id                    uuid PRIMARY KEY,
        production_id         uuid NOT NULL REFERENCES productions (id) ON DELETE CASCADE,
        account_id            text NOT NULL,
        started_at            bigint NOT NULL,
        segments              jsonb NOT NULL,
        duration_ms           bigint NOT NULL,
        cut_original_segments jsonb,
        created_at            timestamptz NOT NULL DEFAULT now(),
        UNIQUE (production_id, account_id)
    );

    CREATE TABLE editions (
        id             uuid PRIMARY KEY,
        source_room_id uuid NOT NULL REFERENCES event_rooms (id) ON DELETE CASCADE,
        created_by     text NOT NULL,
        created_at     timestamptz NOT NULL DEFAULT now(),
        committed_room_id uuid REFERENCES event_rooms (id),
        committed_at   timestamptz
    );
    CREATE INDEX editions_source ON editions (source_room_id, created_at);

    CREATE TABLE edition_changes (
        id          uuid PRIMARY KEY,
        edition_id  uuid NOT NULL REFERENCES editions (id) ON DELETE CASCADE,
        kind        text NOT NULL
                    CHECK (kind IN ('addition', 'modification', 'removal', 'bulk_removal')),
        event_id    uuid,
        event       jsonb,
        created_by  text NOT NULL,
        created_at  timestamptz NOT NULL DEFAULT clock_timestamp()
    );
    CREATE INDEX edition_changes_edition ON edition_changes (edition_id, created_at);
    """)


def downgrade() -> None:
    run_script("""
    DROP TABLE edition_changes, editions, recordings, productions;
    ALTER TABLE event_rooms DROP COLUMN adjusted_at, DROP COLUMN source_room_id;
    ALTER TABLE classes DROP COLUMN record;
    """)
