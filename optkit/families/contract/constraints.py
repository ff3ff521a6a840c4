"""Every IC/IR constraint of an instance as one sparse linear system  A z >= 0  (equality rows = 0).

Variables z = [e1 (I), R1 (I), e2 (I*I, row-major), R2 (I*I, row-major)] in original units.
Used by the canonical-reward LP and by the Lagrangian dual certificate; evaluate.py computes the
same slacks independently (tests compare the two).
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property

import numpy as np
import scipy.sparse as sp

from optkit.families.contract.instance import ContractInstance


@dataclass(frozen=True)
class Layout:
    n: int
    dynamic: bool

    @property
    def size(self) -> int:
        return 2 * self.n + (2 * self.n * self.n if self.dynamic else 0)

    def e1(self, i):
        return i

    def r1(self, i):
        return self.n + np.asarray(i)

    def e2(self, i, j):
        return 2 * self.n + np.asarray(i) * self.n + np.asarray(j)

    def r2(self, i, j):
        return 2 * self.n + self.n * self.n + np.asarray(i) * self.n + np.asarray(j)

    def join_efforts(self, e1: np.ndarray, e2: np.ndarray | None = None) -> np.ndarray:
        """[e1, e2 row-major]: efforts in effort_cols order."""
        return np.concatenate([e1, np.ravel(e2)]) if self.dynamic else np.asarray(e1, float)

    def split_efforts(self, efforts: np.ndarray) -> tuple[np.ndarray, np.ndarray | None]:
        """Inverse of join_efforts: (e1, e2 or None)."""
        n = self.n
        return efforts[:n], (efforts[n:].reshape(n, n) if self.dynamic else None)

    @property
    def effort_cols(self) -> np.ndarray:
        n = self.n
        cols = [np.arange(n)]
        if self.dynamic:
            cols.append(2 * n + np.arange(n * n))
        return np.concatenate(cols)

    @property
    def reward_cols(self) -> np.ndarray:
        n = self.n
        cols = [n + np.arange(n)]
        if self.dynamic:
            cols.append(2 * n + n * n + np.arange(n * n))
        return np.concatenate(cols)


@dataclass(frozen=True)
class Group:
    """Rows [start, stop) of A; index[k] names row start+k (e.g. (i, k) for ic1)."""

    name: str
    start: int
    stop: int
    index: np.ndarray
    equality: bool = False

    def row_name(self, k: int) -> str:
        return f"{self.name}[{', '.join(str(int(v)) for v in self.index[k])}]"


@dataclass(frozen=True, eq=False)
class LinearSystem:
    layout: Layout
    A: sp.csr_matrix
    groups: dict[str, Group]

    @property
    def n_rows(self) -> int:
        return self.A.shape[0]

    @cached_property
    def A_effort(self) -> sp.csr_matrix:
        """Columns of A on the efforts (Layout.effort_cols order)."""
        return self.A[:, self.layout.effort_cols].tocsr()

    @cached_property
    def A_reward(self) -> sp.csc_matrix:
        """Columns of A on the rewards (Layout.reward_cols order), column-compressed for LPs."""
        return self.A[:, self.layout.reward_cols].tocsc()

    @property
    def equality_rows(self) -> np.ndarray:
        mask = np.zeros(self.n_rows, dtype=bool)
        for g in self.groups.values():
            if g.equality:
                mask[g.start : g.stop] = True
        return mask

    def row_name(self, row: int) -> str:
        for g in self.groups.values():
            if g.start <= row < g.stop:
                return g.row_name(row - g.start)
        raise IndexError(row)


class _Builder:
    def __init__(self, layout: Layout):
        self.layout = layout
        self.rows: list[np.ndarray] = []
        self.cols: list[np.ndarray] = []
        self.vals: list[np.ndarray] = []
        self.groups: dict[str, Group] = {}
        self.n_rows = 0

    def add_group(self, name: str, index: np.ndarray, equality: bool = False) -> np.ndarray:
        """Reserve len(index) rows; return their row numbers."""
        index = np.asarray(index, dtype=np.int64)
        start = self.n_rows
        self.n_rows += len(index)
        self.groups[name] = Group(name, start, self.n_rows, index, equality)
        return np.arange(start, self.n_rows)

    def add(self, rows, cols, vals) -> None:
        rows, cols, vals = np.broadcast_arrays(
            np.asarray(rows), np.asarray(cols), np.asarray(vals, float)
        )
        self.rows.append(rows.ravel())
        self.cols.append(cols.ravel())
        self.vals.append(vals.ravel())

    def matrix(self) -> sp.csr_matrix:
        A = sp.coo_matrix(
            (np.concatenate(self.vals), (np.concatenate(self.rows), np.concatenate(self.cols))),
            shape=(self.n_rows, self.layout.size),
        )
        return A.tocsr()  # duplicates (e.g. the i == k terms) are summed


def build_system(inst: ContractInstance, canonical_interim: bool = True) -> LinearSystem:
    """All IC/IR (and limited-liability) rows; with interim IR, also U2[i, 0] = 0 rows."""
    n, phi = inst.n_types, inst.phi
    L = Layout(n, inst.dynamic)
    b = _Builder(L)
    ii, kk = np.nonzero(~np.eye(n, dtype=bool))  # ordered pairs i != k
    # IC1 [i, k]: truthful total of type i >= its total when reporting k.
    rows = b.add_group("ic1", np.stack([ii, kk], axis=1))
    b.add(rows, L.r1(ii), 1.0)
    b.add(rows, L.e1(ii), -phi[ii])
    b.add(rows, L.r1(kk), -1.0)
    b.add(rows, L.e1(kk), phi[ii])
    if inst.dynamic:
        P, d = inst.transition, inst.discount
        j = np.arange(n)
        R, J = rows[:, None], j[None, :]
        w = d * P[ii][:, :]  # [pair, j] = δ P_ij
        b.add(R, L.r2(ii[:, None], J), w)
        b.add(R, L.e2(ii[:, None], J), -w * phi[None, :])
        b.add(R, L.r2(kk[:, None], J), -w)
        b.add(R, L.e2(kk[:, None], J), w * phi[None, :])
        # IC2 [i, j, j']: at history i, type j prefers its own item to item j'.
        hi, hj, hk = np.nonzero(np.broadcast_to(~np.eye(n, dtype=bool)[None], (n, n, n)))
        rows2 = b.add_group("ic2", np.stack([hi, hj, hk], axis=1))
        b.add(rows2, L.r2(hi, hj), 1.0)
        b.add(rows2, L.e2(hi, hj), -phi[hj])
        b.add(rows2, L.r2(hi, hk), -1.0)
        b.add(rows2, L.e2(hi, hk), phi[hj])
    i = np.arange(n)
    rows = b.add_group("ir1", i[:, None])
    b.add(rows, L.r1(i), 1.0)
    b.add(rows, L.e1(i), -phi)
    if inst.dynamic:
        if inst.ir == "interim":
            R, J = rows[:, None], np.arange(n)[None, :]
            w = inst.discount * inst.transition
            b.add(R, L.r2(i[:, None], J), w)
            b.add(R, L.e2(i[:, None], J), -w * phi[None, :])
        gi, gj = np.divmod(np.arange(n * n), n)
        rows = b.add_group("ir2", np.stack([gi, gj], axis=1))
        b.add(rows, L.r2(gi, gj), 1.0)
        b.add(rows, L.e2(gi, gj), -phi[gj])
        if inst.ir == "interim" and canonical_interim:
            # w.l.o.g. normalisation (spec): the optimal set is otherwise unbounded under interim IR
            rows = b.add_group("canonical", i[:, None], equality=True)
            b.add(rows, L.r2(i, 0), 1.0)
            b.add(rows, L.e2(i, 0), -phi[0])
    if inst.limited_liability:
        rows = b.add_group("liability1", i[:, None])
        b.add(rows, L.r1(i), 1.0)
        if inst.dynamic:
            gi, gj = np.divmod(np.arange(n * n), n)
            rows = b.add_group("liability2", np.stack([gi, gj], axis=1))
            b.add(rows, L.r2(gi, gj), 1.0)
    return LinearSystem(L, b.matrix(), b.groups)


def stack_decision(layout: Layout, e1, r1, e2=None, r2=None) -> np.ndarray:
    parts = [np.asarray(e1, float), np.asarray(r1, float)]
    if layout.dynamic:
        parts += [np.asarray(e2, float).ravel(), np.asarray(r2, float).ravel()]
    return np.concatenate(parts)


def objective_weights(inst: ContractInstance) -> tuple[np.ndarray, np.ndarray]:
    """Per-ES weights of G(e) and of R on each effort / reward column (same order as Layout).

    The per-ES objective is  wG · G(e) - wR · R,  wG = wR = [ν, δ ν_i P_ij].
    """
    w = [inst.prior]
    if inst.dynamic:
        w.append((inst.discount * inst.prior[:, None] * inst.transition).ravel())
    w = np.concatenate(w)
    return w, w.copy()
