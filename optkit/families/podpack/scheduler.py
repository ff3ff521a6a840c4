"""kube_default and kube_mostallocated: the default kube-scheduler of release v1.32, replayed.

One function per upstream plugin, named after it (pkg/scheduler/framework/plugins/...):

  queue     PrioritySort              higher priority first, then creation (= file order)
  filter    NodeResourcesFit          requested + pod <= allocatable, per resource the pod asks for
            NodeUnschedulable, TaintToleration, NodeAffinity: folded into Instance.may_place
  score     TaintToleration           untolerated PreferNoSchedule taints, reversed     weight 3
            NodeResourcesFit          LeastAllocated (kube_default) or MostAllocated    weight 1
            NodeResourcesBalancedAllocation                                             weight 1
            PodTopologySpread         system default constraints, owned pods only       weight 2
  select    selectHost                highest total; ties by node name or seeded at random
  postfilter DefaultPreemption        optional (the paper's runs leave it off)

TaintToleration is scored only when a feasible node carries a PreferNoSchedule taint; without
one it gives every node 100 and cannot change a choice. The other default score plugins
(NodeAffinity preferred terms, InterPodAffinity, ImageLocality) need input this model does not
hold (preferred terms and pod affinity are flagged on import; node image caches are not read)
and are not replayed. Integer arithmetic wherever upstream uses int64; BalancedAllocation and
PodTopologySpread use float64 as upstream does.

Running pods stay where they are: kube-scheduler never moves a bound pod. Only DefaultPreemption
evicts, and an evicted pod stays pending (its ReplicaSet's replacement is not modelled, spec).
"""

from __future__ import annotations

import heapq
import math
from dataclasses import dataclass, field
from typing import Literal

import numpy as np

from optkit.core.seeding import make_rng
from optkit.families.podpack.instance import PodpackInstance

MAX_NODE_SCORE = 100  # framework.MaxNodeScore
# podtopologyspread systemDefaultConstraints: hostname maxSkew 3, zone maxSkew 5 (ScheduleAnyway)
HOSTNAME_MAX_SKEW, ZONE_MAX_SKEW = 3, 5
MAX_INT32 = 2**31 - 1
WEIGHTS = {  # default plugin weights of v1.32 (apis/config/v1/default_plugins.go)
    "TaintToleration": 3,
    "NodeResourcesFit": 1,
    "NodeResourcesBalancedAllocation": 1,
    "PodTopologySpread": 2,
}
Scoring = Literal["least", "most"]


@dataclass
class ClusterState:
    """What the scheduler cache holds per node: requests of bound pods, as upstream's NodeInfo.

    requested_*: actual requests (NodeInfo.Requested); nonzero_*: with the non-zero defaults
    (NodeInfo.NonZeroRequested); owners: per owner, its pods per node (PodTopologySpread counts).
    """

    inst: PodpackInstance
    nodes: np.ndarray  # (pods,) node index, -1 none
    requested_cpu: np.ndarray
    requested_memory: np.ndarray
    nonzero_cpu: np.ndarray
    nonzero_memory: np.ndarray
    owners: dict[str, np.ndarray] = field(default_factory=dict)

    @classmethod
    def current(cls, inst: PodpackInstance) -> ClusterState:
        n = inst.n_nodes
        z = lambda: np.zeros(n, dtype=np.int64)  # noqa: E731
        state = cls(inst, np.full(inst.n_pods, -1, np.int64), z(), z(), z(), z())
        for k, node in enumerate(inst.current()):
            if node is not None:
                state.bind(k, node)
        return state

    def bind(self, pod: int, node: int) -> None:
        p = self.inst.pods[pod]
        self.nodes[pod] = node
        self.requested_cpu[node] += p.cpu
        self.requested_memory[node] += p.memory
        self.nonzero_cpu[node] += p.score_cpu
        self.nonzero_memory[node] += p.score_memory
        if p.owner is not None:
            counts = self.owners.setdefault(p.owner, np.zeros(self.inst.n_nodes, np.int64))
            counts[node] += 1

    def remove(self, pod: int) -> None:
        p, node = self.inst.pods[pod], int(self.nodes[pod])
        self.nodes[pod] = -1
        self.requested_cpu[node] -= p.cpu
        self.requested_memory[node] -= p.memory
        self.nonzero_cpu[node] -= p.score_cpu
        self.nonzero_memory[node] -= p.score_memory
        if p.owner is not None:
            self.owners[p.owner][node] -= 1

    def pods_on(self, node: int) -> list[int]:
        return [int(k) for k in np.flatnonzero(self.nodes == node)]


# -- queue ------------------------------------------------------------------------------------
def priority_sort(inst: PodpackInstance, pods: list[int]) -> list[tuple[int, int]]:
    """PrioritySort (queuesort): higher priority first; equal priority, earlier creation first.
    Creation time is file order. Returns a heap of (-priority, index)."""
    heap = [(-inst.pods[k].priority, k) for k in pods]
    heapq.heapify(heap)
    return heap


# -- filter -----------------------------------------------------------------------------------
def node_resources_fit_filter(state: ClusterState, pod: int) -> np.ndarray:
    """NodeResourcesFit Filter (fitsRequest): per resource the pod requests (> 0), its request
    must fit in allocatable - requested. A resource the pod does not request is not checked, so a
    zero-request pod fits even on an overcommitted node, as upstream. Shape (nodes,) bool."""
    p, a = state.inst.pods[pod], _alloc(state.inst)
    cpu_ok = (p.cpu == 0) | (p.cpu <= a[0] - state.requested_cpu)
    memory_ok = (p.memory == 0) | (p.memory <= a[1] - state.requested_memory)
    return cpu_ok & memory_ok


def feasible_nodes(state: ClusterState, pod: int) -> np.ndarray:
    """Indices of the nodes passing every filter plugin: NodeUnschedulable, TaintToleration
    (NoSchedule/NoExecute) and NodeAffinity (nodeSelector, required affinity) through
    Instance.may_place, whose failures are UnschedulableAndUnresolvable (preemption skips those
    nodes), then NodeResourcesFit."""
    return np.flatnonzero(_eligible_row(state.inst, pod) & node_resources_fit_filter(state, pod))


# -- score ------------------------------------------------------------------------------------
def least_allocated(requested: np.ndarray, allocatable: np.ndarray) -> np.ndarray:
    """noderesources leastRequestedScore: (capacity - requested) * MaxNodeScore / capacity in
    int64, 0 when requested > capacity (and when capacity is 0)."""
    safe = np.where(allocatable == 0, 1, allocatable)
    score = (allocatable - requested) * MAX_NODE_SCORE // safe
    return np.where((requested > allocatable) | (allocatable == 0), 0, score)


def most_allocated(requested: np.ndarray, allocatable: np.ndarray) -> np.ndarray:
    """noderesources mostRequestedScore: requested * MaxNodeScore / capacity in int64, with
    requested clamped to capacity (a node past full scores 100, not more)."""
    safe = np.where(allocatable == 0, 1, allocatable)
    score = np.minimum(requested, allocatable) * MAX_NODE_SCORE // safe
    return np.where(allocatable == 0, 0, score)


def node_resources_fit_score(
    state: ClusterState, pod: int, nodes: np.ndarray, scoring: Scoring = "least"
) -> np.ndarray:
    """NodeResourcesFit Score with the LeastAllocated or MostAllocated strategy, resources cpu
    and memory with weight 1 each: sum(score_r * w_r) / sum(w_r) in int64 over the resources
    whose allocatable is non-zero. Uses NonZeroRequested and the pod's non-zero requests
    (useRequested = false upstream)."""
    p, (alloc_cpu, alloc_mem) = state.inst.pods[pod], _alloc(state.inst)
    strategy = least_allocated if scoring == "least" else most_allocated
    cpu = strategy(state.nonzero_cpu[nodes] + p.score_cpu, alloc_cpu[nodes])
    mem = strategy(state.nonzero_memory[nodes] + p.score_memory, alloc_mem[nodes])
    weight = (alloc_cpu[nodes] > 0).astype(np.int64) + (alloc_mem[nodes] > 0)
    total = np.where(alloc_cpu[nodes] > 0, cpu, 0) + np.where(alloc_mem[nodes] > 0, mem, 0)
    return np.where(weight > 0, total // np.maximum(weight, 1), 0)


def node_resources_balanced_allocation(
    state: ClusterState, pod: int, nodes: np.ndarray
) -> np.ndarray:
    """NodeResourcesBalancedAllocation (balancedResourceScorer): fractions f_r = min(1,
    requested_r / allocatable_r) in float64 over resources with allocatable > 0; with two,
    std = |(f_cpu - f_mem) / 2|, with one, 0; score = int64((1 - std) * MaxNodeScore).
    Uses actual requests (useRequested = true upstream). v1.32 still scores best-effort pods
    (the PreScore skip for them came in v1.33)."""
    p, (alloc_cpu, alloc_mem) = state.inst.pods[pod], _alloc(state.inst)
    ac, am = alloc_cpu[nodes], alloc_mem[nodes]
    with np.errstate(divide="ignore", invalid="ignore"):
        f_cpu = np.minimum(1.0, (state.requested_cpu[nodes] + p.cpu) / ac.astype(np.float64))
        f_mem = np.minimum(1.0, (state.requested_memory[nodes] + p.memory) / am.astype(np.float64))
    both = (ac > 0) & (am > 0)
    std = np.where(both, np.abs((f_cpu - f_mem) / 2), 0.0)
    return np.trunc((1.0 - std) * float(MAX_NODE_SCORE)).astype(np.int64)


def pod_topology_spread(state: ClusterState, pod: int, nodes: np.ndarray) -> np.ndarray | None:
    """PodTopologySpread PreScore + Score + NormalizeScore with the system default constraints
    (hostname maxSkew 3, zone maxSkew 5, ScheduleAnyway), applied to pods a controller owns;
    a bare pod gets no constraint and the plugin is skipped (None).

    Raw score of node n (scoreForCount per constraint, then math.Round, half away from zero):
      hostname: count_n * ln(|filtered nodes| + 2) + (3 - 1), count_n = pods of the same owner
                on n;
      zone:     only on nodes carrying the zone label: count_z * ln(|zone values| + 2) + (5 - 1),
                zone values taken over the filtered nodes (unlabelled ones share the value ""),
                count_z = the owner's pods over every node of zone z that the pod's node
                affinity admits (NodeAffinityPolicy Honor).
    With no zone labels (every generated instance) only the hostname term is left. Normalised
    in int64: MaxNodeScore * (max + min - raw) / max, or MaxNodeScore everywhere when max = 0.
    """
    inst, p = state.inst, state.inst.pods[pod]
    if p.owner is None or len(nodes) == 0:
        return None
    counts = state.owners.get(p.owner)
    if counts is None:
        counts = np.zeros(inst.n_nodes, np.int64)
    host_weight = math.log(len(nodes) + 2)  # topologyNormalizingWeight(size)
    score = counts[nodes].astype(np.float64) * host_weight + float(HOSTNAME_MAX_SKEW - 1)
    if _zones(inst) is not None:
        score = score + _zone_term(state, pod, nodes, counts)
    raw = round_half_away(score)
    hi, lo = int(raw.max()), int(raw.min())
    if hi == 0:
        return np.full(len(nodes), MAX_NODE_SCORE, np.int64)
    return MAX_NODE_SCORE * (hi + lo - raw) // hi


def _zone_term(state: ClusterState, pod: int, nodes: np.ndarray, counts: np.ndarray) -> np.ndarray:
    """The zone constraint's scoreForCount per filtered node (0.0 on unlabelled nodes)."""
    inst, p = state.inst, state.inst.pods[pod]
    zones = _zones(inst)
    values = {zones[n] for n in nodes.tolist()}  # topology values over the filtered nodes
    zone_weight = math.log(len(values) + 2)
    totals = dict.fromkeys(values, 0)
    for j, node in enumerate(inst.nodes):
        if p.eligible_nodes is not None and node.name not in p.eligible_nodes:
            continue  # NodeAffinityPolicy Honor: only nodes the pod's affinity admits count
        if zones[j] in totals:
            totals[zones[j]] += int(counts[j])
    return np.array(
        [
            float(totals[zones[n]]) * zone_weight + float(ZONE_MAX_SKEW - 1)
            if inst.nodes[n].zone is not None
            else 0.0
            for n in nodes.tolist()
        ]
    )


def round_half_away(x: np.ndarray) -> np.ndarray:
    """Go's math.Round on float64 (half away from zero; Python's round() is half to even),
    exactly: x - floor(x) is exact in floating point, where floor(x + 0.5) is not."""
    down = np.floor(x)
    up = np.where(x - down >= 0.5, down + 1.0, down)
    neg_down = np.floor(-x)
    neg = -np.where(-x - neg_down >= 0.5, neg_down + 1.0, neg_down)
    return np.where(x >= 0, up, neg).astype(np.int64)


def taint_toleration_score(state: ClusterState, pod: int, nodes: np.ndarray) -> np.ndarray | None:
    """TaintToleration Score + NormalizeScore: count the node's PreferNoSchedule taints the pod
    does not tolerate (tolerations with an empty or PreferNoSchedule effect count), then
    DefaultNormalizeScore reversed: 100 - count * 100 // max, or 100 everywhere when max = 0.
    None (a constant 100 on every node, left out) when no feasible node has such a taint."""
    inst, p = state.inst, state.inst.pods[pod]
    if not _soft_tainted(inst)[nodes].any():
        return None
    tolerations = [t for t in p.tolerations if t.effect in ("", "PreferNoSchedule")]
    counts = np.array(
        [
            sum(
                1
                for taint in inst.nodes[n].taints
                if taint.effect == "PreferNoSchedule"
                and not any(t.tolerates(taint) for t in tolerations)
            )
            for n in nodes.tolist()
        ],
        dtype=np.int64,
    )
    if not any(
        t.effect == "PreferNoSchedule" for n in nodes.tolist() for t in inst.nodes[n].taints
    ):
        return None
    hi = int(counts.max())
    if hi == 0:
        return np.full(len(nodes), MAX_NODE_SCORE, np.int64)
    return MAX_NODE_SCORE - MAX_NODE_SCORE * counts // hi


def score_nodes(
    state: ClusterState, pod: int, nodes: np.ndarray, scoring: Scoring = "least"
) -> dict[str, np.ndarray]:
    """Every score plugin's (normalised, unweighted) score on the feasible nodes."""
    scores = {
        "NodeResourcesFit": node_resources_fit_score(state, pod, nodes, scoring),
        "NodeResourcesBalancedAllocation": node_resources_balanced_allocation(state, pod, nodes),
    }
    spread = pod_topology_spread(state, pod, nodes)
    if spread is not None:
        scores["PodTopologySpread"] = spread
    taints = taint_toleration_score(state, pod, nodes)
    if taints is not None:
        scores["TaintToleration"] = taints
    return scores


def total_score(scores: dict[str, np.ndarray]) -> np.ndarray:
    return sum(WEIGHTS[name] * s for name, s in scores.items())  # type: ignore[return-value]


def select_host(
    inst: PodpackInstance, nodes: np.ndarray, total: np.ndarray, rng: np.random.Generator | None
) -> int:
    """selectHost: the highest total score. Upstream breaks ties uniformly at random (reservoir
    sampling); tie_break "name" takes the tied node whose name sorts first, "random" draws
    uniformly from the seeded generator."""
    best = nodes[total == total.max()]
    if len(best) == 1:
        return int(best[0])
    if rng is None:
        return int(min(best, key=lambda n: inst.nodes[n].name))
    return int(best[rng.integers(len(best))])


# -- postfilter -------------------------------------------------------------------------------
@dataclass(frozen=True)
class Preemption:
    preemptor: int
    node: int
    victims: tuple[int, ...]


def select_victims_on_node(state: ClusterState, pod: int, node: int) -> list[int] | None:
    """DefaultPreemption SelectVictimsOnNode: remove every lower-priority pod, check the
    preemptor fits, then reprieve victims from the most important (higher priority, then
    earlier start = file order) while the preemptor still fits. None: no fit even when all are
    removed. Protected pods (DaemonSet, static, mirror) are never victims: the model keeps them
    where they run."""
    inst, prio = state.inst, state.inst.pods[pod].priority
    lower = [
        k
        for k in state.pods_on(node)
        if inst.pods[k].priority < prio and not inst.pods[k].protected
    ]
    for k in lower:
        state.remove(k)
    if not node_resources_fit_filter(state, pod)[node]:
        for k in lower:
            state.bind(k, node)
        return None
    victims: list[int] = []
    for k in sorted(lower, key=lambda k: (-inst.pods[k].priority, k)):  # MoreImportantPod
        state.bind(k, node)
        if not node_resources_fit_filter(state, pod)[node]:
            state.remove(k)
            victims.append(k)
    for k in victims:  # a dry run: leave the cluster as it was
        state.bind(k, node)
    return victims


def pick_one_node_for_preemption(inst: PodpackInstance, candidates: dict[int, list[int]]) -> int:
    """DefaultPreemption pickOneNodeForPreemption, criteria in upstream order (no PDBs here):
    1. lowest highest-victim priority; 2. smallest sum of victim priorities, each offset by
    MaxInt32 + 1 (so fewer victims win first); 3. fewest victims; 4. latest start time of the
    highest-priority victims (GetEarliestPodStartTime: the earliest among them; start = file
    order); 5. node name (upstream: first in its candidate order)."""
    prio = lambda k: inst.pods[k].priority  # noqa: E731

    def key(node: int) -> tuple:
        victims = candidates[node]
        if not victims:
            return (-math.inf,)  # a node needing no victim wins outright (upstream returns it)
        top = max(prio(k) for k in victims)
        total = sum(prio(k) + MAX_INT32 + 1 for k in victims)
        earliest_top = min(k for k in victims if prio(k) == top)
        return (top, total, len(victims), -earliest_top, inst.nodes[node].name)

    return min(candidates, key=key)


def default_preemption(state: ClusterState, pod: int) -> Preemption | None:
    """DefaultPreemption PostFilter: dry-run every node where preemption might help (the
    failure was NodeResourcesFit, not an unresolvable filter), pick one node, return the
    victims. Clusters here are below the 100-node candidate minimum, so every node is tried."""
    inst = state.inst
    candidates = {}
    for node in np.flatnonzero(_eligible_row(inst, pod)):
        victims = select_victims_on_node(state, pod, int(node))
        if victims is not None:
            candidates[int(node)] = victims
    if not candidates:
        return None
    node = pick_one_node_for_preemption(inst, candidates)
    return Preemption(pod, node, tuple(candidates[node]))


# -- the scheduling loop ----------------------------------------------------------------------
@dataclass(frozen=True)
class SchedulerRun:
    nodes: np.ndarray
    """(pods,) node index in the plan, -1 none."""
    order: tuple[int, ...]
    """Pods in the order the queue popped them."""
    preemptions: tuple[Preemption, ...]


def schedule(
    inst: PodpackInstance,
    *,
    scoring: Scoring = "least",
    preemption: bool = False,
    tie_break: Literal["name", "random"] = "name",
    seed: int = 0,
    pods: list[int] | None = None,
) -> SchedulerRun:
    """Replay kube-scheduler on the pending pods (or on `pods`): pop by PrioritySort, filter,
    score, bind; on failure, optionally preempt and bind on the chosen node.

    One pass is exact: without preemption nothing is ever freed, so a pod that failed cannot fit
    later; with it, a pod that failed had already tried preemption against every lower-priority
    pod, and later binds only add pods of lower or equal priority, which it could not evict.
    The preemptor binds to its nominated node at once (upstream's next cycle tries the nominated
    node first and it fits there, as nothing of higher priority is left in the queue).
    """
    state = ClusterState.current(inst)
    rng = make_rng(seed) if tie_break == "random" else None
    queue = priority_sort(
        inst, [k for k, p in enumerate(inst.pods) if p.node is None] if pods is None else pods
    )
    order, preemptions = [], []
    while queue:
        _, pod = heapq.heappop(queue)
        order.append(pod)
        nodes = feasible_nodes(state, pod)
        if len(nodes):
            if len(nodes) == 1:  # upstream skips scoring when one node is feasible
                state.bind(pod, int(nodes[0]))
                continue
            total = total_score(score_nodes(state, pod, nodes, scoring))
            state.bind(pod, select_host(inst, nodes, total, rng))
            continue
        if preemption:
            chosen = default_preemption(state, pod)
            if chosen is not None:
                for victim in chosen.victims:
                    state.remove(victim)
                state.bind(pod, chosen.node)
                preemptions.append(chosen)
    return SchedulerRun(state.nodes.copy(), tuple(order), tuple(preemptions))


def _alloc(inst: PodpackInstance) -> tuple[np.ndarray, np.ndarray]:
    cached = inst.__dict__.get("_alloc_arrays")
    if cached is None:
        cached = (
            np.array([n.cpu for n in inst.nodes], dtype=np.int64),
            np.array([n.memory for n in inst.nodes], dtype=np.int64),
        )
        object.__setattr__(inst, "_alloc_arrays", cached)
    return cached


def _eligible_row(inst: PodpackInstance, pod: int) -> np.ndarray:
    """(nodes,) bool: may_place for one pod over every node, cached per instance and pod."""
    rows = inst.__dict__.get("_eligible_arrays")
    if rows is None:
        rows = {}
        object.__setattr__(inst, "_eligible_arrays", rows)
    row = rows.get(pod)
    if row is None:
        row = rows[pod] = np.array([inst.may_place(pod, n) for n in range(inst.n_nodes)], bool)
    return row


def _zones(inst: PodpackInstance) -> list[str] | None:
    """Zone value per node ("" for unlabelled), or None when no node has a zone label."""
    if "_zone_values" not in inst.__dict__:
        has = any(n.zone is not None for n in inst.nodes)
        object.__setattr__(
            inst, "_zone_values", [n.zone or "" for n in inst.nodes] if has else None
        )
    return inst.__dict__["_zone_values"]


def _soft_tainted(inst: PodpackInstance) -> np.ndarray:
    """(nodes,) bool: the node carries a PreferNoSchedule taint."""
    cached = inst.__dict__.get("_soft_tainted")
    if cached is None:
        cached = np.array(
            [any(t.effect == "PreferNoSchedule" for t in n.taints) for n in inst.nodes], bool
        )
        object.__setattr__(inst, "_soft_tainted", cached)
    return cached
