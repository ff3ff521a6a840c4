"""`hindsight_cvxpy`: the matching variant's hindsight optimum (exponential cone, CVXPY + Clarabel).

    max  Σ_t [ r_tᵀx_t + λ H(x_t0, x_t) ]      H = entropy over the d options and "none"
    s.t. Σ_t C_t x_t <= ρT,   x_t >= 0,  x_t0 = 1 - Σ_i x_ti >= 0

Strictly concave, so the optimum is unique. Its Lagrange dual is smooth:
    D(μ) = Σ_t λ log(1 + Σ_i exp((r_ti - μᵀC_t[:, i]) / λ)) + μᵀρT   (μ >= 0),
an upper bound for every μ >= 0; the result carries D at the solver's budget duals as `bound`,
so the gap is certified by numpy arithmetic independent of the solver (status optimal only when
it is <= 1e-6). If Clarabel fails or is inaccurate, the smooth dual is minimised with L-BFGS-B
and the softmax allocation at its minimiser returned instead (flag `dual_fallback`). The
returned allocation
is the solver's, cleaned (negatives clipped, rows scaled to Σ <= 1, then all rows scaled by the
largest budget overrun, if any), and its objective is recomputed from it. For small T only.
"""

from __future__ import annotations

import time
import warnings

import numpy as np

from optkit.core.result import SolverOutput
from optkit.core.status import Status
from optkit.core.timing import Deadline
from optkit.core.tolerances import CERTIFIED_GAP_REL
from optkit.families.online_alloc.exact_highs import raise_unknown
from optkit.families.online_alloc.instance import (
    NO_ACTION,
    OnlineAllocDecision,
    OnlineAllocInstance,
)

MAX_VARIABLES = 50_000
"""T·d above this: NOT_APPLICABLE (an exponential cone per variable; small T only)."""


def smooth_dual(mu: np.ndarray, instance: OnlineAllocInstance) -> float:
    """D(μ) above (log-sum-exp with the "none" option at margin 0, computed stably)."""
    return smooth_dual_grad(mu, instance)[0]


def smooth_dual_grad(mu: np.ndarray, instance: OnlineAllocInstance):
    """D(μ), its gradient B - Σ_t C_t x_t(μ), and the softmax allocation x(μ) (T, d)."""
    lam, C = instance.entropy, instance.consumption
    z = (instance.rewards - np.einsum("tmd,m->td", C, mu)) / lam
    top = np.maximum(z.max(axis=1), 0.0)
    w = np.exp(z - top[:, None])
    total = np.exp(-top) + w.sum(axis=1)
    value = float(lam * (top + np.log(total)).sum() + mu @ instance.budgets)
    x = w / total[:, None]
    return value, instance.budgets - np.einsum("tmd,td->m", C, x), x


def _dual_fallback(instance: OnlineAllocInstance) -> tuple[np.ndarray, np.ndarray]:
    """μ* by L-BFGS-B on the smooth dual and the softmax allocation x(μ*) (strong duality:
    the primal optimum is x(μ*)); used when the conic solver fails."""
    from scipy.optimize import minimize

    res = minimize(
        lambda mu: smooth_dual_grad(mu, instance)[:2],
        np.zeros(instance.m),
        jac=True,
        method="L-BFGS-B",
        bounds=[(0.0, None)] * instance.m,
        options={"ftol": 1e-15, "gtol": 1e-11, "maxiter": 10_000},
    )
    mu = np.maximum(res.x, 0.0)
    return mu, smooth_dual_grad(mu, instance)[2]


def entropic_value(instance: OnlineAllocInstance, X: np.ndarray) -> float:
    shares = np.concatenate([X, 1.0 - X.sum(axis=1, keepdims=True)], axis=1)
    logs = np.log(np.where(shares > 0, shares, 1.0))
    return float((instance.rewards * X).sum() - instance.entropy * (shares * logs).sum())


def hindsight_cvxpy(
    instance: OnlineAllocInstance, deadline: Deadline, seed: int, threads: int, params: dict
) -> SolverOutput:
    if params:
        raise_unknown(params)
    if instance.variant != "matching":
        return SolverOutput(
            status=Status.NOT_APPLICABLE,
            message="hindsight_cvxpy solves the entropic matching problem; choice and bidding "
            "streams have a linear one (dual_bound, hindsight_lp)",
        )
    if instance.T * instance.d > MAX_VARIABLES:
        return SolverOutput(
            status=Status.NOT_APPLICABLE,
            message=f"T·d = {instance.T * instance.d} > {MAX_VARIABLES} exponential cones",
        )
    import cvxpy as cp

    t0 = time.perf_counter()
    T, m, d = instance.T, instance.m, instance.d
    R, C, lam = instance.rewards, instance.consumption.astype(np.float64), instance.entropy
    X = cp.Variable((T, d), nonneg=True)
    none = 1 - cp.sum(X, axis=1)
    budget = [cp.sum(cp.multiply(C[:, j, :], X)) <= instance.budgets[j] for j in range(m)]
    objective = cp.sum(cp.multiply(R, X)) + lam * (cp.sum(cp.entr(X)) + cp.sum(cp.entr(none)))
    problem = cp.Problem(cp.Maximize(objective), [*budget, none >= 0])
    build_s = time.perf_counter() - t0
    t1 = time.perf_counter()
    kwargs = {}
    if deadline.remaining_s() is not None:
        kwargs["time_limit"] = max(deadline.remaining_s(), 1e-3)
    message = ""
    try:
        # cvxpy 1.8's Sum.shape_from_args sums an uninitialised np.empty to get a shape, which
        # warns "invalid value" when the memory happens to hold NaN bits; the answer is checked
        # by the dual bound below, so numpy's invalid-value state is silenced for the call only
        # cvxpy also warns "Solution may be inaccurate" (a UserWarning) on the statuses mapped
        # explicitly below, which are the message
        with np.errstate(invalid="ignore"), warnings.catch_warnings():
            warnings.filterwarnings("ignore", "Solution may be inaccurate", UserWarning)
            problem.solve(solver=cp.CLARABEL, **kwargs)
        cvx_status = problem.status
    except cp.error.SolverError as exc:
        cvx_status, message = "solver_error", f"Clarabel failed ({exc}); "
    status, flags = {
        cp.OPTIMAL: (Status.OPTIMAL, ()),
        cp.OPTIMAL_INACCURATE: (Status.FEASIBLE, ("inaccurate",)),
        cp.USER_LIMIT: (Status.TIME_LIMIT, ()),
    }.get(cvx_status, (Status.ERROR, (f"cvxpy_{cvx_status}",)))
    duals = [c.dual_value for c in budget]
    solved = X.value is not None and all(v is not None for v in duals)
    if status is Status.OPTIMAL and solved and np.isfinite(X.value).all():
        x = _clean(np.asarray(X.value), C, instance.budgets)
        mu = np.maximum(np.array([float(v) for v in duals]), 0.0)
    elif status is Status.TIME_LIMIT:
        # no answer; D(0) is an upper bound like D at any μ >= 0 (one O(T·m·d) pass)
        return SolverOutput(
            status=status,
            bound=smooth_dual(np.zeros(m), instance),
            message=str(cvx_status),
            build_s=build_s,
        )
    else:
        # Clarabel failed or is inaccurate: the smooth dual gives the same optimum (strictly
        # concave primal); the bound below certifies whichever answer is returned
        mu, x = _dual_fallback(instance)
        x = _clean(x, C, instance.budgets)
        flags = (*flags, "dual_fallback")
        message += "answer from the smooth dual (L-BFGS-B)"
    solve_s = time.perf_counter() - t1
    common = dict(build_s=build_s, solve_s=solve_s, backend="cvxpy+clarabel",
                  backend_version=cp.__version__, flags=flags, message=message)  # fmt: skip
    ft, fo = np.nonzero(x > 0)
    decision = OnlineAllocDecision(
        actions=np.full(T, NO_ACTION), duals=mu, frac_t=ft, frac_option=fo, frac_x=x[ft, fo]
    )
    value, bound = entropic_value(instance, x), smooth_dual(mu, instance)
    gap = (bound - value) / max(abs(value), 1.0)
    status = Status.OPTIMAL if gap <= CERTIFIED_GAP_REL else Status.FEASIBLE
    return SolverOutput(
        status=status,
        objective=value,
        bound=bound,
        decision=decision,
        certificate={"duals": mu.tolist(), "dual_value": bound},
        **common,
    )


def _clean(x: np.ndarray, C: np.ndarray, budgets: np.ndarray) -> np.ndarray:
    """A feasible allocation next to the solver's (interior-point output sits a hair outside)."""
    x = np.maximum(x, 0.0)
    x /= np.maximum(x.sum(axis=1, keepdims=True), 1.0)
    used = np.einsum("tmd,td->m", C, x)
    over = np.max(used / budgets)
    return x / over if over > 1.0 else x
