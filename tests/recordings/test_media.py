"""The media tools' slots: at most `concurrency` tools at once across the processes of a
machine (lock files in a shared folder)."""

from __future__ import annotations

import asyncio
import shutil
from pathlib import Path

import pytest

from podium.recordings.media import DIRECTORIES, MediaError, Tools


async def test_slots_are_shared_through_the_folder(tmp_path: Path) -> None:
    # Two Tools stand for two processes on one machine: one slot between them.
    first, second = Tools(1, tmp_path), Tools(1, tmp_path)
    async with first.slot():
        with pytest.raises(TimeoutError):
            await asyncio.wait_for(second.slot().__aenter__(), 0.5)
    async with second.slot():  # free again once the first let go
        pass
    both = Tools(2, tmp_path)
    async with first.slot(), both.slot():  # a second slot exists for a Tools that has two
        pass


@pytest.mark.skipif(shutil.which("ffprobe") is None, reason="ffmpeg is not installed")
async def test_a_failing_tool_says_why_in_file_names(tmp_path: Path) -> None:
    missing = tmp_path / "deep" / "folder" / "missing.mp4"
    with pytest.raises(MediaError, match=r"missing\.mp4") as caught:
        await Tools(1).run(["ffprobe", "-v", "error", str(missing)], "probing")
    assert str(tmp_path) not in str(caught.value)
    assert DIRECTORIES.sub("", "/a/b/c.mp4: x") == "c.mp4: x"
