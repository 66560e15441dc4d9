"""Both object stores behind one interface: file:// and an S3-compatible server on loopback."""

from __future__ import annotations

import hashlib
import hmac
import time
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import parse_qs, quote, urlsplit

import httpx
import pytest

from podium.storage import FileStorage, S3Storage, Storage, StorageError, storage_for
from tests import s3


@pytest.fixture(params=["file", "s3"])
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Storage:
    if request.param == "file":
        return storage_for(f"file://{tmp_path}/objects")
    server: s3.S3Server = request.getfixturevalue("s3_server")
    return storage_for(server.url(prefix=f"t{time.monotonic_ns()}"))


async def test_bytes_and_files_round_trip(store: Storage, tmp_path: Path) -> None:
    stored = await store.put_bytes("c1/run/events.json", b'{"room": 1}')
    assert stored.size == 11 and stored.sha256 is not None
    assert await store.read("c1/run/events.json") == b'{"room": 1}'
    big = tmp_path / "big.bin"
    big.write_bytes(bytes(range(256)) * 40_000)  # 10 MB
    assert (await store.put_file("c1/run/stream.mp4", big)).size == big.stat().st_size
    assert await store.size("c1/run/stream.mp4") == big.stat().st_size
    back = tmp_path / "back.bin"
    await store.download("c1/run/stream.mp4", back)
    assert back.read_bytes() == big.read_bytes()
    assert await store.size("c1/nothing") is None
    with pytest.raises(StorageError):
        await store.read("c1/nothing")
    await store.delete_prefix("c1")
    assert await store.size("c1/run/stream.mp4") is None


async def test_keys_cannot_leave_the_store(store: Storage) -> None:
    for key in ("../etc/passwd", "/abs", "a/../../b", ""):
        with pytest.raises(ValueError):
            await store.put_bytes(key, b"x")


async def test_s3_presigned_links_work_and_expire(s3_server: s3.S3Server) -> None:
    store = storage_for(s3_server.url(prefix="signed"))
    assert isinstance(store, S3Storage)
    await store.put_bytes("a/video.mp4", b"0123456789")
    url = await store.presign("a/video.mp4", 2)
    async with httpx.AsyncClient() as http:
        r = await http.get(url, headers={"Range": "bytes=2-5"})
        assert r.status_code == 206 and r.content == b"2345"
    # The link is SigV4-presigned for the time asked. (moto does not enforce the expiry; any S3
    # does, from X-Amz-Date + X-Amz-Expires, which the signature covers.)
    query = parse_qs(urlsplit(url).query)
    assert query["X-Amz-Expires"] == ["2"] and query["X-Amz-Algorithm"] == ["AWS4-HMAC-SHA256"]
    signed_at = datetime.strptime(query["X-Amz-Date"][0], "%Y%m%dT%H%M%SZ").replace(tzinfo=UTC)
    assert abs((datetime.now(UTC) - signed_at).total_seconds()) < 60
    assert "host" in query["X-Amz-SignedHeaders"][0] and len(query["X-Amz-Signature"][0]) == 64
    # The signature is the store's credential over the expiry: recomputed (SigV4, the test
    # server's secret) it matches, and a link with a longer life does not.
    assert sigv4(url, "test") == query["X-Amz-Signature"][0]
    assert sigv4(url.replace("X-Amz-Expires=2", "X-Amz-Expires=3600"), "test") != query[
        "X-Amz-Signature"][0]  # fmt: skip


def sigv4(url: str, secret: str) -> str:
    """The SigV4 signature a presigned GET should carry (AWS's documented algorithm)."""
    parts = urlsplit(url)
    pairs = sorted((k, v) for k, vs in parse_qs(parts.query, keep_blank_values=True).items()
                   for v in vs if k != "X-Amz-Signature")  # fmt: skip
    query = "&".join(f"{quote(k, safe='-_.~')}={quote(v, safe='-_.~')}" for k, v in pairs)
    canonical = "\n".join(["GET", quote(parts.path, safe="/-_.~"), query,
                           f"host:{parts.netloc}", "", "host", "UNSIGNED-PAYLOAD"])  # fmt: skip
    q = dict(pairs)
    date, scope = q["X-Amz-Date"], q["X-Amz-Credential"].split("/", 1)[1]
    to_sign = "\n".join(["AWS4-HMAC-SHA256", date, scope,
                         hashlib.sha256(canonical.encode()).hexdigest()])  # fmt: skip
    key = ("AWS4" + secret).encode()
    for part in scope.split("/"):
        key = hmac.new(key, part.encode(), hashlib.sha256).digest()
    return hmac.new(key, to_sign.encode(), hashlib.sha256).hexdigest()


def test_file_store_serves_locally(tmp_path: Path) -> None:
    store = storage_for(f"file://{tmp_path}")
    assert isinstance(store, FileStorage)
    assert store.local_path("a/b.mp4") == tmp_path / "a" / "b.mp4"
    for bad in ("ftp://x", "file://relative", "s3://"):
        with pytest.raises(ValueError):
            storage_for(bad)
