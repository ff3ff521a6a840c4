"""The shipped examples in instances/podpack: they load, the imported instance matches its dump,
and the hand-written running example gives the hand-worked plans."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

import optkit
from optkit.families.podpack.kubectl import import_kubectl

FOLDER = Path(optkit.__file__).resolve().parent.parent / "instances" / "podpack"
INSTANCES = sorted(p for p in FOLDER.glob("*.json") if p.name != "kubectl-dump.json")


@pytest.mark.parametrize("path", INSTANCES, ids=[p.name for p in INSTANCES])
def test_shipped_instances_load_and_replay(path):
    inst = optkit.load(path)
    res = optkit.solve(inst)
    assert res.evaluation.feasible and res.objective == res.evaluation.objective


def test_shipped_import_matches_its_dump():
    dump = json.loads((FOLDER / "kubectl-dump.json").read_text())
    shipped = optkit.load(FOLDER / "kubectl-dump.instance.json")
    assert import_kubectl(dump, name="kubectl-dump").instance == shipped


def test_running_example_hand_worked():
    """node-0 runs proxy (protected, 100m) and web-1 (800m): 1100m free; node-1 runs the bare
    job-1 (prio 0, 1000m): 1000m free; node-2 is cordoned. The queue pops train-1 (prio 500,
    1500m) first: it fits nowhere.
    Without preemption, web-2 scores node-0: LA (15+46)/2 = 30, BA f = .85/.531 -> 84, PTS
    (owner already there, raw 3 vs 2) 66 -> 30+84+132 = 246; node-1: LA (10+25)/2 = 17, BA
    .9/.75 -> 92, PTS 100 -> 309: node-1. web-3 then fits only on node-0.
    Vector (tiers 2000001000, 500, 100, 0): [1, 0, 1, 0, 4, 0, 5, 0].
    With preemption, train-1's victims: node-0 web-1 (top prio 100), node-1 job-1 (top 0):
    node-1. web-2 then fits only on node-0 (1100m free, node-1 500m), web-3 nowhere:
    [1, 0, 2, 0, 4, 0, 4, -1], lexicographically larger at tier 500."""
    inst = optkit.load(FOLDER / "running-example.json")
    plain = optkit.solve(inst)
    assert plain.decision.assignment["ml/train-1"] is None
    assert plain.decision.assignment["shop/web-2"] == "node-1"
    assert plain.decision.assignment["shop/web-3"] == "node-0"
    assert plain.objective == [1, 0, 1, 0, 4, 0, 5, 0]
    pre = optkit.solve(inst, params={"preemption": True})
    assert dict(pre.decision.assignment) == {
        "kube-system/proxy-0": "node-0",
        "shop/web-1": "node-0",
        "batch/job-1": None,
        "shop/web-2": "node-0",
        "shop/web-3": None,
        "ml/train-1": "node-1",
    }
    assert pre.objective == [1, 0, 2, 0, 4, 0, 4, -1] and pre.objective > plain.objective
