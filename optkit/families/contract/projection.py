"""The feasible-by-construction action map of the contract env (spec/contract.md, `projected`).

Given target efforts ê, one pre-built HiGHS LP returns the IC/IR menu closest to them:
    min  ||e - ê||_1 + ε · expected payment     s.t. every IC/IR row (A z >= 0), 0 <= e <= e_max
It is always feasible (the zero menu is) and its optimum is a menu, so the map can never produce an
infeasible decision. ε = 1e-6 (per unit of normalised payment) only breaks ties among menus with
equal effort distance in favour of the cheapest rewards; it cannot move an effort by more than
ε · (1 + δ) · 2 in normalised units.

Units: efforts are divided by e_max and money by φ_1 · e_max, so every coefficient is O(1) and the
HiGHS feasibility tolerance (1e-10 here) is a tolerance relative to the instance's scale.
Only the target enters the row bounds: a call changes 2·|e| bounds and re-solves. Each call
starts from the same (cleared) basis, so the menu depends on the target alone, never on the
order of earlier calls (deterministic tie breaking).
"""

from __future__ import annotations

from dataclasses import dataclass

import highspy
import numpy as np
import scipy.sparse as sp

from optkit.families.contract.constraints import build_system, objective_weights
from optkit.families.contract.instance import ContractDecision, ContractInstance

PAYMENT_WEIGHT = 1e-6
_FEAS_TOL = 1e-10
# primal simplex: HiGHS 1.11's dual simplex reports "Solve error" on some of these LPs (free
# reward columns with costs ~1e-9); presolve costs more than it saves on an LP this small
_FIRST_TRY = {"simplex_strategy": 4, "presolve": "off"}
_RETRIES = ({"simplex_strategy": 4, "presolve": "on"}, {"simplex_strategy": 1, "presolve": "on"})


@dataclass(frozen=True)
class Projection:
    decision: ContractDecision
    distance: float
    """||e - ê||_1 in effort units: how far the menu had to move from the target."""


class ProjectedMap:
    """Target efforts -> the closest IC/IR menu, for one instance (build once, call many times)."""

    def __init__(self, instance: ContractInstance):
        self.instance = instance
        system = build_system(instance)
        self.layout = lay = system.layout
        E, money = instance.effort_max, instance.phi[0] * instance.effort_max
        self._effort_scale, self._money_scale = E, money
        ne, nr, m = len(lay.effort_cols), len(lay.reward_cols), system.n_rows
        self._ne = ne
        # rows of A z >= 0 in normalised units: (A_e·E) x + (A_R·money) y >= 0, divided by money
        A_x = system.A_effort * (E / money)
        A_y = system.A_reward
        eye = sp.identity(ne, format="csr")
        M = sp.vstack(
            [
                sp.hstack([A_x, A_y, sp.csr_matrix((m, ne))]),
                sp.hstack([-eye, sp.csr_matrix((ne, nr)), eye]),  # t - x >= -x̂
                sp.hstack([eye, sp.csr_matrix((ne, nr)), eye]),  # t + x >= x̂
            ]
        ).tocsc()
        _, w_r = objective_weights(instance)
        inf = highspy.kHighsInf
        lp = highspy.HighsLp()
        lp.num_col_, lp.num_row_ = ne + nr + ne, M.shape[0]
        lp.col_cost_ = np.concatenate([np.zeros(ne), PAYMENT_WEIGHT * w_r, np.ones(ne)])
        lp.col_lower_ = np.concatenate([np.zeros(ne), np.full(nr, -inf), np.zeros(ne)])
        lp.col_upper_ = np.concatenate([np.ones(ne), np.full(nr + ne, inf)])
        eq = system.equality_rows
        lp.row_lower_ = np.concatenate([np.zeros(m), np.zeros(2 * ne)])
        lp.row_upper_ = np.concatenate([np.where(eq, 0.0, inf), np.full(2 * ne, inf)])
        lp.a_matrix_.format_ = highspy.MatrixFormat.kColwise
        lp.a_matrix_.start_, lp.a_matrix_.index_ = M.indptr, M.indices
        lp.a_matrix_.value_ = M.data
        h = highspy.Highs()
        for key, value in (
            ("output_flag", False),
            ("threads", 1),
            ("solver", "simplex"),
            *_FIRST_TRY.items(),
            ("primal_feasibility_tolerance", _FEAS_TOL),
            ("dual_feasibility_tolerance", _FEAS_TOL),
            ("random_seed", 0),
        ):
            h.setOptionValue(key, value)
        h.passModel(lp)
        self._h = h
        self._rows = np.arange(m, m + 2 * ne, dtype=np.int32)

    def _run(self):
        """Solve; if HiGHS gives up (rare: primal simplex without presolve ended "Unknown" on
        one target in ~2,000 tried, e.g. `default` seed 254 with every effort at e_max), retry
        the same LP from scratch with presolve, then with presolve and dual simplex. The
        sequence is fixed, so the answer still depends on the target only."""
        h = self._h
        h.run()
        status = h.getModelStatus()
        for retry in _RETRIES:
            if status == highspy.HighsModelStatus.kOptimal:
                break
            for key, value in retry.items():
                h.setOptionValue(key, value)
            h.clearSolver()
            h.run()
            status = h.getModelStatus()
        for key, value in _FIRST_TRY.items():  # back to the fast settings for the next call
            h.setOptionValue(key, value)
        return status

    def __call__(self, target_efforts: np.ndarray) -> Projection:
        """The closest menu to `target_efforts` (Layout effort order: e1, then e2 row-major)."""
        target = np.asarray(target_efforts, dtype=float)
        if target.shape != (self._ne,):
            raise ValueError(f"target_efforts must have shape ({self._ne},), got {target.shape}")
        x_hat = np.clip(target / self._effort_scale, 0.0, 1.0)
        h = self._h
        h.clearSolver()  # same start basis on every call: the answer depends on the target only
        inf = highspy.kHighsInf
        for row, lower in zip(self._rows.tolist(), (-x_hat).tolist() + x_hat.tolist(), strict=True):
            h.changeRowBounds(row, lower, inf)  # highspy 1.11 has no vectorised row-bound change
        status = self._run()
        if status != highspy.HighsModelStatus.kOptimal:  # the zero menu is feasible: a bug
            raise RuntimeError(f"projection LP ended {h.modelStatusToString(status)}")
        z = np.asarray(h.getSolution().col_value, dtype=float)
        ne, lay = self._ne, self.layout
        x = np.clip(z[:ne], 0.0, 1.0)
        efforts = x * self._effort_scale
        rewards = z[ne : ne + len(lay.reward_cols)] * self._money_scale
        n = lay.n
        e1, e2 = lay.split_efforts(efforts)
        r1 = rewards[:n]
        r2 = rewards[n:].reshape(n, n) if lay.dynamic else None
        decision = ContractDecision(effort1=e1, reward1=r1, effort2=e2, reward2=r2)
        return Projection(decision, float(np.abs(x - x_hat).sum() * self._effort_scale))
