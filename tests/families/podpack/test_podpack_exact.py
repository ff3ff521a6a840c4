"""The exact solvers `cpsat` and `mip`: hand-worked optima, agreement with each other and with an
exhaustive search over every plan of tiny instances, stage locking, determinism, export."""

from __future__ import annotations

import itertools

import highspy
import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from podpack_testkit import MIB, cluster

import optkit.families  # noqa: F401
from optkit.core import api
from optkit.core.errors import InvalidInputError
from optkit.core.status import Status
from optkit.core.timing import Deadline
from optkit.families.podpack.evaluate import evaluate_indices
from optkit.families.podpack.exact_cpsat import solve_tiered
from optkit.families.podpack.instance import Node, Pod, PodpackInstance
from optkit.families.podpack.tiered import build, repaired_current

GIB = 1024 * MIB


def brute_force(inst: PodpackInstance) -> list[int] | None:
    """The largest objective vector over every feasible plan (None: no plan is feasible)."""
    choices = []
    for i, p in enumerate(inst.pods):
        if p.protected:
            choices.append([inst.node_index[p.node]])
        else:
            choices.append([-1] + [j for j in range(inst.n_nodes) if inst.may_use(i, j)])
    best = None
    for plan in itertools.product(*choices):
        rep = evaluate_indices(inst, np.array(plan, dtype=np.int64))
        if rep.feasible and (best is None or rep.objective > best):
            best = rep.objective
    return best


def halves_and_whole():
    """Two nodes of 1000m. Pods a, b (500m) and c (1000m), one priority, all pending. The three
    requests sum to the 2000m of the cluster, so all fit only with a and b sharing a node:
    optimum [3, 0]. kube_default spreads a and b (LeastAllocated) and leaves c pending: [2, 0]."""
    return cluster(
        [("n0", 1000, GIB), ("n1", 1000, GIB)],
        [
            Pod("a", 500, 100 * MIB, 1, owner="x"),
            Pod("b", 500, 100 * MIB, 1, owner="x"),
            Pod("c", 1000, 100 * MIB, 1),
        ],
    )


def move_beats_evict():
    """Two nodes of 1000m; low pods A on n0 and B on n1 (400m each, priority 1); H (1000m,
    priority 2) pending. H needs an empty node. Evicting A places H: [1, 0, 2, -1]. Moving A
    onto n1 (400 + 400 <= 1000) places H and keeps all three: [1, 0, 3, -2], which is larger at
    placed(>=1) = 3 before its disruption is compared. Optimum: move."""
    return cluster(
        [("n0", 1000, GIB), ("n1", 1000, GIB)],
        [
            Pod("A", 400, 100 * MIB, 1, node="n0", owner="x"),
            Pod("B", 400, 100 * MIB, 1, node="n1", owner="x"),
            Pod("H", 1000, 100 * MIB, 2),
        ],
    )


@pytest.mark.parametrize("solver", ["cpsat", "mip"])
def test_known_optimum_packs_the_halves(solver):
    inst = halves_and_whole()
    res = api.solve(inst, solver)
    assert res.status is Status.OPTIMAL
    assert res.objective == [3, 0] and res.evaluation.objective == [3, 0]
    a = res.decision.assignment
    assert a["a"] == a["b"] != a["c"] and a["c"] is not None
    assert res.certificate["proved_optimal"] and not res.flags


@pytest.mark.parametrize("solver", ["cpsat", "mip"])
def test_known_optimum_moves_rather_than_evicts(solver):
    res = api.solve(move_beats_evict(), solver)
    assert res.status is Status.OPTIMAL and res.objective == [1, 0, 3, -2]
    assert res.decision.assignment == {"A": "n1", "B": "n1", "H": "n0"}
    assert res.certificate["moves"] == [{"pod": "A", "from": "n0", "to": "n1"}]
    assert [s["status"] for s in res.certificate["stages"]] == ["optimal"] * 4


def test_protected_pod_stays_and_eligibility_holds():
    """n0 (1000m) carries protected ds (600m); web (priority 9, 600m) may only use n0, so it
    cannot be placed at all (ds must stay); lo (500m) lands on n1 (cordoned? no: n1 is open).
    Optimum: [0, 0, 2, 0] with ds on n0 and lo placed; web pending."""
    inst = cluster(
        [("n0", 1000, GIB), ("n1", 1000, GIB)],
        [
            Pod("ds", 600, 100 * MIB, 1, node="n0", protected=True),
            Pod("web", 600, 100 * MIB, 9, eligible_nodes=("n0",)),
            Pod("lo", 500, 100 * MIB, 1),
        ],
    )
    for solver in ("cpsat", "mip"):
        res = api.solve(inst, solver)
        assert res.objective == [0, 0, 2, 0], solver
        assert res.decision.assignment["ds"] == "n0" and res.decision.assignment["web"] is None


def test_infeasible_current_state_is_a_verdict():
    """Protected pods alone over n0's allocatable: no plan is feasible."""
    inst = cluster(
        [("n0", 1000, GIB)],
        [
            Pod("ds1", 600, MIB, 1, node="n0", protected=True),
            Pod("ds2", 600, MIB, 1, node="n0", protected=True),
        ],
    )
    for solver in ("cpsat", "mip", "cpsat_fallback"):
        res = api.solve(inst, solver)
        assert res.status is Status.INFEASIBLE and "capacity[n0].cpu" in res.message


def test_overcommitted_current_state_is_repaired():
    """Unprotected a and b (700m each, priority 1) run on n0 (1000m): the state overcommits.
    The start evicts both; the optimum keeps one in place and moves the other to n1:
    [2, -2] (a stays, b moves: disruption 2) -- moving beats evicting since placed comes first."""
    inst = cluster(
        [("n0", 1000, GIB), ("n1", 1000, GIB)],
        [Pod("a", 700, MIB, 1, node="n0"), Pod("b", 700, MIB, 1, node="n0")],
    )
    res = api.solve(inst, "cpsat")
    assert res.status is Status.OPTIMAL and res.objective == [2, -2]
    assert res.evaluation.feasible and res.certificate["start_evictions"] == 2


def tiny_instances(max_nodes=3, max_pods=5):
    """Tiny clusters: running and pending pods, up to 3 priorities, protected pods, node
    selectors and a cordoned node; small enough for an exhaustive search over every plan."""

    @st.composite
    def build_(draw):
        n_nodes = draw(st.integers(1, max_nodes))
        nodes = tuple(
            Node(
                f"n{j}",
                draw(st.sampled_from([1000, 1500, 2000])),
                draw(st.sampled_from([1, 2])) * GIB,
                schedulable=draw(st.booleans()) if j == n_nodes - 1 else True,
            )
            for j in range(n_nodes)
        )
        pods = []
        for i in range(draw(st.integers(1, max_pods))):
            node = draw(st.one_of(st.none(), st.sampled_from([n.name for n in nodes])))
            eligible = draw(
                st.one_of(
                    st.none(),
                    st.lists(st.sampled_from([n.name for n in nodes]), min_size=1, max_size=2),
                )
            )
            pods.append(
                Pod(
                    f"p{i}",
                    draw(st.integers(2, 12)) * 100,
                    draw(st.integers(1, 10)) * 100 * MIB,
                    draw(st.integers(1, 3)),
                    node=node,
                    protected=node is not None and draw(st.integers(0, 4)) == 0,
                    eligible_nodes=None if eligible is None else tuple(sorted(set(eligible))),
                )
            )
        return PodpackInstance(nodes=nodes, pods=tuple(pods))

    return build_()


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(tiny_instances())
def test_cpsat_claim_of_optimality_matches_exhaustive_search(inst):
    """A plan claimed proved optimal is optimal: its vector equals the best over every plan."""
    best = brute_force(inst)
    res = api.solve(inst, "cpsat", threads=1)
    if best is None:
        assert res.status is Status.INFEASIBLE
        return
    assert res.status is Status.OPTIMAL
    assert res.evaluation.feasible and res.evaluation.max_violation == 0
    assert res.objective == best and not res.flags


@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(tiny_instances(max_nodes=3, max_pods=7))
def test_cpsat_and_mip_give_the_same_vector(inst):
    a = api.solve(inst, "cpsat", threads=1)
    b = api.solve(inst, "mip")
    assert a.status is b.status
    if a.status is Status.OPTIMAL:
        assert a.objective == b.objective
        assert a.evaluation.feasible and b.evaluation.feasible


def test_cpsat_and_mip_agree_on_a_grid_cell():
    inst = api.generate("podpack", "n4-ppn4-l4-u105", 1)
    a, b = api.solve(inst, "cpsat", threads=1), api.solve(inst, "mip")
    assert a.status is b.status is Status.OPTIMAL and a.objective == b.objective


def test_stages_never_lose_the_start_and_report_their_status():
    """With a budget far too small to prove the 32-node cell, every stage is locked at least at
    the start's value: the plan's vector is never below the kube_default plan it started from."""
    from optkit.families.podpack.scheduler import schedule

    inst = api.generate("podpack", "n32-ppn8-l4-u105", 0)
    start = schedule(inst).nodes
    run = solve_tiered(inst, start, Deadline(0.3), seed=0, threads=1)
    final = evaluate_indices(inst, run.nodes)
    assert final.feasible and final.objective >= evaluate_indices(inst, start).objective
    assert {s.status for s in run.stages} <= {"optimal", "feasible", "unknown", "not_run"}
    assert len(run.stages) == 8 and not run.proved_optimal


def test_cpsat_is_deterministic_with_one_thread_and_a_seed():
    inst = api.generate("podpack", "n4-ppn4-l4-u105", 1)
    a = api.solve(inst, "cpsat", seed=7, threads=1)
    b = api.solve(inst, "cpsat", seed=7, threads=1)
    assert a.status is Status.OPTIMAL
    assert a.decision.assignment == b.decision.assignment


def test_scaling_is_exact_and_recorded():
    """Generated memory is whole MiB: the gcd divides bytes into MiB-sized coefficients; an
    allocatable that is not a multiple is floored without losing a feasible plan."""
    inst = cluster(
        [Node("n0", 1000, 3 * MIB + 5)],
        [Pod("a", 500, 2 * MIB, 1), Pod("b", 500, MIB, 1), Pod("c", 500, 2 * MIB, 1)],
    )
    model = build(inst)
    assert model.memory_scale == MIB and model.memory_capacity.tolist() == [3]
    assert model.cpu_scale == 500 and model.cpu_capacity.tolist() == [2]
    res = api.solve(inst, "cpsat")
    assert res.objective == [2, 0] and res.certificate["scaling"]["memory_bytes_per_unit"] == MIB


def test_unknown_param_is_refused():
    with pytest.raises(InvalidInputError) as err:
        api.solve(halves_and_whole(), "cpsat", params={"hints": False})
    assert err.value.field == "params.hints"


def test_repaired_current_is_feasible():
    inst = cluster(
        [("n0", 1000, GIB)],
        [
            Pod("ds", 300, MIB, 5, node="n0", protected=True),
            Pod("a", 600, MIB, 1, node="n0"),
            Pod("b", 600, MIB, 1, node="n0"),
        ],
    )
    nodes = repaired_current(inst)
    assert nodes.tolist() == [0, -1, -1] and evaluate_indices(inst, nodes).feasible


@pytest.mark.parametrize("fmt", ["lp", "mps"])
def test_export_first_stage_solves_to_the_first_component(tmp_path, run_cli, fmt):
    """The exported first stage, read back by HiGHS on its own, maximises placed(>= t_1): its
    optimum is the first component of the cpsat vector."""
    inst = api.generate("podpack", "n4-ppn4-l2-u100", 0)
    path = tmp_path / "inst.json"
    from optkit.core.jsonio import write_json_atomic

    write_json_atomic(path, inst.to_dict())
    out = tmp_path / f"model.{fmt}"
    r = run_cli("export", path, "--format", fmt, "--out", out)
    assert r.code == 0, r.err
    h = highspy.Highs()
    h.setOptionValue("output_flag", False)
    h.readModel(str(out))
    h.run()
    first = api.solve(inst, "cpsat").objective[0]
    assert h.getInfo().objective_function_value == pytest.approx(first)
    assert not list(tmp_path.glob("optkit-export-*"))


class _FrozenDeadline:
    """A deadline whose clock does not move (StageClock's arithmetic without timing noise)."""

    def __init__(self, remaining_s):
        self._remaining = remaining_s

    def remaining_s(self):
        return self._remaining


def test_stage_budgets_keep_the_stop_reserve_back():
    """1 s left, 4 stages: 60 ms reserved for the solver's stop latency and the plan's
    assembly; half of the rest (0.47 s) guaranteed to the stages, 0.1175 s each. The first stage
    may use all but the reserve and the three later stages' minimum; a 10 s window reserves 3%."""
    from optkit.families.podpack.tiered import StageClock, stop_reserve

    clock = StageClock(_FrozenDeadline(1.0), 4)
    assert clock.reserve_s == pytest.approx(0.06)
    assert clock.guaranteed_s == pytest.approx(0.5 * 0.94 / 4)
    assert clock.budget(3) == pytest.approx(0.94 - 3 * 0.1175)
    assert clock.budget(0) == pytest.approx(0.94)
    assert stop_reserve(10.0) == pytest.approx(0.3) and stop_reserve(100.0) == 0.5
    assert StageClock(_FrozenDeadline(0.03), 2).budget(0) == 0.0  # less than the reserve left
    assert StageClock(_FrozenDeadline(None), 2).budget(1) is None
