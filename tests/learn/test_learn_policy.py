"""Checkpoints, the learned solver and the CLI commands."""

from __future__ import annotations

import json
import pickle
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import torch
from learn_testkit import tiny_config

import optkit
from optkit.core.errors import InvalidInputError
from optkit.core.status import Guarantee, Status
from optkit.families.contract.evaluate import evaluate
from optkit.learn.policy import act_on_instance, load_checkpoint


def test_checkpoint_round_trip_and_card(tiny_checkpoint: Path):
    loaded = load_checkpoint(tiny_checkpoint)
    assert loaded.algo == "edmsac" and loaded.meta["instance_shape"] == {"n_types": 3, "periods": 2}
    card = tiny_checkpoint.with_suffix(".md").read_text()
    assert "mean gap to the certified optimum" in card and loaded.meta["config_hash"] in card
    s = torch.rand(5, 21)
    assert torch.allclose(loaded.policy(s), loaded.actor.decide(s), atol=1e-5)


def test_learned_solver_gives_a_feasible_menu(tiny_checkpoint: Path):
    inst = optkit.generate("contract", preset="default", seed=11)
    res = optkit.solve(inst, "edmsac", params={"checkpoint": str(tiny_checkpoint)})
    assert res.solver.guarantee is Guarantee.LEARNED
    assert res.status is Status.FEASIBLE and res.evaluation.feasible  # projected: by construction
    assert res.objective == pytest.approx(evaluate(inst, res.decision).objective, rel=1e-12)
    assert res.bound is None
    optimum = optkit.solve(inst, "cvxpy").objective
    assert res.objective <= optimum * (1 + 1e-6)  # a learned menu never beats the optimum


def test_an_instance_outside_the_training_regime_is_flagged(tiny_checkpoint: Path):
    """Trained on `default` (per-period IR, log valuation): an interim-IR instance of the same
    size still gets a (feasible) menu, flagged and explained; a `default` one is not flagged."""
    ckpt = {"checkpoint": str(tiny_checkpoint)}
    interim = optkit.generate("contract", preset="interim", seed=2)
    res = optkit.solve(interim, "edmsac", params=ckpt)
    assert res.status is Status.FEASIBLE and "outside_training_regime" in res.flags
    assert "trained on preset 'default'" in res.message and "ir (interim" in res.message
    default = optkit.generate("contract", preset="default", seed=2)
    home = optkit.solve(default, "edmsac", params=ckpt)
    assert home.flags == () and home.message == ""


def test_wrong_instance_size_is_not_applicable_naming_both_sizes(tiny_checkpoint: Path):
    inst = optkit.generate("contract", preset="default", seed=1, n_types=4)
    res = optkit.solve(inst, "edmsac", params={"checkpoint": str(tiny_checkpoint)})
    assert res.status is Status.NOT_APPLICABLE and not res.has_decision
    assert "'n_types': 3" in res.message and "'n_types': 4" in res.message
    # acting on it directly (evaluate-policy's path) is refused, naming the field
    with pytest.raises(InvalidInputError) as info:
        act_on_instance(load_checkpoint(tiny_checkpoint), inst)
    assert info.value.field == "instance" and "'n_types': 4" in str(info.value)


class _Payload:
    def __reduce__(self):
        return (print, ("code ran",))


@pytest.mark.parametrize(
    ("content", "problem"),
    [
        (b"not a checkpoint", "not a readable optkit policy checkpoint"),
        (pickle.dumps(_Payload()), "not a readable optkit policy checkpoint"),
        (None, "not an optkit policy checkpoint"),  # a torch file of someone else's
    ],
    ids=["garbage", "pickle-that-runs-code", "foreign-torch-file"],
)
@pytest.mark.filterwarnings("ignore:Detected pickle protocol")
def test_corrupt_or_foreign_files_are_refused(tmp_path: Path, content, problem: str):
    path = tmp_path / "x.pt"
    if content is None:
        torch.save({"weights": torch.zeros(3)}, path)
    else:
        path.write_bytes(content)
    with pytest.raises(InvalidInputError, match=problem) as info:
        load_checkpoint(path)
    assert info.value.field == "checkpoint" and str(path) in str(info.value)


def test_listing_solvers_does_not_import_torch_and_a_missing_extra_names_it():
    code = (
        "import sys; import optkit; "
        "specs = {s.name: s for s in optkit.solvers('contract')}; "
        "assert specs['edmsac'].guarantee.value == 'learned'; "
        "assert 'torch' not in sys.modules, 'listing imported torch'; "
        "sys.modules['torch'] = None; "  # what a missing extra looks like to an import
        "inst = optkit.generate('contract', preset='default', seed=0)\n"
        "try:\n    optkit.solve(inst, 'edmsac')\n"
        "except optkit.OptkitError as exc:\n    print(exc)\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert "pip install 'optkit[learn]'" in out.stdout


def test_cli_train_then_evaluate_policy(tmp_path: Path, gt_data: Path, run_cli):
    cfg = tmp_path / "tiny.toml"
    fields = {k: v for k, v in vars(tiny_config("edmsac", gt_data)).items() if k != "env"}
    cfg.write_text(
        "\n".join(f"{k} = {json.dumps(v)}" for k, v in fields.items() if v is not None) + "\n"
    )
    models, runs = tmp_path / "models", tmp_path / "runs"
    args = ["train", "contract", "--algo", "edmsac", "--seed", "3", "--config", cfg]
    args += ["--models", models, "--runs", runs, "--name", "tiny", "--heldout", "4"]
    res = run_cli(*args)
    assert res.code == 0, res.err
    assert (models / "tiny.pt").exists() and (models / "logs" / "tiny.csv").exists()
    assert load_checkpoint(models / "tiny.pt").meta["seed"] == 3
    again = run_cli(*args)  # the run exists: refused unless --resume
    assert again.code == 2 and "--resume" in again.err
    assert run_cli(*args, "--resume").code == 0

    folder = tmp_path / "instances"
    folder.mkdir()
    for seed in (21, 22, 23):
        inst = optkit.generate("contract", preset="default", seed=seed)
        (folder / f"c{seed}.json").write_text(json.dumps(inst.to_dict()))
    res = run_cli("evaluate-policy", models / "tiny.pt", folder, "--format", "json")
    assert res.code == 0, res.err
    doc = json.loads(res.out)
    assert [r["instance"] for r in doc["instances"]] == ["c21.json", "c22.json", "c23.json"]
    for row in doc["instances"]:  # the gap against an independent cvxpy solve
        inst = optkit.load(folder / row["instance"])
        opt = optkit.solve(inst, "cvxpy").objective
        assert row["optimum"] == pytest.approx(opt, rel=1e-6)
        assert row["gap"] == pytest.approx((opt - row["objective"]) / max(abs(opt), 1), abs=1e-6)
        assert row["feasible"]
    assert doc["summary"]["mean_gap"] == pytest.approx(
        np.mean([r["gap"] for r in doc["instances"]])
    )
    bad = run_cli("evaluate-policy", tmp_path / "missing.pt", folder)
    assert bad.code == 2 and "checkpoint" in bad.err
