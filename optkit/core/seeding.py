"""Explicit seeds only: every random draw uses a Generator built here, never the global RNG."""

from __future__ import annotations

import numpy as np

from optkit.core.errors import InvalidInputError

MAX_SEED = 2**63 - 1


def check_seed(seed: object, field: str = "seed") -> int:
    """A seed is a non-negative int (bools refused: True is not a seed)."""
    if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)):
        raise InvalidInputError(field, f"must be a non-negative integer, got {seed!r}")
    if not 0 <= int(seed) <= MAX_SEED:
        raise InvalidInputError(field, f"must be in [0, 2**63-1], got {seed}")
    return int(seed)


def make_rng(seed: int) -> np.random.Generator:
    """The one way to get randomness in optkit: a PCG64 Generator from an explicit seed."""
    return np.random.default_rng(check_seed(seed))


def spawn_seeds(seed: int, n: int) -> list[int]:
    """n independent child seeds (SeedSequence.spawn), e.g. one per instance of a batch."""
    children = np.random.SeedSequence(check_seed(seed)).spawn(n)
    return [int(c.generate_state(1, dtype=np.uint64)[0] >> 1) for c in children]
