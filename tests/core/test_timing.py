"""Deadline starts at construction (set-up counts); checked with a fake clock, not the real one."""

from __future__ import annotations

import math
import time
import types

import pytest

from optkit.core import timing
from optkit.core.timing import Deadline


class FakeClock:
    def __init__(self, now: float):
        self.now = now

    def perf_counter(self) -> float:
        return self.now


def test_deadline_starts_at_construction(monkeypatch):
    """_t0 is read when the Deadline is built; elapsed/remaining count from then."""
    before = time.perf_counter()
    d = Deadline(10.0)
    after = time.perf_counter()
    assert before <= d._t0 <= after
    clock = FakeClock(d._t0 + 3.0)
    monkeypatch.setattr(timing, "time", types.SimpleNamespace(perf_counter=clock.perf_counter))
    assert d.elapsed_s() == pytest.approx(3.0)
    assert d.remaining_s() == pytest.approx(7.0)
    assert not d.expired()
    clock.now = d._t0 + 12.0
    assert d.remaining_s() == 0.0  # clamped, never negative
    assert d.expired()


def test_zero_budget_is_expired_at_once():
    """time_limit 0 leaves nothing for the solver: the CLI's --time-limit 0 relies on this."""
    d = Deadline(0.0)
    assert d.remaining_s() == 0.0
    assert d.expired()


def test_no_limit_never_expires():
    d = Deadline(None)
    assert d.remaining_s() is None
    assert not d.expired()


@pytest.mark.parametrize("limit", [-1.0, math.inf, math.nan], ids=["negative", "inf", "nan"])
def test_deadline_refuses_bad_limits(limit):
    with pytest.raises(ValueError, match="time_limit_s"):
        Deadline(limit)
