"""Helpers shared by the learner tests: tiny configurations, a tiny local-critic run, and a
ground-truth Parquet written from cvxpy's canonical optima.

A plain module with a learner-specific name (imported as `learn_testkit`) rather than
`from conftest import ...`: tests/ holds several conftest.py files and only one of them can be
the module named `conftest` at a time (running tests/learn with another test folder in one
command made these imports resolve to that folder's conftest).
"""

from __future__ import annotations

import json
from pathlib import Path

import optkit
from optkit.learn.config import CONFIG_TYPES, TrainConfig

TINY = {
    "total_env_steps": 24,
    "n_envs": 4,
    "updates_per_iter": 2,
    "learning_starts": 8,
    "batch_size": 16,
    "buffer_size": 256,
    "critic_width": 16,
    "bc_pretrain_updates": 6,
    "bc_batch_size": 8,
    "val_instances": 3,
    "eval_every": 2,
    "critic_warmup": 2,
}
TINY_DIFFUSION = {"width": 16, "depth": 3, "time_dim": 4, "denoise_steps": 3, "prune_every": 2}


def tiny_config(algo: str, data: Path | None = None, **overrides) -> TrainConfig:
    fields = dict(TINY)
    if algo != "sac":
        fields.update(TINY_DIFFUSION)
    else:
        fields["width"] = 16
    if algo == "bc":
        fields["bc_pretrain_updates"] = 6
    fields["bc_data"] = None if data is None else str(data)
    fields.update(overrides)
    return CONFIG_TYPES[algo](**fields)


def train_tiny_local(run_dir: Path):
    """A tiny EDMSAC run with the `local` critic (8 env steps, 2 per instance); its Run (the
    state is run_dir/state.pt)."""
    from optkit.learn.train import train

    cfg = tiny_config(
        "edmsac", None, samples_per_instance=2, greedy_baseline=True, critic="local",
        total_env_steps=8, learning_starts=4,
    )  # fmt: skip
    return train("edmsac", cfg, run_dir)


def write_ground_truth(path: Path, seeds: range, extra_rows: list[dict] | None = None) -> Path:
    """The columns of `optkit baseline`'s data set that the reader uses (cvxpy's canonical
    optimum per instance), as one Parquet file."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    rows = []
    for seed in seeds:
        inst = optkit.generate("contract", preset="default", seed=seed)
        res = optkit.solve(inst, "cvxpy")
        rows.append(
            {
                "id": f"contract-default-s{seed}",
                "family": "contract",
                "status": res.status.value,
                "objective": res.objective,
                "instance": json.dumps(inst.to_dict()),
                "decision": json.dumps(res.decision.to_dict()),
            }
        )
    rows += extra_rows or []
    path.mkdir(parents=True, exist_ok=True)
    pq.write_table(pa.Table.from_pylist(rows), path / "part-0.parquet")
    return path
