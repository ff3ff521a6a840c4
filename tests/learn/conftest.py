"""Fixtures of the learner tests: a tiny warm-start data set and tiny configurations.

Everything here runs on budgets of seconds: networks of width 16, a handful of env steps, a few
validation instances. torch runs on one thread (the machine is shared).
"""

from __future__ import annotations

from pathlib import Path

import pytest

torch = pytest.importorskip("torch")  # the `learn` extra; CI installs it (missing = failure there)

from learn_testkit import tiny_config, write_ground_truth  # noqa: E402

from optkit.learn.config import EnvConfig  # noqa: E402

torch.set_num_threads(1)


@pytest.fixture(scope="session")
def gt_data(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """24 solved `default` instances (seeds 2_000_000 + k: not held-out, not validation)."""
    return write_ground_truth(tmp_path_factory.mktemp("gt"), range(2_000_000, 2_000_024))


@pytest.fixture(scope="session")
def tiny_checkpoint(tmp_path_factory: pytest.TempPathFactory, gt_data: Path) -> Path:
    """A tiny EDMSAC checkpoint with its card (held-out n = 8), trained once per session."""
    from optkit.learn.train import publish, train

    root = tmp_path_factory.mktemp("ckpt")
    run = train("edmsac", tiny_config("edmsac", gt_data), root / "run")
    ckpt, _ = publish(run, root / "models", "contract-edmsac-v1", heldout_n=8, latency=False)
    return ckpt


@pytest.fixture
def env_config() -> EnvConfig:
    return EnvConfig()
