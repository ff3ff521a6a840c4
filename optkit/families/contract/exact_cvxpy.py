"""The exact `cvxpy` contract solver: the convex program of spec/contract.md, DPP-parameterised.

Formulation (per ES; all IC kept pairwise, no assumption about which bind). Efforts and money are
rescaled so that every instance of a shape has coefficients of order one ("rescales large-I
problems so they finish OPTIMAL"): e = a·x and U = m·u with
    log   G = ω ln(1 + κ e):  a = 1/κ,      m = ω,            G/m = ln(1 + x)
    power G = ω e^ρ:          a = effort_max, m = ω·effort_max^ρ, G/m = x^ρ
and φ̃ = φ a / m. In utility coordinates u1_i = U1_i / m, u2_ij = U2_ij / m:
    max  Σ_i ν_i [g(x1_i) - φ̃_i x1_i - u1_i] + Σ_ij δν_iP_ij [g(x2_ij) - φ̃_j x2_ij - u2_ij]
    IC2  u2_ij >= u2_ij' + (φ̃_j' - φ̃_j) x2_ij'                    every history i, j != j'
    IC1  u1_i + δΣ_j P_ij u2_ij >= u1_k + (φ̃_k - φ̃_i) x1_k + δΣ_j P_ij u2_kj     i != k
    IR2  u2 >= 0;  IR1 u1 >= 0 (per_period) or u1_i + δΣ_j P_ij u2_ij >= 0 (interim, with the
    canonical u2_i1 = 0);  0 <= x <= effort_max / a;  limited liability u + φ̃ x >= 0.
DPP: every parameter multiplies a parameter-free expression, so products such as ν_i φ̃_i and
δ ν_i P_ij φ̃_j are parameters of their own. One compiled problem per (I, periods, ir, valuation
kind, ρ, limited liability) is cached and re-solved with new parameter values.

The answer is then made canonical (canonical.py: rewards from two HiGHS LPs with efforts fixed)
and certified: the Clarabel multipliers, repaired to satisfy stationarity in the rewards exactly,
give a Lagrangian dual bound (certificate.py) that is reported as `bound`. An answer that is not
certified is re-solved with other Clarabel settings (_ATTEMPTS) while the deadline allows.
"""

from __future__ import annotations

import dataclasses
import math
import time
import warnings
from dataclasses import dataclass
from typing import Any

import clarabel
import cvxpy as cp
import numpy as np
import scipy.sparse as sp

from optkit.core.fields import Fields, as_choice
from optkit.core.result import SolverOutput
from optkit.core.status import Status
from optkit.core.timing import Deadline
from optkit.core.tolerances import CERTIFIED_GAP_REL, EXACT_FEASIBILITY, relative_gap
from optkit.families.contract.canonical import canonical_rewards, implementable_efforts
from optkit.families.contract.certificate import dual_bound
from optkit.families.contract.constraints import build_system, objective_weights
from optkit.families.contract.evaluate import evaluate
from optkit.families.contract.instance import ContractDecision, ContractInstance, LogValuation

BACKEND = "cvxpy+clarabel"
MODEL_MODES = ("cached", "rebuild", "inline")
"""params["model"]: "cached" (default) re-solves the compiled DPP problem of this shape;
"rebuild" builds and compiles the same parameterised problem afresh for this call; "inline"
builds a fresh problem with the data as constants (what a model written inline gets). The last
two are the baselines of the DPP timing table in docs/contract.md."""

# The polished menu alone is kept only when it is this close to the dual bound; otherwise the raw
# Clarabel efforts are canonicalised too and the better menu wins. With the certification
# threshold (1e-6) here instead, about a tenth of `default` instances ended ~1e-6 below the
# optimum (measured against `fast`, whose gaps are ~1e-9); this costs ~0.15 ms per solve.
_POLISH_ACCEPT = 1e-9

# Explicit map of every cvxpy status (spec: never pass a backend string through).
_STATUS = {
    cp.OPTIMAL: (Status.OPTIMAL, ()),
    cp.OPTIMAL_INACCURATE: (Status.FEASIBLE, ("inaccurate",)),
    cp.USER_LIMIT: (Status.TIME_LIMIT, ()),
    # The zero menu is always feasible and efforts are bounded, so a claimed infeasible or
    # unbounded verdict is a numerical failure, reported as an error rather than a verdict.
    cp.INFEASIBLE: (Status.ERROR, ("numerical",)),
    cp.INFEASIBLE_INACCURATE: (Status.ERROR, ("numerical",)),
    cp.UNBOUNDED: (Status.ERROR, ("numerical",)),
    cp.UNBOUNDED_INACCURATE: (Status.ERROR, ("numerical",)),
    cp.SOLVER_ERROR: (Status.ERROR, ()),
}


@dataclass(frozen=True)
class ModelKey:
    n: int
    periods: int
    ir: str
    kind: str
    rho: float | None
    limited_liability: bool

    @classmethod
    def of(cls, inst: ContractInstance) -> ModelKey:
        v = inst.valuation
        ir = inst.ir if inst.dynamic else "per_period"  # the two coincide for periods = 1
        return cls(
            inst.n_types, inst.periods, ir, v.kind, getattr(v, "rho", None), inst.limited_liability
        )


def scales(inst: ContractInstance) -> tuple[float, float]:
    """(a, m): effort and money scales of the normalised problem."""
    v = inst.valuation
    if isinstance(v, LogValuation):
        return 1.0 / v.kappa, v.omega
    return inst.effort_max, v.omega * inst.effort_max**v.rho


def parameter_values(inst: ContractInstance) -> dict[str, Any]:
    a, m = scales(inst)
    n = inst.n_types
    phit = inst.phi * a / m
    ii, kk = np.nonzero(~np.eye(n, dtype=bool))
    vals: dict[str, Any] = {
        "nu": inst.prior,
        "c1": inst.prior * phit,
        "xmax": inst.effort_max / a,
        "d1": phit[kk] - phit[ii],
        "phit1": phit,
    }
    if inst.dynamic:
        dP = inst.discount * inst.transition
        w2 = inst.prior[:, None] * dP
        _, hj, hk = np.nonzero(np.broadcast_to(~np.eye(n, dtype=bool)[None], (n, n, n)))
        vals.update(
            w2=w2, c2=w2 * phit[None, :], dP=dP, d2=phit[hk] - phit[hj], phit2=np.tile(phit, (n, 1))
        )
    return vals


class _Model:
    """One formulation; parameters when `values` is None (cached, DPP), else constants.

    The IC rows are exactly the off-diagonal pairs/triples of constraints.py, picked out of
    vectorised expressions by constant sparse selection matrices, so no trivial 0 >= 0 rows reach
    the solver and duals map one to one onto the rows of the linear system.
    """

    def __init__(self, key: ModelKey, values: dict[str, Any] | None = None):
        n, dyn = key.n, key.periods == 2
        self.key, self.params = key, {}

        def data(name: str, shape, **kw):
            if values is not None:
                return cp.Constant(values[name])
            p = cp.Parameter(shape, name=name, **kw)
            self.params[name] = p
            return p

        g = (
            (lambda x: cp.log(1 + x))
            if key.kind == "log"
            else (lambda x: cp.power(x, key.rho, approx=False))
        )
        vec = lambda X: cp.reshape(X, (n * n,), order="C")  # noqa: E731  row-major, as Layout
        nu, c1 = data("nu", (n,), nonneg=True), data("c1", (n,), nonneg=True)
        xmax = data("xmax", (), nonneg=True)
        self.x1, self.u1 = cp.Variable(n, name="x1"), cp.Variable(n, name="u1")
        obj = nu @ g(self.x1) - c1 @ self.x1 - nu @ self.u1
        cons = {"x1_min": self.x1 >= 0, "x1_max": self.x1 <= xmax}
        ii, kk = np.nonzero(~np.eye(n, dtype=bool))  # IC1 rows (i, k), as constraints.py
        if dyn:
            w2, c2 = data("w2", (n, n), nonneg=True), data("c2", (n, n), nonneg=True)
            dP = data("dP", (n, n), nonneg=True)
            self.x2, self.u2 = cp.Variable((n, n), name="x2"), cp.Variable((n, n), name="u2")
            obj += cp.sum(cp.multiply(w2, g(self.x2))) - cp.sum(cp.multiply(c2, self.x2))
            obj -= cp.sum(cp.multiply(w2, self.u2))
            cons["x2_min"], cons["x2_max"] = self.x2 >= 0, self.x2 <= xmax
            cont = cp.sum(cp.multiply(dP, self.u2), axis=1)  # truthful continuation by history
            cross = vec(dP @ self.u2.T)[ii * n + kk]  # continuation of true i after reporting k
            cons["ir2"] = self.u2 >= 0
            if n > 1:
                hi, hj, hk = np.nonzero(np.broadcast_to(~np.eye(n, dtype=bool)[None], (n, n, n)))
                own, other = _select(hi * n + hj, n * n), _select(hi * n + hk, n * n)
                d2 = data("d2", (len(hi),))  # φ̃_j' - φ̃_j per IC2 row
                u2v, x2v = vec(self.u2), vec(self.x2)
                cons["ic2"] = own @ u2v - other @ u2v - cp.multiply(d2, other @ x2v) >= 0
        else:
            cont, cross = 0, 0
        if n > 1:
            d1 = data("d1", (len(ii),))  # φ̃_k - φ̃_i per IC1 row
            sel_i, sel_k = _select(ii, n), _select(kk, n)
            truthful = sel_i @ (self.u1 + cont) if dyn else sel_i @ self.u1
            lie = sel_k @ self.u1 + cp.multiply(d1, sel_k @ self.x1) + cross
            cons["ic1"] = truthful - lie >= 0
        if dyn and key.ir == "interim":
            cons["ir1"] = self.u1 + cont >= 0
            cons["canonical"] = self.u2[:, 0] == 0
        else:
            cons["ir1"] = self.u1 >= 0
        if key.limited_liability:
            phit1 = data("phit1", (n,), nonneg=True)
            cons["liability1"] = self.u1 + cp.multiply(phit1, self.x1) >= 0
            if dyn:
                phit2 = data("phit2", (n, n), nonneg=True)
                cons["liability2"] = self.u2 + cp.multiply(phit2, self.x2) >= 0
        self.cons = cons
        self.problem = cp.Problem(cp.Maximize(obj), list(cons.values()))
        if values is None and not self.problem.is_dcp(dpp=True):
            raise AssertionError("contract formulation is not DPP")  # a bug, caught by tests

    def set(self, values: dict[str, Any]) -> None:
        # save_value skips cvxpy's per-assignment validation (shape, sign), about 0.2 ms of a
        # 1.5 ms re-solve: parameter_values() builds every array from a validated instance with
        # the shapes and signs of this ModelKey, and the shapes are asserted below.
        for name, p in self.params.items():
            value = np.asarray(values[name], dtype=float)
            if value.shape != p.shape:
                raise ValueError(f"parameter {name}: shape {value.shape}, model has {p.shape}")
            p.save_value(value)

    def multipliers(self, system, n_servers: int) -> np.ndarray:
        """Clarabel's duals mapped onto the rows of `system`, in total-objective units (× N).

        The normalised constraints are the original ones divided by the money scale m and the
        objective is divided by N·m, so each multiplier scales back by N alone.
        """
        lam = np.zeros(system.n_rows)
        for name, grp in system.groups.items():
            con = self.cons.get(name)
            if con is not None and con.dual_value is not None:
                lam[grp.start : grp.stop] = np.asarray(con.dual_value, dtype=float).reshape(-1)
        # cvxpy's dual of `expr == 0` has the opposite sign to our λ in  f + λᵀ g.
        if "canonical" in system.groups:
            g = system.groups["canonical"]
            lam[g.start : g.stop] *= -1.0
        return n_servers * lam


def _select(rows: np.ndarray, size: int) -> sp.csr_matrix:
    """Constant 0/1 matrix picking entries `rows` of a length-`size` vector."""
    return sp.csr_matrix(
        (np.ones(len(rows)), (np.arange(len(rows)), rows)), shape=(len(rows), size)
    )


_CACHE: dict[ModelKey, _Model] = {}


def cached_model(key: ModelKey, values: dict[str, Any] | None = None) -> _Model:
    """The compiled model of a shape. A new one is solved once with `values` before use: cvxpy's
    first solve of a parameterised problem builds its data by compilation and every later one by
    the cached affine map, which differ in rounding, so without this warm-up the first answer in
    a process could differ from the next ones for the same instance (by ~1e-9 relative)."""
    model = _CACHE.get(key)
    if model is None:
        model = _Model(key)
        if values is not None:
            model.set(values)
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", UserWarning)
                try:
                    model.problem.solve(solver=cp.CLARABEL)
                except cp.error.SolverError:
                    pass  # the real solve below reports it
        _CACHE[key] = model
    return model


def clean_efforts(e: np.ndarray, effort_max: float) -> np.ndarray:
    """Interior-point efforts made exact where the optimum is on a boundary.

    Clarabel stops ~1e-8 inside bounds and pooled efforts differ by ~1e-8 in either direction;
    such a row is not implementable exactly (IC2 needs e2[i, :] nondecreasing in j), so the
    canonical-reward LP would be infeasible by 1e-8. Snap to [0, effort_max] within 1e-7 relative
    and take the running maximum along each period-2 row (a change of that order, which the dual
    bound then certifies).
    """
    tol = 1e-7 * effort_max
    e = np.clip(e, 0.0, effort_max)
    e = np.where(e < tol, 0.0, np.where(e > effort_max - tol, effort_max, e))
    return np.maximum.accumulate(e, axis=1) if e.ndim == 2 else e


def _read_params(params: dict[str, Any]) -> str:
    f = Fields(dict(params), "params")
    mode = as_choice(f.get("model", "cached"), "params.model", MODEL_MODES)
    f.finish()  # refuses unknown keys, naming them and the valid ones
    return mode


def solve(
    instance: ContractInstance,
    *,
    deadline: Deadline,
    seed: int = 0,
    threads: int = 1,
    params: dict[str, Any] | None = None,
) -> SolverOutput:
    mode = _read_params(params or {})
    t0 = time.perf_counter()
    key = ModelKey.of(instance)
    values = parameter_values(instance)
    if mode == "inline":
        model = _Model(key, values)
    elif mode == "rebuild":
        model = _Model(key)
        model.set(values)
    else:
        model = cached_model(key, values)
        model.set(values)
    build_s = time.perf_counter() - t0
    out = dict(build_s=build_s, backend=BACKEND, backend_version=cp.__version__)
    if deadline.expired():
        return SolverOutput(Status.TIME_LIMIT, message="time limit reached while building", **out)
    t1 = time.perf_counter()
    attempts: list[_Attempt] = []
    timed_out = False
    for name, overrides in _ATTEMPTS:
        remaining = deadline.remaining_s()
        if attempts and remaining is not None and remaining <= 0:
            timed_out = True  # the Deadline counts every retry too
            break
        attempt = _attempt(instance, model, values, name, overrides, remaining)
        attempts.append(attempt)
        if attempt.status in (Status.OPTIMAL, Status.TIME_LIMIT):
            timed_out = attempt.status is Status.TIME_LIMIT
            break
    return _result(attempts, timed_out, time.perf_counter() - t1, out)


# Clarabel settings of the first attempt (its defaults, passed explicitly) and of the retries.
# cvxpy keeps one Clarabel solver per compiled problem and re-solves it with `update`, which keeps
# every setting not passed again, so each solve passes all settings any attempt changes (and the
# time limit, `inf` when there is none): a retry or a time-limited call never leaks into the next
# instance's solve.
_DEFAULT_SETTINGS: dict[str, Any] = {
    name: getattr(clarabel.DefaultSettings(), name)
    for name in ("max_step_fraction", "tol_gap_abs", "tol_gap_rel", "tol_feas", "max_iter")
}
_ATTEMPTS: tuple[tuple[str, dict[str, Any]], ...] = (
    ("default", {}),
    ("max_step_0.95", {"max_step_fraction": 0.95}),
    ("max_step_0.9", {"max_step_fraction": 0.9}),
    (
        "max_step_0.95_tol_1e-10",
        {"max_step_fraction": 0.95, "tol_gap_abs": 1e-10, "tol_gap_rel": 1e-10, "tol_feas": 1e-10},
    ),
    ("max_step_0.8", {"max_step_fraction": 0.8}),
)
"""Deterministic re-solve sequence, tried in order only while no attempt is OPTIMAL (certified).

Measured on the `default` preset with n_types = 8, seeds 0-1999 (docs/benchmarks.md): with its
defaults Clarabel stops with InsufficientProgress (cvxpy: SolverError) on 2 instances, its step
length having collapsed to < 1e-3 at a relative gap of 7e-4 (seed 925) and 7e-3 (seed 1228), and
on 10 more it returns efforts whose canonical menu is 1e-6 to 6e-5 below the optimum (`inaccurate`
or `gap_not_certified`). The maximum step fraction 0.95 (of the distance to the cone boundary;
default 0.99) certifies 9 of the 12, 0.9 one more and 0.95 with tolerances 1e-10 the last two;
Clarabel's other knobs tried (equilibration off or wider, static regularisation 1e-7, longer
iterative refinement, tolerances alone) left seeds 925 and 1228 failing. On `large` seeds 0-39
(I = 8-20) the first four certify 39; seed 26 (I = 19) ends FEASIBLE with gap 4.2e-6 after them,
and a maximum step of 0.8 certifies it (0.9 with tolerances 1e-10 does not; 0.7 does too).
"""


@dataclass
class _Attempt:
    """One Clarabel solve of the model, canonicalised and certified as far as it got."""

    name: str
    status: Status
    flags: tuple[str, ...]
    message: str = ""
    cvx_status: str | None = None
    decision: ContractDecision | None = None
    objective: float | None = None
    max_violation: float = math.inf
    bound: float | None = None
    certificate: dict[str, Any] | None = None


def _attempt(
    instance: ContractInstance,
    model: _Model,
    values: dict[str, Any],
    name: str,
    overrides: dict[str, Any],
    remaining: float | None,
) -> _Attempt:
    settings = {**_DEFAULT_SETTINGS, **overrides}
    settings["time_limit"] = math.inf if remaining is None else remaining
    try:
        with warnings.catch_warnings():
            # cvxpy warns "solution may be inaccurate"; the status map and the certificate
            # below say it precisely, so the warning would only be noise on stderr.
            warnings.simplefilter("ignore", UserWarning)
            model.problem.solve(solver=cp.CLARABEL, **settings)
        cvx_status = model.problem.status
    except cp.error.SolverError as exc:
        return _Attempt(name, Status.ERROR, (), message=f"clarabel: {exc}")
    status, flags = _STATUS.get(cvx_status, (Status.ERROR, ("unknown_status",)))
    if model.x1.value is None or status is Status.ERROR:
        return _Attempt(
            name,
            status if status is not Status.OPTIMAL else Status.ERROR,
            flags,
            message=f"cvxpy status {cvx_status}",
            cvx_status=cvx_status,
        )
    a, m = scales(instance)
    system = build_system(instance)
    lay = system.layout
    # Clarabel's efforts are accurate to ~1e-4 where the objective is flat near the optimum; the
    # Lagrangian's maximiser at its multipliers is exact up to their error wherever G has
    # positive weight (closed form, certificate.py). The polished menu is kept when the dual
    # bound certifies it; otherwise the raw efforts get canonical rewards too and the better menu
    # wins (the raw one where the multipliers are degenerate).
    w_g, _ = objective_weights(instance)
    cert = dual_bound(instance, system, model.multipliers(system, instance.n_servers))
    raw = lay.join_efforts(a * model.x1.value, a * model.x2.value if instance.dynamic else None)
    candidates = [_canonical_menu(instance, system, np.where(w_g > 0, cert.efforts, raw))]
    if candidates[0] is None or relative_gap(candidates[0].objective, cert.bound) > _POLISH_ACCEPT:
        candidates.append(_canonical_menu(instance, system, raw))
    candidates = [c for c in candidates if c is not None]
    flags = list(flags)
    if candidates:
        menu = max(candidates, key=lambda c: c.objective)
        flags.extend(menu.flags)
        decision, objective = menu.decision, menu.objective
        ev = evaluate(instance, decision)
    else:  # no implementable menu found: keep Clarabel's own menu, efforts and rewards
        flags.append("not_canonical")
        e1, e2 = (
            None if e is None else clean_efforts(e, instance.effort_max)
            for e in lay.split_efforts(raw)
        )
        r1 = m * (model.u1.value + values["phit1"] * model.x1.value)
        r2 = m * (model.u2.value + values["phit2"] * model.x2.value) if instance.dynamic else None
        decision = ContractDecision(effort1=e1, reward1=r1, effort2=e2, reward2=r2)
        ev = evaluate(instance, decision)
        objective = ev.objective
    gap = relative_gap(objective, cert.bound)
    if (
        cvx_status == cp.OPTIMAL_INACCURATE
        and ev.max_violation <= EXACT_FEASIBILITY
        and gap <= CERTIFIED_GAP_REL
    ):
        # Clarabel could not meet its own tolerances, but the answer carries an independent proof:
        # feasible by evaluate() and within the certified gap of a valid dual bound.
        status = Status.OPTIMAL
    if status is Status.OPTIMAL:
        if ev.max_violation > EXACT_FEASIBILITY:
            status = Status.FEASIBLE
            flags.append("violation_above_tolerance")
        elif not (gap <= CERTIFIED_GAP_REL):
            status = Status.FEASIBLE
            flags.append("gap_not_certified")
    lam = cert.multipliers
    constraint_groups = tuple(g for g in ev.slacks if not g.startswith(("e1_", "e2_")))
    binding = [n for n, v in ev.slack_items(constraint_groups) if v <= EXACT_FEASIBILITY]
    certificate = {
        "dual_bound": cert.bound,
        "stationarity_residual": cert.residual,
        "convex_objective": instance.n_servers * m * float(model.problem.value),
        "convex_status": str(cvx_status),
        "binding": binding,
        "multipliers": {
            system.row_name(k): float(lam[k]) for k in np.flatnonzero(np.abs(lam) > 1e-9)
        },
        "information_rent": ev.rent1.tolist(),
        "scaling": {"effort": a, "money": m},
    }
    return _Attempt(
        name,
        status,
        tuple(flags),
        cvx_status=cvx_status,
        decision=decision,
        objective=objective,
        max_violation=ev.max_violation,
        bound=cert.bound,
        certificate=certificate,
    )


def _result(
    attempts: list[_Attempt], timed_out: bool, solve_s: float, out: dict[str, Any]
) -> SolverOutput:
    """The first certified attempt; failing that, the best menu under the lowest bound.

    Every attempt's bound is a valid upper bound (weak duality holds whatever multipliers produced
    it) and every menu that evaluate() accepts is feasible, so the best menu and the lowest bound
    of different attempts may be paired. The first attempt alone is returned exactly as before
    the retries existed, so instances that solved then get the same answer now. When the Deadline
    stops the sequence before a certified answer, the status is TIME_LIMIT (with the best menu).
    """
    last = attempts[-1]
    if len(attempts) == 1 and not timed_out:
        return _output(last, last, (), solve_s, out)
    retry_flags = ("clarabel_retry",) if len(attempts) > 1 else ()
    tried = [
        {"settings": a.name, "status": a.status.value, "convex_status": a.cvx_status}
        for a in attempts
    ]
    if last.status is Status.OPTIMAL:
        return _output(last, last, retry_flags, solve_s, out, tried)
    menus = [a for a in attempts if a.decision is not None]
    if not menus:
        final = dataclasses.replace(last, status=Status.TIME_LIMIT) if timed_out else last
        return _output(final, final, retry_flags, solve_s, out, tried)
    feasible = [a for a in menus if a.max_violation <= EXACT_FEASIBILITY]
    menu = max(feasible or menus, key=lambda a: a.objective)
    dual = min((a for a in attempts if a.bound is not None), key=lambda a: a.bound)
    if (
        menu is not dual
        and feasible
        and relative_gap(menu.objective, dual.bound) <= CERTIFIED_GAP_REL
    ):
        # certified by a bound of another attempt (the menu's own bound did not certify it)
        flags = tuple(f for f in menu.flags if f != "gap_not_certified") + (
            "bound_of_other_attempt",
        )
        menu = dataclasses.replace(menu, status=Status.OPTIMAL, flags=flags)
    elif timed_out:
        menu = dataclasses.replace(menu, status=Status.TIME_LIMIT)
    return _output(menu, dual, retry_flags, solve_s, out, tried)


def _output(
    menu: _Attempt,
    dual: _Attempt,
    extra_flags: tuple[str, ...],
    solve_s: float,
    out: dict[str, Any],
    tried: list[dict[str, Any]] | None = None,
) -> SolverOutput:
    certificate = None
    if dual.certificate is not None:
        certificate = dict(dual.certificate)
        if menu is not dual:
            certificate["binding"] = menu.certificate["binding"]
            certificate["information_rent"] = menu.certificate["information_rent"]
        if tried is not None:
            certificate["clarabel_attempts"] = tried
    message = menu.message
    if certificate is None and tried is not None:
        message += f" (Clarabel settings tried: {', '.join(a['settings'] for a in tried)})"
    return SolverOutput(
        menu.status,
        objective=menu.objective,
        bound=dual.bound,
        decision=menu.decision,
        certificate=certificate,
        solve_s=solve_s,
        flags=menu.flags + extra_flags,
        message=message,
        **out,
    )


@dataclass(frozen=True)
class _Menu:
    decision: ContractDecision
    objective: float
    flags: tuple[str, ...]


def _canonical_menu(instance: ContractInstance, system, target: np.ndarray) -> _Menu | None:
    """Canonical rewards for efforts near `target` (projected onto implementable ones if needed)."""
    lay = system.layout
    e1, e2 = lay.split_efforts(target)
    efforts = lay.join_efforts(
        clean_efforts(e1, instance.effort_max),
        None if e2 is None else clean_efforts(e2, instance.effort_max),
    )
    flags: tuple[str, ...] = ()
    canon = canonical_rewards(instance, system, efforts)
    if not canon.ok:
        moved = implementable_efforts(instance, system, efforts)
        if moved is None:
            return None
        efforts, flags = moved, ("efforts_projected",)
        canon = canonical_rewards(instance, system, efforts)
        if not canon.ok:
            return None
    w_g, _ = objective_weights(instance)
    objective = instance.n_servers * (
        float(w_g @ instance.valuation.value(efforts)) - canon.payment
    )
    e1, e2 = lay.split_efforts(efforts)
    decision = ContractDecision(effort1=e1, reward1=canon.r1, effort2=e2, reward2=canon.r2)
    return _Menu(decision, objective, flags)
