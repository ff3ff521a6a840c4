"""The knapsack MIP, described once as arrays; cpsat, highs and pyomo each translate it.

Variables: x_i ∈ {0, 1} (component i chosen) for i = 1..n, then z_p ∈ [0, 1] for every servable
pair p = (i, s) (i offers s with q_is > 0): "skill s is served by component i".

    max  Σ_p v_p z_p                        v_is = w_s q_is (weighted) or log q_is (all_skills)
    s.t. Σ_i c_i x_i <= B                                          budget
         Σ_{i} z_is <= 1    (= 1 for all_skills)                   one server per skill
         z_is - x_i <= 0                                           serve only from chosen
         x_i + x_k <= 1                                            conflicts
         x_i - x_k <= 0                                            requires i -> k

For fixed x the z-part is one independent assignment per skill whose LP optimum is integral
(pick the best chosen server), so z may stay continuous for an LP-based MIP solver; CP-SAT,
which needs integer variables, makes them Boolean. With v >= 0 (weighted) the optimum serves
each skill by its best chosen component, so the MIP value equals the coverage value of
evaluate.py; all_skills forces a server per skill, and an uncoverable skill (no servable pair)
makes the model infeasible, which is the proved verdict the spec asks for.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import scipy.sparse as sp

from optkit.families.knapsack.instance import KnapsackInstance


@dataclass(frozen=True)
class MipModel:
    n_x: int
    n_skills: int
    pair_component: np.ndarray
    """shape (P,): component index i of z_p."""
    pair_skill: np.ndarray
    """shape (P,): skill index s of z_p."""
    cost: np.ndarray
    """shape (n + P,): objective coefficients (0 on x, v_p on z)."""
    A: sp.csr_matrix
    """shape (rows, n + P)."""
    row_lower: np.ndarray
    row_upper: np.ndarray
    row_names: tuple[str, ...]
    """'budget', 'serve[skill]', 'link[i,s]', 'conflict[j]', 'requires[j]' (index-based)."""
    x_upper: np.ndarray
    """shape (n,): 1, or 0 where x_i = 0 is fixed by `useful_components`."""
    conflict_rows: np.ndarray
    """indices into instance.conflicts of the conflict rows kept (both ends free)."""

    @property
    def n_vars(self) -> int:
        return self.n_x + len(self.pair_component)

    def column_names(self, instance: KnapsackInstance) -> list[str]:
        x = [f"x[{i}]" for i in range(self.n_x)]
        z = [f"z[{i},{s}]" for i, s in zip(self.pair_component, self.pair_skill, strict=True)]
        return x + z

    @property
    def serve_lists(self) -> list[np.ndarray]:
        """Per skill, the indices p of its z_p (its possible servers)."""
        return [np.flatnonzero(self.pair_skill == s) for s in range(self.n_skills)]

    def chosen_mask(self, values: np.ndarray) -> np.ndarray:
        """x rounded from a solver's column values (integral within its tolerance)."""
        return np.asarray(values[: self.n_x]) > 0.5


def useful_components(instance: KnapsackInstance) -> np.ndarray:
    """shape (n,) bool: components some optimal solution may choose; x_i = 0 is exact elsewhere.

    Dropped: a component priced above the budget (never fits), and one that serves no skill
    (positive quality nowhere) unless another component requires it: choosing it only spends
    money, so removing it from any feasible set keeps the set feasible with the same value.
    """
    keep = instance.prices <= instance.budget
    required = np.zeros(instance.n_components, dtype=bool)
    required[instance.requires[:, 1]] = True
    return keep & (instance.servable.any(axis=1) | required)


def build(instance: KnapsackInstance) -> MipModel:
    """The MIP with the exact fixings of `useful_components` applied (HiGHS's own presolve
    stalls on the clique structure of 40,000 conflict rows, so the family does the cheap part)."""
    n, S = instance.n_components, instance.n_skills
    useful = useful_components(instance)
    pi, ps = np.nonzero(instance.servable & useful[:, None])  # sorted by component, then skill
    P = len(pi)
    cost = np.concatenate([np.zeros(n), instance.value_matrix[pi, ps]])
    rows: list[np.ndarray] = []
    cols: list[np.ndarray] = []
    vals: list[np.ndarray] = []
    lower: list[np.ndarray] = []
    upper: list[np.ndarray] = []
    names: list[str] = []

    def block(row_ids, col_ids, coefs, count: int, lo: float, hi: float, labels) -> None:
        """`count` rows lo <= Σ coef·var <= hi; entry k sits in row row_ids[k] of the block."""
        rows.append(np.asarray(row_ids, dtype=np.int64) + len(names))
        cols.append(np.asarray(col_ids, dtype=np.int64))
        vals.append(np.asarray(coefs, dtype=float))
        lower.append(np.full(count, lo))
        upper.append(np.full(count, hi))
        names.extend(labels)

    block(np.zeros(n), np.arange(n), instance.prices, 1, -np.inf, instance.budget, ["budget"])
    # One serve row per skill, a skill without servable pairs included: under all_skills its
    # empty row reads 0 = 1 and the solver proves the instance infeasible.
    serve_lo = 1.0 if instance.objective == "all_skills" else -np.inf
    block(ps, n + np.arange(P), np.ones(P), S, serve_lo, 1.0, [f"serve[{s}]" for s in range(S)])
    link = np.arange(P)
    block(
        np.concatenate([link, link]),
        np.concatenate([n + link, pi]),
        np.concatenate([np.ones(P), -np.ones(P)]),
        P,
        -np.inf,
        0.0,
        [f"link[{i},{s}]" for i, s in zip(pi, ps, strict=True)],
    )
    # A conflict row is dropped when it always holds: an end is fixed out, or the two prices
    # together exceed the budget (the budget row already forbids the pair; on `large` that is
    # about half of the 40,000 rows).
    pair_cost = instance.prices[instance.conflicts].sum(axis=1)
    conflict_rows = np.flatnonzero(
        useful[instance.conflicts].all(axis=1) & (pair_cost <= instance.budget)
    )
    for group, pairs, labels, sign, hi in (
        ("conflict", instance.conflicts[conflict_rows], conflict_rows, 1.0, 1.0),
        ("requires", instance.requires, np.arange(len(instance.requires)), -1.0, 0.0),
    ):
        m = len(pairs)
        j = np.arange(m)
        block(
            np.concatenate([j, j]),
            pairs.T.reshape(-1),
            np.concatenate([np.ones(m), np.full(m, sign)]),
            m,
            -np.inf,
            hi,
            [f"{group}[{k}]" for k in labels],
        )
    A = sp.csr_matrix(
        (np.concatenate(vals), (np.concatenate(rows), np.concatenate(cols))),
        shape=(len(names), n + P),
    )
    return MipModel(
        n_x=n,
        n_skills=S,
        pair_component=pi,
        pair_skill=ps,
        cost=cost,
        A=A,
        row_lower=np.concatenate(lower),
        row_upper=np.concatenate(upper),
        row_names=tuple(names),
        x_upper=useful.astype(float),
        conflict_rows=conflict_rows,
    )


def value_upper_bound(instance: KnapsackInstance) -> float | None:
    """Σ_s max_i v_is over the pairs of build(): every skill served by its best useful
    component, budget and conflicts ignored. A valid (loose) upper bound on the optimum, for a
    TIME_LIMIT answer whose backend stopped before proving one; None when a skill has no
    server under all_skills (the instance is infeasible, no finite bound applies)."""
    useful = useful_components(instance)
    v = np.where(instance.servable & useful[:, None], instance.value_matrix, -np.inf)
    best = v.max(axis=0) if instance.n_components else np.full(instance.n_skills, -np.inf)
    if instance.objective == "all_skills":
        return float(best.sum()) if np.isfinite(best).all() else None
    return float(np.maximum(best, 0.0).sum())
