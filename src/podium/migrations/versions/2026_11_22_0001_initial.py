"""Tenants, classes, their event and conference rooms, idempotency keys, account properties.

Revision ID: 0001
Revises:
Create Date: 2026-11-22
"""

from podium.db import run_script

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    run_script("""
    CREATE TABLE tenants (
        audience        text PRIMARY KEY,
        algorithm       text NOT NULL CHECK (algorithm IN ('HS256', 'ES256')),
        key             text NOT NULL,
        issuer          text NOT NULL,
        service_account text NOT NULL,
        created_at      timestamptz NOT NULL DEFAULT now(),
        updated_at      timestamptz NOT NULL DEFAULT now()
    );

    -- A class is created in one statement together with its two rooms, so a class row always
    -- has both rooms (the deferred foreign keys let the three rows point at each other).
    CREATE TABLE classes (
        id                 uuid PRIMARY KEY,
        kind               text NOT NULL CHECK (kind IN ('webinar', 'minigroup', 'session')),
        audience           text NOT NULL,
        scope              text NOT NULL,
        title              text,
        starts_at          timestamptz,
        ends_at            timestamptz,
        tags               jsonb,
        properties         jsonb NOT NULL DEFAULT '{}',
        preserve_history   boolean NOT NULL DEFAULT true,
        reserve            integer CHECK (reserve >= 0),
        host               text,
        locked_chat        boolean NOT NULL DEFAULT true,
        event_room_id      uuid NOT NULL,
        conference_room_id uuid NOT NULL,
        created_at         timestamptz NOT NULL DEFAULT now(),
        updated_at         timestamptz NOT NULL DEFAULT now(),
        UNIQUE (audience, scope),
        CHECK (ends_at IS NULL OR starts_at IS NULL OR ends_at > starts_at)
    );

    CREATE TABLE event_rooms (
        id               uuid PRIMARY KEY,
        class_id         uuid NOT NULL REFERENCES classes (id) ON DELETE CASCADE
                         DEFERRABLE INITIALLY DEFERRED,
        audience         text NOT NULL,
        opened_at        timestamptz NOT NULL DEFAULT now(),
        closed_at        timestamptz,
        preserve_history boolean NOT NULL DEFAULT true,
        locked_types     jsonb NOT NULL DEFAULT '{}',
        tags             jsonb,
        created_at       timestamptz NOT NULL DEFAULT now()
    );
    CREATE INDEX event_rooms_class ON event_rooms (class_id);

    CREATE TABLE conference_rooms (
        id         uuid PRIMARY KEY,
        class_id   uuid NOT NULL REFERENCES classes (id) ON DELETE CASCADE
                   DEFERRABLE INITIALLY DEFERRED,
        audience   text NOT NULL,
        backend    text NOT NULL CHECK (backend IN ('none', 'janus')),
        reserve    integer,
        starts_at  timestamptz,
        ends_at    timestamptz,
        closed_at  timestamptz,
        created_at timestamptz NOT NULL DEFAULT now()
    );
    CREATE INDEX conference_rooms_class ON conference_rooms (class_id);

    ALTER TABLE classes
        ADD FOREIGN KEY (event_room_id) REFERENCES event_rooms (id) DEFERRABLE INITIALLY DEFERRED,
        ADD FOREIGN KEY (conference_room_id) REFERENCES conference_rooms (id)
            DEFERRABLE INITIALLY DEFERRED;

    -- A retried POST with the same Idempotency-Key answers the first response.
    CREATE TABLE idempotency_keys (
        audience    text NOT NULL,
        key         text NOT NULL,
        fingerprint text NOT NULL,
        status      integer,
        body        jsonb,
        created_at  timestamptz NOT NULL DEFAULT now(),
        PRIMARY KEY (audience, key)
    );

    CREATE TABLE account_properties (
        audience   text NOT NULL,
        account_id text NOT NULL,
        properties jsonb NOT NULL DEFAULT '{}',
        updated_at timestamptz NOT NULL DEFAULT now(),
        PRIMARY KEY (audience, account_id)
    );
    """)


def downgrade() -> None:
    run_script("""
    DROP TABLE account_properties, idempotency_keys;
    ALTER TABLE classes DROP CONSTRAINT classes_event_room_id_fkey,
                        DROP CONSTRAINT classes_conference_room_id_fkey;
    DROP TABLE conference_rooms, event_rooms, classes, tenants;
    """)
