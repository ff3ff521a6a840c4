"""Seeds are explicit non-negative ints; Generators built from them are reproducible."""

from __future__ import annotations

import numpy as np
import pytest

from optkit.core.errors import InvalidInputError
from optkit.core.seeding import MAX_SEED, check_seed, make_rng, spawn_seeds


@pytest.mark.parametrize(
    "seed",
    [True, False, -1, 1.0, 2.5, "7", None, 2**63],
    ids=["true", "false", "negative", "float", "fraction", "string", "none", "too-big"],
)
def test_check_seed_refuses(seed):
    """True is not a seed (bool is an int subclass); floats and negatives are refused too."""
    with pytest.raises(InvalidInputError) as info:
        check_seed(seed)
    assert info.value.field == "seed"


@pytest.mark.parametrize("seed", [0, 7, np.int64(7), MAX_SEED], ids=str)
def test_check_seed_accepts(seed):
    assert check_seed(seed) == int(seed)
    assert type(check_seed(seed)) is int


def test_check_seed_names_the_given_field():
    with pytest.raises(InvalidInputError, match="^--seed: "):
        check_seed(-3, "--seed")


def test_make_rng_is_deterministic():
    """Same seed, same stream; another seed, another stream (never the global RNG)."""
    a, b, c = make_rng(42), make_rng(42), make_rng(43)
    draws_a = a.random(5)
    assert np.array_equal(draws_a, b.random(5))
    assert not np.array_equal(draws_a, c.random(5))
    assert isinstance(a.bit_generator, np.random.PCG64)


def test_spawn_seeds_deterministic_distinct_and_valid():
    """Child seeds for a batch: the same list every time, all distinct, each a valid seed."""
    seeds = spawn_seeds(3, 6)
    assert seeds == spawn_seeds(3, 6)
    assert len(set(seeds)) == 6
    assert seeds != spawn_seeds(4, 6)
    assert all(check_seed(s) == s for s in seeds)
    assert spawn_seeds(3, 2) == seeds[:2]  # a longer batch extends, never reshuffles


def test_spawn_seeds_refuses_bad_parent():
    with pytest.raises(InvalidInputError):
        spawn_seeds(True, 3)
