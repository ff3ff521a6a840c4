"""`cpsat_fallback`, the paper's plug-in: kube_default first, CP-SAT only when pods pend, from the
cluster after the default; outcomes judged there and checked against exhaustive search."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from podpack_testkit import MIB, cluster
from test_podpack_exact import brute_force, halves_and_whole, tiny_instances

import optkit.families  # noqa: F401
from optkit.core import api
from optkit.core.status import Status
from optkit.families.podpack.evaluate import evaluate_indices, objective_vector
from optkit.families.podpack.fallback import OUTCOMES, after_default
from optkit.families.podpack.instance import Pod
from optkit.families.podpack.scheduler import schedule

GIB = 1024 * MIB


def test_improves_on_the_default_by_moving_one_of_its_binds():
    """halves_and_whole: the default puts a on n0 and b on n1 and leaves c pending ([2, 0]).
    After the default, a and b run; the best plan moves one of them next to the other (cost 2)
    and places c: [3, -2] on that cluster, [3, 0] on the instance given (nothing ran there)."""
    inst = halves_and_whole()
    res = api.solve(inst, "cpsat_fallback", time_limit_s=30)
    cert = res.certificate
    assert cert["default_objective"] == [2, 0] and cert["plan_objective"] == [3, -2]
    assert cert["outcome"] == "improved" and cert["proved_optimal"]
    assert res.status is Status.FEASIBLE and res.objective == [3, 0]
    assert len(cert["moves"]) == 1 and cert["evictions"] == []
    assert res.evaluation.feasible and not res.flags


def test_everything_placed_by_the_default_is_optimal():
    """Room for every pod: the default places all and disrupts nothing, the vector's maximum."""
    inst = cluster([("n0", 2000, GIB)], [Pod("a", 500, MIB, 1), Pod("b", 500, MIB, 2)])
    res = api.solve(inst, "cpsat_fallback", time_limit_s=1)
    assert res.status is Status.OPTIMAL and res.objective == [1, 0, 2, 0]
    assert res.certificate["outcome"] == "default_optimal" and res.certificate["stages"] == []


@pytest.mark.parametrize(("preset", "seed"), [("n8-ppn4-l2-u100", 0), ("n32-ppn8-l4-u105", 0)])
def test_zero_budget_returns_the_default_plan_unchanged(preset, seed):
    """Warm start: with no time beyond the default placement the answer is the default's plan,
    pod for pod, whatever the stages could not run."""
    inst = api.generate("podpack", preset, seed)
    default = api.solve(inst, "kube_default")
    res = api.solve(inst, "cpsat_fallback", time_limit_s=0)
    assert res.decision.assignment == default.decision.assignment
    assert res.objective == default.objective
    assert res.certificate["outcome"] in ("undecided", "default_optimal")
    assert res.certificate["moves"] == [] and res.certificate["evictions"] == []


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(tiny_instances())
def test_outcomes_agree_with_exhaustive_search_after_the_default(inst):
    """On the cluster after the default: `default_optimal` means no plan beats the default's
    vector; `improved` means the plan's vector beats it and is the optimum (stages proved)."""
    res = api.solve(inst, "cpsat_fallback", time_limit_s=None, threads=1)
    if res.status is Status.INFEASIBLE:
        assert brute_force(inst) is None
        return
    cert = res.certificate
    assert cert["outcome"] in OUTCOMES and res.evaluation.feasible
    if "overcommitted_start" in res.flags or not cert["stages"]:
        return
    default = schedule(inst).nodes
    after = after_default(inst, default)
    best = brute_force(after)
    assert cert["default_objective"] == objective_vector(inst, default)
    if cert["outcome"] == "default_optimal":
        assert best == objective_vector(after, default)
    else:
        assert cert["outcome"] == "improved" and cert["plan_objective"] == best
        chosen = np.array(
            [-1 if n is None else after.node_index[n] for n in res.decision.assignment.values()]
        )
        assert evaluate_indices(after, chosen).objective == best


def test_plan_export_with_the_plugin_and_a_time_limit(tmp_path, run_cli):
    """`optkit podpack plan-export --solver cpsat_fallback --time-limit 5`: all three pods are
    bound (nothing ran before, so the plan is placements only) and the outcome is recorded."""
    from optkit.core.jsonio import read_json, write_json_atomic

    path = tmp_path / "inst.json"
    write_json_atomic(path, halves_and_whole().to_dict())
    out = tmp_path / "plan.json"
    r = run_cli(
        "podpack", "plan-export", path, "--out", out, "--solver", "cpsat_fallback",
        "--time-limit", "5", "--threads", "1", "--format", "json",
    )  # fmt: skip
    assert r.code == 0, r.err
    plan = read_json(out)
    assert plan["objective"] == [3, 0] and plan["feasible"]
    assert plan["solve"] == {
        "status": "feasible",
        "solver": "cpsat_fallback",
        "outcome": "improved",
    }
    assert [a["action"] for a in plan["actions"]] == ["bind"] * 3
