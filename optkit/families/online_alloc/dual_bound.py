"""`dual_bound`: the hindsight LP value by its dual, certified by its own primal and dual bounds.

By LP duality the hindsight LP (exact_highs.py) equals
    min_{μ >= 0} D(μ),   D(μ) = Σ_t max(0, max_i r_ti - μᵀC_t[:, i]) + μᵀρT,
and for any μ >= 0, D(μ) is an upper bound. D is convex, piecewise linear, and for large T a sum
of so many kinks that it is nearly smooth at the scale that matters. The method:

0. Streams of at most SMALL_T requests skip 1-2: every request is free in one restricted LP.
1. Price: the LP on a uniform sample of n0 requests (budgets scaled to n0/T) gives a first μ.
2. Smooth phase: L-BFGS-B on D over μ >= 0 (subgradient B - Σ_t C_t x_t(μ)). Every
   evaluation is one chunked, vectorised read of the consumption array (einsum on its compact
   dtype), never a Python loop over requests. Streams longer than `coarse` replace 1-2 by the
   exact LP prices of a uniform tenth of the stream, computed by this same method (recursion),
   whose error shrinks like 1/√T: about √T requests are then in doubt.
3. Restricted master at the centre μ_c (the best D so far): every request whose margin gap
   (top option minus runner-up, "none" counting at margin 0) is above δ is fixed to its best
   option (or none); the near ties (the δ-quantile that frees max(free_target, 4m, 10√T at
   scale) requests, plus the last LP's fractional and flipped requests) stay free, each with
   its options within 2δ of its top. A basic optimal solution has at most m fractional
   requests, all ties at μ*, so this LP is small.
   One extra column z in [0, 1] plays all fixed-on requests at one level, which keeps the LP
   feasible while prices are still low. HiGHS solves it; its solution plus the fixed requests
   is a feasible primal with value P (a lower bound); its budget duals are a candidate μ.
4. Pass at the candidate: D(μ) is an upper bound. By complementary slackness D(μ) = P when every
   fixed request's choice is optimal at μ. The candidate becomes the centre only if it lowers D
   (a serious step, as in bundle methods); otherwise the centre stays, the requests whose
   decision flips between centre and candidate are freed, and the δ-quantile grows by half (a
   null step). Stop when (D - P) / max(|P|, 1) <= 1e-6.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass

import numpy as np

from optkit.core.fields import Fields, as_int
from optkit.core.result import SolverOutput
from optkit.core.seeding import make_rng
from optkit.core.status import Status
from optkit.core.timing import Deadline
from optkit.core.tolerances import CERTIFIED_GAP_REL, relative_gap
from optkit.families.online_alloc.exact_highs import (
    _for_variant,
    budget_prices,
    columns_model,
    decision_from_x,
    not_linear,
    reward_upper_bound,
    run_highs,
    solve_lp,
)
from optkit.families.online_alloc.instance import (
    NO_ACTION,
    OnlineAllocDecision,
    OnlineAllocInstance,
)

CHUNK = 8192
MAX_PASSES = 30
TIGHT_GAP_REL = 1e-8
"""Stopping gap for streams of at most `coarse` requests (certification needs 1e-6)."""
SMALL_T = 2000
"""Up to this many requests the restricted master frees every request (one LP, one pass)."""
FREE_PER_SQRT = 10.0
"""At scale, the first restricted LP frees about 10·√T near ties (T = 10^6: 10^4 requests)."""


@dataclass(frozen=True)
class Pass:
    """One sweep at μ: D(μ) and, per request, its best option, best margin and gap."""

    mu: np.ndarray
    value: float
    best: np.ndarray
    """(T,) option with the largest margin r_ti - μᵀC_t[:, i] (played only if that is > 0)."""
    top: np.ndarray
    """(T,) max(0, largest margin): request t's term of D(μ)."""
    gap: np.ndarray
    """(T,) top minus the runner-up margin among the d options and "none" (0)."""


def dual_pass(
    mu: np.ndarray, rewards: np.ndarray, consumption: np.ndarray, budgets: np.ndarray
) -> Pass:
    T, d = rewards.shape
    best = np.empty(T, dtype=np.int64)
    top = np.empty(T)
    gap = np.empty(T)
    for lo in range(0, T, CHUNK):
        hi = min(T, lo + CHUNK)
        marg = rewards[lo:hi] - np.einsum("nmd,m->nd", consumption[lo:hi], mu)
        # the "none" option as a column of zeros: top and runner-up over d + 1 margins
        full = np.concatenate([marg, np.zeros((hi - lo, 1))], axis=1)
        two = -np.partition(-full, 1, axis=1)[:, :2]
        best[lo:hi] = np.argmax(marg, axis=1)
        top[lo:hi] = two[:, 0]
        gap[lo:hi] = two[:, 0] - two[:, 1]
    value = float(top.sum() + mu @ budgets)
    return Pass(mu, value, best, top, gap)


@dataclass(frozen=True)
class DualBoundParams:
    sample: int = 250
    """n0, requests in the pricing sample LP (step 1)."""
    coarse: int = 20_000
    """Streams longer than this start from the exact prices of a uniform tenth (recursively)."""
    coarse_evals: int = 20
    """L-BFGS-B evaluations of D on streams of at most `coarse` requests."""
    free_target: int = 500
    """About this many near-tie requests are left free in the first restricted LP (>= 4m)."""

    @classmethod
    def from_params(cls, params: dict) -> DualBoundParams:
        f = Fields(params, "params")
        out = cls(
            **{
                k: as_int(f.get(k, getattr(cls, k)), f"params.{k}", ge=1)
                for k in ("sample", "coarse", "coarse_evals", "free_target")
            }
        )
        f.finish()
        return out


@dataclass(frozen=True)
class DualBoundResult:
    status: Status
    primal: float
    """P: reward of the recovered feasible (fractional) solution, a lower bound on the LP."""
    dual: float
    """D(μ̂): an upper bound on the LP, hence on every policy's reward."""
    mu: np.ndarray
    decision: OnlineAllocDecision
    passes: int
    free: int
    """Requests free in the last restricted LP."""
    message: str = ""

    @property
    def gap(self) -> float:
        return relative_gap(self.primal, self.dual, "max")


def dual_value_grad(
    mu: np.ndarray, rewards: np.ndarray, consumption: np.ndarray, budgets: np.ndarray
) -> tuple[float, np.ndarray]:
    """D(μ) and a subgradient B - Σ_t C_t x_t(μ), chunked over requests (the smooth phase's
    objective; a float32 `consumption` gives an approximate value, fine for a starting point)."""
    T, d = rewards.shape
    value = float(mu @ budgets)
    used = np.zeros(mu.shape[0])
    for lo in range(0, T, CHUNK):
        hi = min(T, lo + CHUNK)
        Cb = consumption[lo:hi]
        if Cb.dtype == np.float32:  # the smooth phase's copy: float32 BLAS, ~3x einsum
            marg = rewards[lo:hi] - np.matmul(mu.astype(np.float32), Cb)
        else:
            marg = rewards[lo:hi] - np.einsum("nmd,m->nd", Cb, mu)
        best = marg.argmax(axis=1)
        top = marg[np.arange(hi - lo), best]
        on = top > 0
        value += float(top[on].sum())
        k = np.flatnonzero(on)
        used += np.add.reduce(Cb[k, :, best[k]], axis=0, dtype=np.float64)  # gather: ~10x einsum
    return value, budgets - used


class OutOfTime(Exception):
    """The deadline passed before a restricted LP gave a feasible primal: no answer, only the
    upper bound `bound` (D at the best prices evaluated, or D(0))."""

    def __init__(self, bound: float, passes: int = 0):
        super().__init__(f"time limit reached after {passes} passes, no primal yet")
        self.bound, self.passes = bound, passes


class _Stop(Exception):
    pass


def _lbfgs(
    mu: np.ndarray,
    R: np.ndarray,
    C: np.ndarray,
    B: np.ndarray,
    evals: int,
    deadline: Deadline | None = None,
) -> np.ndarray:
    """L-BFGS-B on D from mu; stopped at the deadline with the best prices evaluated so far
    (only a starting point: every bound is computed afterwards, in float64)."""
    from scipy.optimize import minimize

    best = [math.inf, mu]

    def fun(x: np.ndarray) -> tuple[float, np.ndarray]:
        if deadline is not None and deadline.expired():
            raise _Stop
        value, grad = dual_value_grad(x, R, C, B)
        if value < best[0]:
            best[0], best[1] = value, np.array(x)
        return value, grad

    try:
        res = minimize(
            fun,
            mu,
            jac=True,
            method="L-BFGS-B",
            bounds=[(0.0, None)] * mu.shape[0],
            options={"maxiter": evals, "maxfun": evals},
        )
        return np.maximum(res.x, 0.0)
    except _Stop:
        return np.maximum(best[1], 0.0)


def solve_dual_bound(
    instance: OnlineAllocInstance,
    params: DualBoundParams = DualBoundParams(),
    *,
    seed: int = 0,
    threads: int = 1,
    deadline: Deadline | None = None,
) -> DualBoundResult:
    deadline = deadline or Deadline(None)
    R, C, B = instance.rewards, instance.consumption, instance.budgets
    T, m = instance.T, instance.m
    rng = make_rng(seed)
    if T > params.coarse:
        # 1-2 at scale: the exact LP prices of a uniform tenth of the stream (recursively, same
        # method), whose error shrinks like 1/√(T/10): about √T requests stay in doubt.
        n_sub = max(params.coarse, T // 10)
        idx = np.sort(rng.choice(T, size=n_sub, replace=False))
        sub = OnlineAllocInstance(rho=instance.rho, rewards=R[idx], consumption=C[idx])
        try:
            mu = solve_dual_bound(sub, params, seed=seed, threads=threads, deadline=deadline).mu
        except OutOfTime:  # the sub-stream's bound is no bound of this stream
            raise OutOfTime(reward_upper_bound(R)) from None
        del sub
        target = int(FREE_PER_SQRT * math.sqrt(T))
    elif T <= SMALL_T:
        # a stream this short is its own restricted master: every request free, one LP
        mu, target = np.zeros(m), T
    else:
        # 1. pricing sample LP, 2. L-BFGS-B on D over the whole (small) stream
        n0 = min(T, params.sample)
        idx = np.sort(rng.choice(T, size=n0, replace=False)) if n0 < T else np.arange(T)
        sample = solve_lp(R[idx], C[idx], B * (n0 / T), threads=threads, deadline=deadline)
        mu = sample.duals if sample.duals is not None else np.zeros(m)
        # L-BFGS only needs a good start, not a certificate: it runs on a float32 copy (exact
        # for 0/1 uses; T <= coarse keeps it small). Every bound below is computed in float64.
        if not deadline.expired():
            mu = _lbfgs(mu, R, C.astype(np.float32), B, params.coarse_evals, deadline)
        target = 0
    target = min(T, max(target, params.free_target, 4 * m))
    if deadline.expired():
        raise OutOfTime(reward_upper_bound(R))
    centre = dual_pass(mu, R, C, B)
    passes = 1
    keep = np.zeros(0, dtype=np.int64)  # fractional requests of the last restricted LP
    best: tuple[float, OnlineAllocDecision] | None = None
    while True:
        # 3. restricted master at the centre
        sub = _restricted(centre, R, C, B, target, keep, threads, deadline)
        if sub is None:  # the deadline passed inside the LP, before a feasible point
            if best is None:
                raise OutOfTime(min(centre.value, reward_upper_bound(R)), passes)
            status = Status.TIME_LIMIT
            msg = f"time limit reached after {passes} passes"
            break
        if best is None or sub.primal > best[0]:
            best = (sub.primal, sub.decision)
        frac = np.unique(sub.decision.frac_t)
        if deadline.expired():  # no time for the pass at the candidate prices
            gap = relative_gap(best[0], centre.value, "max")
            status = Status.OPTIMAL if gap <= CERTIFIED_GAP_REL else Status.TIME_LIMIT
            msg = f"time limit reached after {passes} passes with relative gap {gap:.2e}"
            break
        # 4. price check over every request
        cand = dual_pass(sub.mu, R, C, B)
        passes += 1
        if cand.value < centre.value:
            centre, keep = cand, frac  # serious step
        else:
            # null step: the candidate prices came from wrongly fixed requests; those whose
            # decision differs between the centre and the candidate are the ones in doubt
            # (closest ties first); free them, and free more by gap next time as well
            flip = np.flatnonzero(
                ((cand.top > 0) != (centre.top > 0)) | ((cand.top > 0) & (cand.best != centre.best))
            )
            flip = flip[np.argsort(centre.gap[flip], kind="stable")[: 2 * target]]
            keep = np.unique(np.concatenate([keep, frac, flip]))
            target = min(T, int(1.5 * target))
        gap = relative_gap(best[0], centre.value, "max")
        # below `coarse` requests a pass costs milliseconds: buy a 100x tighter answer there
        stop = CERTIFIED_GAP_REL if T > params.coarse else TIGHT_GAP_REL
        if gap <= stop:
            status, msg = Status.OPTIMAL, ""
            break
        if passes >= MAX_PASSES or deadline.expired():
            status = Status.OPTIMAL if gap <= CERTIFIED_GAP_REL else Status.FEASIBLE
            if deadline.expired() and status is not Status.OPTIMAL:
                status = Status.TIME_LIMIT
            msg = f"stopped after {passes} passes with relative gap {gap:.2e}"
            break
    primal, dec = best
    dec = OnlineAllocDecision(
        actions=dec.actions,
        duals=centre.mu,
        frac_t=dec.frac_t,
        frac_option=dec.frac_option,
        frac_x=dec.frac_x,
    )
    return DualBoundResult(status, primal, centre.value, centre.mu, dec, passes, sub.free, msg)


@dataclass(frozen=True)
class _Restricted:
    primal: float
    mu: np.ndarray
    decision: OnlineAllocDecision
    free: int


def _restricted(
    cur: Pass,
    R: np.ndarray,
    C: np.ndarray,
    B: np.ndarray,
    target: int,
    keep: np.ndarray,
    threads: int,
    deadline: Deadline,
) -> _Restricted | None:
    """Steps 3-4 at the prices of `cur`: fix the clear requests, LP over the near ties (None
    when the deadline passes before HiGHS has a feasible point).

    Columns: for each free request, its options whose margin is within 2δ of its top (a column
    far below cannot enter an optimal basis near these prices; if one must, the certificate
    check fails and the next round, at new prices, lists it); plus one aggregate column z in
    [0, 1] that plays every fixed-on request at the same level. z keeps the LP feasible when the
    fixed requests alone would overspend (prices still too low): z < 1 is a feasible fractional
    primal, and its bound dual raises the prices for the next round.
    """
    T, d = R.shape
    m = B.shape[0]
    delta = float(np.partition(cur.gap, target - 1)[target - 1]) if target < T else math.inf
    free = cur.gap <= delta
    free[keep] = True
    t_free = np.flatnonzero(free)
    t_on = np.flatnonzero(~free & (cur.top > 0))
    marg = R[t_free] - np.einsum("nmd,m->nd", C[t_free], cur.mu)
    window = max(2.0 * delta, 1e-9) if math.isfinite(delta) else math.inf
    cand = marg >= np.maximum(cur.top[t_free], 0.0)[:, None] - window
    ft, fo = np.nonzero(cand)
    on_reward = float(R[t_on, cur.best[t_on]].sum())
    on_use = _use(C, t_on, cur.best[t_on], m)
    cost = np.concatenate([R[t_free[ft], fo], [on_reward]])
    use = np.concatenate([C[t_free[ft], :, fo].astype(np.float64), on_use[None, :]])
    group = np.concatenate([ft, [-1]])
    status, _, x, row_dual, msg, _ = run_highs(
        columns_model(cost, use, group, t_free.size, B), threads=threads, deadline=deadline
    )
    if x is None or row_dual is None:
        if status is Status.TIME_LIMIT:
            return None
        raise RuntimeError(f"restricted LP failed: {status.value} {msg}")
    z = float(x[-1])
    xs = np.zeros((t_free.size, d))
    xs[ft, fo] = x[:-1]
    sub = decision_from_x(xs)
    actions = np.full(T, NO_ACTION, dtype=np.int64)
    actions[t_free] = sub.actions
    frac_t, frac_o, frac_x = [t_free[sub.frac_t]], [sub.frac_option], [sub.frac_x]
    if z >= 1.0 - 1e-9:
        z = 1.0
        actions[t_on] = cur.best[t_on]
    elif z > 1e-9:
        frac_t.append(t_on)
        frac_o.append(cur.best[t_on])
        frac_x.append(np.full(t_on.size, z))
    else:
        z = 0.0
    # the primal value is recomputed from the decision, never taken from HiGHS
    primal = float((cost[:-1] * x[:-1]).sum() + z * on_reward)
    dec = OnlineAllocDecision(
        actions=actions,
        frac_t=np.concatenate(frac_t),
        frac_option=np.concatenate(frac_o),
        frac_x=np.concatenate(frac_x),
    )
    mu = budget_prices(row_dual, m)
    return _Restricted(primal, mu, dec, int(t_free.size))


def _use(C: np.ndarray, t: np.ndarray, option: np.ndarray, m: int) -> np.ndarray:
    used = np.zeros(m)
    for lo in range(0, t.size, CHUNK):
        used += C[t[lo : lo + CHUNK], :, option[lo : lo + CHUNK]].sum(axis=0, dtype=np.float64)
    return used


def solve(
    instance: OnlineAllocInstance, deadline: Deadline, seed: int, threads: int, params: dict
) -> SolverOutput:
    """Registered entry point: status OPTIMAL when the relative gap is <= 1e-6."""
    p = DualBoundParams.from_params(params)
    if (na := not_linear(instance)) is not None:
        return na
    t0 = time.perf_counter()
    try:
        res = solve_dual_bound(instance, p, seed=seed, threads=threads, deadline=deadline)
    except OutOfTime as exc:
        return SolverOutput(
            status=Status.TIME_LIMIT,
            bound=exc.bound,
            solve_s=time.perf_counter() - t0,
            message=str(exc),
            backend="numpy+highspy",
            backend_version=_version(),
        )
    solve_s = time.perf_counter() - t0
    fractional = int(np.unique(res.decision.frac_t).size)
    return SolverOutput(
        status=res.status,
        objective=res.primal,
        bound=res.dual,
        decision=_for_variant(instance, res.decision),
        certificate={
            "dual_value": res.dual,
            "primal_value": res.primal,
            "relative_gap": res.gap,
            "duals": res.mu.tolist(),
            "passes": res.passes,
            "free_requests": res.free,
            "fractional_requests": fractional,
        },
        solve_s=solve_s,
        message=res.message,
        backend="numpy+highspy",
        backend_version=_version(),
    )


def _version() -> str:
    import highspy

    return getattr(highspy, "__version__", "") or highspy.Highs().version()
