"""The diffusion actor of EDMSAC: a DDPM over the action box [-1, 1]^d.

Follows Diffusion-QL (Wang et al., ICLR 2023) and D2SAC/GDMOPT (Du et al.), written in plain
PyTorch:
- variance-preserving schedule with T steps: α_t = exp(-b_min/T - (b_max - b_min)(2t - 1)/(2T²)),
  β_t = 1 - α_t (the discretised VP SDE with β(τ) = b_min + τ (b_max - b_min));
- sinusoidal time embedding followed by a small Mish MLP;
- denoiser ε_θ(x_t, t, s): a `MaskedMLP` (width 256, Mish) on [x_t, emb(t), s];
- reverse chain x_T ~ N(0, I) -> x_0, each step predicts x_0 = (x_t - √(1-ᾱ_t) ε_θ)/√ᾱ_t, clips it
  to the box, and takes the posterior mean (plus posterior noise when sampling). Gradients flow
  through the whole chain for the policy loss.

`prediction = "x0"` (Ho et al., 2020, §3.2: the DDPM posterior mean may be parametrised by x_0
as well as by ε) has the denoiser output x_0 itself, cloned with ||a* - x_θ(x_t, t, s)||². The
chain is the same; only the last step differs in effect: with ε the decision is
x_0 = (x_1 - √(1-ᾱ_1) ε_θ)/√ᾱ_1, so the network must carry x_1 through to its output exactly and
its error is scaled by √(1/ᾱ_1 - 1); with x0 the decision is the network's output. The raw map,
whose rows need every coordinate to about 1e-3, is trained with x0 (docs/edmsac.md, "Raw map").

Entropy estimator: a DDPM's log-density is intractable, so the executed action is
a = clip(x_0 + σ ⊙ ξ), ξ ~ N(0, I), with a learned state-independent scale σ = exp(log_std), and
log π(a|s) is taken as the Gaussian log-density of σ ξ given x_0:  Σ_i -log σ_i - ½ log 2π - ½ ξ_i².
It is the entropy of the final exploration layer, conditional on the chain's output (a lower bound
on the policy's entropy up to the clip), tractable, and differentiable in σ; the temperature is
tuned to a target entropy on it as in SAC (Haarnoja et al., 2018b).

Deterministic decisions (evaluation, the learned solver) start the chain at x_T = 0 and take the
posterior means, with σ = 0: the same state always gives the same action.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import torch
from torch import nn
from torch.nn import functional as F

from optkit.learn.config import PREDICTIONS
from optkit.learn.features import build_features
from optkit.learn.networks import gaussian_log_prob
from optkit.learn.pruning import MaskedMLP, PlainMLP, compact, mlp_flops

LOG_STD_MIN, LOG_STD_MAX = -6.0, 0.0


def x0_estimate(
    prediction: str,
    x: torch.Tensor,
    out: torch.Tensor,
    sqrt_recip_abar: torch.Tensor,
    sqrt_recipm1_abar: torch.Tensor,
) -> torch.Tensor:
    """x_0 at one reverse step from the denoiser's output, clipped to the box: the output itself
    (prediction "x0"), else (x_t - √(1-ᾱ_t) ε)/√ᾱ_t written with that step's coefficients."""
    if prediction == "x0":
        return out.clamp(-1.0, 1.0)
    return (sqrt_recip_abar * x - sqrt_recipm1_abar * out).clamp(-1.0, 1.0)


class VPSchedule(nn.Module):
    """The discrete variance-preserving schedule and the DDPM posterior coefficients."""

    def __init__(self, steps: int, beta_min: float = 0.1, beta_max: float = 10.0):
        super().__init__()
        self.steps = steps
        t = np.arange(1, steps + 1, dtype=np.float64)
        alphas = np.exp(-beta_min / steps - 0.5 * (beta_max - beta_min) * (2 * t - 1) / steps**2)
        betas = 1.0 - alphas
        abar = np.cumprod(alphas)
        abar_prev = np.concatenate([[1.0], abar[:-1]])
        post_var = betas * (1.0 - abar_prev) / (1.0 - abar)
        table = {
            "sqrt_abar": np.sqrt(abar),
            "sqrt_one_minus_abar": np.sqrt(1.0 - abar),
            "sqrt_recip_abar": np.sqrt(1.0 / abar),
            "sqrt_recipm1_abar": np.sqrt(1.0 / abar - 1.0),
            "post_coef_x0": betas * np.sqrt(abar_prev) / (1.0 - abar),
            "post_coef_xt": (1.0 - abar_prev) * np.sqrt(alphas) / (1.0 - abar),
            "post_std": np.sqrt(np.maximum(post_var, 1e-20)),
        }
        for name, values in table.items():
            self.register_buffer(name, torch.tensor(values, dtype=torch.float32))


class SinusoidalEmbedding(nn.Module):
    """Transformer-style sin/cos features of the step index (Vaswani et al., 2017)."""

    def __init__(self, dim: int):
        super().__init__()
        half = dim // 2
        k = torch.arange(half, dtype=torch.float32)
        self.register_buffer("freqs", torch.exp(-math.log(10000.0) * k / max(half - 1, 1)))

    def forward(self, t: torch.Tensor) -> torch.Tensor:
        arg = t.float()[:, None] * self.freqs[None, :]
        return torch.cat([arg.sin(), arg.cos()], dim=-1)


class DiffusionActor(nn.Module):
    """π(a|s): the reverse DDPM chain conditioned on the state, then the exploration Gaussian."""

    def __init__(
        self,
        obs_dim: int,
        act_dim: int,
        *,
        width: int = 256,
        depth: int = 3,
        time_dim: int = 16,
        steps: int = 5,
        beta_min: float = 0.1,
        beta_max: float = 10.0,
        log_std_init: float = -2.5,
        prediction: str = "eps",
        features: dict[str, Any] | None = None,
    ):
        super().__init__()
        if prediction not in PREDICTIONS:
            raise ValueError(f"prediction must be one of {PREDICTIONS}, not {prediction!r}")
        self.obs_dim, self.act_dim, self.time_dim = obs_dim, act_dim, time_dim
        self.prediction = prediction
        self.schedule = VPSchedule(steps, beta_min, beta_max)
        self.time_mlp = nn.Sequential(
            SinusoidalEmbedding(time_dim),
            nn.Linear(time_dim, 2 * time_dim),
            nn.Mish(),
            nn.Linear(2 * time_dim, time_dim),
        )
        # derived input features (features.py): computed from s inside the actor, never stored
        self.features = build_features(features)
        if self.features is not None and self.features.obs_dim != obs_dim:
            raise ValueError(
                f"features expect observations of {self.features.obs_dim}, not {obs_dim}"
            )
        in_s = obs_dim if self.features is None else self.features.out_dim
        self.denoiser = MaskedMLP(act_dim + time_dim + in_s, width, depth, act_dim)
        self.log_std = nn.Parameter(torch.full((act_dim,), float(log_std_init)))

    @property
    def steps(self) -> int:
        return self.schedule.steps

    @property
    def features_spec(self) -> dict[str, Any] | None:
        """The derived features' spec, as a checkpoint's arch_kwargs holds it (None: none)."""
        return None if self.features is None else self.features.spec()

    def state_inputs(self, s: torch.Tensor) -> torch.Tensor:
        """What the denoiser reads of the state: s, or s with its derived features."""
        return s if self.features is None else self.features(s)

    def denoise(self, x: torch.Tensor, t: torch.Tensor, s: torch.Tensor) -> torch.Tensor:
        """The denoiser's output: ε, or x_0 with prediction = "x0"."""
        return self._denoise(x, t, self.state_inputs(s))

    def _denoise(self, x: torch.Tensor, t: torch.Tensor, f: torch.Tensor) -> torch.Tensor:
        """`denoise` on state inputs already computed (the chain computes them once)."""
        return self.denoiser(torch.cat([x, self.time_mlp(t), f], dim=-1))

    def chain(
        self, s: torch.Tensor, generator: torch.Generator | None = None, stochastic: bool = True
    ) -> torch.Tensor:
        """x_0 from the reverse chain (differentiable). stochastic=False: x_T = 0, no noise."""
        sch, batch = self.schedule, s.shape[0]
        f = self.state_inputs(s)
        if stochastic:
            x = torch.randn(batch, self.act_dim, generator=generator)
        else:
            x = torch.zeros(batch, self.act_dim)
        for i in reversed(range(sch.steps)):
            t = torch.full((batch,), i, dtype=torch.long)
            x0 = x0_estimate(
                self.prediction, x, self._denoise(x, t, f), sch.sqrt_recip_abar[i],
                sch.sqrt_recipm1_abar[i],
            )  # fmt: skip
            x = sch.post_coef_x0[i] * x0 + sch.post_coef_xt[i] * x
            if stochastic and i > 0:
                x = x + sch.post_std[i] * torch.randn(x.shape, generator=generator)
        return x.clamp(-1.0, 1.0)

    def sample(
        self, s: torch.Tensor, generator: torch.Generator | None = None
    ) -> tuple[torch.Tensor, torch.Tensor]:
        """(a, log π(a|s)) with the estimator of the module docstring; differentiable."""
        x0 = self.chain(s, generator, stochastic=True)
        log_std = self.log_std.clamp(LOG_STD_MIN, LOG_STD_MAX)
        xi = torch.randn(x0.shape, generator=generator)
        a = x0 + log_std.exp() * xi
        return a.clamp(-1.0, 1.0), gaussian_log_prob(log_std, xi)

    @torch.no_grad()
    def explore(self, s: torch.Tensor, generator: torch.Generator | None = None) -> torch.Tensor:
        """An exploration action from the Gaussian around the deterministic decision, instead of
        around a stochastic chain sample (the `local` critic's samples must stay near the action
        its slopes are measured at)."""
        d = self.chain(s, stochastic=False)
        log_std = self.log_std.clamp(LOG_STD_MIN, LOG_STD_MAX)
        xi = torch.randn(d.shape, generator=generator)
        return (d + log_std.exp() * xi).clamp(-1.0, 1.0)

    def exploration_log_prob(
        self, s: torch.Tensor, generator: torch.Generator | None = None
    ) -> torch.Tensor:
        """log π of a fresh `explore` draw, without running the chain: the Gaussian's density
        of σ ξ does not depend on the decision it is centred on (differentiable in σ)."""
        log_std = self.log_std.clamp(LOG_STD_MIN, LOG_STD_MAX)
        xi = torch.randn((s.shape[0], self.act_dim), generator=generator)
        return gaussian_log_prob(log_std, xi)

    @torch.no_grad()
    def decide(self, s: torch.Tensor) -> torch.Tensor:
        """The deterministic action (x_T = 0, posterior means, σ = 0)."""
        return self.chain(s, stochastic=False)

    def decision_graph(self, s: torch.Tensor) -> torch.Tensor:
        """`decide`, differentiable through the whole reverse chain (the exact fine-tuning)."""
        return self.chain(s, stochastic=False)

    def bc_loss(
        self, s: torch.Tensor, a_star: torch.Tensor, generator: torch.Generator | None = None
    ) -> torch.Tensor:
        """Denoising loss ||ε - ε_θ(√ᾱ_t a* + √(1-ᾱ_t) ε, t, s)||² at a uniform random step t
        (with prediction = "x0": ||a* - x_θ(...)||²)."""
        sch = self.schedule
        t = torch.randint(0, sch.steps, (s.shape[0],), generator=generator)
        noise = torch.randn(a_star.shape, generator=generator)
        x_t = sch.sqrt_abar[t, None] * a_star + sch.sqrt_one_minus_abar[t, None] * noise
        target = a_star if self.prediction == "x0" else noise
        return F.mse_loss(self.denoise(x_t, t, s), target)

    def compact(self) -> CompactDiffusionPolicy:
        return CompactDiffusionPolicy(self)


class CompactDiffusionPolicy(nn.Module):
    """The deterministic policy for inference: masked neurons sliced out (`pruning.compact`),
    and everything the chain repeats hoisted out of it.

    The denoiser's first layer reads [x_t, emb(t), s]; its state part W_s s is computed once per
    decision and its time part W_t emb(t) + b once per step index at construction, so each of the
    T steps multiplies only the d action inputs in the first layer. Same outputs as
    `DiffusionActor.decide` up to float rounding.
    """

    def __init__(self, actor: DiffusionActor):
        super().__init__()
        plain: PlainMLP = compact(actor.denoiser)
        d, k = actor.act_dim, actor.time_dim
        first = plain.hidden[0]
        with torch.no_grad():
            w = first.weight.detach().clone()
            self.w_x = nn.Parameter(w[:, :d].contiguous(), requires_grad=False)
            self.w_s = nn.Parameter(w[:, d + k :].contiguous(), requires_grad=False)
            steps = torch.arange(actor.steps)
            emb = actor.time_mlp(steps)
            self.register_buffer("time_bias", emb @ w[:, d : d + k].T + first.bias)
        self.features = actor.features
        self.rest = nn.ModuleList(list(plain.hidden)[1:])
        self.out = plain.out
        sch = actor.schedule
        self.steps, self.act_dim, self.obs_dim = actor.steps, d, actor.obs_dim
        self.prediction = actor.prediction
        for name in ("sqrt_recip_abar", "sqrt_recipm1_abar", "post_coef_x0", "post_coef_xt"):
            self.register_buffer(name, getattr(sch, name).clone())
        self.requires_grad_(False)
        self.eval()

    def forward(self, s: torch.Tensor) -> torch.Tensor:
        if self.features is not None:
            s = self.features(s)
        hs = s @ self.w_s.T  # the state part of the first layer, once per decision
        x = torch.zeros(s.shape[0], self.act_dim)
        for i in reversed(range(self.steps)):
            h = F.mish(torch.addmm(hs + self.time_bias[i], x, self.w_x.T))
            for layer in self.rest:
                h = F.mish(layer(h))
            x0 = x0_estimate(
                self.prediction, x, self.out(h), self.sqrt_recip_abar[i], self.sqrt_recipm1_abar[i]
            )
            x = self.post_coef_x0[i] * x0 + self.post_coef_xt[i] * x
        return x.clamp(-1.0, 1.0)

    def layer_shapes(self) -> list[tuple[int, int]]:
        return [(layer.in_features, layer.out_features) for layer in self.rest] + [
            (self.out.in_features, self.out.out_features)
        ]

    def flops(self) -> int:
        """Dense-layer FLOPs of one decision (2·in·out per layer): the state projection once,
        then T steps of the action projection and the remaining layers. Elementwise work (Mish,
        the posterior update) is O(width) per step and left out."""
        width = self.w_x.shape[0]
        per_step = mlp_flops([(self.act_dim, width), *self.layer_shapes()])
        return mlp_flops([(self.w_s.shape[1], width)]) + self.steps * per_step

    def hidden_widths(self) -> list[int]:
        return [self.w_x.shape[0]] + [layer.out_features for layer in self.rest]
