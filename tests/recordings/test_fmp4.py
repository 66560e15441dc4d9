"""Fragmented MP4 joined at the box level, and a cut that uses it."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from podium.recordings import fmp4
from podium.recordings.media import Tools
from tests.recordings.runs import ffprobe, ffprobe_ms, synthetic_stream

pytestmark = pytest.mark.skipif(shutil.which("ffmpeg") is None, reason="ffmpeg is not installed")


@pytest.fixture(scope="module")
def stream(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return synthetic_stream(tmp_path_factory.mktemp("fmp4") / "ten.mp4", 10)


def test_a_movie_is_its_fragments(stream: Path) -> None:
    movie = fmp4.read_movie(stream)
    assert [round(movie.seconds(f)[0], 2) for f in movie.fragments] == [0, 2, 4, 6, 8]
    assert {t.kind for t in movie.tracks.values()} == {"vide", "soun"}
    assert movie.video_setup()[4:8] == b"avcC"
    with pytest.raises(fmp4.NotFragmented):
        fmp4.read_movie(Path(__file__))


def test_fragments_of_two_stretches_join_into_one_playable_file(
    stream: Path, tmp_path: Path
) -> None:
    movie = fmp4.read_movie(stream)
    first, last = movie.fragments[:2], movie.fragments[3:]  # 0-4 s and 6-10 s
    out = tmp_path / "joined.mp4"
    init, written = fmp4.join([fmp4.Piece(movie, first), fmp4.Piece(movie, last)], out)
    assert abs(ffprobe_ms(out) - 8_000) <= 50
    # The decode times are continuous: the second stretch starts where the first ended.
    joined = fmp4.read_movie(out)
    assert [round(joined.seconds(f)[0], 2) for f in joined.fragments] == [0, 2, 4, 6]
    assert init + sum(w.size for w in written) == out.stat().st_size
    playlist = tmp_path / "index.m3u8"
    playlist.write_text(fmp4.playlist(init, written, "joined.mp4"))
    assert f'BYTERANGE="{init}@0"' in playlist.read_text()
    assert abs(ffprobe_ms(playlist) - 8_000) <= 50
    assert set(ffprobe(playlist, "stream=codec_name").split()) == {"h264", "aac"}


async def test_a_cut_joins_fragments_and_encodes_only_the_edges(
    stream: Path, tmp_path: Path
) -> None:
    work, out = tmp_path / "work", tmp_path / "out"
    work.mkdir()
    await Tools(2).cut(stream, [(500, 4_300), (6_000, 9_000)], work, out)
    assert not (work / "cut.txt").exists()  # not ffmpeg's concat demuxer: fragments moved
    parts = sorted(p.name for p in work.glob("part*.mp4"))
    assert parts == ["part0.mp4", "part1.mp4", "part2.mp4"]  # 0.5-2, 4-4.3, 8-9 s
    assert abs(ffprobe_ms(out / "stream.mp4") - 6_800) <= 50
    assert abs(ffprobe_ms(out / "index.m3u8") - 6_800) <= 50
