"""DefaultPreemption cases ported from upstream's default_preemption_test.go
(TestDryRunPreemption: victims per node; TestSelectBestCandidate: the chosen node).

Upstream's units: every node has capacity veryLargeRes = 500m cpu / 500 bytes; small, medium,
large, veryLarge requests are 100, 200, 300, 500 (m and bytes); priorities neg -100, low 0,
mid 100, high 1000, veryHigh 10000. Start times become file order (spec: start time = file
order), so each case lists its pods sorted by upstream's StartTime (stable for equal ones).
Every expected answer below is worked by hand in its comment.
"""

from __future__ import annotations

import pytest
from podpack_testkit import cluster

from optkit.families.podpack.instance import Pod
from optkit.families.podpack.scheduler import (
    ClusterState,
    default_preemption,
    select_victims_on_node,
)

RES = {"small": 100, "medium": 200, "large": 300, "veryLarge": 500}
PRIO = {"neg": -100, "low": 0, "mid": 100, "high": 1000, "veryHigh": 10000}


def run(node_names, preemptor, pods):
    """pods: (name, node, priority, size, start); returns (chosen node, victims by node)."""
    ordered = sorted(pods, key=lambda p: p[4])
    inst = cluster(
        [(n, 500, 500) for n in node_names],
        [Pod(n, RES[s], RES[s], PRIO[pr], node=node) for n, node, pr, s, _ in ordered]
        + [Pod("p", RES[preemptor[1]], RES[preemptor[1]], PRIO[preemptor[0]])],
    )
    state = ClusterState.current(inst)
    choice = default_preemption(state, inst.n_pods - 1)
    if choice is None:
        return None, {}
    # the dry run of every node, as TestDryRunPreemption lists candidates
    candidates = {}
    for j, node in enumerate(inst.nodes):
        victims = select_victims_on_node(state, inst.n_pods - 1, j)
        if victims is not None:
            candidates[node.name] = sorted(inst.pods[v].name for v in victims)
    return inst.nodes[choice.node].name, candidates


DRY_RUN = [
    (
        # p (high, large) fits on either node once the mid pod there goes
        "a pod that fits on both nodes when lower priority pods are preempted",
        ("high", "large"),
        [("p1", "node1", "mid", "large", 0), ("p2", "node2", "mid", "large", 0)],
        {"node1": ["p1"], "node2": ["p2"]},
    ),
    (
        # p (low) may not preempt mid pods: no candidate
        "a pod that would fit on the nodes, but other pods running are higher priority",
        ("low", "large"),
        [("p1", "node1", "mid", "large", 0), ("p2", "node2", "mid", "large", 0)],
        {},
    ),
    (
        # node1: remove p1.1 and p1.2 (500 free); reprieve p1.2 (mid, more important): 300 used,
        # 200 free < 300 -> victim; reprieve p1.1 (low, small): 100 used, 400 free -> stays
        "medium priority pod is preempted, but lower priority one stays as it is small",
        ("high", "large"),
        [
            ("p1.1", "node1", "low", "small", 0),
            ("p1.2", "node1", "mid", "large", 0),
            ("p2", "node2", "mid", "large", 0),
        ],
        {"node1": ["p1.2"], "node2": ["p2"]},
    ),
    (
        # node1 keeps p1.4 (high = not lower). Remove p1.1, p1.2, p1.3: 100 used. Reprieve mid
        # pods: p1.1 -> 200 used, 300 free: stays; p1.3 -> 400 used: victim; p1.2 -> victim.
        # node2's only pod is high: no candidate there.
        "mixed priority pods are preempted",
        ("high", "large"),
        [
            ("p1.1", "node1", "mid", "small", 0),
            ("p1.2", "node1", "low", "small", 0),
            ("p1.3", "node1", "mid", "medium", 0),
            ("p1.4", "node1", "high", "small", 0),
            ("p2", "node2", "high", "large", 0),
        ],
        {"node1": ["p1.2", "p1.3"]},
    ),
    (
        # reprieve p1.3 (mid) first: 300 used, 200 free -> victim; then the low pods, earlier
        # start first: p1.2 (t4) -> 200 used, 300 free: stays; p1.1 (t5) -> victim
        "mixed priority pods are preempted, pick later StartTime one when priorities are equal",
        ("high", "large"),
        [
            ("p1.1", "node1", "low", "small", 5),
            ("p1.2", "node1", "low", "small", 4),
            ("p1.3", "node1", "mid", "medium", 3),
            ("p1.4", "node1", "high", "small", 2),
            ("p2", "node2", "high", "large", 1),
        ],
        {"node1": ["p1.1", "p1.3"]},
    ),
]


@pytest.mark.parametrize("name, preemptor, pods, expected", DRY_RUN, ids=[c[0] for c in DRY_RUN])
def test_dry_run_preemption_upstream_table(name, preemptor, pods, expected):
    chosen, candidates = run(["node1", "node2"], preemptor, pods)
    assert candidates == expected
    assert (chosen is None) == (not expected)


SELECT_BEST = [
    (
        # one mid victim each; upstream accepts either node
        "a pod that fits on both nodes when lower priority pods are preempted",
        ["node1", "node2"],
        ("high", "large"),
        [("p1", "node1", "mid", "large", 0), ("p2", "node2", "mid", "large", 0)],
        {"node1", "node2"},
    ),
    (
        # p needs all 500: every pod goes. Highest victim: node1 mid, node2 mid, node3 low
        "node with min highest priority pod is picked",
        ["node1", "node2", "node3"],
        ("high", "veryLarge"),
        [
            ("p1.1", "node1", "mid", "medium", 0),
            ("p1.2", "node1", "mid", "large", 0),
            ("p2.1", "node2", "mid", "medium", 0),
            ("p2.2", "node2", "low", "medium", 0),
            ("p3.1", "node3", "low", "medium", 0),
            ("p3.2", "node3", "low", "medium", 0),
        ],
        {"node3"},
    ),
    (
        # top victims all mid; sums (+2^31 each): node1 200, node2 100, node3 200 -> node2
        "when highest priorities are the same, minimum sum of priorities is picked",
        ["node1", "node2", "node3"],
        ("high", "veryLarge"),
        [
            ("p1.1", "node1", "mid", "medium", 0),
            ("p1.2", "node1", "mid", "large", 0),
            ("p2.1", "node2", "mid", "large", 0),
            ("p2.2", "node2", "low", "medium", 0),
            ("p3.1", "node3", "mid", "medium", 0),
            ("p3.2", "node3", "mid", "medium", 0),
        ],
        {"node2"},
    ),
    (
        # adjusted sums: node1 0 + 4*2^31, node2 0 + 2*2^31, node3 0 + 3*2^31 -> node2
        "when highest priority and sum are the same, minimum number of pods is picked",
        ["node1", "node2", "node3"],
        ("high", "veryLarge"),
        [
            ("p1.1", "node1", "mid", "small", 0),
            ("p1.2", "node1", "neg", "small", 0),
            ("p1.3", "node1", "mid", "small", 0),
            ("p1.4", "node1", "neg", "small", 0),
            ("p2.1", "node2", "mid", "large", 0),
            ("p2.2", "node2", "neg", "medium", 0),
            ("p3.1", "node3", "mid", "medium", 0),
            ("p3.2", "node3", "neg", "small", 0),
            ("p3.3", "node3", "low", "small", 0),
        ],
        {"node2"},
    ),
    (
        # raw sums would pick node1 (-100 < 0 = node2 = node3); adjusted: node1 -100 + 3*2^31,
        # node2 0 + 2*2^31, node3 0 + 3*2^31 -> node2
        "sum of adjusted priorities is considered",
        ["node1", "node2", "node3"],
        ("high", "veryLarge"),
        [
            ("p1.1", "node1", "mid", "small", 0),
            ("p1.2", "node1", "neg", "small", 0),
            ("p1.3", "node1", "neg", "small", 0),
            ("p2.1", "node2", "mid", "large", 0),
            ("p2.2", "node2", "neg", "medium", 0),
            ("p3.1", "node3", "mid", "medium", 0),
            ("p3.2", "node3", "neg", "small", 0),
            ("p3.3", "node3", "low", "small", 0),
        ],
        {"node2"},
    ),
    (
        # top: node1 mid, node2 high, node3 mid, node4 mid; sums: node1 100 + 3*2^31,
        # node3 100 + 4*2^31, node4 200 + 4*2^31 -> node1
        "non-overlapping lowest high priority, sum priorities, and number of pods",
        ["node1", "node2", "node3", "node4"],
        ("veryHigh", "veryLarge"),
        [
            ("p1.1", "node1", "mid", "small", 0),
            ("p1.2", "node1", "low", "small", 0),
            ("p1.3", "node1", "low", "small", 0),
            ("p2.1", "node2", "high", "large", 0),
            ("p3.1", "node3", "mid", "medium", 0),
            ("p3.2", "node3", "low", "small", 0),
            ("p3.3", "node3", "low", "small", 0),
            ("p3.4", "node3", "low", "medium", 0),
            ("p4.1", "node4", "mid", "medium", 0),
            ("p4.2", "node4", "mid", "small", 0),
            ("p4.3", "node4", "mid", "small", 0),
            ("p4.4", "node4", "neg", "small", 0),
        ],
        {"node1"},
    ),
    (
        # criteria 1-3 tie; earliest start of the top victims: node1 t2, node2 t3, node3 t1;
        # the latest of those wins -> node2
        "same priority, same number of victims, different start time for each node's pod",
        ["node1", "node2", "node3"],
        ("high", "veryLarge"),
        [
            ("p1.1", "node1", "mid", "medium", 2),
            ("p1.2", "node1", "mid", "medium", 2),
            ("p2.1", "node2", "mid", "medium", 3),
            ("p2.2", "node2", "mid", "medium", 3),
            ("p3.1", "node3", "mid", "medium", 1),
            ("p3.2", "node3", "mid", "medium", 1),
        ],
        {"node2"},
    ),
    (
        # earliest starts: node1 min(t4, t2) = 2, node2 min(t5, t1) = 1, node3 min(t3, t6) = 3
        "same priority, same number of victims, different start time for all pods",
        ["node1", "node2", "node3"],
        ("high", "veryLarge"),
        [
            ("p1.1", "node1", "mid", "medium", 4),
            ("p1.2", "node1", "mid", "medium", 2),
            ("p2.1", "node2", "mid", "medium", 5),
            ("p2.2", "node2", "mid", "medium", 1),
            ("p3.1", "node3", "mid", "medium", 3),
            ("p3.2", "node3", "mid", "medium", 6),
        ],
        {"node3"},
    ),
    (
        # top victim is mid everywhere; its start: node1 t2, node2 t6, node3 t5 -> node2
        "different priority, same number of victims, different start time for all pods",
        ["node1", "node2", "node3"],
        ("high", "veryLarge"),
        [
            ("p1.1", "node1", "low", "medium", 4),
            ("p1.2", "node1", "mid", "medium", 2),
            ("p2.1", "node2", "mid", "medium", 6),
            ("p2.2", "node2", "low", "medium", 1),
            ("p3.1", "node3", "low", "medium", 3),
            ("p3.2", "node3", "mid", "medium", 5),
        ],
        {"node2"},
    ),
]


@pytest.mark.parametrize(
    "name, nodes, preemptor, pods, expected", SELECT_BEST, ids=[c[0] for c in SELECT_BEST]
)
def test_select_best_candidate_upstream_table(name, nodes, preemptor, pods, expected):
    chosen, _ = run(nodes, preemptor, pods)
    assert chosen in expected
