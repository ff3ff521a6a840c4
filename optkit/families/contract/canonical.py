"""Canonical rewards: with efforts fixed, the IC/IR menu's rewards from two small HiGHS LPs.

The optimal rewards of a contract are not unique (under interim IR not even bounded without the
U2[i, 0] = 0 normalisation), so every exact solver reports the same canonical menu (spec):
  stage 1  min  expected payment  wR · R        s.t. every IC/IR row, efforts fixed
  stage 2  min  Σ R                             s.t. the same rows, wR · R <= stage-1 optimum (+ tol)
A simplex vertex from HiGHS (one thread, fixed options) is deterministic, so canonical decisions
are reproducible bit for bit; its feasibility tolerance is tightened to 1e-9 so evaluate() sees
violations far below the 1e-7 of the tolerance table.
"""

from __future__ import annotations

from dataclasses import dataclass

import highspy
import numpy as np

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


def canonical_rewards(inst, system: LinearSystem, efforts: np.ndarray) -> CanonicalRewards:
    """Rewards for the given efforts (Layout.effort_cols order)."""
    lay = system.layout
    A = system.A
    rc = lay.reward_cols
    A_e = A[:, lay.effort_cols]
    A_r = A[:, rc].tocsc()
    rhs = -(A_e @ efforts)  # A_r R >= rhs
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
        return CanonicalRewards(False, None, None, np.nan, f"stage-1 LP: {h.modelStatusToString(status)}")
    payment = float(h.getInfo().objective_function_value)
    cap = payment + _PAYMENT_SLACK_REL * max(1.0, abs(payment))
    idx = np.arange(len(rc), dtype=np.int32)
    h.addRow(-inf, cap, len(rc), idx, w_r)
    h.changeColsCost(len(rc), idx, np.ones(len(rc)))
    h.run()
    status = h.getModelStatus()
    if status != highspy.HighsModelStatus.kOptimal:
        return CanonicalRewards(False, None, None, payment, f"stage-2 LP: {h.modelStatusToString(status)}")
    r = np.asarray(h.getSolution().col_value, dtype=float)
    n = lay.n
    r1 = r[:n].copy()
    r2 = r[n:].reshape(n, n).copy() if lay.dynamic else None
    return CanonicalRewards(True, r1, r2, payment)
