"""A real worker process for the job tests: Podium's JobRunner on a test database, with job kinds
the tests register (a slow one with a short lease, and one limited to one at a time across
processes). Each handler writes what happened to `job_log` with the database's clock.

    python -m tests.jobs_worker DATABASE_URL NAME
"""

from __future__ import annotations

import asyncio
import signal
import sys

from podium.db import Database
from podium.jobs import Job, JobKind, JobRegistry, JobRunner

LOG = "INSERT INTO job_log (job_id, worker, event) VALUES ($1, $2, $3)"
LOG_TABLE = """
CREATE TABLE IF NOT EXISTS job_log (
    job_id bigint NOT NULL, worker text NOT NULL, event text NOT NULL,
    at timestamptz NOT NULL DEFAULT clock_timestamp()
)
"""


def registry(db: Database, worker: str) -> JobRegistry:
    async def logged(job: Job) -> None:
        await db.execute(LOG, job.id, worker, "start")
        try:
            await asyncio.sleep(float(job.payload["seconds"]))
        except asyncio.CancelledError:  # the process is stopping: the job is handed back
            await db.execute(LOG, job.id, worker, "stopped")
            raise
        await db.execute(LOG, job.id, worker, "end")

    kinds = JobRegistry()
    # Runs for seconds, leased for one: only the heartbeat keeps it from starting twice.
    kinds.kind(JobKind("test.slow", logged, lease_seconds=1.0))
    kinds.kind(JobKind("test.one_at_a_time", logged, lease_seconds=5.0, concurrency=1))
    return kinds


async def main(url: str, worker: str) -> None:
    db = Database(url, size=4)
    await db.connect()
    runner = JobRunner(db, registry(db, worker), poll_seconds=0.05, slots=4)
    await runner.start()
    print("ready", flush=True)
    stop = asyncio.Event()
    asyncio.get_running_loop().add_signal_handler(signal.SIGTERM, stop.set)
    await stop.wait()
    await runner.stop()
    await db.close()


if __name__ == "__main__":
    asyncio.run(main(sys.argv[1], sys.argv[2]))
