"""Networks shared by the algorithms: twin Q critics and SAC's squashed Gaussian actor."""

from __future__ import annotations

import math

import torch
from torch import nn
from torch.nn import functional as F

LOG_STD_MIN, LOG_STD_MAX = -6.0, 1.0


def mlp(in_dim: int, width: int, depth: int, out_dim: int) -> nn.Sequential:
    layers: list[nn.Module] = []
    for k in range(depth):
        layers += [nn.Linear(in_dim if k == 0 else width, width), nn.Mish()]
    layers.append(nn.Linear(width, out_dim))
    return nn.Sequential(*layers)


class TwinQ(nn.Module):
    """Two independent Q(s, a) MLPs (clipped double Q, Fujimoto et al., 2018)."""

    def __init__(self, obs_dim: int, act_dim: int, width: int = 256):
        super().__init__()
        self.q1 = mlp(obs_dim + act_dim, width, 2, 1)
        self.q2 = mlp(obs_dim + act_dim, width, 2, 1)

    def forward(self, s: torch.Tensor, a: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        x = torch.cat([s, a], dim=-1)
        return self.q1(x).squeeze(-1), self.q2(x).squeeze(-1)


class GaussianActor(nn.Module):
    """SAC's actor: a = tanh(μ + σ ξ) with the change-of-variables log-density (Haarnoja et al.)."""

    def __init__(self, obs_dim: int, act_dim: int, width: int = 256):
        super().__init__()
        self.obs_dim, self.act_dim = obs_dim, act_dim
        self.body = mlp(obs_dim, width, 2, 2 * act_dim)

    def _mean_log_std(self, s: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        mean, log_std = self.body(s).chunk(2, dim=-1)
        return mean, log_std.clamp(LOG_STD_MIN, LOG_STD_MAX)

    def sample(
        self, s: torch.Tensor, generator: torch.Generator | None = None
    ) -> tuple[torch.Tensor, torch.Tensor]:
        mean, log_std = self._mean_log_std(s)
        xi = torch.randn(mean.shape, generator=generator)
        u = mean + log_std.exp() * xi
        a = torch.tanh(u)
        # log N(u) - Σ log(1 - tanh(u)²), the latter in the stable form 2(log 2 - u - softplus(-2u))
        log_prob = (-log_std - 0.5 * math.log(2 * math.pi) - 0.5 * xi.pow(2)).sum(-1)
        log_prob = log_prob - (2 * (math.log(2) - u - F.softplus(-2 * u))).sum(-1)
        return a, log_prob

    @torch.no_grad()
    def decide(self, s: torch.Tensor) -> torch.Tensor:
        return torch.tanh(self._mean_log_std(s)[0])

    def bc_loss(
        self, s: torch.Tensor, a_star: torch.Tensor, generator: torch.Generator | None = None
    ) -> torch.Tensor:
        """Squared error of the deterministic action to the oracle's (SAC's warm start)."""
        return F.mse_loss(torch.tanh(self._mean_log_std(s)[0]), a_star)

    def compact(self) -> GaussianActor:
        return self

    def forward(self, s: torch.Tensor) -> torch.Tensor:
        return torch.tanh(self._mean_log_std(s)[0])

    def flops(self) -> int:
        return sum(
            2 * m.in_features * m.out_features for m in self.body if isinstance(m, nn.Linear)
        )
