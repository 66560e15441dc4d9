"""Keeping live sockets' state out of full garbage collections.

A full collection walks every object the interpreter tracks; with thousands of live sockets
(many objects each) that is a stop of ~190 ms at 5,000 sockets and ~360 ms at 10,000, which every
socket feels (docs/benchmarks.md: it was the one-process fan-out tail). The sockets' state lives
as long as they do, so, as start-up does for the app, it is frozen (`gc.freeze()`: moved out of
the collector's generations; objects are still freed when nothing refers to them). What a freeze
costs: cyclic garbage frozen with it waits for the next unfreeze. So a process freezes again as
its sockets grow, and once enough of what it froze has closed it unfreezes, collects once and
freezes again: one full pause after much churn, instead of one every few seconds of growth.
"""

from __future__ import annotations

import gc
from dataclasses import dataclass
from enum import Enum

GROWTH = 0.10  # freeze again once the sockets grew by this share since the last freeze
CHURN = 0.25  # collect once this share of the frozen sockets has closed
MIN_SOCKETS = 100  # below this, collections are short anyway


class Step(Enum):
    NOTHING = "nothing"
    FREEZE = "freeze"
    COLLECT = "collect"  # unfreeze, collect, freeze


@dataclass
class Frozen:
    sockets: int = 0  # live sockets at the last freeze
    closed: int = 0  # sockets closed since


def next_step(frozen: Frozen, live: int) -> Step:
    """What a process with `live` sockets does now (see the module)."""
    if frozen.sockets and frozen.closed >= CHURN * frozen.sockets:
        return Step.COLLECT
    if live >= MIN_SOCKETS and live >= (1 + GROWTH) * frozen.sockets:
        return Step.FREEZE
    return Step.NOTHING


class Keeper:
    """The process's record of what it froze; the live hub tells it of closed sockets and asks
    it to settle now and then."""

    def __init__(self) -> None:
        self.frozen = Frozen()

    def closed(self) -> None:
        self.frozen.closed += 1

    def settle(self, live: int) -> Step:
        step = next_step(self.frozen, live)
        if step is Step.COLLECT:
            gc.unfreeze()
            gc.collect()
        if step is not Step.NOTHING:
            gc.freeze()
            self.frozen = Frozen(sockets=live)
        return step
