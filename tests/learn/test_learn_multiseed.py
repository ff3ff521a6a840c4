"""`optkit train --seeds`: one run per seed on a backend (spec/architecture.md, "Scale")."""

from __future__ import annotations

import json
import math
from pathlib import Path

import pytest
import torch
from learn_testkit import tiny_config

from optkit.learn.multiseed import SeedResult, across_seeds
from optkit.learn.policy import load_checkpoint


@pytest.fixture
def tiny_toml(tmp_path: Path, gt_data: Path) -> Path:
    cfg = tmp_path / "tiny.toml"
    fields = {k: v for k, v in vars(tiny_config("edmsac", gt_data)).items() if k != "env"}
    cfg.write_text(
        "\n".join(f"{k} = {json.dumps(v)}" for k, v in fields.items() if v is not None) + "\n"
    )
    return cfg


def _args(cfg: Path, root: Path, *extra: object) -> list[object]:
    return ["train", "contract", "--config", cfg, "--models", root / "models",
            "--runs", root / "runs", "--heldout", "4", "--name", "tiny", *extra]  # fmt: skip


def test_seeds_on_a_pool_equal_the_same_seeds_trained_alone(run_cli, tmp_path, tiny_toml):
    """Where a seed ran does not change its run: the pool's seed-2 checkpoint is the in-process
    --seed 2 checkpoint, tensor for tensor, with the same card numbers."""
    res = run_cli(*_args(tiny_toml, tmp_path / "pool", "--seeds", "1-2", "--workers", "2"))
    assert res.code == 0, res.err
    alone = run_cli(*_args(tiny_toml, tmp_path / "alone", "--seed", "2"))
    assert alone.code == 0, alone.err
    pooled = load_checkpoint(tmp_path / "pool" / "models" / "tiny-s2.pt")
    single = load_checkpoint(tmp_path / "alone" / "models" / "tiny.pt")
    assert pooled.meta["seed"] == single.meta["seed"] == 2
    a, b = pooled.actor.state_dict(), single.actor.state_dict()
    assert a.keys() == b.keys() and all(torch.equal(a[k], b[k]) for k in a)
    assert pooled.meta["heldout"]["mean_gap"] == single.meta["heldout"]["mean_gap"]
    # the table names both seeds with their card's gap, then the mean over seeds
    gaps = []
    for s in (1, 2):
        held = load_checkpoint(tmp_path / "pool" / "models" / f"tiny-s{s}.pt").meta["heldout"]
        gaps.append(held["mean_gap"])
        assert f"tiny-s{s}" in res.out and f"{100 * held['mean_gap']:.3f}%" in res.out
        assert (tmp_path / "pool" / "models" / f"tiny-s{s}.md").is_file()
    assert f"mean over 2 seeds: {100 * sum(gaps) / 2:.3f}%" in res.out


def test_one_failing_seed_does_not_stop_the_others(run_cli, tmp_path, tiny_toml):
    """Seed 1's run folder already holds a run (no --resume): that seed is a failed row, seed 2
    is trained and published, and the command exits 3."""
    state = tmp_path / "runs" / "tiny-s1" / "state.pt"
    state.parent.mkdir(parents=True)
    state.write_bytes(b"an earlier run")
    res = run_cli(*_args(tiny_toml, tmp_path, "--seeds", "1,2", "--workers", "1"))
    assert res.code == 3, res.err
    assert "1 of 2 seeds failed" in res.err and "Traceback" not in res.err
    assert "failed" in res.out and "--resume" in res.out
    assert (tmp_path / "models" / "tiny-s2.pt").is_file()
    assert not (tmp_path / "models" / "tiny-s1.pt").exists()
    assert state.read_bytes() == b"an earlier run"  # nothing already written is lost


def test_seeds_on_ray(run_cli, tmp_path, tiny_toml):
    """A local Ray started for the command, sized for one task of --threads 2 CPUs (Ray
    reserves a seed's threads: with one CPU per task the task would never be scheduled)."""
    res = run_cli(
        *_args(
            tiny_toml,
            tmp_path,
            "--seeds",
            "3",
            "--backend",
            "ray",
            "--workers",
            "1",
            "--threads",
            "2",
        )
    )
    assert res.code == 0, res.err
    assert load_checkpoint(tmp_path / "models" / "tiny-s3.pt").meta["seed"] == 3
    assert "2 torch threads" in (tmp_path / "models" / "tiny-s3.md").read_text()


@pytest.mark.parametrize(
    "extra, flag",
    [
        (["--seeds", "0-1", "--seed", "0"], "--seeds"),
        (["--workers", "2"], "--workers"),
        (["--backend", "ray"], "--backend"),
        (["--seeds", "0", "--address", "auto"], "--address"),
        (["--seeds", "x-1"], "--seeds"),
        (["--seeds", "1,1"], "--seeds"),
    ],
)
def test_bad_seed_flags_are_refused_before_any_work(run_cli, tmp_path, tiny_toml, extra, flag):
    res = run_cli(*_args(tiny_toml, tmp_path, *extra))
    assert res.code == 2, (res.out, res.err)
    lines = [ln for ln in res.err.splitlines() if ln.strip()]
    assert len(lines) == 1 and lines[0].startswith("error: ") and flag in lines[0], res.err
    assert not (tmp_path / "runs").exists() and not (tmp_path / "models").exists()


def _result(seed: int, gap: float, infeasible: float = 0.0) -> SeedResult:
    return SeedResult(seed, f"s{seed}", f"s{seed}.pt", gap, 0.0, infeasible, 1.0, True)


def test_across_seeds_is_the_t_interval_over_seed_means():
    # gaps 1%, 2%, 3%: mean 2%, sd 1%, t(0.975, 2) = 4.302653 -> half width 4.302653 / sqrt(3) %
    s = across_seeds([_result(0, 0.01), _result(1, 0.02, 0.5), _result(2, 0.03)])
    assert s["n_seeds"] == 3 and s["mean_gap"] == pytest.approx(0.02)
    assert s["ci95"] == pytest.approx(0.01 * 4.302653 / math.sqrt(3), rel=1e-6)
    assert s["max_infeasible"] == 0.5
    one = across_seeds([_result(0, 0.01)])
    assert one["mean_gap"] == 0.01 and math.isnan(one["ci95"])
    assert across_seeds([])["n_seeds"] == 0
