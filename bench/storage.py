"""Upload throughput of the two maintained S3 clients the issue named, against the same
S3-compatible server on loopback (moto's, as the tests use), in the same run: what chose
obstore for `s3://` storage.

    ./dev bench storage [--mb 64] [--rounds 3]

Each round uploads one file of `--mb` MB with each client (obstore `put_async` from the path:
multipart as it sees fit; aiobotocore `put_object` of the file's bytes, and its multipart upload
in 8 MB parts), alternating, and prints MB/s medians. The server is the same for both, so
the difference is the client's (moto itself caps both).
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import tempfile
import time
from pathlib import Path

from podium.storage import storage_for
from tests.s3 import BUCKET, S3Server

PART = 8 * 1024 * 1024


async def obstore_upload(url: str, path: Path, key: str) -> None:
    await storage_for(url).put_file(key, path)


async def botocore_upload(endpoint: str, path: Path, key: str, multipart: bool) -> None:
    from aiobotocore.session import get_session

    credentials = {"aws_access_key_id": "test", "aws_secret_access_key": "test"}  # moto's
    data = await asyncio.to_thread(path.read_bytes)
    async with get_session().create_client(
        "s3", endpoint_url=endpoint, region_name="us-east-1", **credentials
    ) as s3:
        if not multipart:
            await s3.put_object(Bucket=BUCKET, Key=key, Body=data)
            return
        upload = await s3.create_multipart_upload(Bucket=BUCKET, Key=key)
        parts = []
        for n, start in enumerate(range(0, len(data), PART), start=1):
            body = data[start : start + PART]
            part = await s3.upload_part(Bucket=BUCKET, Key=key, PartNumber=n,
                                        UploadId=upload["UploadId"], Body=body)  # fmt: skip
            parts.append({"ETag": part["ETag"], "PartNumber": n})
        await s3.complete_multipart_upload(Bucket=BUCKET, Key=key, UploadId=upload["UploadId"],
                                           MultipartUpload={"Parts": parts})  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--mb", type=int, default=64)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    server = S3Server()
    server.start()
    try:
        with tempfile.TemporaryDirectory() as work:
            path = Path(work) / "upload.bin"
            path.write_bytes(os.urandom(args.mb * 1024 * 1024))
            ways = {
                "obstore put_async (path)": lambda k: obstore_upload(server.url(), path, k),
                "aiobotocore put_object": lambda k: botocore_upload(
                    server.endpoint, path, k, False
                ),
                "aiobotocore multipart 8 MB": lambda k: botocore_upload(
                    server.endpoint, path, k, True
                ),
            }
            speeds: dict[str, list[float]] = {name: [] for name in ways}
            for r in range(args.rounds):
                for name, upload in ways.items():
                    start = time.perf_counter()
                    asyncio.run(upload(f"bench/{r}/{abs(hash(name))}"))
                    speeds[name].append(args.mb / (time.perf_counter() - start))
    finally:
        server.stop()
    for name, values in speeds.items():
        runs = ", ".join(f"{v:.0f}" for v in values)
        print(f"{name:30} {statistics.median(values):7.1f} MB/s median   ({runs})")


if __name__ == "__main__":
    main()
