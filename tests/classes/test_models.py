"""Class rules without I/O."""

from __future__ import annotations

import pytest

from podium.classes.models import Status, check_time, locked_types, status_of
from podium.errors import ValidationFailed

NOW = 1_900_000_000


@pytest.mark.parametrize(
    ("ends_at", "recording", "expected"),
    [
        (None, None, Status.REAL_TIME),
        (NOW + 1, None, Status.REAL_TIME),
        (NOW, None, Status.CLOSED),
        (NOW - 1, None, Status.CLOSED),
        (NOW - 1, "uploaded", Status.FINISHED),
        (NOW - 1, "adjusted", Status.ADJUSTED),
        (NOW - 1, "transcoded", Status.TRANSCODED),
        (None, "transcoded", Status.TRANSCODED),
    ],
)
def test_status_is_derived(ends_at: int | None, recording: str | None, expected: Status) -> None:
    assert status_of(ends_at, NOW, recording) is expected


def test_status_spelling_is_real_time_with_a_hyphen() -> None:
    assert Status.REAL_TIME.value == "real-time"


@pytest.mark.parametrize("time", [None, (1, 2), (None, 5), (5, None), (None, None)])
def test_valid_times(time: tuple[int | None, int | None] | None) -> None:
    check_time(time)


@pytest.mark.parametrize("time", [(2, 1), (5, 5)])
def test_end_must_follow_start(time: tuple[int, int]) -> None:
    with pytest.raises(ValidationFailed) as info:
        check_time(time)
    assert info.value.field == "time"


def test_locked_chat_locks_the_chat_types() -> None:
    assert locked_types(True) == {
        "message": True,
        "reaction": True,
        "question": True,
        "question_reaction": True,
    }
    assert locked_types(False) == {}
