"""The learner diagnostics: the map ceiling (the oracle through the env's map) and the critic's
alignment with the reward's finite-difference gradient."""

from __future__ import annotations

from pathlib import Path

import numpy as np
from conftest import tiny_config

from optkit.learn.diagnostics import alignment, map_ceiling
from optkit.learn.train import train


def test_the_oracle_loses_nothing_through_the_projected_map():
    gaps = map_ceiling(n=4)
    assert gaps.shape == (4,) and np.all(np.abs(gaps) < 1e-6)


def test_critic_alignment_is_a_cosine_per_instance(tmp_path: Path, capsys):
    train("edmsac", tiny_config("edmsac", None), tmp_path / "run")
    cos = alignment(str(tmp_path / "run" / "state.pt"), n=2, slope_sigma=0.02)
    assert len(cos) == 2 and all(-1.0 <= c <= 1.0 for c in cos)
    # a smooth reward at σ = 0.02: the least-squares slope agrees with finite differences
    lines = [x for x in capsys.readouterr().out.splitlines() if "slope" in x]
    assert len(lines) == 2 and all(float(x.rsplit(" ", 1)[1]) > 0.9 for x in lines)
