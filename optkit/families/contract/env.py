"""Gymnasium environment for learning contract menus (spec/contract.md, "Environment for learners").

Registered as ``optkit/Contract-v1`` (v0 had the capped `projected` map described below).
One-step episodes: `reset` draws an instance, `step` takes a whole menu and ends the episode.

Observation (float32 in [0, 1], fixed length for a given I; `dynamic` = periods 2), in order:
    phi_norm   (I,)  s(φ_i · e_max / G(e_max)): cost of the maximal effort over its value
    prior      (I,)  ν
    transition (I*I) P row-major                                   (dynamic only)
    discount   (1,)  δ                                             (dynamic only)
    is_power   (1,)  0 for G = ω ln(1 + κ e), 1 for G = ω e^ρ
    shape      (1,)  s(κ · e_max) (log) or ρ (power): the curvature of G on [0, e_max]
    flags      (2,)  ir == "interim", limited_liability
    n_servers  (1,)  s(N) (scales the profit; the optimal menu does not depend on it)
with s(x) = x / (1 + x), a bijection of [0, inf) onto [0, 1) that keeps the box bounded. These are
the dimensionless numbers the optimal menu depends on, with efforts in units of e_max.

Action: a box [-1, 1]^d. Two maps from the box to a menu:
  ``raw`` (the paper's setting), d = 2I (+ 2I² dynamic), [e1, R1, e2 row-major, R2 row-major]:
      e = (a + 1)/2 · e_max; R2 in [0, φ_1 e_max]; R1 in [lo, (1 + δ) φ_1 e_max] with
      lo = -δ φ_1 e_max under interim IR without limited liability, else 0 (`raw_ranges`).
      These ranges hold every *canonical* optimal menu (rents are at most (φ_1 - φ_j) e_max per
      period). Other optimal rewards need not fit: `fast` without canonical=true pays period-2
      rents up to 1.65 φ_1 e_max on preset `default` (same profit, money moved between
      periods), so a raw-map warm start needs canonical data (optkit.learn.data checks).
  ``projected`` (feasible by construction), d = I (+ I² dynamic): with u = (a + 1)/2 in [0, 1],
      target efforts ê1 = u1 · e_max and, per history i, each period-2 step a share of the
      remaining headroom, ê2_ij = ê2_i,j-1 + u_ij · (e_max - ê2_i,j-1), ê2_i,-1 = 0 (cumulative
      non-negative increments: each row nondecreasing, as IC2 requires); the pre-built HiGHS LP
      of projection.py returns the IC/IR menu closest to ê in L1. The map is onto the
      nondecreasing rows of [0, e_max], so every optimal menu has an action (`effort_action`
      inverts it). v0 summed increments capped at e_max / I each, which left 91% of preset
      `default`'s optimal menus out of reach (docs/edmsac.md).
Reward (float64 evaluation):
  raw        profit − λ · total violation (evaluate()'s sum of every IC/IR/bound violation;
             λ = `penalty`, default 100 per unit of money or effort)
  projected  profit of the projected menu (never infeasible)
Profit is evaluate()'s objective: the cloud's total expected profit over the N servers.
Termination: every step terminates the episode (terminated=True, truncated=False).
Info: objective, max_violation, total_violation, feasible (max violation <= 1e-6), penalty, and
with `oracle=True` the certified optimum (cvxpy) and the relative gap to it. The menu itself is
`env.last_decision`.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import gymnasium as gym
import numpy as np

from optkit.core.errors import InvalidInputError
from optkit.core.fields import as_choice, as_float, as_int
from optkit.families.contract.evaluate import evaluate
from optkit.families.contract.generate import PRESET_NAMES, generate
from optkit.families.contract.instance import ContractDecision, ContractInstance, LogValuation
from optkit.families.contract.projection import ProjectedMap

ACTION_MAPS = ("raw", "projected")
ENV_ID = "optkit/Contract-v1"
_FIXED_SIZE = {"default": 3, "interim": 3, "power": 3}  # presets whose I does not vary


def _squash(x):
    return np.asarray(x, dtype=float) / (1.0 + np.asarray(x, dtype=float))


def observe(inst: ContractInstance) -> np.ndarray:
    """The observation vector of an instance (see the module docstring for its layout)."""
    v, E = inst.valuation, inst.effort_max
    g_max = float(v.value(np.array(E)))
    parts = [_squash(inst.phi * E / g_max), inst.prior]
    if inst.dynamic:
        parts += [inst.transition.ravel(), [inst.discount]]
    is_log = isinstance(v, LogValuation)
    parts += [
        [0.0 if is_log else 1.0],
        [_squash(v.kappa * E) if is_log else v.rho],
        [float(inst.ir == "interim"), float(inst.limited_liability)],
        [_squash(float(inst.n_servers))],
    ]
    return np.concatenate([np.asarray(p, dtype=float) for p in parts]).astype(np.float32)


def raw_ranges(inst: ContractInstance) -> tuple[np.ndarray, np.ndarray]:
    """(lo, hi) of every `raw` action entry in decision units, [e1, R1, e2, R2] order."""
    n, E = inst.n_types, inst.effort_max
    money = inst.phi[0] * E
    delta = inst.discount if inst.dynamic else 0.0
    lo1 = -delta * money if (inst.ir == "interim" and not inst.limited_liability) else 0.0
    lo = [np.zeros(n), np.full(n, lo1)]
    hi = [np.full(n, E), np.full(n, (1.0 + delta) * money)]
    if inst.dynamic:
        lo += [np.zeros(n * n), np.zeros(n * n)]
        hi += [np.full(n * n, E), np.full(n * n, money)]
    return np.concatenate(lo), np.concatenate(hi)


def raw_menu(inst: ContractInstance, action: np.ndarray) -> ContractDecision:
    """The `raw` map: box [-1, 1]^d affinely onto `raw_ranges` (no repair)."""
    n = inst.n_types
    lo, hi = raw_ranges(inst)
    a = (np.clip(np.asarray(action, dtype=float), -1.0, 1.0) + 1.0) / 2.0  # in [0, 1]
    x = lo + a * (hi - lo)
    e1, r1 = x[:n], x[n : 2 * n]
    if not inst.dynamic:
        return ContractDecision(effort1=e1, reward1=r1)
    m = n * n
    e2 = x[2 * n : 2 * n + m].reshape(n, n)
    r2 = x[2 * n + m :].reshape(n, n)
    return ContractDecision(effort1=e1, reward1=r1, effort2=e2, reward2=r2)


def raw_action(inst: ContractInstance, decision: ContractDecision) -> np.ndarray:
    """The inverse of `raw_menu` (unclipped: entries outside [-1, 1] are out of range)."""
    lo, hi = raw_ranges(inst)
    parts = [decision.effort1, decision.reward1]
    if inst.dynamic:
        parts += [np.ravel(decision.effort2), np.ravel(decision.reward2)]
    return 2.0 * (np.concatenate(parts).astype(float) - lo) / (hi - lo) - 1.0


def target_efforts(inst: ContractInstance, action: np.ndarray) -> np.ndarray:
    """The `projected` map's targets ê (Layout effort order), each e2 row nondecreasing."""
    n, E = inst.n_types, inst.effort_max
    u = (np.clip(np.asarray(action, dtype=float), -1.0, 1.0) + 1.0) / 2.0
    e1 = u[:n] * E
    if not inst.dynamic:
        return e1
    e2 = np.empty((n, n))
    prev = np.zeros(n)
    for j, share in enumerate(u[n:].reshape(n, n).T):  # column j: step j of every history
        prev = prev + share * (E - prev)
        e2[:, j] = prev
    return np.concatenate([e1, e2.ravel()])


def effort_action(inst: ContractInstance, decision: ContractDecision) -> np.ndarray:
    """The inverse of `target_efforts`: the action whose targets are the decision's efforts,
    u_ij = (e2_ij - e2_i,j-1) / (e_max - e2_i,j-1) (0 once a row has reached e_max). Unclipped:
    entries outside [-1, 1] mean the efforts are not a nondecreasing row in [0, e_max]."""
    n, E = inst.n_types, inst.effort_max
    parts = [2.0 * np.asarray(decision.effort1, dtype=float) / E - 1.0]
    if inst.dynamic:
        e2 = np.asarray(decision.effort2, dtype=float)
        prev = np.concatenate([np.zeros((n, 1)), np.minimum(e2[:, :-1], E)], axis=1)
        room = E - prev
        share = np.divide(e2 - prev, room, out=np.zeros_like(e2), where=room > 1e-12 * E)
        parts.append((2.0 * share - 1.0).ravel())
    return np.concatenate(parts)


def oracle_gap(inst: ContractInstance, objective: float) -> dict[str, Any]:
    """The certified optimum (cvxpy) and (optimum - objective) / max(|optimum|, 1) (NaN if the
    oracle is not OPTIMAL)."""
    from optkit.core.status import Status
    from optkit.core.timing import Deadline
    from optkit.families.contract import exact_cvxpy  # lazy: cvxpy is only needed with oracle

    out = exact_cvxpy.solve(inst, deadline=Deadline(None))
    if out.status is not Status.OPTIMAL:
        return {"optimum": float("nan"), "gap": float("nan"), "oracle_status": out.status.value}
    optimum = float(out.objective)
    gap = (optimum - objective) / max(abs(optimum), 1.0)  # relative to the optimum, not the policy
    return {"optimum": optimum, "gap": gap, "oracle_status": out.status.value}


def observation_size(n_types: int, dynamic: bool) -> int:
    """Length of `observe`'s vector (the layout in the module docstring)."""
    return 2 * n_types + (n_types * n_types + 1 if dynamic else 0) + 5


def action_size(n_types: int, dynamic: bool, action_map: str) -> int:
    per_period = 2 if action_map == "raw" else 1
    return per_period * (n_types + (n_types * n_types if dynamic else 0))


class ContractEnv(gym.Env):
    """Design a contract menu in one step (see the module docstring for the full contract)."""

    metadata: dict[str, Any] = {"render_modes": []}

    def __init__(
        self,
        preset: str = "default",
        n_types: int | None = None,
        action_map: str = "projected",
        penalty: float = 100.0,
        limited_liability: bool = False,
        instances: Sequence[ContractInstance] | None = None,
        oracle: bool = False,
    ):
        self.action_map = as_choice(action_map, "action_map", ACTION_MAPS)
        self.penalty = as_float(penalty, "penalty", ge=0)
        self.oracle = bool(oracle)
        self.preset = as_choice(preset, "preset", PRESET_NAMES)
        self.limited_liability = bool(limited_liability)
        self.instances = list(instances) if instances is not None else None
        if self.instances is not None:
            if not self.instances:
                raise InvalidInputError("instances", "must hold at least one instance")
            shapes = {(i.n_types, i.dynamic) for i in self.instances}
            if len(shapes) > 1:
                raise InvalidInputError("instances", f"must share I and periods, got {shapes}")
            ((n, dynamic),) = shapes
        else:
            if n_types is None:
                if self.preset not in _FIXED_SIZE:
                    raise InvalidInputError(
                        "n_types", f"preset {self.preset!r} varies I; pass n_types"
                    )
                n_types = _FIXED_SIZE[self.preset]
            n = as_int(n_types, "n_types", ge=1)
            dynamic = generate(self.preset, 0, n_types=n).dynamic
        self.n_types, self.dynamic = n, dynamic
        self._n_types_override = None if self.instances is not None else n
        obs_dim = observation_size(n, dynamic)
        self.observation_space = gym.spaces.Box(0.0, 1.0, (obs_dim,), np.float32)
        d = action_size(n, dynamic, self.action_map)
        self.action_space = gym.spaces.Box(-1.0, 1.0, (d,), np.float32)
        self.instance: ContractInstance | None = None
        self._projector: ProjectedMap | None = None
        self.last_decision: ContractDecision | None = None
        self._done = True

    def reset(self, *, seed: int | None = None, options: dict[str, Any] | None = None):
        super().reset(seed=seed)
        if options and "instance" in options:
            inst = options["instance"]
        elif self.instances is not None:
            inst = self.instances[int(self.np_random.integers(len(self.instances)))]
        else:
            inst = generate(
                self.preset,
                int(self.np_random.integers(0, 2**62)),
                n_types=self._n_types_override,
                limited_liability=self.limited_liability,
            )
        if (inst.n_types, inst.dynamic) != (self.n_types, self.dynamic):
            raise InvalidInputError("instance", "does not have this env's I and periods")
        self.instance = inst
        self._projector = ProjectedMap(inst) if self.action_map == "projected" else None
        self._done = False
        return observe(inst), {}

    def menu(self, action: np.ndarray) -> ContractDecision:
        """The decision an action maps to on the current instance."""
        if self.instance is None:
            raise RuntimeError("call reset() first")
        if self.action_map == "raw":
            return raw_menu(self.instance, action)
        assert self._projector is not None
        return self._projector(target_efforts(self.instance, action)).decision

    def step(self, action: np.ndarray):
        if self._done:
            raise RuntimeError("the episode has ended (one step per episode); call reset()")
        inst = self.instance
        assert inst is not None
        decision = self.menu(action)
        report = evaluate(inst, decision)
        penalty = self.penalty * report.total_violation if self.action_map == "raw" else 0.0
        reward = report.objective - penalty
        info: dict[str, Any] = {
            "objective": report.objective,
            "max_violation": report.max_violation,
            "total_violation": report.total_violation,
            "feasible": report.feasible,
            "penalty": penalty,
        }
        self.last_decision = decision
        if self.oracle:
            info.update(oracle_gap(inst, report.objective))
        self._done = True
        obs = observe(inst)
        return obs, float(reward), True, False, info


if ENV_ID not in gym.registry:
    gym.register(id=ENV_ID, entry_point="optkit.families.contract.env:ContractEnv")
