"""evaluate(): the lexicographic vector, disruption and every constraint, hand-worked and
checked by hypothesis against a brute-force restatement of the spec."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from podpack_testkit import MIB, cluster, decision

from optkit.families.podpack.evaluate import evaluate, evaluate_indices, forced_infeasibility
from optkit.families.podpack.instance import Node, Pod, PodpackInstance


def small():
    """node-a 1000m / 1 GiB, node-b 1000m / 1 GiB (cordoned). hi (prio 5) runs on a; lo (prio 1)
    runs on b; new (prio 5) is pending; ds (prio 9) is protected on a."""
    return cluster(
        [Node("node-a", 1000, 1024 * MIB), Node("node-b", 1000, 1024 * MIB, schedulable=False)],
        [
            Pod("hi", 400, 100 * MIB, 5, node="node-a"),
            Pod("lo", 400, 100 * MIB, 1, node="node-b"),
            Pod("new", 500, 100 * MIB, 5),
            Pod("ds", 100, 100 * MIB, 9, node="node-a", protected=True),
        ],
    )


def test_vector_current_state():
    """Tiers [9, 5, 1]: placed(>=9) = 1 (ds), placed(>=5) = 2 (ds, hi), placed(>=1) = 3;
    nothing moves: [1, 0, 2, 0, 3, 0]."""
    inst = small()
    rep = evaluate(inst, decision(inst))
    assert rep.objective == [1, 0, 2, 0, 3, 0] and rep.feasible and rep.pending == ["new"]
    # cpu: a holds hi + ds = 500 of 1000, b holds lo = 400 of 1000
    assert rep.utilisation["cpu"] == 900 / 2000
    assert rep.imbalance["cpu"] == {"min": 0.4, "max": 0.5, "std": pytest.approx(0.05)}
    assert rep.used["memory"] == [200 * MIB, 100 * MIB]


def test_vector_with_eviction_and_move():
    """Evict lo (cost 1, tier 1 only) and place new on a: a holds hi 400 + new 500 + ds 100 =
    1000m: full, feasible. [1, 0, 3, 0, 3, -1]. Then move hi to b: b is cordoned, so hi's
    arrival violates eligibility and the move costs 2 from tier 5 down: [1, 0, 3, -2, 3, -3]."""
    inst = small()
    rep = evaluate(inst, decision(inst, lo=None, new="node-a"))
    assert rep.objective == [1, 0, 3, 0, 3, -1] and rep.feasible
    assert rep.evictions == ["lo"] and rep.used["cpu"] == [1000, 0]
    rep = evaluate(inst, decision(inst, lo=None, new="node-a", hi="node-b"))
    assert rep.objective == [1, 0, 3, -2, 3, -3]
    assert rep.moves == [("hi", "node-a", "node-b")]
    assert rep.violations == {"eligibility[hi]": 1} and not rep.feasible


def test_capacity_and_protected_violations_are_named():
    """new and lo (moved from b) on a: hi 400 + lo 400 + new 500 + ds 100 = 1400m > 1000m, over
    by 400; memory 400 MiB fits. Evicting the protected ds is a violation of its own."""
    inst = small()
    rep = evaluate(inst, decision(inst, new="node-a", lo="node-a"))
    assert rep.violations == {"capacity[node-a].cpu": 400}
    assert rep.max_violation == 400 and rep.worst == "capacity[node-a].cpu"
    rep = evaluate(inst, decision(inst, ds=None))
    assert rep.violations == {"protected[ds]": 1}


def test_forced_infeasibility_names_node_and_resource():
    inst = cluster(
        [("n", 100, 10)],
        [Pod("d1", 60, 1, node="n", protected=True), Pod("d2", 60, 1, node="n", protected=True)],
    )
    assert forced_infeasibility(inst) == [
        "capacity[n].cpu: protected pods request 120m, allocatable is 100m"
    ]


@st.composite
def instances_and_plans(draw):
    n_nodes = draw(st.integers(1, 3))
    nodes = [
        Node(f"n{j}", draw(st.integers(0, 10)), draw(st.integers(0, 10)), draw(st.booleans()))
        for j in range(n_nodes)
    ]
    pods = []
    for k in range(draw(st.integers(0, 6))):
        node = draw(st.one_of(st.none(), st.integers(0, n_nodes - 1)))
        pods.append(
            Pod(
                f"p{k}",
                draw(st.integers(0, 6)),
                draw(st.integers(0, 6)),
                draw(st.integers(-2, 2)),
                node=None if node is None else f"n{node}",
                protected=node is not None and draw(st.booleans()),
            )
        )
    inst = PodpackInstance(tuple(nodes), tuple(pods))
    plan = np.array([draw(st.integers(-1, n_nodes - 1)) for _ in pods], dtype=np.int64)
    return inst, plan


@settings(max_examples=150, deadline=None)
@given(instances_and_plans())
def test_matches_brute_force_restatement(case):
    """Feasible iff capacity, protected and eligibility hold, counted pod by pod; the vector is
    placed / -disruption per tier as the spec words it."""
    inst, plan = case
    rep = evaluate_indices(inst, plan)
    ok = True
    for j, node in enumerate(inst.nodes):
        on = [p for p, n in zip(inst.pods, plan, strict=True) if n == j]
        ok &= sum(p.cpu for p in on) <= node.cpu and sum(p.memory for p in on) <= node.memory
    vector = []
    for t in sorted({p.priority for p in inst.pods}, reverse=True):
        placed = disruption = 0
        for p, n in zip(inst.pods, plan, strict=True):
            if p.priority < t:
                continue
            placed += n >= 0
            if p.node is not None:
                now = inst.node_index[p.node]
                disruption += 0 if n == now else (1 if n < 0 else 2)
        vector += [placed, -disruption]
    for p, n in zip(inst.pods, plan, strict=True):
        now = None if p.node is None else inst.node_index[p.node]
        ok &= not (p.protected and n != now)
        ok &= n < 0 or n == now or inst.nodes[n].schedulable
    assert rep.feasible == ok and rep.objective == vector
    assert rep.feasible == (rep.max_violation == 0)
