"""Fragmented MP4 joined at the box level, and a cut that uses it."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

from podium.recordings import fmp4, splice
from podium.recordings.cutting import cut
from podium.recordings.media import Tools
from tests.recordings.runs import ffprobe, ffprobe_ms, synthetic_stream

pytestmark = pytest.mark.skipif(shutil.which("ffmpeg") is None, reason="ffmpeg is not installed")


def decoded_frames(path: Path) -> int:
    counted = subprocess.run(
        ["ffprobe", "-v", "error", "-count_frames", "-select_streams", "v",
         "-show_entries", "stream=nb_read_frames", "-of", "csv=p=0", str(path)],
        capture_output=True, text=True, check=True,
    )  # fmt: skip
    return int(counted.stdout.strip())


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
    init, written = splice.join([splice.Piece(movie, first), splice.Piece(movie, last)], out)
    assert abs(ffprobe_ms(out) - 8_000) <= 50
    # The decode times are continuous: the second stretch starts where the first ended.
    joined = fmp4.read_movie(out)
    assert [round(joined.seconds(f)[0], 2) for f in joined.fragments] == [0, 2, 4, 6]
    assert init + sum(w.size for w in written) == out.stat().st_size
    playlist = tmp_path / "index.m3u8"
    playlist.write_text(splice.playlist(init, written, "joined.mp4"))
    assert f'BYTERANGE="{init}@0"' in playlist.read_text()
    assert abs(ffprobe_ms(playlist) - 8_000) <= 50
    assert set(ffprobe(playlist, "stream=codec_name").split()) == {"h264", "aac"}


async def test_a_cut_joins_fragments_and_encodes_only_the_edges(
    stream: Path, tmp_path: Path
) -> None:
    work, out = tmp_path / "work", tmp_path / "out"
    work.mkdir()
    await cut(Tools(2), stream, [(500, 4_300), (6_000, 9_000)], work, out)
    assert not (work / "cut.txt").exists()  # not ffmpeg's concat demuxer: fragments moved
    # Only 0.5-2 s is encoded; 2-4.3 s and 6-9 s are fragments (4-4.3 and 8-9 cut short).
    assert sorted(p.name for p in work.glob("part*.mp4")) == ["part0.mp4"]
    assert abs(ffprobe_ms(out / "stream.mp4") - 6_800) <= 50
    assert abs(ffprobe_ms(out / "index.m3u8") - 6_800) <= 50
    # Every frame decodes: as many as 6.8 s at 25 fps, and the sound runs as long.
    assert decoded_frames(out / "stream.mp4") == 170
    sound = fmp4.read_movie(out / "stream.mp4")
    assert abs(sum(f.durations[2] for f in sound.fragments) / 48000 - 6.8) < 0.05
