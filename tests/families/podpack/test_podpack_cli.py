"""`optkit podpack import` and `plan-export` end to end (in-process through optkit.cli.main)."""

from __future__ import annotations

import copy
import json
from pathlib import Path

import pytest

DUMP = json.loads((Path(__file__).parent / "data" / "kubectl-dump.json").read_text())
MIB = 2**20


def write(path: Path, data) -> Path:
    path.write_text(json.dumps(data), encoding="utf-8")
    return path


def imported(run_cli, tmp_path, dump=None) -> Path:
    src = write(tmp_path / "dump.json", dump or DUMP)
    out = tmp_path / "inst.json"
    r = run_cli("podpack", "import", src, "--out", out, "--format", "json")
    assert r.code == 0, r.err
    summary = json.loads(r.out)
    assert summary["nodes"] == 3 and summary["pods"] == 7 and summary["protected"] == 2
    return out


def test_import_then_plan_export(run_cli, tmp_path):
    """kube_default places all three pending pods: web-kq4lm and report on worker-a (the only
    node they may use), train-0 on gpu-c. Every action is a Binding, in PrioritySort order."""
    inst = imported(run_cli, tmp_path)
    r = run_cli(
        "podpack",
        "plan-export",
        inst,
        "--out",
        tmp_path / "plan.json",
        "--script",
        tmp_path / "plan.sh",
    )
    assert r.code == 0, r.err
    plan = json.loads((tmp_path / "plan.json").read_text())
    assert plan["feasible"] and plan["pending"] == {} and plan["solve"]["solver"] == "kube_default"
    assert [(a["action"], a["pod"], a["node"]) for a in plan["actions"]] == [
        ("bind", "shop/web-7d9f8c-kq4lm", "worker-a"),
        ("bind", "ml/train-0", "gpu-c"),
        ("bind", "batch/report-28712", "worker-a"),
    ]
    script = (tmp_path / "plan.sh").read_text()
    assert script.count("kubectl create -f -") == 3 and '"kind":"Binding"' in script


def test_pending_pod_is_explained(run_cli, tmp_path):
    """train-0 asking for 9 cores fits nowhere: gpu-c has 7910m, the other nodes are outside
    its node affinity (worker-b is also cordoned)."""
    dump = copy.deepcopy(DUMP)
    train = next(i for i in dump["items"] if i["metadata"]["name"] == "train-0")
    train["spec"]["containers"][0]["resources"]["requests"]["cpu"] = "9"
    inst = imported(run_cli, tmp_path, dump)
    r = run_cli("podpack", "plan-export", inst, "--out", tmp_path / "plan.json")
    assert r.code == 0 and "pending ml/train-0" in r.out
    why = json.loads((tmp_path / "plan.json").read_text())["pending"]["ml/train-0"]
    assert why["nodes"]["gpu-c"] == ["Insufficient cpu: needs 9000m, 7910m free"]
    # worker-a: etcd 100 + kube-proxy 100 + web 1250 + web 500 + report 0 = 1950m of 3920m
    assert why["nodes"]["worker-a"] == [
        "node selector / required node affinity does not match",
        "Insufficient cpu: needs 9000m, 1970m free",
    ]
    assert why["nodes"]["worker-b"] == [
        "node is cordoned (unschedulable)",
        "untolerated taint node.kubernetes.io/unschedulable:NoSchedule",
        "node selector / required node affinity does not match",
        "Insufficient cpu: needs 9000m, 1430m free",
        "Insufficient memory: needs 8 GiB, 7.5 GiB free",  # 7.5 GiB less debug-shell's 2 bytes
    ]
    assert why["summary"] == (
        "0/3 nodes are available: 1 Insufficient cpu, "
        "1 node is cordoned (unschedulable), "
        "1 node selector / required node affinity does not match"
    )


def small_instance(tmp_path) -> Path:
    return write(
        tmp_path / "small.json",
        {
            "family": "podpack",
            "schema_version": 1,
            "nodes": [
                {"name": "a", "cpu": 1000, "memory": 1024 * MIB},
                {"name": "b", "cpu": 1000, "memory": 1024 * MIB},
            ],
            "pods": [
                {
                    "name": "shop/hi",
                    "cpu": 600,
                    "memory": MIB,
                    "priority": 5,
                    "node": "a",
                    "owner": "shop/rs",
                },
                {
                    "name": "tmp/bare",
                    "cpu": 300,
                    "memory": MIB,
                    "priority": 1,
                    "node": "a",
                    "bare": True,
                },
                {"name": "ops/lo", "cpu": 900, "memory": MIB, "priority": 0, "node": "b"},
                {"name": "shop/new", "cpu": 700, "memory": MIB, "priority": 5},
            ],
        },
    )


def test_decision_with_eviction_and_moves(run_cli, tmp_path):
    """A hand plan: evict lo, move bare and hi to b, place new on a. Evictions come first, least
    important first (lo prio 0, bare prio 1, hi prio 5), then binds by priority: hi's
    replacement (a move) and new, then bare. The bare pod's move is flagged."""
    inst = small_instance(tmp_path)
    dec = write(
        tmp_path / "dec.json",
        {
            "family": "podpack",
            "schema_version": 1,
            "assignment": {"shop/hi": "b", "tmp/bare": "b", "ops/lo": None, "shop/new": "a"},
        },
    )
    r = run_cli("podpack", "plan-export", inst, "--decision", dec, "--out", tmp_path / "p.json")
    assert r.code == 0, r.err
    plan = json.loads((tmp_path / "p.json").read_text())
    assert plan["objective"] == [2, -2, 3, -4, 3, -5] and plan["feasible"]
    steps = [(a["action"], a["pod"], a["reason"]) for a in plan["actions"]]
    assert steps == [
        ("evict", "ops/lo", "eviction"),
        ("evict", "tmp/bare", "move"),
        ("evict", "shop/hi", "move"),
        ("bind", "shop/hi", "move"),
        ("bind", "shop/new", "placement"),
        ("bind", "tmp/bare", "move"),
    ]
    assert plan["actions"][1]["flags"] == [
        "bare pod: no controller recreates it, so it cannot be moved"
    ]
    assert plan["actions"][0]["command"] == "kubectl delete pod --namespace ops lo"
    assert "replacement" in plan["actions"][3]["command"]


def test_infeasible_current_state_is_reported_not_crashed(run_cli, tmp_path):
    """Two protected pods ask 1200m of node a's 1000m: the verdict is printed, exit 0."""
    inst = write(
        tmp_path / "bad.json",
        {
            "family": "podpack",
            "schema_version": 1,
            "nodes": [{"name": "a", "cpu": 1000, "memory": MIB}],
            "pods": [
                {"name": f"ds-{k}", "cpu": 600, "memory": 1, "node": "a", "protected": True}
                for k in range(2)
            ],
        },
    )
    r = run_cli("podpack", "plan-export", inst, "--out", tmp_path / "p.json", "--format", "json")
    assert r.code == 0
    verdict = json.loads(r.out)
    assert verdict["status"] == "infeasible" and "capacity[a].cpu" in verdict["message"]
    assert not (tmp_path / "p.json").exists()
    r = run_cli("solve", inst)
    assert r.code == 0 and "infeasible" in r.out


@pytest.mark.parametrize(
    "args, field",
    [
        (["--decision", "missing.json"], "file not found"),
        (["--solver", "nope"], "unknown podpack solver 'nope'"),
    ],
)
def test_plan_export_bad_input(run_cli, tmp_path, args, field):
    inst = small_instance(tmp_path)
    r = run_cli("podpack", "plan-export", inst, "--out", tmp_path / "p.json", *args)
    assert r.code == 2 and len(r.err_lines) == 1 and field in r.err


def test_refuses_to_overwrite(run_cli, tmp_path):
    inst = small_instance(tmp_path)
    (tmp_path / "p.json").write_text("{}")
    r = run_cli("podpack", "plan-export", inst, "--out", tmp_path / "p.json")
    assert r.code == 2 and "--overwrite" in r.err


@pytest.mark.parametrize(
    "mutate, message",
    [
        (lambda d: d["pods"][0].update(node="z"), "pods[0].node: unknown node 'z'"),
        (lambda d: d["pods"][1].update(cpu=-5), "pods[1].cpu: must be >= 0"),
        (lambda d: d["pods"][1].update(name="shop/hi"), "pods[1].name: duplicate pod name"),
        (lambda d: d["nodes"][1].update(name="a"), "nodes[1].name: duplicate node name"),
    ],
)
def test_solve_bad_instance_exits_2_naming_the_field(run_cli, tmp_path, mutate, message):
    path = small_instance(tmp_path)
    data = json.loads(path.read_text())
    mutate(data)
    write(path, data)
    r = run_cli("solve", path)
    assert r.code == 2 and len(r.err_lines) == 1 and message in r.err_lines[0]


@pytest.mark.parametrize("extra", [["--solver", "cpsat"], ["--decision", "DEC"]])
def test_preemption_flag_is_refused_where_it_does_nothing(run_cli, tmp_path, extra):
    """--preemption reaches only the kube_* solvers; with cpsat or a --decision it was silently
    ignored. Nothing is written."""
    inst = imported(run_cli, tmp_path, copy.deepcopy(DUMP))
    extra = [str(tmp_path / "dec.json") if x == "DEC" else x for x in extra]
    out = tmp_path / "plan.json"
    r = run_cli("podpack", "plan-export", inst, "--preemption", *extra, "--out", out)
    assert r.code == 2 and "--preemption" in r.err and not out.exists()
