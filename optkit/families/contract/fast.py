"""The `fast` contract solver: a batched primal-dual interior-point method with a certificate.

Structure exploited (spec/contract.md, `fast`):
* Utility coordinates. With U = R - φ e every IR constraint is a bound. Per period: U1, U2 >= 0.
  Interim: the period-1 variable is the interim rent V_i = U1_i + δ Σ_j P_ij U2_ij >= 0 (so U1 is
  never a free variable), and the normalisation U2[i, 0] = 0 removes a column instead of adding a
  row. Only IC rows (and interim liability rows) remain; every variable is >= 0.
* Period-2 IC at one history is static screening with linear costs, which has single crossing:
  the adjacent upward and downward ICs imply every pairwise IC2 (they force each e2 row to be
  nondecreasing, and adjacent steps then chain; Laffont & Martimort 2002, sec. 2.14). The batch
  keeps 2(I - 1) rows per history instead of I(I - 1); IC1 stays pairwise (continuations differ by
  history, so no single crossing holds there).
* Every instance of one shape (I, periods, ir, liability, valuation kind) has the same sparsity,
  so a batch is a stack of small dense problems and a Newton step is one batched linear solve.
The method is Mehrotra's predictor-corrector on
    min f(v) = -Σ_k w_k (g(x_k) - φ̃_k x_k) + Σ_j c_j u_j   s.t.  G v >= 0,  v >= 0,  x <= x_max
in the normalised units of exact_cvxpy.py (e = a·x, U = m·u), vectorised over the batch, with
one step length for primal and dual (a curved objective), Jacobi-scaled Newton systems, and items
leaving the batch as soon as they are certified.

Certificate, per instance (spec): (1) evaluate() on the menu in original units, max violation
<= 1e-7; (2) multipliers λ >= 0 with stationarity in the utilities holding exactly (every utility
is bounded below by 0, so its bound multiplier z = c - G_uᵀλ only has to be >= 0; where rounding
leaves it slightly negative, scaling λ by (1 - ε) restores it exactly); (3) the Lagrangian dual
bound, closed form over x in [0, x_max] as in certificate.py, within 1e-6 relative of the
objective. Two duals are tried at each iterate: the iterate's λ, and λ refitted by least squares
on the active set the iterate identifies (accurate to the primal's error, while the iterate's λ
carries the O(ε/s) error of dλ = (r_c - λ ds)/s near the end). An instance whose iteration does
not certify, or that fails any part, is re-solved by `cvxpy` and counted as a fallback.

Deadline: the interior point checks it before every Newton step of the whole live batch (2,000
`default` items given 0.15 s returned after 0.17 s, docs/contract.md); once it has passed, the items
still iterating stop and are not re-solved by cvxpy. Such an item is TIME_LIMIT with the Lagrangian
bound of its best multipliers so far (λ = 0, the first-best bound, before any certificate) and its
menu only where evaluate() finds it feasible. A fallback of a certificate failure gets what is
left of the deadline.

Rewards: the interior-point menu sits at the analytic centre of the optimal face, so where the
optimal rewards are not unique they can differ from cvxpy's canonical vertex (two HiGHS LPs).
Objective and efforts agree; `params={"canonical": True}` adds the canonical LPs (slower).
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from functools import cache
from typing import Any

import numpy as np

from optkit.core.fields import Fields, as_bool
from optkit.core.result import SolverOutput
from optkit.core.status import Status
from optkit.core.timing import Deadline
from optkit.core.tolerances import CERTIFIED_GAP_REL, EXACT_FEASIBILITY, relative_gap
from optkit.families.contract.evaluate import evaluate_batch
from optkit.families.contract.instance import ContractDecision, ContractInstance, LogValuation

BACKEND = "numpy-ipm"
MAX_ITER = 60
_STEP = 0.995  # fraction to the boundary
_GAP_STOP = 1e-8  # certified relative gap at which an item leaves the iteration (accept: 1e-6)
_MU_FLOOR = 1e-12  # below this the Newton systems are too ill-conditioned to improve anything
_PATIENCE = 2  # an item certified below 1e-6 stops after this many steps without improvement
_CERTIFY_BELOW_MU = 1e-4  # certificates are computed only once the iterate is near optimal
_PRIMAL_TOL = 1e-9  # max |G v - s| in original money/effort units, per ES (evaluate checks 1e-7)


@dataclass(frozen=True)
class Shape:
    n: int
    dynamic: bool
    interim: bool
    liability: bool
    log: bool

    @classmethod
    def of(cls, inst: ContractInstance) -> Shape:
        return cls(
            inst.n_types,
            inst.dynamic,
            inst.ir == "interim" and inst.dynamic,
            inst.limited_liability,
            isinstance(inst.valuation, LogValuation),
        )


@dataclass(frozen=True)
class _Layout:
    """Columns and rows of one shape. Columns: x (effort slots: x1, then x2 row-major), then the
    kept utility slots (slot k of u pairs with slot k of x; interim drops u2[i, 0])."""

    shape: Shape
    nx: int
    u_keep: np.ndarray
    rows: dict[str, np.ndarray]

    @property
    def nv(self) -> int:
        return self.nx + len(self.u_keep)


@cache
def _layout(shape: Shape) -> _Layout:
    n = shape.n
    nx = n + (n * n if shape.dynamic else 0)
    keep = np.arange(nx)
    if shape.interim:
        keep = np.array([k for k in range(nx) if not (k >= n and (k - n) % n == 0)])
    ii, kk = np.nonzero(~np.eye(n, dtype=bool))
    rows: dict[str, np.ndarray] = {"ic1": np.stack([ii, kk], axis=1)}
    if shape.dynamic:
        adj = [
            (i, j, j2) for i in range(n) for j in range(n) for j2 in (j - 1, j + 1) if 0 <= j2 < n
        ]
        rows["ic2"] = np.array(adj, dtype=np.int64).reshape(-1, 3)
    if shape.liability and shape.interim:
        # R1 >= 0 is a row only under interim IR (per period it follows from U1 >= 0, e >= 0);
        # R2 >= 0 follows from U2 >= 0 in both cases
        rows["liability1"] = np.arange(n)[:, None]
    return _Layout(shape, nx, keep, rows)


@dataclass
class _Batch:
    """Dense per-instance data of one shape."""

    lay: _Layout
    G: np.ndarray  # (B, m, nv) rows, G v >= 0
    w: np.ndarray  # (B, nx) weight of effort slot k: ν_i or δ ν_i P_ij
    cost: np.ndarray  # (B, nx) φ̃ of slot k
    c: np.ndarray  # (B, nu) objective cost of each utility column (minimised)
    xmax: np.ndarray  # (B,)
    rho: np.ndarray  # (B,) power exponent (unused for log)
    a: np.ndarray  # (B,) effort scale
    m: np.ndarray  # (B,) money scale
    dP: np.ndarray | None  # (B, n, n) δ P, to recover U1 from V under interim IR

    def take(self, idx: np.ndarray) -> _Batch:
        return _Batch(
            self.lay, *(getattr(self, f)[idx] for f in ("G", "w", "cost", "c", "xmax", "rho")),
            self.a[idx], self.m[idx], None if self.dP is None else self.dP[idx],
        )  # fmt: skip


def _scales(inst: ContractInstance) -> tuple[float, float]:
    """(a, m) of exact_cvxpy.scales, repeated here so that this module never imports cvxpy."""
    v = inst.valuation
    if isinstance(v, LogValuation):
        return 1.0 / v.kappa, v.omega
    return inst.effort_max, v.omega * inst.effort_max**v.rho


def _build(lay: _Layout, insts: list[ContractInstance]) -> _Batch:
    sh, n, nx = lay.shape, lay.shape.n, lay.nx
    B = len(insts)
    a, m = np.array([_scales(i) for i in insts]).T
    phit = np.array([i.phi for i in insts]) * (a / m)[:, None]
    nu = np.array([i.prior for i in insts])
    w, cost, dP = nu, phit, None
    if sh.dynamic:
        delta = np.array([i.discount for i in insts])
        dP = delta[:, None, None] * np.array([i.transition for i in insts])
        w = np.concatenate([nu, (nu[:, :, None] * dP).reshape(B, -1)], axis=1)
        cost = np.concatenate([phit, np.tile(phit, (1, n))], axis=1)
    u1 = lambda i: nx + i  # noqa: E731  (full utility column of slot k is nx + k)
    u2 = lambda i, j: nx + n + i * n + j  # noqa: E731
    blocks = []
    # IC1 [i, k]. Per period: u1_i + δΣ_j P_ij u2_ij - u1_k - (φ̃_k - φ̃_i) x1_k - δΣ_j P_ij u2_kj.
    # Interim, with u1_i = V_i - δΣ_j P_ij u2_ij:  V_i - V_k - (φ̃_k - φ̃_i) x1_k
    #                                               + δΣ_j (P_kj - P_ij) u2_kj.
    ic1 = lay.rows["ic1"]
    r, i, k = np.arange(len(ic1)), ic1[:, 0], ic1[:, 1]
    G1 = np.zeros((B, len(ic1), nx + nx))
    G1[:, r, u1(i)] += 1.0
    G1[:, r, u1(k)] -= 1.0
    G1[:, r, k] -= phit[:, k] - phit[:, i]
    if sh.dynamic:
        for j in range(n):
            if sh.interim:
                G1[:, r, u2(k, j)] += dP[:, k, j] - dP[:, i, j]
            else:
                G1[:, r, u2(i, j)] += dP[:, i, j]
                G1[:, r, u2(k, j)] -= dP[:, i, j]
    blocks.append(G1)
    if sh.dynamic:  # IC2 [i, j, j']: u2_ij - u2_ij' - (φ̃_j' - φ̃_j) x2_ij'
        ic2 = lay.rows["ic2"]
        r, hi, hj, hk = np.arange(len(ic2)), *ic2.T
        G2 = np.zeros((B, len(ic2), nx + nx))
        G2[:, r, u2(hi, hj)] += 1.0
        G2[:, r, u2(hi, hk)] -= 1.0
        G2[:, r, n + hi * n + hk] -= phit[:, hk] - phit[:, hj]
        blocks.append(G2)
    if "liability1" in lay.rows:  # R1_i / m = V_i - δΣ_j P_ij u2_ij + φ̃_i x1_i >= 0
        r = np.arange(n)
        G3 = np.zeros((B, n, nx + nx))
        G3[:, r, u1(r)] = 1.0
        G3[:, r, r] = phit
        for j in range(n):
            G3[:, r, u2(r, j)] -= dP[:, r, j]
        blocks.append(G3)
    G = np.concatenate(blocks, axis=1)[:, :, np.concatenate([np.arange(nx), nx + lay.u_keep])]
    # utility costs: w of the slot; under interim only V carries cost (the u2 terms cancel)
    c = w[:, lay.u_keep].copy()
    if sh.interim:
        c[:, n:] = 0.0
    xmax = np.array([i.effort_max for i in insts]) / a
    rho = np.array([getattr(i.valuation, "rho", 0.5) for i in insts])
    return _Batch(lay, G, w, cost, c, xmax, rho, a, m, dP)


def _g(b: _Batch, x: np.ndarray, order: int) -> np.ndarray:
    """g, g' or g'' of the normalised valuation (log: ln(1 + x); power: x^ρ)."""
    if b.lay.shape.log:
        return (np.log1p(x), 1.0 / (1.0 + x), -1.0 / (1.0 + x) ** 2)[order]
    r = b.rho[:, None]
    with np.errstate(divide="ignore"):
        return (x**r, r * x ** (r - 1.0), r * (r - 1.0) * x ** (r - 2.0))[order]


def _primal_value(b: _Batch, v: np.ndarray) -> np.ndarray:
    """-f(v): the per-ES objective in normalised units."""
    nx = b.lay.nx
    x = np.maximum(v[:, :nx], 0.0)
    return (b.w * (_g(b, x, 0) - b.cost * x)).sum(1) - (b.c * v[:, nx:]).sum(1)


def _dual_bound(b: _Batch, lam: np.ndarray) -> np.ndarray:
    """The Lagrangian bound per ES (normalised units) of any λ (made >= 0 and repaired).

    Stationarity in the utilities needs z = c - G_uᵀλ >= 0 (the multiplier of u >= 0). Where
    z < 0 the pull G_uᵀλ exceeds c >= 0, so shrinking every λ by (1 - ε), ε = max(-z / pull),
    makes every such z >= 0 without turning another negative; the bound is then exact. The
    x-part is the closed-form maximum of a concave function on [0, x_max].
    """
    nx = b.lay.nx
    lam = np.maximum(lam, 0.0)
    pull = np.einsum("bmn,bm->bn", b.G[:, :, nx:], lam)
    z = b.c - pull
    with np.errstate(divide="ignore", invalid="ignore"):
        need = np.where((z < 0) & (pull > 0), -z / pull, 0.0)
    lam = lam * (1.0 - need.max(1, initial=0.0))[:, None]
    slope = np.einsum("bmn,bm->bn", b.G[:, :, :nx], lam) - b.w * b.cost
    xmax = b.xmax[:, None]
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        if b.lay.shape.log:
            stat = -b.w / slope - 1.0  # w / (1 + x) = -slope
        else:
            r = b.rho[:, None]
            stat = (-slope / (b.w * r)) ** (1.0 / (r - 1.0))  # w ρ x^(ρ-1) = -slope
    x = np.where(slope >= 0, xmax, np.clip(np.nan_to_num(stat, nan=0.0, posinf=1e300), 0, xmax))
    x = np.where(b.w <= 0, np.where(slope > 0, xmax, 0.0), x)
    return (b.w * _g(b, x, 0) + slope * x).sum(1)


def _refit(b: _Batch, grad: np.ndarray, lam0: np.ndarray, active: np.ndarray, fit: np.ndarray):
    """λ >= 0 on the active rows fitting (Gᵀλ)_j = ∇f_j for the variables off their bounds.

    Normal equations on the active rows, with a small ridge towards the iterate's λ so that a
    degenerate active set keeps the iterate's choice rather than the minimum-norm one.
    """
    B, m, _ = b.G.shape
    if m == 0:
        return lam0
    Ga = b.G * active[:, :, None]
    N = np.matmul(Ga * fit[:, None, :], Ga.transpose(0, 2, 1))
    rhs = np.einsum("bmn,bn->bm", Ga, fit * grad)
    idx = np.arange(m)
    ridge = 1e-9 * (1.0 + N[:, idx, idx])
    N[:, idx, idx] += np.where(active, ridge, 1.0)
    rhs += np.where(active, ridge * lam0, 0.0)
    lam = np.linalg.solve(N, rhs[:, :, None])[:, :, 0]
    return np.where(active & np.isfinite(lam), np.maximum(lam, 0.0), 0.0)


@dataclass
class _State:
    """Interior-point iterate of a sub-batch: primal v, row slacks s, duals λ, z (v >= 0), y
    (x <= x_max)."""

    v: np.ndarray
    s: np.ndarray
    lam: np.ndarray
    z: np.ndarray
    y: np.ndarray

    def take(self, idx: np.ndarray) -> _State:
        return _State(self.v[idx], self.s[idx], self.lam[idx], self.z[idx], self.y[idx])


def _spd_solver(M: np.ndarray):
    """x = M⁻¹ r for a batch of symmetric positive definite matrices: one batched Cholesky
    factorisation, then forward and back substitution vectorised over the batch (numpy has no
    batched triangular solve; n small steps beat a general inverse by about 2x here)."""
    try:
        L = np.linalg.cholesky(M)
    except np.linalg.LinAlgError:  # not numerically PD somewhere: a general inverse for all
        Minv = np.linalg.inv(M)
        return lambda r: np.einsum("bij,bj->bi", Minv, r)
    n = M.shape[1]
    diag = L[:, np.arange(n), np.arange(n)]

    def solve(r: np.ndarray) -> np.ndarray:
        y = np.empty_like(r)
        for i in range(n):
            y[:, i] = (r[:, i] - np.einsum("bj,bj->b", L[:, i, :i], y[:, :i])) / diag[:, i]
        x = np.empty_like(r)
        for i in range(n - 1, -1, -1):
            x[:, i] = (y[:, i] - np.einsum("bj,bj->b", L[:, i + 1 :, i], x[:, i + 1 :])) / diag[
                :, i
            ]
        return x

    return solve


def _newton(b: _Batch, st: _State):
    """One Mehrotra predictor-corrector step on a sub-batch; returns the new state and μ."""
    G, nx = b.G, b.lay.nx
    B, m, nv = G.shape
    v, s, lam, z, y = st.v, st.s, st.lam, st.z, st.y
    x = v[:, :nx]
    xu = b.xmax[:, None] - x  # distance to the effort upper bound
    grad = np.concatenate([-b.w * (_g(b, x, 1) - b.cost), b.c], axis=1)
    hess = np.zeros_like(v)
    hess[:, :nx] = -b.w * _g(b, x, 2)
    y_full = np.zeros_like(v)
    y_full[:, :nx] = y
    r_d = grad - np.einsum("bmn,bm->bn", G, lam) - z + y_full
    r_p = np.einsum("bmn,bn->bm", G, v) - s
    n_comp = m + nv + nx
    mu = ((s * lam).sum(1) + (v * z).sum(1) + (xu * y).sum(1)) / n_comp
    M = np.matmul(G.transpose(0, 2, 1) * (lam / s)[:, None, :], G)
    diag = hess + z / v
    diag[:, :nx] += y / xu
    d = np.arange(nv)
    M[:, d, d] += diag
    # Jacobi equilibration: as μ -> 0 the bound terms spread the diagonal over many orders of
    # magnitude; inverting the scaled matrix keeps the directions accurate
    dsc = 1.0 / np.sqrt(M[:, d, d])
    solve = _spd_solver(M * dsc[:, :, None] * dsc[:, None, :] + 1e-13 * np.eye(nv))

    def direction(r_c, r_z, r_y):
        r_y_full = np.zeros_like(v)
        r_y_full[:, :nx] = r_y / xu
        rhs = -r_d + np.einsum("bmn,bm->bn", G, (r_c - lam * r_p) / s) + r_z / v - r_y_full
        dv = dsc * solve(dsc * rhs)
        ds = np.einsum("bmn,bn->bm", G, dv) + r_p
        return dv, ds, (r_c - lam * ds) / s, (r_z - z * dv) / v, (r_y + y * dv[:, :nx]) / xu

    def step(dv, ds, dl, dz, dy):
        with np.errstate(divide="ignore", invalid="ignore"):
            ratios = [
                np.where(dd < 0, -cur / dd, np.inf).min(1, initial=np.inf)
                for cur, dd in ((s, ds), (v, dv), (xu, -dv[:, :nx]), (lam, dl), (z, dz), (y, dy))
            ]
        return np.minimum(1.0, np.minimum.reduce(ratios))

    aff = direction(-s * lam, -v * z, -xu * y)
    al = step(*aff)[:, None]
    dv, ds, dl, dz, dy = aff
    mu_aff = (
        ((s + al * ds) * (lam + al * dl)).sum(1)
        + ((v + al * dv) * (z + al * dz)).sum(1)
        + ((xu - al * dv[:, :nx]) * (y + al * dy)).sum(1)
    ) / n_comp
    sm = (np.clip(mu_aff / np.maximum(mu, 1e-300), 0.0, 1.0) ** 3 * mu)[:, None]
    cor = direction(sm - s * lam - ds * dl, sm - v * z - dv * dz, sm - xu * y + dv[:, :nx] * dy)
    # one step for primal and dual: with a curved objective, unequal steps leave the dual
    # residual at (a_p - a_d) H dv instead of shrinking it (unlike an LP)
    al = (_STEP * step(*cor))[:, None]
    dv, ds, dl, dz, dy = cor
    new = _State(v + al * dv, s + al * ds, lam + al * dl, z + al * dz, y + al * dy)
    return new, mu, grad, r_p


def _ipm(b: _Batch, deadline: Deadline) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Iterate every item until certified or the deadline; returns the best certified v, λ and
    gap per item (gap inf when no iterate certified)."""
    B, m, nv = b.G.shape
    nx = b.lay.nx
    v = np.ones((B, nv))
    v[:, :nx] = np.minimum(1.0, 0.5 * b.xmax)[:, None]
    st = _State(v, np.maximum(np.einsum("bmn,bn->bm", b.G, v), 1.0), np.ones((B, m)),
                np.ones((B, nv)), np.ones((B, nx)))  # fmt: skip
    best_v, best_lam, best_gap = v.copy(), np.zeros((B, m)), np.full(B, np.inf)
    stale = np.zeros(B, dtype=int)
    primal_tol = _PRIMAL_TOL / np.maximum(np.maximum(b.m, b.a), 1.0)
    live = np.arange(B)
    sub = b
    for _ in range(MAX_ITER):
        if live.size == 0 or deadline.expired():
            break
        with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
            new, mu, grad, r_p = _newton(sub, st)
        near = mu <= _CERTIFY_BELOW_MU
        done = mu <= _MU_FLOOR
        if near.any():
            k = np.flatnonzero(near)
            part = sub.take(k)
            lam_k, s_k, v_k = st.lam[k], st.s[k], st.v[k]
            fit = np.ones_like(v_k)
            fit[:, :nx] = (st.z[k, :nx] <= v_k[:, :nx]) & (
                st.y[k] <= (sub.xmax[k, None] - v_k[:, :nx])
            )
            fit[:, nx:] = st.z[k, nx:] <= v_k[:, nx:]
            lam_fit = _refit(part, grad[k], lam_k, lam_k > s_k, fit)
            bound_iterate, bound_fit = _dual_bound(part, lam_k), _dual_bound(part, lam_fit)
            use_fit = bound_fit <= bound_iterate  # both are valid bounds: keep the tighter
            bound = np.where(use_fit, bound_fit, bound_iterate)
            lam_cert = np.where(use_fit[:, None], lam_fit, lam_k)
            value = _primal_value(part, v_k)
            gap = (bound - value) / np.maximum(np.abs(value), 1.0)
            ok = (np.abs(r_p[k]).max(1, initial=0.0) <= primal_tol[live[k]]) & np.isfinite(gap)
            gk = live[k]
            better = ok & (gap < best_gap[gk])
            best_gap[gk[better]] = gap[better]
            best_v[gk[better]], best_lam[gk[better]] = v_k[better], lam_cert[better]
            stale[gk] = np.where(better, 0, stale[gk] + 1)
            done[k] |= (ok & (gap <= _GAP_STOP)) | (
                (best_gap[gk] <= CERTIFIED_GAP_REL) & (stale[gk] >= _PATIENCE)
            )
        done |= ~(np.isfinite(new.v).all(1) & np.isfinite(new.lam).all(1))
        keep = np.flatnonzero(~done)
        live, sub, st = live[keep], sub.take(keep), new.take(keep)
    return best_v, best_lam, best_gap


def _menus(b: _Batch, v: np.ndarray) -> tuple[np.ndarray, ...]:
    """(e1, R1, e2, R2) of every item in original units (e2, R2 None for one period)."""
    lay, n = b.lay, b.lay.shape.n
    B = v.shape[0]
    x = np.clip(v[:, : lay.nx], 0.0, b.xmax[:, None])
    u = np.zeros((B, lay.nx))
    u[:, lay.u_keep] = v[:, lay.nx :]
    if lay.shape.interim:  # column i holds V_i = u1_i + δ Σ_j P_ij u2_ij
        u[:, :n] -= (b.dP * u[:, n:].reshape(B, n, n)).sum(2)
    e, U = b.a[:, None] * x, b.m[:, None] * u
    phi = b.cost[:, :n] * (b.m / b.a)[:, None]  # φ̃ = φ a / m
    e1, r1 = e[:, :n], U[:, :n] + phi * e[:, :n]
    if not lay.shape.dynamic:
        return e1, r1, None, None
    e2 = e[:, n:].reshape(B, n, n)
    return e1, r1, e2, U[:, n:].reshape(B, n, n) + phi[:, None, :] * e2


@dataclass(frozen=True)
class BatchStats:
    n: int
    fallbacks: int
    seconds: float


def solve_batch(
    instances: list[ContractInstance],
    *,
    canonical: bool = False,
    fallback: bool = True,
    deadline: Deadline | None = None,
) -> tuple[list[SolverOutput], BatchStats]:
    """Solve many instances: grouped by shape, certified one by one, cvxpy for the rest; all of
    it within `deadline` (None: no limit; see the module docstring)."""
    deadline = Deadline(None) if deadline is None else deadline
    t0 = time.perf_counter()
    outputs: list[SolverOutput | None] = [None] * len(instances)
    groups: dict[Shape, list[int]] = {}
    for idx, inst in enumerate(instances):
        groups.setdefault(Shape.of(inst), []).append(idx)
    failed: list[tuple[int, str, SolverOutput]] = []  # (index, why, its TIME_LIMIT output)
    for shape, idxs in groups.items():
        insts = [instances[i] for i in idxs]
        tb = time.perf_counter()
        batch = _build(_layout(shape), insts)
        v, lam, ipm_gap = _ipm(batch, deadline)
        n_servers = np.array([i.n_servers for i in insts], dtype=float)
        bound = n_servers * batch.m * _dual_bound(batch, lam)
        menus = _menus(batch, v)
        finite = np.all(
            [np.isfinite(a.reshape(len(idxs), -1)).all(1) for a in menus if a is not None], 0
        )
        menus = tuple(None if a is None else np.where(
            finite.reshape((-1,) + (1,) * (a.ndim - 1)), a, 0.0) for a in menus)  # fmt: skip
        if canonical:
            menus = _canonicalise(insts, menus)
        # certificate part (1): the family's evaluate(), batched (tests: equal to evaluate())
        objective, violation = evaluate_batch(insts, *menus)
        per_item = (time.perf_counter() - tb) / len(idxs)
        timed_out = deadline.expired()
        for k, idx in enumerate(idxs):
            gap = relative_gap(float(objective[k]), float(bound[k]))
            certified = finite[k] and ipm_gap[k] <= CERTIFIED_GAP_REL
            if certified and violation[k] <= EXACT_FEASIBILITY and gap <= CERTIFIED_GAP_REL:
                e1, r1, e2, r2 = (None if a is None else a[k] for a in menus)
                outputs[idx] = SolverOutput(
                    Status.OPTIMAL,
                    objective=float(objective[k]),
                    bound=float(bound[k]),
                    decision=ContractDecision.from_checked_arrays(e1, r1, e2, r2),
                    certificate={
                        "dual_bound": float(bound[k]),
                        "max_violation": float(violation[k]),
                        "fallback": False,
                    },
                    solve_s=per_item,
                    backend=BACKEND,
                )
                continue
            if certified:
                why = f"certificate failed: violation {violation[k]:.1e}, gap {gap:.1e}"
            else:
                why = f"interior point: best certified gap {ipm_gap[k]:.1e}"
            menu = tuple(None if a is None else a[k] for a in menus)
            stopped = _timed_out(menu, float(objective[k]), float(violation[k]),
                                 float(bound[k]), bool(finite[k]), per_item, why)  # fmt: skip
            if timed_out and not certified:
                outputs[idx] = stopped
            else:
                failed.append((idx, why, stopped))
    for idx, why, stopped in failed:
        if deadline.expired():  # no time left for cvxpy (nor for importing it)
            outputs[idx] = stopped
        elif fallback:
            outputs[idx] = _fallback(instances[idx], why, deadline)
        else:
            outputs[idx] = SolverOutput(Status.ERROR, message=why, backend=BACKEND)
    stats = BatchStats(len(instances), len(failed), time.perf_counter() - t0)
    return [o for o in outputs if o is not None], stats


def _timed_out(
    menu: tuple,
    objective: float,
    violation: float,
    bound: float,
    finite: bool,
    solve_s: float,
    why: str,
) -> SolverOutput:
    """TIME_LIMIT for an item the deadline stopped before its certificate: the bound of its
    best multipliers (valid by weak duality whatever they are), and its menu only if feasible."""
    feasible = finite and violation <= EXACT_FEASIBILITY
    valid = float(bound) if np.isfinite(bound) else None  # JSON carries no NaN or inf
    return SolverOutput(
        Status.TIME_LIMIT,
        objective=objective if feasible else None,
        bound=valid,
        decision=ContractDecision.from_checked_arrays(*menu) if feasible else None,
        certificate={"dual_bound": valid, "max_violation": violation, "fallback": False},
        solve_s=solve_s,
        message=f"time limit reached before a certificate ({why})",
        backend=BACKEND,
    )


def _fallback(inst: ContractInstance, why: str, deadline: Deadline) -> SolverOutput:
    from optkit.families.contract import exact_cvxpy  # lazy: cvxpy only for fallbacks

    out = exact_cvxpy.solve(inst, deadline=deadline)
    return SolverOutput(
        out.status,
        objective=out.objective,
        bound=out.bound,
        decision=out.decision,
        certificate=dict(out.certificate or {}, fallback=True, fallback_reason=why),
        build_s=out.build_s,
        solve_s=out.solve_s,
        flags=(*out.flags, "fallback_cvxpy"),
        message=out.message,
        backend=f"{BACKEND}+{out.backend}",
        backend_version=out.backend_version,
    )


def _canonicalise(insts: list[ContractInstance], menus: tuple) -> tuple:
    """Canonical rewards for every menu's efforts (the two HiGHS LPs of canonical.py)."""
    from optkit.families.contract.canonical import canonical_rewards
    from optkit.families.contract.constraints import build_system

    e1, r1, e2, r2 = (None if a is None else a.copy() for a in menus)
    for k, inst in enumerate(insts):
        system = build_system(inst)
        efforts = system.layout.join_efforts(e1[k], None if e2 is None else e2[k])
        canon = canonical_rewards(inst, system, efforts)
        if canon.ok:
            r1[k] = canon.r1
            if r2 is not None:
                r2[k] = canon.r2
    return e1, r1, e2, r2


def _options(params: dict[str, Any] | None) -> tuple[bool, bool]:
    """(canonical, fallback) from the solver's params; unknown keys are refused."""
    f = Fields(dict(params or {}), "params")
    canonical = as_bool(f.get("canonical", False), "params.canonical")
    fallback = as_bool(f.get("fallback", True), "params.fallback")
    f.finish()  # refuses unknown keys, naming them and the valid ones
    return canonical, fallback


def solve(
    instance: ContractInstance,
    *,
    deadline: Deadline,
    seed: int = 0,
    threads: int = 1,
    params: dict[str, Any] | None = None,
) -> SolverOutput:
    (out,) = solve_many([instance], deadline=deadline, seed=seed, threads=threads, params=params)
    return out


def solve_many(
    instances: list[ContractInstance],
    *,
    deadline: Deadline,
    seed: int = 0,
    threads: int = 1,
    params: dict[str, Any] | None = None,
) -> list[SolverOutput]:
    """The batch entry point (`SolverSpec.batch_entry_point`): `solve` on every instance at once.

    Each output is the one `solve` gives for that instance (the same `solve_batch` path, so the
    same certificate and the same per-instance cvxpy fallback), only the timings are shared, and
    so is the deadline: the whole batch stops at it (the module docstring says what an item the
    deadline stopped gets).
    """
    canonical, fallback = _options(params)
    outputs, _ = solve_batch(
        list(instances), canonical=canonical, fallback=fallback, deadline=deadline
    )
    return outputs
