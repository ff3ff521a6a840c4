"""Dynamic structured pruning of an MLP's hidden neurons (EDMSAC, spec/edmsac.md).

A `MaskedMLP` multiplies each hidden layer's activations by a 0/1 mask; the output layer is never
masked. Every K actor updates `rescore` recomputes each hidden neuron's importance -- the L2 norm
of its incoming weights, optionally times its running mean |activation| -- and masks the lowest
share ϱ of each layer (ties broken by index, so masks are deterministic). Masked neurons keep
their weights and are re-scored with the others, so one may come back. ϱ ramps linearly from 0
to its target over the first part of training (`ramp_rate`), so early learning uses the whole
network. `compact` slices masked neurons out physically: the same function, fewer FLOPs.

Pruning a neuron of hidden layer l removes a row of W_l and a column of W_{l+1}, so at ϱ the
width-w square layers cost (1 - ϱ)^2 of their FLOPs: ϱ = 0.3 halves them.
"""

from __future__ import annotations

import torch
from torch import nn
from torch.nn import functional as F


class MaskedMLP(nn.Module):
    """in -> [Linear, Mish, × mask] × depth -> Linear -> out."""

    def __init__(self, in_dim: int, width: int, depth: int, out_dim: int):
        super().__init__()
        self.hidden = nn.ModuleList(
            [nn.Linear(in_dim if k == 0 else width, width) for k in range(depth)]
        )
        self.out = nn.Linear(width, out_dim)
        self.register_buffer("masks", torch.ones(depth, width))
        self.register_buffer("act_mag", torch.zeros(depth, width))
        """Running mean |activation| of each hidden neuron (EMA over training forwards)."""
        self.track_activations = False

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        for k, layer in enumerate(self.hidden):
            x = F.mish(layer(x)) * self.masks[k]
            if self.track_activations and self.training:
                with torch.no_grad():
                    mag = x.detach().abs().reshape(-1, x.shape[-1]).mean(0)
                    self.act_mag[k].mul_(0.99).add_(0.01 * mag)
        return self.out(x)


def importance(mlp: MaskedMLP, use_activation: bool = False) -> torch.Tensor:
    """(depth, width): L2 norm of each hidden neuron's incoming weights (and bias), × mean
    |activation| when asked."""
    with torch.no_grad():
        rows = [torch.sqrt(layer.weight.pow(2).sum(1) + layer.bias.pow(2)) for layer in mlp.hidden]
        score = torch.stack(rows)
        if use_activation:
            score = score * mlp.act_mag
    return score


def ramp_rate(update: int, total_updates: int, target: float, ramp: float) -> float:
    """ϱ at an actor update: linear from 0 to `target` over the first `ramp` share of updates."""
    if target == 0.0:
        return 0.0
    end = ramp * total_updates
    if end <= 0:
        return target
    return target * min(1.0, update / end)


def rescore(mlp: MaskedMLP, rate: float, use_activation: bool = False) -> int:
    """Mask the floor(rate · width) least important neurons of every hidden layer; return how many
    neurons changed state (masked <-> unmasked)."""
    score = importance(mlp, use_activation)
    depth, width = score.shape
    n_masked = int(rate * width)
    new = torch.ones_like(mlp.masks)
    if n_masked:
        # stable sort: equal scores are masked in index order, so masks are deterministic
        order = torch.sort(score, dim=1, stable=True).indices[:, :n_masked]
        new.scatter_(1, order, 0.0)
    changed = int((new != mlp.masks).sum())
    mlp.masks.copy_(new)
    return changed


class PlainMLP(nn.Module):
    """A compacted MaskedMLP: the kept neurons only, no masks."""

    def __init__(self, hidden: list[nn.Linear], out: nn.Linear):
        super().__init__()
        self.hidden = nn.ModuleList(hidden)
        self.out = out

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        for layer in self.hidden:
            x = F.mish(layer(x))
        return self.out(x)


def _linear(weight: torch.Tensor, bias: torch.Tensor) -> nn.Linear:
    layer = nn.Linear(weight.shape[1], weight.shape[0])
    with torch.no_grad():
        layer.weight.copy_(weight)
        layer.bias.copy_(bias)
    return layer


def compact(mlp: MaskedMLP) -> PlainMLP:
    """The same function with masked neurons removed: rows of W_l and columns of W_{l+1}.

    Exact, because a masked neuron's output is multiplied by 0 before the next layer reads it.
    `rescore` masks floor(ϱ·width) < width neurons (ϱ < 1), so every layer keeps one at least.
    """
    with torch.no_grad():
        hidden, prev = [], None
        for k, layer in enumerate(mlp.hidden):
            keep = torch.nonzero(mlp.masks[k] > 0).flatten()
            w, b = layer.weight[keep], layer.bias[keep]
            if prev is not None:
                w = w[:, prev]
            hidden.append(_linear(w, b))
            prev = keep
        out = _linear(mlp.out.weight[:, prev], mlp.out.bias)
    return PlainMLP(hidden, out)


def mlp_flops(layers: list[tuple[int, int]]) -> int:
    """FLOPs of dense layers [(in, out), ...] on one input: 2·in·out (multiply + add) each."""
    return sum(2 * i * o for i, o in layers)
