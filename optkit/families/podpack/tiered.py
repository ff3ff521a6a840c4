"""The tiered model shared by the exact solvers (`cpsat`, `mip`), free of any backend.

Data -> variables -> stages, in the words of spec/podpack.md:

  x[i, j] in {0, 1}     pod i on node j, only for the nodes it may use (`Instance.may_use`:
                        its current node, or one it may arrive on); protected pods have one
                        variable, fixed to 1 on their node
  sum_j x[i, j] <= 1    a pod is on one node or none
  sum_i c'_i x[i, j] <= C'_j        per node and resource, requests and allocatable divided by
                        the gcd g of the pods' requests of that resource: c' = c / g and
                        C' = floor(C / g), an exact rewrite (sum c'_i x_i is an integer) that
                        keeps byte counts small for CP-SAT and well conditioned for the MIP
  disruption of a running pod i (current node n_i), with p_i = sum_j x[i, j]:
                        1 + p_i - 2 x[i, n_i]   (0 stays, 1 evicted, 2 moved; evaluate.py)

Stages, with tiers t_1 > t_2 > ... the distinct priorities: stage 2k maximises placed(>= t_k),
stage 2k+1 minimises disruption(>= t_k); each stage's value is locked before the next (== when
proved optimal, >= / <= the incumbent otherwise), so the final plan is the lexicographic optimum
of [placed(>= t_1), -disruption(>= t_1), ...] when every stage is proved.

A stage whose expression cannot move (no pod of the tier has a variable, or every running pod
of the tier is protected) is decided here without a solver call: its value is the incumbent's
and it is optimal.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from optkit.core.result import SolverOutput
from optkit.core.status import Status
from optkit.core.timing import Deadline
from optkit.families.podpack.evaluate import Arrays, current_state, forced_infeasibility
from optkit.families.podpack.instance import PodpackInstance

PLACED, DISRUPTION = "placed", "disruption"
GUARANTEED_SHARE = 0.5
"""Share of the solve budget split evenly over the stages as a guaranteed minimum; the rest is
shared first come, first served (an early stage that finishes fast hands its time on)."""
STOP_RESERVE_MIN_S, STOP_RESERVE_SHARE, STOP_RESERVE_MAX_S = 0.06, 0.03, 0.5


def stop_reserve(window_s: float) -> float:
    """Seconds of the window kept back from the solver calls: a solver overshoots its own limit
    (CP-SAT by 10-20 ms on the 32-node cells, its workers' stop latency) and the plan still has
    to be read, checked and assembled after the last stage (about 25 ms there). Without it 54 of
    72 scenarios of the 32-node cells overran a 1 s window, by up to 49 ms (idle host)."""
    return min(STOP_RESERVE_MAX_S, max(STOP_RESERVE_MIN_S, STOP_RESERVE_SHARE * window_s))


@dataclass(frozen=True)
class Stage:
    tier: int
    """The tier's priority t_k."""
    kind: str
    """"placed" (maximised) or "disruption" (minimised)."""
    constant: int
    terms: tuple[tuple[int, int], ...]
    """(variable index, coefficient): the stage's expression is constant + sum coef * x[var]."""
    best_possible: int
    """The unconditional optimum: every pod of the tier with a variable placed, or no running
    pod disrupted. An incumbent reaching it is proved optimal without a solver call."""

    @property
    def sense(self) -> str:
        return "max" if self.kind == PLACED else "min"

    @property
    def name(self) -> str:
        return f"{self.kind}(>={self.tier})"

    def value(self, x: np.ndarray) -> int:
        return self.constant + sum(c * int(x[v]) for v, c in self.terms)


@dataclass(frozen=True)
class TieredModel:
    """Variables, constraints and stages of one instance (see module docstring)."""

    pod: np.ndarray
    """(vars,) pod index of each variable x[v]."""
    node: np.ndarray
    """(vars,) node index of each variable."""
    fixed: np.ndarray
    """(vars,) bool: x fixed to 1 (a protected pod on its node)."""
    pod_vars: tuple[tuple[int, ...], ...]
    """Per pod, its variables."""
    node_vars: tuple[tuple[int, ...], ...]
    """Per node, the variables placing a pod there."""
    cpu: np.ndarray
    """(vars,) scaled cpu request of the variable's pod."""
    memory: np.ndarray
    cpu_capacity: np.ndarray
    """(nodes,) scaled allocatable cpu."""
    memory_capacity: np.ndarray
    cpu_scale: int
    """The divisor g applied to cpu (millicores per unit); recorded in the certificate."""
    memory_scale: int
    """The divisor applied to memory (bytes per unit)."""
    stages: tuple[Stage, ...]

    @property
    def n_vars(self) -> int:
        return len(self.pod)

    def to_nodes(self, x: np.ndarray, n_pods: int) -> np.ndarray:
        """A 0/1 vector over the variables to node indices per pod (-1: no node)."""
        nodes = np.full(n_pods, -1, dtype=np.int64)
        on = np.flatnonzero(np.asarray(x) > 0.5)
        nodes[self.pod[on]] = self.node[on]
        return nodes

    def to_x(self, nodes: np.ndarray) -> np.ndarray:
        """Node indices per pod to the 0/1 vector (a pod on a node it has no variable for
        raises: such a plan is outside the model)."""
        x = np.zeros(self.n_vars, dtype=np.int64)
        for i, n in enumerate(np.asarray(nodes).tolist()):
            if n < 0:
                continue
            for v in self.pod_vars[i]:
                if self.node[v] == n:
                    x[v] = 1
                    break
            else:
                raise ValueError(f"pod {i} on node {n}: not a node it may use")
        return x


def _gcd(values: np.ndarray) -> int:
    g = int(np.gcd.reduce(values[values > 0])) if (values > 0).any() else 1
    return max(g, 1)


def build(inst: PodpackInstance) -> TieredModel:
    a = Arrays.of(inst)
    pod, node, fixed = [], [], []
    pod_vars: list[tuple[int, ...]] = []
    for i, p in enumerate(inst.pods):
        start = len(pod)
        allowed = (
            (int(a.current[i]),)
            if p.protected
            else tuple(j for j in range(inst.n_nodes) if inst.may_use(i, j))
        )
        for j in allowed:
            pod.append(i)
            node.append(j)
            fixed.append(bool(p.protected))
        pod_vars.append(tuple(range(start, len(pod))))
    pod_a = np.array(pod, dtype=np.int64)
    node_a = np.array(node, dtype=np.int64)
    node_vars = [[] for _ in range(inst.n_nodes)]
    for v, j in enumerate(node):
        node_vars[j].append(v)
    g_cpu, g_mem = _gcd(a.cpu), _gcd(a.memory)
    stages = []
    for t in inst.tiers():
        at_least = a.priority >= t
        placed_terms = tuple((v, 1) for v in range(len(pod)) if at_least[pod[v]] and not fixed[v])
        placed_const = sum(1 for v in range(len(pod)) if at_least[pod[v]] and fixed[v])
        movable = len({pod[v] for v, _ in placed_terms})
        stages.append(Stage(t, PLACED, placed_const, placed_terms, placed_const + movable))
        const, terms = 0, []
        for i in np.flatnonzero(at_least & (a.current >= 0) & ~a.protected).tolist():
            const += 1  # 1 + p_i - 2 x[i, n_i]
            for v in pod_vars[i]:
                terms.append((v, -1 if node[v] == a.current[i] else 1))
        stages.append(Stage(t, DISRUPTION, const, tuple(terms), 0))
    return TieredModel(
        pod=pod_a,
        node=node_a,
        fixed=np.array(fixed, dtype=bool),
        pod_vars=tuple(pod_vars),
        node_vars=tuple(tuple(v) for v in node_vars),
        cpu=a.cpu[pod_a] // g_cpu if len(pod) else np.zeros(0, np.int64),
        memory=a.memory[pod_a] // g_mem if len(pod) else np.zeros(0, np.int64),
        cpu_capacity=a.node_cpu // g_cpu,
        memory_capacity=a.node_memory // g_mem,
        cpu_scale=g_cpu,
        memory_scale=g_mem,
        stages=tuple(stages),
    )


def repaired_current(inst: PodpackInstance) -> np.ndarray:
    """A feasible plan to start from: the current state, with every unprotected pod evicted from
    a node it overcommits (real dumps can be overcommitted). Requires that protected pods alone
    fit (evaluate.forced_infeasibility is empty)."""
    a = Arrays.of(inst)
    used = current_state(inst).used
    over = (np.array(used["cpu"]) > a.node_cpu) | (np.array(used["memory"]) > a.node_memory)
    nodes = a.current.copy()
    nodes[(nodes >= 0) & over[np.maximum(nodes, 0)] & ~a.protected] = -1
    # a running pod on a node it may not use cannot happen (it may always stay), so the result
    # fits every constraint once the overcommitted nodes are emptied of unprotected pods
    return nodes


class StageClock:
    """The time split across stages (spec: part guaranteed per stage, part shared).

    Created once the model is built, so set-up has already been paid from the deadline. Stage k
    may use all that remains except the guaranteed minimum of the stages still to come; a stage
    that finishes early hands its time on, one that is decided without a solver costs nothing.
    """

    def __init__(self, deadline: Deadline, n_stages: int):
        self.deadline = deadline
        remaining = deadline.remaining_s()
        self.reserve_s = None if remaining is None else stop_reserve(remaining)
        self.guaranteed_s = (
            None
            if remaining is None
            else GUARANTEED_SHARE * max(0.0, remaining - self.reserve_s) / max(n_stages, 1)
        )

    def budget(self, stages_after: int) -> float | None:
        """Seconds stage k may use now (None: no limit): what remains, less the stop reserve
        and the guaranteed minimum of the stages still to come."""
        remaining = self.deadline.remaining_s()
        if remaining is None or self.guaranteed_s is None or self.reserve_s is None:
            return None
        return max(0.0, remaining - self.reserve_s - self.guaranteed_s * stages_after)


def infeasible_verdict(
    instance: PodpackInstance, backend: str, backend_version: str = ""
) -> SolverOutput | None:
    """The proved INFEASIBLE answer when protected pods alone overfill a node (real dumps can),
    else None: the verdict every exact podpack solver gives before building a model."""
    forced = forced_infeasibility(instance)
    if not forced:
        return None
    return SolverOutput(
        status=Status.INFEASIBLE,
        message="current state is infeasible and no plan can fix it: " + "; ".join(forced),
        backend=backend,
        backend_version=backend_version,
    )


def lex_gap(objective, reference) -> float | None:
    """Relative shortfall in the first component where the vector differs from the reference
    (an optimum or a bound): (ref_k - obj_k) / max(|ref_k|, 1), positive when worse, 0 when
    equal. Vectors are larger-is-better, so the sign convention holds for placed counts and for
    -disruption alike. None unless both are vectors of one length."""
    if not isinstance(objective, list) or not isinstance(reference, list):
        return None
    if len(objective) != len(reference):
        return None
    for o, r in zip(objective, reference, strict=True):
        if o != r:
            return (r - o) / max(abs(r), 1)
    return 0.0


def lex_bound(stages: tuple[Stage, ...], results) -> list[int]:
    """A lexicographic upper bound on every plan's objective vector, from a tiered run.

    Components in the vector's order (stage 2k: placed(>= t_k), stage 2k+1: -disruption).
    Stages up to the first one not proved optimal give their value (each was proved under ==
    locks of the proved stages before it); that stage gives the backend's bound when it has
    one (proved given those locks) and its unconditional bound otherwise; every later stage its
    unconditional bound. Any plan is then lexicographically at most this vector: it either
    falls short on the proved prefix, or matches it and is bounded on the open stage, where a
    tie leaves the rest to component-wise unconditional bounds."""
    out: list[int] = []
    open_stage = False
    for stage, res in zip(stages, results, strict=True):
        sign = 1 if stage.kind == PLACED else -1
        if not open_stage and res.status == "optimal":
            out.append(sign * res.value)
            continue
        if not open_stage and res.bound is not None:
            best = min(res.bound, stage.best_possible) if sign > 0 else max(res.bound, 0)
            out.append(sign * best)
        else:
            out.append(sign * stage.best_possible)
        open_stage = True
    return out
