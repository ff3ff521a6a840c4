"""Bad input the adversarial review found getting past the knapsack generator
(tasks/review_badinput.md)."""

from __future__ import annotations

import pytest

import optkit
from optkit.core.errors import InvalidInputError


def test_unknown_generator_option_is_named():
    """`optkit.generate("knapsack", n_types=3)` (and `optkit generate knapsack --n-types 3`)
    used to raise TypeError: unexpected keyword argument."""
    with pytest.raises(InvalidInputError, match=r"^n_types: unknown option \(valid: n, "):
        optkit.generate("knapsack", n_types=3)


def test_huge_n_is_refused_up_front():
    """n = 10**12 used to raise MemoryError from numpy (7 TiB asked for)."""
    with pytest.raises(InvalidInputError, match=r"^n: must be <= 20000"):
        optkit.generate("knapsack", n=10**12)


def test_n_within_the_limit_still_generates():
    assert optkit.generate("knapsack", n=3, seed=1).n_components == 3
