"""The lexicographic objective, disruption and every constraint of a plan, independent of solvers.

With tiers t_1 > t_2 > ... the distinct priorities, the objective vector is

    [placed(>= t_1), -disruption(>= t_1), placed(>= t_2), -disruption(>= t_2), ...]

placed(>= t): pods of priority >= t with a node; disruption(>= t): over running pods of priority
>= t, 0 if the pod stays, 1 if evicted (no node in the plan), 2 if moved. Larger is better,
compared lexicographically (Python list order). The exact solvers of the later issue lock one
stage at a time in this order, so the tier structure lives here and nowhere else.

Constraints, each reported by name with its violation (an integer in the constraint's unit):
  capacity[node].cpu / .memory   requests on the node minus allocatable (millicores / bytes)
  protected[pod]                 1 when a protected pod is not on its current node
  eligibility[pod]               1 when a pod arrives on a node it may not be placed on
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from optkit.families.podpack.instance import PodpackDecision, PodpackInstance

RESOURCES = ("cpu", "memory")
STAY, EVICT, MOVE = 0, 1, 2  # disruption cost of a running pod (spec: moves cost 2)


@dataclass(frozen=True)
class Arrays:
    """The instance as integer numpy arrays (int64, as upstream's accounting)."""

    cpu: np.ndarray  # (pods,) millicores requested
    memory: np.ndarray  # (pods,) bytes requested
    priority: np.ndarray  # (pods,)
    current: np.ndarray  # (pods,) node index now, -1 pending
    protected: np.ndarray  # (pods,) bool
    node_cpu: np.ndarray  # (nodes,) allocatable millicores
    node_memory: np.ndarray  # (nodes,) allocatable bytes

    @classmethod
    def of(cls, inst: PodpackInstance) -> Arrays:
        cached = inst.__dict__.get("_arrays")
        if cached is not None:
            return cached
        arr = cls(
            cpu=np.array([p.cpu for p in inst.pods], dtype=np.int64),
            memory=np.array([p.memory for p in inst.pods], dtype=np.int64),
            priority=np.array([p.priority for p in inst.pods], dtype=np.int64),
            current=np.array([-1 if c is None else c for c in inst.current()], dtype=np.int64),
            protected=np.array([p.protected for p in inst.pods], dtype=bool),
            node_cpu=np.array([n.cpu for n in inst.nodes], dtype=np.int64),
            node_memory=np.array([n.memory for n in inst.nodes], dtype=np.int64),
        )
        object.__setattr__(inst, "_arrays", arr)  # frozen dataclass: cache once per instance
        return arr


@dataclass(frozen=True)
class PodpackEvaluation:
    objective: list[int]
    """The lexicographic vector (see module docstring)."""
    tiers: list[int]
    """Distinct priorities, highest first; entry k of placed/disruption belongs to tiers[k]."""
    placed: list[int]
    """placed(>= t) per tier."""
    disruption: list[int]
    """disruption(>= t) per tier."""
    pending: list[str]
    """Pods without a node in the plan."""
    evictions: list[str]
    """Running pods the plan leaves without a node."""
    moves: list[tuple[str, str, str]]
    """(pod, from node, to node) of running pods the plan moves."""
    violations: dict[str, int]
    max_violation: float
    worst: str
    feasible: bool
    used: dict[str, list[int]]
    """Requests per node and resource in the plan (millicores / bytes)."""
    utilisation: dict[str, float]
    """Cluster-wide requested / allocatable per resource."""
    imbalance: dict[str, dict[str, float]]
    """Per resource, min / max / std over nodes of the node's requested / allocatable."""

    def to_dict(self) -> dict[str, Any]:
        return {
            "objective": self.objective,
            "tiers": self.tiers,
            "placed": self.placed,
            "disruption": self.disruption,
            "pending": self.pending,
            "evictions": self.evictions,
            "moves": [{"pod": p, "from": a, "to": b} for p, a, b in self.moves],
            "max_violation": self.max_violation,
            "worst": self.worst,
            "feasible": self.feasible,
            "violations": self.violations,
            "utilisation": self.utilisation,
            "imbalance": self.imbalance,
        }


def objective_vector(inst: PodpackInstance, nodes: np.ndarray) -> list[int]:
    """The lexicographic vector of a plan given as node indices (-1: no node)."""
    _, placed, disruption = tier_counts(inst, nodes)
    return [x for pair in zip(placed, (-d for d in disruption), strict=True) for x in pair]


def tier_counts(inst: PodpackInstance, nodes: np.ndarray) -> tuple[list[int], list[int], list[int]]:
    """(tiers highest first, placed(>= t), disruption(>= t)) of a plan as node indices."""
    a = Arrays.of(inst)
    placed_mask = nodes >= 0
    cost = disruption_costs(a.current, nodes)
    tiers = list(inst.tiers())
    placed, disruption = [], []
    for t in tiers:
        at_least = a.priority >= t
        placed.append(int((placed_mask & at_least).sum()))
        disruption.append(int(cost[at_least].sum()))
    return tiers, placed, disruption


def disruption_costs(current: np.ndarray, nodes: np.ndarray) -> np.ndarray:
    """Per pod: 0 stays (or was pending), 1 evicted, 2 moved."""
    running = current >= 0
    evicted = running & (nodes < 0)
    moved = running & (nodes >= 0) & (nodes != current)
    return np.where(evicted, EVICT, np.where(moved, MOVE, STAY))


def evaluate(instance: PodpackInstance, decision: PodpackDecision) -> PodpackEvaluation:
    idx = decision.indices(instance)
    return evaluate_indices(instance, np.array([-1 if i is None else i for i in idx], np.int64))


def evaluate_indices(inst: PodpackInstance, nodes: np.ndarray) -> PodpackEvaluation:
    a = Arrays.of(inst)
    placed_mask = nodes >= 0
    # exact integer sums: byte totals can pass 2**53, where a float64 bincount would round
    used = {r: _int_sums(inst, nodes, r) for r in RESOURCES}
    violations: dict[str, int] = {}
    for r, alloc in (("cpu", a.node_cpu), ("memory", a.node_memory)):
        over = used[r] - alloc
        for k in np.flatnonzero(over > 0):
            violations[f"capacity[{inst.nodes[k].name}].{r}"] = int(over[k])
    for k, pod in enumerate(inst.pods):
        n = int(nodes[k])
        if pod.protected and n != a.current[k]:
            violations[f"protected[{pod.name}]"] = 1
        if n >= 0 and not inst.may_use(k, n):
            violations[f"eligibility[{pod.name}]"] = 1
    worst = max(violations, key=violations.__getitem__) if violations else ""
    max_violation = float(violations[worst]) if violations else 0.0
    cost = disruption_costs(a.current, nodes)
    tiers, placed, disruption = tier_counts(inst, nodes)
    names = [p.name for p in inst.pods]
    node_names = [n.name for n in inst.nodes]
    moves = [
        (names[k], node_names[a.current[k]], node_names[nodes[k]])
        for k in np.flatnonzero(cost == MOVE)
    ]
    utilisation, imbalance = {}, {}
    for r, alloc in (("cpu", a.node_cpu), ("memory", a.node_memory)):
        total = int(alloc.sum())
        utilisation[r] = sum(used[r]) / total if total else 0.0
        # a node without allocatable counts as empty (0) or full (1): never an infinite ratio
        frac = np.array(
            [u / c if c else float(u > 0) for u, c in zip(used[r], alloc.tolist(), strict=True)]
        )
        imbalance[r] = {
            "min": float(frac.min()),
            "max": float(frac.max()),
            "std": float(frac.std()),
        }
    return PodpackEvaluation(
        objective=objective_vector(inst, nodes),
        tiers=tiers,
        placed=placed,
        disruption=disruption,
        pending=[names[k] for k in np.flatnonzero(~placed_mask)],
        evictions=[names[k] for k in np.flatnonzero(cost == EVICT)],
        moves=moves,
        violations=violations,
        max_violation=max_violation,
        worst=worst,
        feasible=not violations,
        used={r: list(map(int, used[r])) for r in RESOURCES},
        utilisation=utilisation,
        imbalance=imbalance,
    )


def _int_sums(inst: PodpackInstance, nodes: np.ndarray, resource: str) -> list[int]:
    sums = [0] * inst.n_nodes
    for pod, n in zip(inst.pods, nodes.tolist(), strict=True):
        if n >= 0:
            sums[n] += getattr(pod, resource)
    return sums


def current_state(inst: PodpackInstance) -> PodpackEvaluation:
    """The cluster as it runs now, scored as a plan (pending pods stay pending)."""
    return evaluate_indices(inst, Arrays.of(inst).current.copy())


def forced_infeasibility(inst: PodpackInstance) -> list[str]:
    """Why no plan at all can be feasible: protected pods (which must stay) that alone exceed a
    node's allocatable. Empty when some plan exists (evicting every unprotected pod is one)."""
    a = Arrays.of(inst)
    reasons = []
    for r, alloc in (("cpu", a.node_cpu), ("memory", a.node_memory)):
        need = [0] * inst.n_nodes
        for k, pod in enumerate(inst.pods):
            if pod.protected:
                need[a.current[k]] += getattr(pod, r)
        for k, (n, c) in enumerate(zip(need, alloc.tolist(), strict=True)):
            if n > c:
                unit = "m" if r == "cpu" else " bytes"
                reasons.append(
                    f"capacity[{inst.nodes[k].name}].{r}: protected pods request {n}{unit}, "
                    f"allocatable is {c}{unit}"
                )
    return reasons
