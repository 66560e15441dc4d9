"""Keeping live sockets' state out of full collections (podium.memory): when a process freezes,
and when it collects after churn."""

from __future__ import annotations

import gc

from hypothesis import given
from hypothesis import strategies as st

from podium.memory import CHURN, GROWTH, MIN_SOCKETS, Frozen, Keeper, Step, next_step


def test_a_growing_process_freezes_as_it_grows_and_collects_after_churn() -> None:
    assert next_step(Frozen(), MIN_SOCKETS - 1) is Step.NOTHING  # small: nothing to gain
    assert next_step(Frozen(), MIN_SOCKETS) is Step.FREEZE
    assert next_step(Frozen(sockets=1000), 1099) is Step.NOTHING  # grew less than 10 %
    assert next_step(Frozen(sockets=1000), 1100) is Step.FREEZE
    assert next_step(Frozen(sockets=1000, closed=249), 800) is Step.NOTHING
    assert next_step(Frozen(sockets=1000, closed=250), 800) is Step.COLLECT


@given(frozen=st.integers(0, 100_000), closed=st.integers(0, 100_000),
       live=st.integers(0, 100_000))  # fmt: skip
def test_the_rule(frozen: int, closed: int, live: int) -> None:
    step = next_step(Frozen(frozen, closed), live)
    if frozen and closed >= CHURN * frozen:
        assert step is Step.COLLECT  # garbage frozen with closed sockets is bounded
    elif step is Step.FREEZE:
        assert live >= MIN_SOCKETS and live >= (1 + GROWTH) * frozen
    else:
        assert step is Step.NOTHING


def test_the_keeper_freezes_and_unfreezes_for_real() -> None:
    keeper = Keeper()
    before = gc.get_freeze_count()
    try:
        assert keeper.settle(MIN_SOCKETS) is Step.FREEZE
        assert gc.get_freeze_count() > before
        for _ in range(MIN_SOCKETS // 4):
            keeper.closed()
        assert keeper.settle(MIN_SOCKETS) is Step.COLLECT
        assert keeper.frozen == Frozen(sockets=MIN_SOCKETS)
    finally:
        gc.unfreeze()
