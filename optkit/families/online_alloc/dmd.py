"""Dual mirror descent (Balseiro, Lu, Mirrokni 2020, Algorithm 1) and its bid-price relatives.

Each request t: with dual prices μ_t, the tentative action is x̃_t = argmax_i r_ti - μ_tᵀC_t[:, i]
(none when every margin is <= 0). The safety rule plays x̃_t only if every resource can afford
it (remaining budget >= use). The prices then take one mirror-descent step on the dual function
with the subgradient g_t = ρ - C_t x̃_t of the *tentative* action (the paper's choice: it keeps
g_t an unbiased subgradient whatever the budgets did):
  euclidean         h = ½||μ||²           μ ← max(μ - η g, 0)        (projected subgradient)
  scaled_euclidean  h = ½ Σ_j ρ_j μ_j²    μ ← max(μ - η g / ρ, 0)    (each resource's step is
                                          relative to its own budget rate)
  entropy           h = Σ_j μ_j log μ_j   μ ← min(μ ∘ exp(-η g), μ_max) (multiplicative weights;
                                          μ_max = r̄ / ρ_min bounds the dual iterates, §3)
with η = c / √T. `greedy` is the same loop with μ ≡ 0 and no update, `fixed_dual` with a fixed μ.

This module holds the arithmetic shared bit for bit by the single-stream policy (policies.py)
and the batched simulator (simulate.py): both call `mirror_step` and `margins` on arrays whose
leading axes differ (m,) vs (S, m), so they play identical actions on the same stream.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np

from optkit.core.errors import InvalidInputError
from optkit.core.fields import Fields, as_bool, as_choice, as_float

REFERENCES = ("euclidean", "scaled_euclidean", "entropy")

DEFAULT_C = {"euclidean": 2.0, "scaled_euclidean": 0.8, "entropy": 5.0}
"""Step constants c (η = c/√T), tuned on nrm seeds 1000-1009 at T = 10^4 (disjoint from the
evaluation seeds 0-9): `python -m optkit.bench.online_alloc_tune`; see docs/online_alloc.md."""
ENTROPY_MU0 = 1.0
"""Entropy's starting price (the multiplicative update cannot leave 0)."""


@dataclass(frozen=True)
class DMDParams:
    """Every knob of DMD, one docstring each (the CleanRL habit)."""

    reference: str = "entropy"
    """Reference function h: entropy (default: the best tuned ratio), euclidean or
    scaled_euclidean."""
    c: float | None = None
    """Step constant: η = c / √T. None: the tuned default of the reference function."""
    mu0: float | None = None
    """Initial price of every resource. None: 0 (euclidean ones), ENTROPY_MU0 (entropy)."""
    safety: bool = True
    """Skip an action any resource cannot afford (the paper's rule). False lets a policy
    overspend, which evaluate() then reports: for experiments only."""

    def __post_init__(self) -> None:
        object.__setattr__(self, "reference", as_choice(self.reference, "reference", REFERENCES))
        if self.c is not None:
            object.__setattr__(self, "c", as_float(self.c, "c", gt=0))
        if self.mu0 is not None:
            object.__setattr__(self, "mu0", as_float(self.mu0, "mu0", ge=0))
        if self.reference == "entropy" and self.mu0 == 0:
            raise InvalidInputError("mu0", "entropy's multiplicative update needs mu0 > 0")
        object.__setattr__(self, "safety", as_bool(self.safety, "safety"))

    @classmethod
    def from_params(cls, params: dict[str, Any]) -> DMDParams:
        f = Fields(params, "params")
        out = cls(
            reference=f.get("reference", cls.reference),
            c=f.get("c", None),
            mu0=f.get("mu0", None),
            safety=f.get("safety", True),
        )
        f.finish()
        return out

    def step_size(self, T: int) -> float:
        c = DEFAULT_C[self.reference] if self.c is None else self.c
        return c / math.sqrt(T)

    def initial(self, m: int) -> np.ndarray:
        mu0 = (
            self.mu0
            if self.mu0 is not None
            else (ENTROPY_MU0 if self.reference == "entropy" else 0.0)
        )
        return np.full(m, float(mu0))


@dataclass(frozen=True)
class MirrorStep:
    """One reference function's update, with its constants precomputed (no per-step work).

    The update is written as μ ← P(μ - shift + scale·used) (euclidean ones, P = max(·, 0)) or
    μ ← min(μ · exp(scale·used - shift), μ_max) (entropy), shift = scale·ρ, which is the
    mirror step with g = ρ - used. A request with no tentative action has used = 0, and then
    the update is μ - shift or μ · decay with decay = exp(-shift): bit for bit what the batched
    simulator computes with a zero row, at a fraction of the single-stream cost."""

    reference: str
    eta: float
    scale: np.ndarray
    """(m,) or (S, m) per-resource step: η (euclidean, entropy) or η/ρ_j (scaled_euclidean)."""
    shift: np.ndarray
    """scale · ρ: the step when nothing is used."""
    decay: np.ndarray
    """exp(-shift) (entropy)."""
    mu_max: np.ndarray
    """entropy's cap on every price, r̄ / min_j ρ_j, shape (1,) or (S, 1) (unused otherwise)."""

    @classmethod
    def make(
        cls, params: DMDParams, rho: np.ndarray, T: int, reward_max: float | np.ndarray
    ) -> MirrorStep:
        """`rho` (m,) for one stream or (S, m) for a batch; `reward_max` a float or (S, 1)."""
        eta = params.step_size(T)
        scale = eta / rho if params.reference == "scaled_euclidean" else np.full(rho.shape, eta)
        shift = scale * rho
        r_max = np.maximum(np.asarray(reward_max, dtype=np.float64), 1e-12)
        mu_max = r_max / rho.min(axis=-1, keepdims=True)
        return cls(params.reference, eta, scale, shift, np.exp(-shift), mu_max)

    def apply(self, mu: np.ndarray, used: np.ndarray | None) -> None:
        """μ ← step(μ, g) in place, g = ρ - used (`used`: the tentative action's use; None: 0).

        Works in a scratch buffer of μ's shape (no allocation per step on the hot path)."""
        if used is None:
            if self.reference == "entropy":
                np.multiply(mu, self.decay, out=mu)
                np.minimum(mu, self.mu_max, out=mu)
            else:
                np.subtract(mu, self.shift, out=mu)
                np.maximum(mu, 0.0, out=mu)
            return
        buf = self._buffer(mu)
        np.multiply(self.scale, used, out=buf)
        if self.reference == "entropy":
            np.subtract(buf, self.shift, out=buf)
            np.exp(buf, out=buf)
            np.multiply(mu, buf, out=mu)
            np.minimum(mu, self.mu_max, out=mu)
        else:
            np.subtract(mu, self.shift, out=mu)
            np.add(mu, buf, out=mu)
            np.maximum(mu, 0.0, out=mu)

    def _buffer(self, mu: np.ndarray) -> np.ndarray:
        buf = self.__dict__.get("_buf")
        if buf is None or buf.shape != mu.shape:
            buf = np.empty_like(mu)
            object.__setattr__(self, "_buf", buf)  # scratch space, not state
        return buf


def margins(mu: np.ndarray, rewards: np.ndarray, consumption: np.ndarray) -> np.ndarray:
    """r - μᵀC for one request ((m,), (d,), (m, d)) or a batch ((S, m), (S, d), (S, m, d)).

    One kernel for both shapes (a (1, m) @ (m, d) product per stream), so the single-stream
    path and the batched simulator round identically (tests check the actions bit for bit)."""
    return rewards - np.matmul(mu[..., None, :], consumption)[..., 0, :]
