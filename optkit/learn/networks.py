"""Networks shared by the algorithms: twin Q critics (MLP, or the local diagonal-quadratic models)
and SAC's squashed Gaussian actor."""

from __future__ import annotations

import math

import torch
from torch import nn
from torch.nn import functional as F

LOG_STD_MIN, LOG_STD_MAX = -6.0, 1.0


def gaussian_log_prob(log_std: torch.Tensor, xi: torch.Tensor) -> torch.Tensor:
    """log N(σ ξ; 0, σ²) summed over the last axis: Σ -log σ - ½ log 2π - ½ ξ²."""
    return (-log_std - 0.5 * math.log(2 * math.pi) - 0.5 * xi.pow(2)).sum(-1)


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


LOCAL_SCALE = 0.03
"""Action units of the local model's step d = (a - a0) / LOCAL_SCALE (about the exploration σ
the target entropy settles at), so its outputs are O(1); the Newton step does not depend on it."""


class LocalTwinQ(nn.Module):
    """Two diagonal-quadratic advantage models around a reference action a0 (the `local` critic):
    Q_k(s, a) = g_kᵀ d - ½ Σ_i h_k,i d_i²,  d = (a - a0) / LOCAL_SCALE,  (g_k, h_k) an MLP of
    (s, a0) with h_k = softplus(.) + 1e-3 > 0. So Q_k(s, a0) = 0, and its Newton step is
    d* = g/h elementwise. For one-step episodes with the greedy baseline, where the target is
    the advantage r(s, a) - r(s, a0) (in batch-standardised units)."""

    def __init__(self, obs_dim: int, act_dim: int, width: int = 256):
        super().__init__()
        self.q1 = mlp(obs_dim + act_dim, width, 2, 2 * act_dim)
        self.q2 = mlp(obs_dim + act_dim, width, 2, 2 * act_dim)

    def heads(self, s: torch.Tensor, ref: torch.Tensor) -> list[tuple[torch.Tensor, torch.Tensor]]:
        """[(g_k, h_k)] of both twins at (s, a0 = ref)."""
        x = torch.cat([s, ref], dim=-1)
        out = []
        for net in (self.q1, self.q2):
            g, h = net(x).chunk(2, dim=-1)
            out.append((g, F.softplus(h) + 1e-3))
        return out

    def forward(
        self, s: torch.Tensor, a: torch.Tensor, ref: torch.Tensor
    ) -> tuple[torch.Tensor, torch.Tensor]:
        d = (a - ref) / LOCAL_SCALE
        (g1, h1), (g2, h2) = self.heads(s, ref)
        q = [(g * d).sum(-1) - 0.5 * (h * d * d).sum(-1) for g, h in ((g1, h1), (g2, h2))]
        return q[0], q[1]

    def gradient(self, s: torch.Tensor, ref: torch.Tensor) -> torch.Tensor:
        """∇_a of the twins' mean at a = ref (action units)."""
        (g1, _), (g2, _) = self.heads(s, ref)
        return (g1 + g2) / (2 * LOCAL_SCALE)

    def newton_step(self, s: torch.Tensor, ref: torch.Tensor) -> torch.Tensor:
        """The maximiser of the twins' mean model, as a step from ref in action units."""
        (g1, h1), (g2, h2) = self.heads(s, ref)
        return LOCAL_SCALE * (g1 + g2) / (h1 + h2)

    def improved(self, s: torch.Tensor, ref: torch.Tensor, eta: float, cap: float) -> torch.Tensor:
        """ref moved by eta times the Newton step, the move capped at length `cap` (action
        units: the model is fitted on samples about LOCAL_SCALE from ref), clipped to the box."""
        return capped_move(ref, eta * self.newton_step(s, ref), cap)


def capped_move(ref: torch.Tensor, step: torch.Tensor, cap: float) -> torch.Tensor:
    """clip(ref + step, -1, 1) with each row of step shortened to length <= cap."""
    step = step * (cap / step.norm(dim=-1, keepdim=True)).clamp(max=1.0)
    return (ref + step).clamp(-1.0, 1.0)


class GaussianActor(nn.Module):
    """SAC's actor: a = tanh(μ + σ ξ) with the change-of-variables log-density (Haarnoja et al.)."""

    def __init__(
        self, obs_dim: int, act_dim: int, width: int = 256, log_std_bias: float | None = None
    ):
        super().__init__()
        self.obs_dim, self.act_dim = obs_dim, act_dim
        self.body = mlp(obs_dim, width, 2, 2 * act_dim)
        if log_std_bias is not None:  # σ starts near exp(log_std_bias) (cloning leaves it there)
            with torch.no_grad():
                self.body[-1].bias[act_dim:] = log_std_bias

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
        squash = (2 * (math.log(2) - u - F.softplus(-2 * u))).sum(-1)
        return a, gaussian_log_prob(log_std, xi) - squash

    def explore(self, s: torch.Tensor, generator: torch.Generator | None = None) -> torch.Tensor:
        """An exploration action: `sample` already explores around the decision tanh(μ)."""
        return self.sample(s, generator)[0]

    def exploration_log_prob(
        self, s: torch.Tensor, generator: torch.Generator | None = None
    ) -> torch.Tensor:
        """log π of a fresh `sample` draw (it depends on the state here, through μ and σ)."""
        return self.sample(s, generator)[1]

    @torch.no_grad()
    def decide(self, s: torch.Tensor) -> torch.Tensor:
        return self.decision_graph(s)

    def decision_graph(self, s: torch.Tensor) -> torch.Tensor:
        """`decide`, differentiable (the exact fine-tuning's policy gradient)."""
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
