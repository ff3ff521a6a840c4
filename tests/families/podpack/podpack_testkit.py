"""Small builders for hand-worked podpack cases (plain helpers; fixtures live in conftest.py)."""

from __future__ import annotations

import numpy as np

from optkit.families.podpack.instance import Node, Pod, PodpackDecision, PodpackInstance
from optkit.families.podpack.quantity import milli_value, parse_quantity, value_of
from optkit.families.podpack.scheduler import ClusterState, score_nodes

MIB = 2**20


def cpu(q: str) -> int:
    """Millicores of a Kubernetes quantity ("4000" is 4000 cores, as in upstream's tests)."""
    return milli_value(parse_quantity(q, "cpu"))


def mem(q: str) -> int:
    return value_of(parse_quantity(q, "memory"))


def cluster(nodes, pods) -> PodpackInstance:
    """nodes: [(name, cpu m, memory B)] or Node; pods: Pod objects or kwargs dicts."""
    return PodpackInstance(
        nodes=tuple(n if isinstance(n, Node) else Node(*n) for n in nodes),
        pods=tuple(p if isinstance(p, Pod) else Pod(**p) for p in pods),
    )


def plugin_scores(nodes, existing, pod: Pod, scoring: str = "least") -> dict[str, list[int]]:
    """Every score plugin's score for `pod` on every node, with `existing` bound first (the
    shape of upstream's table tests: nodes, existingPods, requestedPod, expectedScores)."""
    inst = cluster(nodes, [*existing, pod])
    state = ClusterState.current(inst)
    all_nodes = np.arange(inst.n_nodes)
    scores = score_nodes(state, inst.n_pods - 1, all_nodes, scoring)  # type: ignore[arg-type]
    return {name: s.tolist() for name, s in scores.items()}


def decision(inst: PodpackInstance, **where) -> PodpackDecision:
    """A plan from keyword pod=node (pods not named keep their current node)."""
    return PodpackDecision({p.name: where.get(p.name.replace("-", "_"), p.node) for p in inst.pods})
