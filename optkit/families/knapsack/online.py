"""Online composition (the paper's setting): test components in a sandbox, accept irrevocably.

Components arrive in retrieval order: by Σ_s w_s d_is, the standalone value a retriever reads
off the descriptions. A composer sees prices, declared skills (the keys of `quality`, not their
values), descriptions, weights, budget, conflicts and requirements; it learns qualities only
through a `Tester`, at most `tests_per_component` sandbox trials per component (one trial runs
the component once on each skill it declares). Trials are counted against a separate test
budget and, with `cost_per_trial` > 0, charged against the money budget as well.

Policies (registered as online solvers; status FEASIBLE, no bound; the reported objective is the
true value of the chosen set, from evaluate(), and the composer's own estimate is in the
certificate):
  zcl             accept i iff its estimated marginal gain over the current selection, per unit
                  price, is >= ψ(z) = (U·e/L)^z · (L/e), z = share of the budget spent
                  (Zhou, Chakrabarty & Lukose 2008, the threshold the paper adopts); U is
                  capped by the value still to be gained per unit budget (headroom_density)
  greedy_density  test every component, then add the best estimated marginal gain per price
                  while it fits (a semi-online upper reference: it sees every test first)
  retrieval_topk  take components in retrieval order while they fit, no tests (the paper's
                  retrieval baseline at equal budget; `k` caps the count)
  identity        take what fits in inventory order, no retrieval, no tests
A component conflicting with the selection, or requiring one not yet selected, is skipped by
every policy (decisions are irrevocable, so a requirement must already be in place).

Beliefs are Beta distributions: a uniform prior plus the description score worth
`prior_strength` trials, updated by the sandbox trials; an untested component keeps its prior.
Gains are expected gains under these beliefs (Composer.gain says why). The objective
`all_skills` is served through the same coverage surrogate with unit weights, since a log of an
uncovered skill has no finite marginal gain.
"""

from __future__ import annotations

import math
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

import numpy as np
from scipy.special import betainc

from optkit.core.errors import InvalidInputError
from optkit.core.fields import as_bool, as_float, as_int
from optkit.core.result import SolverOutput
from optkit.core.seeding import make_rng
from optkit.core.status import Status
from optkit.core.timing import Deadline
from optkit.families.knapsack.common import check_params
from optkit.families.knapsack.evaluate import evaluate
from optkit.families.knapsack.instance import KnapsackDecision, KnapsackInstance

DEFAULT_TESTS_PER_COMPONENT = 5
GRID = np.linspace(0.0, 1.0, 201)
"""Quality grid on which beliefs are integrated (trapezoid rule, error ~1e-5)."""


def _integrate(values: np.ndarray) -> np.ndarray:
    """∫_0^1 along the last axis, on GRID."""
    h = GRID[1] - GRID[0]
    return h * (values.sum(axis=-1) - 0.5 * (values[..., 0] + values[..., -1]))


class Tester(Protocol):
    """A sandbox: run a component `trials` times on each of `skills`; successes per skill."""

    def run(self, component: str, skills: Sequence[str], trials: int) -> Mapping[str, int]: ...


class BernoulliTester:
    """The default sandbox: each trial of component i on skill s succeeds with probability q_is."""

    def __init__(self, instance: KnapsackInstance, seed: int):
        self._instance = instance
        self._rng = make_rng(seed)
        self._skill = {s: k for k, s in enumerate(instance.skill_names)}

    def run(self, component: str, skills: Sequence[str], trials: int) -> dict[str, int]:
        i = self._instance.index_of(component, "component")
        q = self._instance.quality[i, [self._skill[s] for s in skills]]
        return dict(zip(skills, self._rng.binomial(trials, q).tolist(), strict=True))


@dataclass(frozen=True)
class OnlineConfig:
    """Options shared by the online policies (params of `optkit.solve`)."""

    tests_per_component: int = DEFAULT_TESTS_PER_COMPONENT
    """sandbox trials spent on each component tested"""
    test_budget: int | None = None
    """total trials allowed (None: tests_per_component per component)"""
    cost_per_trial: float = 0.0
    """money charged against the budget per trial (0: tests are free)"""
    L: float | None = None
    """zcl: lower bound on the marginal-gain density (None: estimated)"""
    U: float | None = None
    """zcl: upper bound on the marginal-gain density (None: estimated)"""
    warmup_fraction: float = 0.0
    """zcl: share of the stream tested and rejected to estimate L and U (0: from descriptions)"""
    headroom_cap: bool = True
    """zcl: cap an estimated U at the value left per unit budget (False: U stays static)"""
    k: int | None = None
    """retrieval_topk: take at most k components"""
    prior_strength: float = 2.0
    """weight of the description score as a prior, in trials (0: uniform prior)"""

    @classmethod
    def from_params(cls, params: Mapping[str, Any] | None, policy: str) -> OnlineConfig:
        p = check_params(params, cls.__dataclass_fields__, policy)
        opt = lambda key, fn: None if p.get(key) is None else fn(p[key])  # noqa: E731
        return cls(
            tests_per_component=as_int(
                p.get("tests_per_component", DEFAULT_TESTS_PER_COMPONENT),
                "params.tests_per_component",
                ge=0,
            ),
            test_budget=opt("test_budget", lambda v: as_int(v, "params.test_budget", ge=0)),
            cost_per_trial=as_float(p.get("cost_per_trial", 0.0), "params.cost_per_trial", ge=0),
            L=opt("L", lambda v: as_float(v, "params.L", gt=0)),
            U=opt("U", lambda v: as_float(v, "params.U", gt=0)),
            warmup_fraction=as_float(
                p.get("warmup_fraction", 0.0), "params.warmup_fraction", ge=0, lt=1
            ),
            headroom_cap=as_bool(p.get("headroom_cap", True), "params.headroom_cap"),
            k=opt("k", lambda v: as_int(v, "params.k", ge=0)),
            prior_strength=as_float(p.get("prior_strength", 2.0), "params.prior_strength", ge=0),
        )


def arrival_order(instance: KnapsackInstance) -> np.ndarray:
    """Retrieval order: by Σ_s w_s d_is, descending; ties by inventory position."""
    return np.argsort(-instance.retrieval_scores(), kind="stable")


class Composer:
    """The state of one online run: selection, spend, tests, estimates (what a policy sees)."""

    def __init__(
        self,
        instance: KnapsackInstance,
        tester: Tester,
        config: OnlineConfig,
        deadline: Deadline | None = None,
    ) -> None:
        self.instance, self.tester, self.config = instance, tester, config
        self.deadline = Deadline(None) if deadline is None else deadline
        self.timed_out = False
        """True once a policy stopped early because the deadline passed (see out_of_time)."""
        n = instance.n_components
        self.weights = (
            instance.weights if instance.objective == "weighted" else np.ones(instance.n_skills)
        )
        self.chosen = np.zeros(n, dtype=bool)
        self.spent = 0.0
        self.tests_used = 0
        self.test_budget = (
            n * config.tests_per_component if config.test_budget is None else config.test_budget
        )
        # Beta(α, β) belief about each q_is: the description as a prior worth `prior_strength`
        # trials on top of a uniform prior, updated by every sandbox trial.
        k, d = config.prior_strength, instance.description
        self.alpha = np.where(instance.offers, 1.0 + k * d, 1.0)
        self.beta = np.where(instance.offers, 1.0 + k * (1.0 - d), 1.0)
        self.tested = np.zeros(n, dtype=bool)
        # CDF of each skill's served quality max_{i∈X} q_is under the beliefs, on GRID: 1 for
        # an uncovered skill (served quality 0).
        self.coverage_cdf = np.ones((instance.n_skills, GRID.size))
        self._conflicts = [[] for _ in range(n)]
        for a, b in instance.conflicts.tolist():
            self._conflicts[a].append(b)
            self._conflicts[b].append(a)
        self._requires = [[] for _ in range(n)]
        for a, b in instance.requires.tolist():
            self._requires[a].append(b)

    @property
    def remaining(self) -> float:
        return self.instance.budget - self.spent

    def out_of_time(self) -> bool:
        """True when the deadline has passed: the policy then rejects every component still to
        come (decisions are irrevocable, so the selection so far is a feasible answer) and the
        result is TIME_LIMIT with that selection. Checked once per component, whose work is
        milliseconds at most, so the call overruns its limit by about one component."""
        if self.deadline.expired():
            self.timed_out = True
        return self.timed_out

    def admissible(self, i: int) -> bool:
        """Fits the remaining budget, conflicts with nothing chosen, its requirements chosen."""
        return (
            not self.chosen[i]
            and self.instance.prices[i] <= self.remaining
            and not any(self.chosen[k] for k in self._conflicts[i])
            and all(self.chosen[k] for k in self._requires[i])
        )

    def test(self, i: int) -> None:
        """Spend up to tests_per_component trials on i (fewer when the test budget is short)."""
        trials = min(self.config.tests_per_component, self.test_budget - self.tests_used)
        cost = trials * self.config.cost_per_trial
        if self.tested[i] or trials <= 0 or cost > self.remaining:
            return
        inst = self.instance
        skills = [inst.skill_names[s] for s in np.flatnonzero(inst.offers[i])]
        wins = self.tester.run(inst.component_names[i], skills, trials)
        for s_name in skills:
            s = inst.skill_names.index(s_name)
            k = int(wins[s_name])
            if not 0 <= k <= trials:
                raise InvalidInputError(
                    f"tester[{inst.component_names[i]}].{s_name}", f"{k} successes in {trials}"
                )
            self.alpha[i, s] += k
            self.beta[i, s] += trials - k
        self.tests_used += trials
        self.spent += cost
        self.tested[i] = True

    @property
    def estimate(self) -> np.ndarray:
        """shape (n, S): posterior mean q̂ (0 where a skill is not declared)."""
        return np.where(self.instance.offers, self.alpha / (self.alpha + self.beta), 0.0)

    @property
    def uncertainty(self) -> np.ndarray:
        """shape (n, S): posterior standard deviation of q (0 where not declared)."""
        a, b = self.alpha, self.beta
        return np.where(self.instance.offers, np.sqrt(a * b / ((a + b) ** 2 * (a + b + 1))), 0.0)

    def _cdf(self, i: int) -> tuple[np.ndarray, np.ndarray]:
        skills = np.flatnonzero(self.instance.offers[i])
        return skills, betainc(self.alpha[i, skills, None], self.beta[i, skills, None], GRID)

    def gain(self, i: int) -> float:
        """Expected marginal gain of adding i under the beliefs:
        Σ_s w_s (E[max(Q_is, C_s)] - E[C_s]) = Σ_s w_s ∫ F_Cs(q) (1 - F_is(q)) dq,
        with C_s the skill's served quality now. Unlike a gain of point estimates it values a
        second, uncertain server for a covered skill: the max of two draws beats either."""
        skills, cdf = self._cdf(i)
        if not len(skills):
            return 0.0
        gains = _integrate(self.coverage_cdf[skills] * (1.0 - cdf))
        return float(self.weights[skills] @ gains)

    def accept(self, i: int) -> None:
        self.chosen[i] = True
        self.spent += float(self.instance.prices[i])
        skills, cdf = self._cdf(i)
        self.coverage_cdf[skills] *= cdf  # max of independent beliefs: product of CDFs

    def estimated_value(self) -> float:
        """Σ_s w_s E[C_s] under the beliefs."""
        return float(self.weights @ _integrate(1.0 - self.coverage_cdf))


def _run(
    instance: KnapsackInstance,
    seed: int,
    params,
    policy: str,
    tester: Tester | None,
    body,
    deadline: Deadline | None = None,
) -> SolverOutput:
    t0 = time.perf_counter()
    config = OnlineConfig.from_params(params, policy)
    composer = Composer(instance, tester or BernoulliTester(instance, seed), config, deadline)
    extra = body(composer) or {}
    ev = evaluate(instance, KnapsackDecision.from_mask(instance, composer.chosen))
    certificate = {
        "tests_used": composer.tests_used,
        "test_budget": composer.test_budget,
        "test_cost": composer.tests_used * config.cost_per_trial,
        "estimated_value": composer.estimated_value(),
        "component_cost": ev.cost,
        **extra,
    }
    return SolverOutput(
        Status.TIME_LIMIT if composer.timed_out else Status.FEASIBLE,
        objective=ev.objective,
        decision=KnapsackDecision.from_mask(instance, composer.chosen),
        certificate=certificate,
        solve_s=time.perf_counter() - t0,
        message="time limit reached: later components rejected" if composer.timed_out else "",
        backend="optkit",
        backend_version="",
    )


def psi(z: float, L: float, U: float) -> float:
    """The ZCL threshold ψ(z) = (U·e/L)^z · (L/e): L/e on an empty knapsack, U when full."""
    return (U * math.e / L) ** z * (L / math.e)


def density_bounds(composer: Composer, order: np.ndarray) -> tuple[float, float, int]:
    """(L, U, warm-up length): given, else estimated.

    Without a warm-up (warmup_fraction 0), from the beliefs before any test: U is the largest
    standalone density Σ_s w_s q̂_is / c_i over the components priced within budget, and L the
    smallest positive one, with q̂ the description-based prior mean (1 + k·d) / (2 + k),
    k = prior_strength. With a warm-up fraction f the first ⌈f·n⌉ arrivals are tested, rejected,
    and their posterior-mean densities give L and U instead. These are the static bounds:
    solve_zcl then lowers an estimated U to headroom_density at every arrival (and L to at
    most U) unless `headroom_cap` is off.
    """
    cfg, inst = composer.config, composer.instance
    warm = math.ceil(cfg.warmup_fraction * len(order))
    if warm:
        for i in order[:warm]:
            if composer.out_of_time():
                break
            composer.test(int(i))
        seen = order[:warm]
    else:
        seen = order[inst.prices[order] <= inst.budget]
    dens = (composer.estimate[seen] @ composer.weights) / inst.prices[seen]
    dens = dens[dens > 0]
    U = cfg.U if cfg.U is not None else (float(dens.max()) if len(dens) else 1.0)
    L = cfg.L if cfg.L is not None else (float(dens.min()) if len(dens) else U / 100)
    return min(L, U), U, warm


def headroom_density(composer: Composer) -> float:
    """(F - f̂(X)) / B: the value still to be gained over the selection X, per unit budget.

    F = Σ_s w_s bounds every selection's value (q ≤ 1); f̂(X) is the composer's estimate of its
    own selection's value. Why zcl caps U by it: ZCL's analysis (Zhou, Chakrabarty & Lukose
    2008) bounds the optimum by the accepted value plus ψ(z_end)·B, every rejected item having
    density below ψ(z_end). For a coverage function that step holds with marginal gains
    (submodularity: an item's gain over the final selection is at most its gain when it
    arrived), and the optimum is also at most F. So f(OPT) ≤ min(F, f(X) + ψ·B), and once
    ψ > (F - f(X))/B the second term is vacuous: a higher threshold cannot tighten the bound,
    it only leaves budget unspent. With marginal gains that shrink as skills get covered, this
    headroom, not the standalone density of one cheap component, bounds the density of the
    items that matter. Capping U this way is a re-estimate motivated by the proof; the
    ln(U/L) + 1 ratio itself is proved for fixed L and U only.
    """
    head = float(composer.weights.sum()) - composer.estimated_value()
    # floored so that ψ stays defined once the estimate has (numerically) used all the headroom
    return max(head, 1e-12) / composer.instance.budget


def solve_zcl(
    instance: KnapsackInstance,
    *,
    deadline: Deadline,
    seed: int = 0,
    threads: int = 1,
    params: dict[str, Any] | None = None,
    tester: Tester | None = None,
) -> SolverOutput:
    def body(c: Composer) -> dict[str, Any]:
        order = arrival_order(instance)
        L0, U0, warm = density_bounds(c, order)
        L, U = L0, U0
        for i in order[warm:]:
            i = int(i)
            if c.out_of_time():
                break
            if not c.admissible(i):
                continue
            c.test(i)
            if not c.admissible(i):  # the trials' cost may have used the room
                continue
            if c.config.headroom_cap and c.config.U is None:  # a given U is the user's: fixed
                U = min(U0, headroom_density(c))
                L = min(L0, U)
            z = min(max(c.spent / instance.budget, 0.0), 1.0)
            gain = c.gain(i)
            if gain > 0 and gain / instance.prices[i] >= psi(z, L, U):
                c.accept(i)
        return {"L": L0, "U": U0, "U_end": U, "L_end": L, "warmup": warm}

    return _run(instance, seed, params, "zcl", tester, body, deadline)


def solve_greedy_density(
    instance: KnapsackInstance,
    *,
    deadline: Deadline,
    seed: int = 0,
    threads: int = 1,
    params: dict[str, Any] | None = None,
    tester: Tester | None = None,
) -> SolverOutput:
    def body(c: Composer) -> None:
        for i in arrival_order(instance):
            if c.out_of_time():
                return
            if instance.prices[i] <= c.remaining:
                c.test(int(i))
        while True:
            # the first admissible component of largest positive estimated density
            best, best_density = None, 0.0
            for i in range(instance.n_components):
                if i % 64 == 0 and c.out_of_time():
                    return
                if c.admissible(i):
                    density = c.gain(i) / instance.prices[i]
                    if density > best_density:
                        best, best_density = i, density
            if best is None:
                return
            c.accept(best)

    return _run(instance, seed, params, "greedy_density", tester, body, deadline)


def solve_retrieval_topk(
    instance: KnapsackInstance,
    *,
    deadline: Deadline,
    seed: int = 0,
    threads: int = 1,
    params: dict[str, Any] | None = None,
    tester: Tester | None = None,
) -> SolverOutput:
    def body(c: Composer) -> None:
        k = c.config.k
        for i in arrival_order(instance):
            if k is not None and c.chosen.sum() >= k:
                return
            if c.out_of_time():
                return
            if c.admissible(int(i)):
                c.accept(int(i))

    return _run(instance, seed, params, "retrieval_topk", tester, body, deadline)


def solve_identity(
    instance: KnapsackInstance,
    *,
    deadline: Deadline,
    seed: int = 0,
    threads: int = 1,
    params: dict[str, Any] | None = None,
    tester: Tester | None = None,
) -> SolverOutput:
    def body(c: Composer) -> None:
        for i in range(instance.n_components):
            if c.out_of_time():
                return
            if c.admissible(i):
                c.accept(i)

    return _run(instance, seed, params, "identity", tester, body, deadline)


def hindsight_ratio(instance: KnapsackInstance, objective: float, optimum: float) -> float:
    """A policy's value over the hindsight optimum (the exact solver on the true q).

    weighted: value ratio; all_skills: ratio of success probabilities exp(value), since the
    value is a log (an uncovered skill makes the outcome 0)."""
    if instance.objective == "all_skills":
        return math.exp(objective - optimum) if math.isfinite(objective) else 0.0
    return objective / optimum if optimum > 0 else 1.0


def compare_with_hindsight(
    instance: KnapsackInstance, decision: KnapsackDecision, solver: str = "highs"
) -> dict[str, float]:
    """A decision against the hindsight optimum: the exact `solver` run on the true q.

    Returns the decision's value and cost, the optimum's, and their ratio (success
    probabilities for all_skills, see hindsight_ratio)."""
    from optkit.core.api import solve

    best = solve(instance, solver)
    if best.status is not Status.OPTIMAL:
        raise InvalidInputError("solver", f"{solver} gave {best.status.value}, not an optimum")
    mine, opt = evaluate(instance, decision), evaluate(instance, best.decision)
    return {
        "value": mine.objective,
        "cost": mine.cost,
        "optimum": opt.objective,
        "optimum_cost": opt.cost,
        "ratio": hindsight_ratio(instance, mine.objective, opt.objective),
    }
