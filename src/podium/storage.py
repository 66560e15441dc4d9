"""Object storage for recordings, chosen by URL (PODIUM_STORAGE_URL):

- `file://<dir>` (the default: `<data dir>/storage`): objects are files under the directory;
  Podium serves them itself (signed links, HTTP range requests).
- `s3://<bucket>[/<prefix>]?endpoint=…&region=…` for any S3-compatible store, through obstore
  (chosen over aiobotocore by bench/storage.py's upload throughput); links to objects are
  presigned URLs. Credentials come from the usual AWS_* environment variables (or, for
  development, `access_key_id`/`secret_access_key` in the URL's query).

Keys are relative paths (`<class id>/<run>/stream.mp4`). Every `put` is verified: the stored
object's size (and for small objects its SHA-256, read back) must match what was written, else
StorageError — nothing is published that is not really there.
"""

from __future__ import annotations

import asyncio
import hashlib
import shutil
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path, PurePosixPath
from typing import Protocol
from urllib.parse import parse_qs, unquote, urlsplit

# Objects up to this size are read back whole and hashed after they are written.
VERIFY_HASH_BELOW = 16 * 1024 * 1024

# What a stored object is served as, by its name's suffix (anything else: octet-stream).
MEDIA_TYPES = {".mp4": "video/mp4", ".m3u8": "application/vnd.apple.mpegurl", ".ts": "video/mp2t",
               ".json": "application/json"}  # fmt: skip
OTHER_MEDIA = "application/octet-stream"


class StorageError(Exception):
    """The store refused, or what it holds is not what was written."""


@dataclass(frozen=True, slots=True)
class Stored:
    key: str
    size: int
    sha256: str | None  # known for objects written from memory


def check_key(key: str) -> str:
    path = PurePosixPath(key)
    if not key or path.is_absolute() or ".." in path.parts or "\\" in key:
        raise ValueError(f"not a storage key: {key!r}")
    return key


class Storage(Protocol):
    url: str

    async def put_bytes(self, key: str, data: bytes) -> Stored: ...
    async def put_file(self, key: str, path: Path) -> Stored: ...
    async def read(self, key: str) -> bytes: ...
    async def download(self, key: str, path: Path) -> None: ...
    async def size(self, key: str) -> int | None: ...
    async def delete_prefix(self, prefix: str) -> None: ...
    def local_path(self, key: str) -> Path | None: ...
    async def presign(self, key: str, seconds: int) -> str | None: ...


def _verify(key: str, expected: int, found: int | None) -> None:
    if found != expected:
        raise StorageError(f"{key}: wrote {expected} bytes, the store holds {found}")


class FileStorage:
    """Objects as files under a directory (written to a temporary name, then renamed)."""

    def __init__(self, root: Path, url: str) -> None:
        self.root = root
        self.url = url

    def local_path(self, key: str) -> Path:
        return self.root / check_key(key)

    async def put_bytes(self, key: str, data: bytes) -> Stored:
        target = self.local_path(key)
        await asyncio.to_thread(self._write, target, data)
        digest = hashlib.sha256(data).hexdigest()
        back = await self.read(key)
        if len(back) != len(data) or hashlib.sha256(back).hexdigest() != digest:
            raise StorageError(f"{key}: what was read back differs from what was written")
        return Stored(key, len(data), digest)

    @staticmethod
    def _write(target: Path, data: bytes) -> None:
        target.parent.mkdir(parents=True, exist_ok=True)
        partial = target.with_name(target.name + ".partial")
        partial.write_bytes(data)
        partial.replace(target)

    async def put_file(self, key: str, path: Path) -> Stored:
        target = self.local_path(key)

        def copy() -> None:
            target.parent.mkdir(parents=True, exist_ok=True)
            partial = target.with_name(target.name + ".partial")
            shutil.copyfile(path, partial)
            partial.replace(target)

        await asyncio.to_thread(copy)
        size = await asyncio.to_thread(lambda: path.stat().st_size)
        _verify(key, size, await self.size(key))
        return Stored(key, size, None)

    async def read(self, key: str) -> bytes:
        try:
            return await asyncio.to_thread(self.local_path(key).read_bytes)
        except FileNotFoundError:
            raise StorageError(f"{key}: not found") from None

    async def download(self, key: str, path: Path) -> None:
        await asyncio.to_thread(shutil.copyfile, self.local_path(key), path)

    async def size(self, key: str) -> int | None:
        try:
            return self.local_path(key).stat().st_size
        except FileNotFoundError:
            return None

    async def delete_prefix(self, prefix: str) -> None:
        await asyncio.to_thread(shutil.rmtree, self.local_path(prefix), True)

    async def presign(self, key: str, seconds: int) -> str | None:
        return None  # Podium serves these itself


class S3Storage:
    """An S3 bucket (any S3-compatible store) through obstore."""

    def __init__(self, url: str) -> None:
        from obstore.store import S3Store

        parts = urlsplit(url)
        query = {k: v[-1] for k, v in parse_qs(parts.query).items()}
        if not parts.netloc:
            raise ValueError("an s3:// storage URL names a bucket: s3://bucket?endpoint=…")
        self.url = url
        self.prefix = unquote(parts.path).strip("/")
        options: dict[str, object] = {"region": query.get("region", "us-east-1")}
        endpoint = query.get("endpoint")
        if endpoint:
            options["endpoint"] = endpoint
            options["virtual_hosted_style_request"] = False
        for name in ("access_key_id", "secret_access_key"):
            if name in query:
                options[name] = query[name]
        client = {"allow_http": True} if endpoint and endpoint.startswith("http://") else {}
        self.store = S3Store(parts.netloc, client_options=client, **options)  # type: ignore[arg-type]

    def _path(self, key: str) -> str:
        check_key(key)
        return f"{self.prefix}/{key}" if self.prefix else key

    def local_path(self, key: str) -> Path | None:
        return None

    async def put_bytes(self, key: str, data: bytes) -> Stored:
        import obstore

        await obstore.put_async(self.store, self._path(key), data)
        digest = hashlib.sha256(data).hexdigest()
        back = await self.read(key)
        if len(back) != len(data) or hashlib.sha256(back).hexdigest() != digest:
            raise StorageError(f"{key}: what was read back differs from what was written")
        return Stored(key, len(data), digest)

    async def put_file(self, key: str, path: Path) -> Stored:
        import obstore

        size = await asyncio.to_thread(lambda: path.stat().st_size)
        await obstore.put_async(self.store, self._path(key), path)
        _verify(key, size, await self.size(key))
        return Stored(key, size, None)

    async def read(self, key: str) -> bytes:
        import obstore

        try:
            result = await obstore.get_async(self.store, self._path(key))
            return bytes(await result.bytes_async())
        except FileNotFoundError:
            raise StorageError(f"{key}: not found") from None

    async def download(self, key: str, path: Path) -> None:
        import obstore

        result = await obstore.get_async(self.store, self._path(key))
        with path.open("wb") as out:
            async for chunk in result.stream():
                out.write(chunk)

    async def size(self, key: str) -> int | None:
        import obstore

        try:
            meta = await obstore.head_async(self.store, self._path(key))
        except FileNotFoundError:
            return None
        return int(meta["size"])

    async def delete_prefix(self, prefix: str) -> None:
        import obstore

        paths = [
            meta["path"]
            async for batch in obstore.list(self.store, prefix=self._path(prefix))
            for meta in batch
        ]
        if paths:
            await obstore.delete_async(self.store, paths)

    async def presign(self, key: str, seconds: int) -> str:
        import obstore

        return str(
            await obstore.sign_async(self.store, "GET", self._path(key), timedelta(seconds=seconds))
        )


def storage_for(url: str) -> Storage:
    """The store a URL names (see the module)."""
    scheme = urlsplit(url).scheme
    if scheme == "file":
        root = Path(unquote(urlsplit(url).path))
        if not root.is_absolute():
            raise ValueError("a file:// storage URL needs an absolute path: file:///var/lib/…")
        return FileStorage(root, url)
    if scheme == "s3":
        return S3Storage(url)
    raise ValueError(f"unknown storage URL scheme {scheme!r} (file:// or s3://)")
