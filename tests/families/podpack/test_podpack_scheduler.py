"""Golden tests of kube_default / kube_mostallocated, plugin by plugin, then whole runs.

The score cases are ported from kubernetes/kubernetes table tests (pkg/scheduler/framework/
plugins/noderesources/least_allocated_test.go, balanced_allocation_test.go) with upstream's
units kept: node "cpu": "4000" is 4000 cores, a pod with no containers asks for nothing, even
under the non-zero defaults. Every expected value is worked by hand in the comment above it.
PodTopologySpread and DefaultPreemption cases are hand-worked from the v1.32 formulas
(spec/podpack.md and the scheduler.py docstrings).
"""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from podpack_testkit import MIB, cluster, cpu, mem, plugin_scores

import optkit
from optkit.core.status import Status
from optkit.families.podpack.evaluate import evaluate
from optkit.families.podpack.instance import Node, Pod
from optkit.families.podpack.scheduler import (
    ClusterState,
    default_preemption,
    feasible_nodes,
    node_resources_fit_filter,
    pod_topology_spread,
    round_half_away,
    schedule,
)

LA, BA, PTS = "NodeResourcesFit", "NodeResourcesBalancedAllocation", "PodTopologySpread"


def pod(name, c="0", m="0", node=None, **kw) -> Pod:
    """A pod with upstream-style quantities; score_* default to the requests (no containers
    missing a request), as upstream's st.MakePod().Req(...) builds them."""
    return Pod(name, cpu(c), mem(m), node=node, **kw)


# -- NodeResourcesFit LeastAllocated: least_allocated_test.go ---------------------------------
LEAST_ALLOCATED = [
    (
        # (4000-0)*100/4000 = 100 and (10000-0)*100/10000 = 100 on both: (100+100)/2 = 100
        "nothing scheduled, nothing requested",
        [("node1", "4000", "10000"), ("node2", "4000", "10000")],
        [],
        pod("p"),
        [100, 100],
    ),
    (
        # node1: cpu (4000-3000)*100/4000 = 25, mem (10000-5000)*100/10000 = 50 -> 75/2 = 37
        # node2: cpu (6000-3000)*100/6000 = 50, mem 50 -> 50
        "nothing scheduled, resources requested, differently sized nodes",
        [("node1", "4000", "10000"), ("node2", "6000", "10000")],
        [],
        pod("p", "3000", "5000"),
        [37, 50],
    ),
    (
        # existing pods have no containers: nothing requested anywhere -> 100, 100
        "no resources requested, pods scheduled",
        [("node1", "4000", "10000"), ("node2", "4000", "10000")],
        [pod("e1", node="node1"), pod("e2", node="node1"), pod("e3", node="node2")],
        pod("p"),
        [100, 100],
    ),
    (
        # node1: cpu (10000-6000)*100/10000 = 40, mem 20000/20000 -> 100: (40+100)/2 = 70
        # node2: cpu 40, mem (20000-5000)*100/20000 = 75: 115/2 = 57
        "no resources requested, pods scheduled with resources",
        [("node1", "10000", "20000"), ("node2", "10000", "20000")],
        [
            pod("e1", "3000", "0", "node1"),
            pod("e2", "3000", "0", "node1"),
            pod("e3", "3000", "0", "node2"),
            pod("e4", "3000", "5000", "node2"),
        ],
        pod("p"),
        [70, 57],
    ),
    (
        # node1: cpu (10000-6000)*100/10000 = 40, mem (20000-5000)*100/20000 = 75 -> 57
        # node2: cpu 40, mem (20000-10000)*100/20000 = 50 -> 45
        "resources requested, pods scheduled with resources",
        [("node1", "10000", "20000"), ("node2", "10000", "20000")],
        [pod("e1", "3000", "0", "node1"), pod("e2", "3000", "5000", "node2")],
        pod("p", "3000", "5000"),
        [57, 45],
    ),
    (
        # node2: cpu 40, mem (50000-10000)*100/50000 = 80 -> 60
        "resources requested, pods scheduled with resources, differently sized nodes",
        [("node1", "10000", "20000"), ("node2", "10000", "50000")],
        [pod("e1", "3000", "0", "node1"), pod("e2", "3000", "5000", "node2")],
        pod("p", "3000", "5000"),
        [57, 60],
    ),
    (
        # cpu 6000 > 4000 -> 0 on both; mem node1 100, node2 (10000-5000)*100/10000 = 50
        # node1: (0+100)/2 = 50, node2: (0+50)/2 = 25
        "requested resources exceed node capacity",
        [("node1", "4000", "10000"), ("node2", "4000", "10000")],
        [pod("e1", "3000", "0", "node1"), pod("e2", "3000", "5000", "node2")],
        pod("p", "3000", "0"),
        [50, 25],
    ),
    (
        # allocatable 0 for both resources: no resource is scored -> MinNodeScore
        "zero node resources, pods scheduled with resources",
        [("node1", "0", "0"), ("node2", "0", "0")],
        [pod("e1", "3000", "0", "node1"), pod("e2", "3000", "5000", "node2")],
        pod("p"),
        [0, 0],
    ),
]


@pytest.mark.parametrize(
    "name, nodes, existing, p, expected", LEAST_ALLOCATED, ids=[c[0] for c in LEAST_ALLOCATED]
)
def test_least_allocated_upstream_table(name, nodes, existing, p, expected):
    nodes = [(n, cpu(c), mem(m)) for n, c, m in nodes]
    assert plugin_scores(nodes, existing, p)[LA] == expected


# -- NodeResourcesBalancedAllocation: balanced_allocation_test.go ------------------------------
# cpuAndMemory = 1000m+2000m cpu, 2000+3000 bytes; cpuOnly = 3000m cpu, "0" memory
CPU_AND_MEMORY = ("3000m", "5000")
CPU_ONLY = ("3000m", "0")
BALANCED = [
    (
        # node1: 3000/4000 = .75, 5000/10000 = .5 -> std .125 -> int(87.5) = 87
        # node2: 3000/6000 = .5, .5 -> std 0 -> 100
        "nothing scheduled, resources requested, differently sized nodes",
        [("node1", 4000, 10000), ("node2", 6000, 10000)],
        [],
        CPU_AND_MEMORY,
        [87, 100],
    ),
    (
        # node1: 6000/10000 = .6, 5000/20000 = .25 -> std .175 -> 82
        # node2: .6, 10000/20000 = .5 -> std .05 -> 95
        "resources requested, pods scheduled with resources",
        [("node1", 10000, 20000), ("node2", 10000, 20000)],
        [("node1", CPU_ONLY), ("node2", CPU_AND_MEMORY)],
        CPU_AND_MEMORY,
        [82, 95],
    ),
    (
        # node2: .6, 10000/50000 = .2 -> std .2 -> 80
        "resources requested, pods scheduled with resources, differently sized nodes",
        [("node1", 10000, 20000), ("node2", 10000, 50000)],
        [("node1", CPU_ONLY), ("node2", CPU_AND_MEMORY)],
        CPU_AND_MEMORY,
        [82, 80],
    ),
    (
        # node1: 6000/6000 = 1, 0 -> std .5 -> 50; node2: 1, 5000/10000 -> std .25 -> 75
        "requested resources at node capacity",
        [("node1", 6000, 10000), ("node2", 6000, 10000)],
        [("node1", CPU_ONLY), ("node2", CPU_AND_MEMORY)],
        CPU_ONLY,
        [50, 75],
    ),
]


@pytest.mark.parametrize(
    "name, nodes, existing, req, expected", BALANCED, ids=[c[0] for c in BALANCED]
)
def test_balanced_allocation_upstream_table(name, nodes, existing, req, expected):
    pods = [pod(f"e{k}", *r, node=n) for k, (n, r) in enumerate(existing)]
    assert plugin_scores(nodes, pods, pod("p", *req))[BA] == expected


def test_balanced_allocation_scores_best_effort_pods_as_v1_32():
    """v1.32 still scores a best-effort pod (the PreScore skip of upstream's newer first table
    case came with v1.33): nothing requested, fractions 0 and 0, std 0 -> 100 everywhere."""
    nodes = [("node1", 4000, 10000), ("node2", 4000, 10000)]
    assert plugin_scores(nodes, [], pod("p"))[BA] == [100, 100]


def test_balanced_uses_requests_but_least_allocated_uses_non_zero_defaults():
    """A BestEffort pod (no container requests) is scored by LeastAllocated as 100m / 200 MiB
    (useRequested = false) but by BalancedAllocation as 0 / 0 (useRequested = true).
    Node 1000m / 1000 MiB: LA cpu (1000-100)*100/1000 = 90, mem (1000-200)*100/1000 = 80 -> 85.
    BA: fractions 0, 0 -> 100."""
    best_effort = Pod("be", 0, 0, score_cpu=100, score_memory=200 * MIB)
    scores = plugin_scores([("n", 1000, 1000 * MIB)], [], best_effort)
    assert scores[LA] == [85] and scores[BA] == [100]


# -- MostAllocated: most_allocated_test.go ------------------------------------------------------
def nonzero_pod(name, node=None) -> Pod:
    """st.MakePod().Container("container"): one container without requests, so it consumes
    nothing and is scored as 100m / 200 MiB."""
    return Pod(name, 0, 0, node=node, score_cpu=100, score_memory=200 * MIB)


MOST_ALLOCATED = [
    (
        # nothing requested anywhere: 0*100/4000 = 0 and 0 -> 0 on both
        "nothing scheduled, nothing requested",
        [("node1", "4000", "10000"), ("node2", "4000", "10000")],
        [],
        pod("p"),
        [0, 0],
    ),
    (
        # node1: cpu 3000*100/4000 = 75, mem 5000*100/10000 = 50 -> 62; node2: 50, 50 -> 50
        "nothing scheduled, resources requested, differently sized nodes",
        [("node1", "4000", "10000"), ("node2", "6000", "10000")],
        [],
        pod("p", "3000", "5000"),
        [62, 50],
    ),
    (
        # node1: cpu 6000*100/10000 = 60, mem 0 -> 30; node2: 60, 5000*100/20000 = 25 -> 42
        "no resources requested, pods scheduled with resources",
        [("node1", "10000", "20000"), ("node2", "10000", "20000")],
        [
            pod("e1", "3000", "0", "node1"),
            pod("e2", "3000", "0", "node1"),
            pod("e3", "3000", "0", "node2"),
            pod("e4", "3000", "5000", "node2"),
        ],
        pod("p"),
        [30, 42],
    ),
    (
        # node1: 60, 5000*100/20000 = 25 -> 42; node2: 60, 10000*100/20000 = 50 -> 55
        "resources requested, pods scheduled with resources",
        [("node1", "10000", "20000"), ("node2", "10000", "20000")],
        [pod("e1", "3000", "0", "node1"), pod("e2", "3000", "5000", "node2")],
        pod("p", "3000", "5000"),
        [42, 55],
    ),
    (
        # pod 5000 / 9000. node1 5000 / 10000: 100, 90 -> 95; node2 10000 / 9000: 50, 100 -> 75
        "resources requested equal node capacity",
        [("node1", "5000", "10000"), ("node2", "10000", "9000")],
        [],
        pod("p", "5000", "9000"),
        [95, 75],
    ),
    (
        # non-zero defaults: node1 holds two such pods, so cpu 300m > 250m clamps to 100, memory
        # 600Mi/1000Mi = 60 -> 80; node2: 100m/250m = 40, 200Mi/1000Mi = 20 -> 30
        "no resources requested, pods scheduled, nonzero request for resource",
        [("node1", "250m", "1000Mi"), ("node2", "250m", "1000Mi")],
        [nonzero_pod("e1", "node1"), nonzero_pod("e2", "node1")],
        nonzero_pod("p"),
        [80, 30],
    ),
]


@pytest.mark.parametrize(
    "name, nodes, existing, p, expected", MOST_ALLOCATED, ids=[c[0] for c in MOST_ALLOCATED]
)
def test_most_allocated_upstream_table(name, nodes, existing, p, expected):
    nodes = [(n, cpu(c), mem(m)) for n, c, m in nodes]
    assert plugin_scores(nodes, existing, p, "most")[LA] == expected


# -- MostAllocated, hand-worked ----------------------------------------------------------
def test_most_allocated_hand_worked():
    """node1 4000m/10000: cpu 3000*100/4000 = 75, mem 5000*100/10000 = 50 -> 62.
    node2 6000m/10000: cpu 3000*100/6000 = 50, mem 50 -> 50. A node past full counts as full:
    node3 2000m/10000: cpu min(3000, 2000)*100/2000 = 100, mem 50 -> 75."""
    nodes = [("node1", 4000, 10000), ("node2", 6000, 10000), ("node3", 2000, 10000)]
    assert plugin_scores(nodes, [], pod("p", "3000m", "5000"), "most")[LA] == [62, 50, 75]


# -- PodTopologySpread system default (podtopologyspread/scoring.go) -------------------------
def test_pod_topology_spread_hand_worked():
    """Owner rs has 2 pods on a, 1 on b, 0 on c; 3 filtered nodes, weight ln(5) = 1.6094.
    raw: a round(2*1.6094 + 2) = round(5.219) = 5; b round(3.609) = 4; c round(2) = 2.
    Normalised 100*(max+min-raw)/max with max 5, min 2: a 100*2/5 = 40, b 100*3/5 = 60,
    c 100*5/5 = 100."""
    nodes = [("a", 4000, 4 * 2**30), ("b", 4000, 4 * 2**30), ("c", 4000, 4 * 2**30)]
    existing = [
        Pod("r1", 100, MIB, node="a", owner="rs"),
        Pod("r2", 100, MIB, node="a", owner="rs"),
        Pod("r3", 100, MIB, node="b", owner="rs"),
        Pod("other", 100, MIB, node="c", owner="other"),
    ]
    assert plugin_scores(nodes, existing, Pod("new", 100, MIB, owner="rs"))[PTS] == [40, 60, 100]


def test_pod_topology_spread_zone_constraint_hand_worked():
    """a, b in zone z1, c unlabelled; owner rs has one pod on a and one on c. Weights: hostname
    ln(3 + 2) = 1.6094, zone ln(|{z1, ""}| + 2) = ln 4 = 1.3863; zone counts z1 = 1, "" = 1.
    raw a = round(1.6094 + 2 + 1.3863 + 4) = round(8.996) = 9; b = round(2 + 1.3863 + 4) = 7;
    c has no zone label, so no zone term: round(1.6094 + 2) = 4. max 9, min 4:
    a 100*(13-9)/9 = 44, b 100*6/9 = 66, c 100*9/9 = 100."""
    nodes = [
        Node("a", 4000, 2**30, zone="z1"),
        Node("b", 4000, 2**30, zone="z1"),
        Node("c", 4000, 2**30),
    ]
    existing = [Pod("r1", 1, 1, node="a", owner="rs"), Pod("r2", 1, 1, node="c", owner="rs")]
    assert plugin_scores(nodes, existing, Pod("new", 1, 1, owner="rs"))[PTS] == [44, 66, 100]


def test_pod_topology_spread_system_default_prescore_upstream_case():
    """Upstream TestPreScoreStateEmptyNodes, "system default constraints and a replicaset":
    node-a and node-b in zone mars, node-c and node-d unlabelled ("nodes with no zone are not
    excluded. They are considered a separate zone"); weights topologyNormalizingWeight(4) =
    ln 6 for hostname and (2) = ln 4 for zone, all counts 0. Carried on to Score: raw a, b =
    round(0 + 2 + 0 + 4) = 6 (zone term on labelled nodes only), c, d = 2; normalised with max
    6, min 2: a, b 100*(8-6)/6 = 33, c, d 100*(8-2)/6 = 100."""
    nodes = [
        Node("node-a", 1000, MIB, zone="mars"),
        Node("node-b", 1000, MIB, zone="mars"),
        Node("node-c", 1000, MIB),
        Node("node-d", 1000, MIB),
    ]
    assert plugin_scores(nodes, [], Pod("p", 1, 1, owner="default/rs1"))[PTS] == [33, 33, 100, 100]


def test_pod_topology_spread_skips_bare_pods_and_rounds_half_away():
    """A bare pod has no system-default constraint: the plugin is skipped (None). Rounding is
    Go's math.Round: with 2 filtered nodes the weight is ln 4 = 1.386; count 0 gives raw 2."""
    inst = cluster([("a", 1000, MIB), ("b", 1000, MIB)], [Pod("bare", 1, 1)])
    state = ClusterState.current(inst)
    assert pod_topology_spread(state, 0, np.arange(2)) is None
    assert math.log(4) == pytest.approx(1.3863, abs=1e-4)
    # 0.49999999999999994 + 0.5 rounds up to 1.0 in floating point: floor(x + 0.5) would say 1
    x = np.array([0.5, 1.5, 2.5, -0.5, -1.5, 0.49999999999999994, 2.4999999999999996, 3.0])
    assert round_half_away(x).tolist() == [1, 2, 3, -1, -2, 0, 2, 3]


# -- filter -----------------------------------------------------------------------------------
def test_zero_request_pod_fits_on_an_overcommitted_node():
    """fitsRequest checks only resources the pod requests: a cpu-free pod passes cpu on a node
    whose cpu is overcommitted, while a 1m pod does not."""
    inst = cluster(
        [("n", 1000, 1000)], [Pod("big", 1500, 10, node="n"), Pod("free", 0, 10), Pod("one", 1, 10)]
    )
    state = ClusterState.current(inst)
    assert node_resources_fit_filter(state, 1).tolist() == [True]
    assert node_resources_fit_filter(state, 2).tolist() == [False]


# -- whole runs -------------------------------------------------------------------------------
def two_node_run():
    """Two 2000m / 2000 MiB nodes; a and b (priority 2, owner rs, 1000m / 500 MiB), then c
    (priority 1, bare, 1500m / 100 MiB)."""
    return cluster(
        [("node-0", 2000, 2000 * MIB), ("node-1", 2000, 2000 * MIB)],
        [
            Pod("a", 1000, 500 * MIB, 2, owner="rs"),
            Pod("b", 1000, 500 * MIB, 2, owner="rs"),
            Pod("c", 1500, 100 * MIB, 1),
        ],
    )


def test_kube_default_hand_worked_run():
    """a: both nodes empty; LA (50+75)/2 = 62, BA std .125 -> 87, PTS raw 2, 2 -> 100 each:
    a tie, node-0 by name. b: node-0 LA (0+50)/2 = 25, BA |1-.5|/2 -> 75, PTS raw round(ln 4
    + 2) = 3 vs 2 -> 100*(5-3)/3 = 66 and 100: 25+75+2*66 = 232 < 62+87+2*100 = 349: node-1.
    c (1500m) fits on neither (1000m free each): pending. Vector [2, 0, 2, 0]."""
    inst = two_node_run()
    res = optkit.solve(inst, "kube_default")
    assert res.status is Status.FEASIBLE and res.bound is None
    assert dict(res.decision.assignment) == {"a": "node-0", "b": "node-1", "c": None}
    assert res.objective == res.evaluation.objective == [2, 0, 2, 0]
    assert res.certificate["queue_order"] == ["a", "b", "c"]


def test_most_allocated_packs_where_least_allocated_spreads():
    """x runs on node-0 (1000m / 1000 MiB of 4000 / 4000). y (same size, bare) scores
    LeastAllocated 50 on node-0 and 75 on node-1 (BA 100 on both): node-1; MostAllocated 50 vs
    25: node-0."""
    inst = cluster(
        [("node-0", 4000, 4000 * MIB), ("node-1", 4000, 4000 * MIB)],
        [Pod("x", 1000, 1000 * MIB, node="node-0"), Pod("y", 1000, 1000 * MIB)],
    )
    assert optkit.solve(inst, "kube_default").decision.assignment["y"] == "node-1"
    assert optkit.solve(inst, "kube_mostallocated").decision.assignment["y"] == "node-0"


def test_priority_sort_then_file_order():
    """Higher priority first whatever the file order; equal priority keeps file order. One
    1000m node: hi (priority 5, last in file) wins the node over lo1 and lo2."""
    inst = cluster(
        [("n", 1000, 10 * MIB)],
        [Pod("lo1", 1000, MIB, 1), Pod("lo2", 1000, MIB, 1), Pod("hi", 1000, MIB, 5)],
    )
    run = schedule(inst)
    assert [inst.pods[k].name for k in run.order] == ["hi", "lo1", "lo2"]
    assert run.nodes.tolist() == [-1, -1, 0]


def test_filters_cordon_taint_and_eligibility():
    """Only node-3 is open: node-0 cordoned, node-1 NoSchedule-tainted, node-2 outside the
    pod's eligible_nodes. A toleration of the taint opens node-1 as well."""
    from optkit.families.podpack.instance import Taint, Toleration

    nodes = [
        Node("node-0", 1000, MIB, schedulable=False),
        Node("node-1", 1000, MIB, taints=(Taint("gpu", "NoSchedule"),)),
        Node("node-2", 1000, MIB),
        Node("node-3", 1000, MIB),
    ]
    eligible = ("node-0", "node-1", "node-3")
    inst = cluster(nodes, [Pod("p", 10, 10, eligible_nodes=eligible)])
    assert schedule(inst).nodes.tolist() == [3]
    tol = cluster(
        nodes,
        [Pod("p", 10, 10, eligible_nodes=eligible, tolerations=(Toleration("gpu", "Exists"),))],
    )
    assert [n for n in range(4) if tol.may_place(0, n)] == [1, 3]


def test_random_tie_break_is_seeded():
    """Four identical empty nodes tie for every first pod: tie_break 'name' always picks
    node-0; 'random' is a function of the seed and reaches every node over seeds."""
    inst = cluster([(f"node-{k}", 1000, MIB) for k in range(4)], [Pod("p", 10, 10)])
    assert optkit.solve(inst, params={"tie_break": "name"}).decision.assignment["p"] == "node-0"
    picks = {
        s: optkit.solve(inst, seed=s, params={"tie_break": "random"}).decision.assignment["p"]
        for s in range(40)
    }
    again = optkit.solve(inst, seed=7, params={"tie_break": "random"}).decision.assignment["p"]
    assert again == picks[7]
    assert set(picks.values()) == {f"node-{k}" for k in range(4)}


# -- DefaultPreemption --------------------------------------------------------------------------
def preempt(nodes, running, preemptor):
    inst = cluster(nodes, [*running, preemptor])
    return inst, default_preemption(ClusterState.current(inst), inst.n_pods - 1)


def test_preemption_reprieves_and_picks_lowest_top_victim():
    """node-a: low1 (prio 1, 600m), low2 (prio 2, 300m); node-b: mid (prio 5, 800m); the
    preemptor (prio 10) needs 500m of 1000m. node-a: remove both, reprieve low2 first (more
    important): 300m used, 700 free -> kept; low1 back: 900 used -> victim. node-b: mid is the
    only victim. Highest victim priority 1 < 5: node-a, victims [low1]."""
    nodes = [("node-a", 1000, MIB), ("node-b", 1000, MIB)]
    running = [
        Pod("low1", 600, 1, 1, node="node-a"),
        Pod("low2", 300, 1, 2, node="node-a"),
        Pod("mid", 800, 1, 5, node="node-b"),
    ]
    inst, choice = preempt(nodes, running, Pod("p", 500, 1, 10))
    assert inst.nodes[choice.node].name == "node-a"
    assert [inst.pods[v].name for v in choice.victims] == ["low1"]


def test_preemption_offset_sum_prefers_fewer_victims():
    """Both nodes' highest victim has priority 1. node-a's victims [1, -100] have the smaller raw
    sum (-99 < 1), but upstream adds MaxInt32 + 1 per victim: 2^32 - 99 > 2^31 + 1, so node-b
    with one victim wins."""
    nodes = [("node-a", 1000, MIB), ("node-b", 1000, MIB)]
    running = [
        Pod("a1", 500, 1, 1, node="node-a"),
        Pod("a2", 500, 1, -100, node="node-a"),
        Pod("b1", 1000, 1, 1, node="node-b"),
    ]
    inst, choice = preempt(nodes, running, Pod("p", 1000, 1, 10))
    assert inst.nodes[choice.node].name == "node-b"
    assert [inst.pods[v].name for v in choice.victims] == ["b1"]


def test_preemption_latest_start_then_name():
    """One victim of equal priority on each node, so criteria 1-3 tie: the node whose
    highest-priority victim started latest (later in file order) wins. va comes after vb in
    the file, so node-a wins although node-b is listed... second by name it would lose."""
    nodes = [("node-a", 1000, MIB), ("node-b", 1000, MIB)]
    running = [Pod("vb", 1000, 1, 1, node="node-b"), Pod("va", 1000, 1, 1, node="node-a")]
    inst, choice = preempt(nodes, running, Pod("p", 1000, 1, 10))
    assert inst.nodes[choice.node].name == "node-a"


def test_preemption_never_evicts_protected_and_skips_unresolvable_nodes():
    """node-a holds only a protected low-priority pod: no candidate. node-b is cordoned (an
    unresolvable filter): no candidate either. So no preemption; the run leaves p pending."""
    nodes = [Node("node-a", 1000, MIB), Node("node-b", 1000, MIB, schedulable=False)]
    running = [
        Pod("ds", 1000, 1, 0, node="node-a", protected=True),
        Pod("x", 1000, 1, 0, node="node-b"),
    ]
    inst, choice = preempt(nodes, running, Pod("p", 1000, 1, 10))
    assert choice is None
    res = optkit.solve(inst, params={"preemption": True})
    assert res.decision.assignment["p"] is None and res.certificate["preemptions"] == []


def test_kube_default_with_preemption_evicts_and_binds():
    """The reprieve case as a whole run: low1 evicted (disruption 1 in the tiers <= 1), p bound
    on node-a. Tiers [10, 5, 2, 1]: placed(>=10) = 1, placed(>=5) = 2, placed(>=2) = 3,
    placed(>=1) = 3 with low1 evicted: vector [1, 0, 2, 0, 3, 0, 3, -1]."""
    nodes = [("node-a", 1000, MIB), ("node-b", 1000, MIB)]
    running = [
        Pod("low1", 600, 1, 1, node="node-a"),
        Pod("low2", 300, 1, 2, node="node-a"),
        Pod("mid", 800, 1, 5, node="node-b"),
    ]
    inst = cluster(nodes, [*running, Pod("p", 500, 1, 10)])
    assert optkit.solve(inst).decision.assignment["p"] is None  # preemption is off by default
    res = optkit.solve(inst, params={"preemption": True})
    assert res.decision.assignment == {
        "low1": None,
        "low2": "node-a",
        "mid": "node-b",
        "p": "node-a",
    }
    assert res.objective == res.evaluation.objective == [1, 0, 2, 0, 3, 0, 3, -1]
    assert res.certificate["preemptions"] == [
        {"preemptor": "p", "node": "node-a", "victims": ["low1"]}
    ]


def test_params_are_validated():
    from optkit.core.errors import InvalidInputError

    inst = two_node_run()
    with pytest.raises(InvalidInputError, match="params.tie_break"):
        optkit.solve(inst, params={"tie_break": "first"})
    with pytest.raises(InvalidInputError, match="params.preemption"):
        optkit.solve(inst, params={"preemption": "False"})
    with pytest.raises(InvalidInputError, match="params.threads"):
        optkit.solve(inst, params={"threads": 2})


def test_infeasible_current_state_is_a_verdict():
    """Protected pods alone overfill node-a (1200m > 1000m): no plan exists, INFEASIBLE with the
    node and resource named. An unprotected overload is NOT_APPLICABLE to kube-scheduler."""
    nodes = [("node-a", 1000, MIB)]
    forced = cluster(
        nodes,
        [
            Pod("d1", 600, 1, node="node-a", protected=True),
            Pod("d2", 600, 1, node="node-a", protected=True),
        ],
    )
    res = optkit.solve(forced)
    assert res.status is Status.INFEASIBLE and not res.has_decision
    assert "capacity[node-a].cpu" in res.message
    loose = cluster(nodes, [Pod("d1", 600, 1, node="node-a"), Pod("d2", 600, 1, node="node-a")])
    res = optkit.solve(loose)
    assert res.status is Status.NOT_APPLICABLE and "capacity[node-a].cpu by 200" in res.message


def test_generated_runs_are_deterministic_and_feasible():
    """Same seed, same plan; every plan passes evaluate() with zero violations."""
    inst = optkit.generate("podpack", "n8-ppn8-l4-u105", seed=3)
    a, b = optkit.solve(inst), optkit.solve(inst)
    assert a.decision.assignment == b.decision.assignment
    for solver in ("kube_default", "kube_mostallocated"):
        for preemption in (False, True):
            res = optkit.solve(inst, solver, params={"preemption": preemption})
            assert res.evaluation.feasible and res.evaluation.max_violation == 0


# -- properties on random clusters ------------------------------------------------------------
@st.composite
def random_clusters(draw):
    n_nodes = draw(st.integers(1, 4))
    nodes = [
        Node(
            f"n{j}",
            draw(st.integers(0, 3000)),
            draw(st.integers(0, 3000)) * MIB,
            schedulable=draw(st.booleans()) or j == 0,
        )
        for j in range(n_nodes)
    ]
    pods, used = [], [[0, 0] for _ in range(n_nodes)]
    for k in range(draw(st.integers(0, 10))):
        c, m = draw(st.integers(0, 1500)), draw(st.integers(0, 1500)) * MIB
        node = draw(st.one_of(st.none(), st.integers(0, n_nodes - 1)))
        if node is not None and (
            used[node][0] + c > nodes[node].cpu or used[node][1] + m > nodes[node].memory
        ):
            node = None  # keep the current state feasible
        if node is not None:
            used[node][0] += c
            used[node][1] += m
        pods.append(
            Pod(
                f"p{k}",
                c,
                m,
                draw(st.integers(0, 3)),
                node=None if node is None else f"n{node}",
                owner=draw(st.sampled_from([None, "rs-a", "rs-b"])),
            )
        )
    return cluster(nodes, pods)


@settings(max_examples=80, deadline=None)
@given(random_clusters(), st.booleans(), st.sampled_from(["kube_default", "kube_mostallocated"]))
def test_plans_are_feasible_and_only_preemption_disrupts(inst, preemption, solver):
    """Every plan passes evaluate(); running pods never move; without preemption nothing is
    evicted and no pending pod fits anywhere at the end (the replay is maximal); with it, every
    victim has lower priority than the pod that preempted it."""
    res = optkit.solve(inst, solver, params={"preemption": preemption})
    assert res.status is Status.FEASIBLE and res.evaluation.feasible
    rep = evaluate(inst, res.decision)
    assert rep.moves == []
    if not preemption:
        assert rep.evictions == []
        nodes = np.array(
            [-1 if n is None else inst.node_index[n] for n in res.decision.assignment.values()]
        )
        state = ClusterState.current(inst)
        for k, n in enumerate(nodes):
            if n >= 0 and inst.pods[k].node is None:
                state.bind(k, int(n))
        for k in np.flatnonzero(nodes < 0):
            assert not len(feasible_nodes(state, int(k)))
    else:
        prio = {p.name: p.priority for p in inst.pods}
        for event in res.certificate["preemptions"]:
            assert all(prio[v] < prio[event["preemptor"]] for v in event["victims"])
        evicted = {v for e in res.certificate["preemptions"] for v in e["victims"]}
        assert set(rep.evictions) == evicted


def test_taint_toleration_prefer_no_schedule_hand_worked():
    """a has two untolerated PreferNoSchedule taints, b one, c none (d's is tolerated by the
    pod). Counts 2, 1, 0, 0 with max 2: 100 - 100*count/2 -> 0, 50, 100, 100. Without any
    PreferNoSchedule taint the plugin gives 100 everywhere and is left out."""
    from optkit.families.podpack.instance import Taint, Toleration

    soft = lambda key: Taint(key, "PreferNoSchedule")  # noqa: E731
    nodes = [
        Node("a", 1000, MIB, taints=(soft("x"), soft("y"))),
        Node("b", 1000, MIB, taints=(soft("x"),)),
        Node("c", 1000, MIB),
        Node("d", 1000, MIB, taints=(soft("ok"),)),
    ]
    p = Pod("p", 10, 10, tolerations=(Toleration("ok", "Exists", effect="PreferNoSchedule"),))
    assert plugin_scores(nodes, [], p)["TaintToleration"] == [0, 50, 100, 100]
    assert "TaintToleration" not in plugin_scores([("a", 1000, MIB)], [], Pod("q", 1, 1))
