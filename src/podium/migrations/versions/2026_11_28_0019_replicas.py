"""Webinars larger than one Janus server (issue 15): replicas, viewers seated in them, and the
forwards that carry the presenter's stream to them.

A replica is a class of its own scope that shares its original's event room and has its own
conference room on another server (`conference_rooms.source_room_id` names the room it
replicates). A viewer's grant stays one per class and account; `seated_room_id` says which of
the class's rooms it was given a seat in (NULL: the class's own). `media_forwards` is what
Podium has set up on Janus for each presenter and replica room: a row is also the lease of the
process that sets it up, so two processes never make the same forward twice.

Revision ID: 0019
Revises: 0018
Create Date: 2026-11-28
"""

from podium.db import run_script

revision = "0019"
down_revision = "0018"
branch_labels = None
depends_on = None


def upgrade() -> None:
    run_script("""
    ALTER TABLE conference_rooms
        ADD COLUMN source_room_id uuid REFERENCES conference_rooms (id) ON DELETE CASCADE;
    CREATE INDEX conference_rooms_source ON conference_rooms (source_room_id)
        WHERE source_room_id IS NOT NULL;
    CREATE TABLE replicas (
        id                 uuid PRIMARY KEY,
        class_id           uuid NOT NULL REFERENCES classes (id) ON DELETE CASCADE,
        audience           text NOT NULL,
        scope              text NOT NULL,
        conference_room_id uuid NOT NULL UNIQUE REFERENCES conference_rooms (id)
                           DEFERRABLE INITIALLY DEFERRED,
        created_at         timestamptz NOT NULL DEFAULT now(),
        UNIQUE (audience, scope)
    );
    CREATE INDEX replicas_class ON replicas (class_id);
    ALTER TABLE media_grants
        ADD COLUMN seated_room_id uuid REFERENCES conference_rooms (id) ON DELETE SET NULL;
    CREATE INDEX media_grants_seated ON media_grants (seated_room_id)
        WHERE seated_room_id IS NOT NULL;
    CREATE TABLE media_forwards (
        target_room_id uuid NOT NULL REFERENCES conference_rooms (id) ON DELETE CASCADE,
        publisher_id   text NOT NULL,
        source_room_id uuid NOT NULL REFERENCES conference_rooms (id) ON DELETE CASCADE,
        host           text,     -- where the source sends RTP (the target's answer)
        port           integer,
        rtcp_port      integer,
        streams        jsonb,    -- the publisher's streams as the target was told them
        claimed_until  timestamptz NOT NULL,  -- a process is setting it up until then
        made_at        timestamptz,           -- set up on both servers
        PRIMARY KEY (target_room_id, publisher_id)
    );
    """)


def downgrade() -> None:
    run_script("""
    DROP TABLE media_forwards, replicas;
    ALTER TABLE media_grants DROP COLUMN seated_room_id;
    ALTER TABLE conference_rooms DROP COLUMN source_room_id;
    """)
