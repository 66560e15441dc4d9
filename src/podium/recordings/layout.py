"""Where a run's media and dumps are kept in storage, and how their addresses are shown.

`<class>/<run>/originals/<publisher>.mp4`, `<class>/<run>/events.json`,
`<class>/<run>/<stream>/{stream.mp4,index.m3u8}`.
"""

from __future__ import annotations

import hashlib
from urllib.parse import urlsplit

from podium.config import Settings
from podium.db import Row
from podium.storage import Storage


def prefix(row: Row) -> str:
    return f"{row['class_id']}/{row['id']}"


def original_key(row: Row, account: str) -> str:
    digest = hashlib.sha256(account.encode()).hexdigest()[:16]  # account ids may hold anything
    return f"{prefix(row)}/originals/{digest}.mp4"


def object_uri(storage: Storage, key: str) -> str:
    """Where an object is, as the original named it (s3://bucket/key; file:///path)."""
    local = storage.local_path(key)
    if local is not None:
        return local.as_uri()
    parts = urlsplit(storage.url)
    path = parts.path.strip("/")
    return f"s3://{parts.netloc}/{path + '/' if path else ''}{key}"


def events_uri(settings: Settings, storage: Storage, row: Row, key: str) -> str:
    """The dump's address in on_demand: an S3 object's URI; Podium's own route for a file
    store (readable by whoever may read the class)."""
    if storage.local_path(key) is None:
        return object_uri(storage, key)
    return f"{settings.base_url}/api/v1/recordings/{row['id']}/events.json"


def stream_uri(settings: Settings, storage: Storage, row: Row, base: str) -> str:
    """The stream in `.ready`: an S3 object's URI; with a file store, the class's download
    route (which answers a signed link), never a path on the server."""
    if storage.local_path(f"{base}/stream.mp4") is None:
        return object_uri(storage, f"{base}/stream.mp4")
    return f"{settings.base_url}/api/v1/{row['kind']}s/{row['class_id']}/download"
