"""The tolerance table of spec/architecture.md, value by value."""

from __future__ import annotations

import pytest

from optkit.core import tolerances as tol


def test_constants_equal_the_spec_table():
    """One table used everywhere; a drifted constant would quietly loosen every check."""
    assert tol.PROBABILITY_SUM == 1e-6
    assert tol.EXACT_FEASIBILITY == 1e-7
    assert tol.INFEASIBLE_VIOLATION == 1e-6
    assert tol.EXACT_AGREEMENT_REL == 1e-6
    assert tol.OBJECTIVE_MISMATCH_REL == 1e-6
    assert tol.CERTIFIED_GAP_REL == 1e-6


@pytest.mark.parametrize(
    "a, b, expected",
    [
        (1000.0, 1001.0, 1.0 / 1001.0),
        (0.0, 0.0, 0.0),
        (0.0, 1e-3, 1e-3),
        (-5.0, 5.0, 2.0),
    ],
    ids=["relative", "zeros", "absolute-below-one", "signs"],
)
def test_relative_difference(a, b, expected):
    """Relative above 1 in magnitude, absolute below (the floor keeps zero answers finite)."""
    assert tol.relative_difference(a, b) == pytest.approx(expected)
