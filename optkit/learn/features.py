"""Derived input features: fixed, parameter-free functions of an env's observation that the actor
reads alongside it (`derived_features = true` in a diffusion config).

The raw contract map asks the actor for every IC/IR row to within its safety margin (about 0.004
in action units), and each row is a difference of rewards and cost products φ_i e_j
(exact_reward.py). The observation holds φ only through s(x_i) = x_i / (1 + x_i), so the network
would first have to learn the ratios φ_i / φ_1 = x_i / x_1 to that precision; handing it those
numbers, already computed, frees its capacity for the menu. A plain 512 x 4 regressor, 8 epochs
of cloning then 4,000 exact updates (`diagnostics regress --epochs 8 --exact-updates 4000
[--features]`), goes from 5.90% gap and 4.2% infeasible to 4.70% and 2.2% with them
(docs/edmsac.md, "Raw map"). The observation itself (the env's contract, spec contract.md) is
unchanged: the features are the actor's business, computed inside it, so a checkpoint still
takes the env's observation.

A family's features are a small nn.Module without parameters, built from a spec dict that a
checkpoint stores in its `arch_kwargs` (`{"family": ..., plus the sizes the layout needs}`), so
`torch.load(weights_only=True)` rebuilds them.
"""

from __future__ import annotations

from typing import Any

import torch
from torch import nn

from optkit.core.errors import InvalidInputError
from optkit.families.contract.env import observation_size
from optkit.learn.exact_reward import cost_scales

X_FLOOR = 1e-6
"""Least x = φ e_max / G(e_max) whose logarithm is taken (x = 0 only if φ = 0)."""


class ContractFeatures(nn.Module):
    """[s, φ_i/φ_1, φ_i - φ_j (i < j, in units of φ_1), ln x_i, 1/x_1, logit(shape), δ·P (dynamic)]
    of a contract observation (optkit/families/contract/env.py, `observe`): the cost ratios
    every IC row multiplies efforts by, the value scale G(e_max)/M = 1/x_1 every profit term
    carries, the curvature unsquashed (ln κ e_max for a log valuation, logit ρ for a power one),
    and the discounted transition weights of the continuation values."""

    def __init__(self, n_types: int, dynamic: bool):
        super().__init__()
        if isinstance(n_types, bool) or not isinstance(n_types, int) or n_types < 1:
            raise ValueError(f"n_types must be a positive int, not {n_types!r}")
        if not isinstance(dynamic, bool):
            raise ValueError(f"dynamic must be a bool, not {dynamic!r}")
        self.n_types, self.dynamic = n_types, dynamic
        n = n_types
        self.obs_dim = observation_size(n, dynamic)
        self.pairs = [(i, j) for i in range(n) for j in range(i + 1, n)]
        extra = 2 * n + len(self.pairs) + 2 + (n * n if dynamic else 0)
        self.out_dim = self.obs_dim + extra

    def spec(self) -> dict[str, Any]:
        return {"family": "contract", "n_types": self.n_types, "dynamic": self.dynamic}

    def forward(self, s: torch.Tensor) -> torch.Tensor:
        n = self.n_types
        x = cost_scales(s, n).clamp_min(X_FLOOR)
        phi = x / x[:, :1]
        parts = [s, phi]
        if self.pairs:
            parts.append(torch.stack([phi[:, i] - phi[:, j] for i, j in self.pairs], dim=1))
        k = 2 * n + (n * n + 1 if self.dynamic else 0)  # is_power, then shape
        q = s[:, k + 1 : k + 2].clamp(1e-7, 1.0 - 1e-7)
        parts += [torch.log(x), 1.0 / x[:, :1], torch.log(q / (1.0 - q))]
        if self.dynamic:
            d = 2 * n + n * n
            parts.append(s[:, d : d + 1] * s[:, 2 * n : d])  # δ · P, row-major
        return torch.cat(parts, dim=1)


FAMILIES = {"contract": ContractFeatures}


def build_features(spec: dict[str, Any] | None) -> nn.Module | None:
    """The feature module of a checkpoint's spec (None: the observation as it is)."""
    if spec is None:
        return None
    spec = dict(spec)
    family = spec.pop("family", None)
    if family not in FAMILIES:
        raise ValueError(f"derived features: family {family!r} is not one of {sorted(FAMILIES)}")
    return FAMILIES[family](**spec)


def features_for_env(env: Any) -> dict[str, Any] | None:
    """The feature spec for an env (None: its family has no derived features)."""
    from optkit.families.contract.env import ContractEnv

    if isinstance(env, ContractEnv):
        return ContractFeatures(int(env.n_types), bool(env.dynamic)).spec()
    return None


def actor_features(cfg: Any, env: Any) -> dict[str, Any] | None:
    """The feature spec a config's actor takes on `env`: None unless `derived_features` is set,
    and refused (naming the field) for a family without derived features."""
    if not getattr(cfg, "derived_features", False):
        return None
    spec = features_for_env(env)
    if spec is None:
        raise InvalidInputError(
            "derived_features",
            f"family {cfg.env.family!r} has no derived features "
            f"(optkit/learn/features.py has {', '.join(FAMILIES)})",
        )
    return spec
