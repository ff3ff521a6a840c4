"""One training job per seed, for `optkit train --seeds 0-4` (spec/architecture.md, "Scale":
multi-seed training on a local process pool or a Ray cluster).

`train_seed` is the whole job of one seed -- train, publish the checkpoint and its card, return
the card's held-out headline -- as a module-level function of plain arguments, so the CLI hands
it to either backend of optkit.bench.backends unchanged. A seed's result does not depend on where
it ran: the run is a function of its config (seed included) and its torch thread count (tests
compare a pool-trained seed with the same seed trained in-process).

`across_seeds` summarises the seeds the way the compute plan's comparisons are read: the mean of
the per-seed held-out mean gaps with a 95% Student-t interval over seeds (the seed-to-seed spread
is what a rerun would see; the per-instance CI on each card is a different, narrower thing).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch

from optkit.learn.config import TrainConfig
from optkit.learn.policy import load_checkpoint
from optkit.learn.train import publish, train


@dataclass(frozen=True)
class SeedJob:
    """Everything one seed's run needs; pickled to a worker process or a Ray task."""

    algo: str
    cfg: TrainConfig
    """The run's config, its seed already set."""
    name: str
    """Checkpoint name: MODELS/NAME.pt, NAME.md, logs/NAME.csv; run state in RUNS/NAME/."""
    models_dir: str
    runs_dir: str
    resume: bool
    heldout_n: int
    threads: int
    """torch threads inside the job."""


@dataclass(frozen=True)
class SeedResult:
    """The card's held-out headline of one seed's published checkpoint."""

    seed: int
    name: str
    checkpoint: str
    mean_gap: float
    ci95: float
    infeasible_share: float
    train_wall_s: float
    complete: bool
    """False when --max-minutes stopped the run before its budget (it can be resumed)."""


def train_seed(job: SeedJob) -> SeedResult:
    """Train and publish one seed (the worker function of `optkit train --seeds`)."""
    torch.set_num_threads(job.threads)
    run = train(job.algo, job.cfg, Path(job.runs_dir) / job.name, resume=job.resume)
    ckpt, _ = publish(run, Path(job.models_dir), job.name, heldout_n=job.heldout_n)
    held = load_checkpoint(ckpt).meta["heldout"]
    return SeedResult(
        seed=job.cfg.seed,
        name=job.name,
        checkpoint=str(ckpt),
        mean_gap=float(held["mean_gap"]),
        ci95=float(held["ci95"]),
        infeasible_share=float(held["infeasible_share"]),
        train_wall_s=float(run.wall_s),
        complete=bool(run.complete),
    )


def across_seeds(results: list[SeedResult]) -> dict[str, Any]:
    """Mean of the seeds' held-out mean gaps, its 95% t-interval half width over seeds (NaN for
    one seed), and the worst seed's infeasible share."""
    from scipy import stats

    gaps = [r.mean_gap for r in results]
    n = len(gaps)
    if n == 0:
        return {"n_seeds": 0, "mean_gap": math.nan, "ci95": math.nan, "max_infeasible": math.nan}
    mean = sum(gaps) / n
    half = math.nan
    if n > 1:
        sd = math.sqrt(sum((g - mean) ** 2 for g in gaps) / (n - 1))
        half = float(stats.t.ppf(0.975, n - 1)) * sd / math.sqrt(n)
    return {
        "n_seeds": n,
        "mean_gap": mean,
        "ci95": half,
        "max_infeasible": max(r.infeasible_share for r in results),
    }
