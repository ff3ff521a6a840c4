"""Canonical rewards: with efforts fixed, the IC/IR menu's rewards from two small HiGHS LPs.

The optimal rewards of a contract are not unique (under interim IR not even bounded without the
U2[i, 0] = 0 normalisation), so every exact solver reports the same canonical menu (spec):
  stage 1  min  expected payment  wR · R        s.t. every IC/IR row, efforts fixed
  stage 2  min  Σ R          s.t. the same rows, wR · R <= stage-1 optimum (+ tol)
A simplex vertex from HiGHS (one thread, fixed options) is deterministic, so canonical decisions
are reproducible bit for bit; its feasibility tolerance is tightened to 1e-9 so evaluate() sees
violations far below the 1e-7 of the tolerance table.
"""

from __future__ import annotations

from dataclasses import dataclass

import highspy
import numpy as np
import scipy.sparse as sp

from optkit.families.contract.constraints import LinearSystem, objective_weights

_FEAS_TOL = 1e-9
_PAYMENT_SLACK_REL = 1e-10


@dataclass(frozen=True)
class CanonicalRewards:
    ok: bool
    r1: np.ndarray | None
    r2: np.ndarray | None
    payment: float
    """Minimum expected payment per ES (stage 1), money units."""
    message: str = ""


def _highs() -> highspy.Highs:
    h = highspy.Highs()
    h.setOptionValue("output_flag", False)
    h.setOptionValue("threads", 1)
    h.setOptionValue("solver", "simplex")
    h.setOptionValue("primal_feasibility_tolerance", _FEAS_TOL)
    h.setOptionValue("dual_feasibility_tolerance", _FEAS_TOL)
    h.setOptionValue("random_seed", 0)
    return h


def implementable_efforts(inst, system: LinearSystem, target: np.ndarray) -> np.ndarray | None:
    """The efforts closest to `target` in L1 that some IC/IR rewards implement (an LP in (e, R)).

    Interior-point efforts can miss implementability by ~1e-8 (for example a pooled pair that
    comes out in the wrong order), which makes the canonical LP infeasible at 1e-9. This LP moves
    them by about that much to a simplex vertex that is exactly implementable. None on failure.
    """
    lay, A = system.layout, system.A
    ne, nr, m = len(lay.effort_cols), len(lay.reward_cols), A.shape[0]
    inf = highspy.kHighsInf
    # columns [e, R, t]; rows: A_e e + A_R R >= 0 (= 0 for equalities), t - e >= -target,
    # t + e >= target, so t >= |e - target| at the optimum.
    eye = sp.identity(ne, format="csr")
    top = sp.hstack([A[:, lay.effort_cols], A[:, lay.reward_cols], sp.csr_matrix((m, ne))])
    mid = sp.hstack([-eye, sp.csr_matrix((ne, nr)), eye])
    bot = sp.hstack([eye, sp.csr_matrix((ne, nr)), eye])
    M = sp.vstack([top, mid, bot]).tocsc()
    eq = system.equality_rows
    lp = highspy.HighsLp()
    lp.num_col_, lp.num_row_ = ne + nr + ne, M.shape[0]
    lp.col_cost_ = np.concatenate([np.zeros(ne + nr), np.ones(ne)])
    lp.col_lower_ = np.concatenate([np.zeros(ne), np.full(nr, -inf), np.zeros(ne)])
    lp.col_upper_ = np.concatenate([np.full(ne, inst.effort_max), np.full(nr + ne, inf)])
    lp.row_lower_ = np.concatenate([np.zeros(m), -target, target])
    lp.row_upper_ = np.concatenate([np.where(eq, 0.0, inf), np.full(2 * ne, inf)])
    lp.a_matrix_.format_ = highspy.MatrixFormat.kColwise
    lp.a_matrix_.start_, lp.a_matrix_.index_, lp.a_matrix_.value_ = M.indptr, M.indices, M.data
    h = _highs()
    h.passModel(lp)
    h.run()
    if h.getModelStatus() != highspy.HighsModelStatus.kOptimal:
        return None
    return np.asarray(h.getSolution().col_value[:ne], dtype=float)


def canonical_rewards(inst, system: LinearSystem, efforts: np.ndarray) -> CanonicalRewards:
    """Rewards for the given efforts (Layout.effort_cols order)."""
    lay = system.layout
    A = system.A
    rc = lay.reward_cols
    A_r = system.A_reward
    rhs = -(system.A_effort @ efforts)  # A_r R >= rhs
    eq = system.equality_rows
    inf = highspy.kHighsInf
    lp = highspy.HighsLp()
    lp.num_col_ = len(rc)
    lp.num_row_ = A.shape[0]
    _, w_r = objective_weights(inst)
    lp.col_cost_ = w_r
    lp.col_lower_ = np.full(len(rc), -inf)
    lp.col_upper_ = np.full(len(rc), inf)
    lp.row_lower_ = rhs
    lp.row_upper_ = np.where(eq, rhs, inf)
    lp.a_matrix_.format_ = highspy.MatrixFormat.kColwise
    lp.a_matrix_.start_ = A_r.indptr
    lp.a_matrix_.index_ = A_r.indices
    lp.a_matrix_.value_ = A_r.data
    h = _highs()
    h.passModel(lp)
    h.run()
    status = h.getModelStatus()
    if status != highspy.HighsModelStatus.kOptimal:
        return CanonicalRewards(
            False, None, None, np.nan, f"stage-1 LP: {h.modelStatusToString(status)}"
        )
    payment = float(h.getInfo().objective_function_value)
    cap = payment + _PAYMENT_SLACK_REL * max(1.0, abs(payment))
    idx = np.arange(len(rc), dtype=np.int32)
    h.addRow(-inf, cap, len(rc), idx, w_r)
    h.changeColsCost(len(rc), idx, np.ones(len(rc)))
    h.run()
    status = h.getModelStatus()
    if status != highspy.HighsModelStatus.kOptimal:
        return CanonicalRewards(
            False, None, None, payment, f"stage-2 LP: {h.modelStatusToString(status)}"
        )
    r = np.asarray(h.getSolution().col_value, dtype=float)
    n = lay.n
    r1 = r[:n].copy()
    r2 = r[n:].reshape(n, n).copy() if lay.dynamic else None
    return CanonicalRewards(True, r1, r2, payment)
