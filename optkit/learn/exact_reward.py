"""The contract env's `raw`-map reward as a differentiable torch function of (observation, action).

The contract env has one-step episodes and a reward stated in closed form, so its soft Q function
is the reward itself: Q(s, a) = r(s, a). A learned critic only approximates it, and the raw map
asks for precision no learned critic resolves (every IC/IR row to 1e-6 of money, docs/edmsac.md).
The learner's exact fine-tuning (train.py, phase 1b) therefore differentiates the reward itself.

Everything is read from the observation (optkit/families/contract/env.py, `observe`), which
holds exactly the dimensionless numbers a menu's profit and constraints depend on once money is
measured in M = φ_1 e_max and effort in e_max:
    x_i = φ_i e_max / G(e_max) = p_i / (1 - p_i)    from phi_norm p_i = s(x_i)
    φ_i / φ_1 = x_i / x_1,   G(ê e_max) / M = [G(ê e_max) / G(e_max)] / x_1
    G(ê e_max) / G(e_max) = ln(1 + κ e_max ê) / ln(1 + κ e_max)   (log;  κ e_max = q / (1 - q))
                          = ê^ρ                                    (power; ρ read directly)
The action maps affinely onto `raw_ranges` (units of e_max and M). Returns, per row of the batch,
the profit per server in units of M and every IC/IR slack (and limited-liability slack) in units
of M, in the order ic1, ic2, ir1, ir2, liability1, liability2 -- the rows of evaluate() minus the
effort bounds, which the box already keeps. float64 throughout; the observation is float32, so a
slack is exact to about 1e-6 of M (tests compare with evaluate()), plenty for a training signal:
selection and every reported number use the env's float64 evaluation.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
import torch

from optkit.core.errors import InvalidInputError


def cost_scales(obs: torch.Tensor, n_types: int) -> torch.Tensor:
    """x_i = φ_i e_max / G(e_max) from a contract observation's phi_norm p_i = x_i / (1 + x_i)
    (p clamped below 1, so x stays finite)."""
    p = obs[:, :n_types].clamp(max=1.0 - 1e-7)
    return p / (1.0 - p)


REFERENCE_FLOOR = 1e-3
"""Least optimum (profit per server / M) an instance's share is measured against: a near-zero
optimum would make its share explode and its rows dominate the batch."""


def contract_raw_reward(
    obs: torch.Tensor, action: torch.Tensor, n_types: int, dynamic: bool
) -> tuple[torch.Tensor, torch.Tensor]:
    """(profit per server / M (B,), slacks / M (B, rows)) of a batch of raw-map actions."""
    n = n_types
    s = obs.to(torch.float64)
    a = action.to(torch.float64).clamp(-1.0, 1.0)
    u = (a + 1.0) / 2.0
    batch = s.shape[0]
    x = cost_scales(s, n)
    phi = x / x[:, :1]  # φ_i / φ_1
    nu = s[:, n : 2 * n]
    k = 2 * n
    if dynamic:
        P = s[:, k : k + n * n].reshape(batch, n, n)
        delta = s[:, k + n * n]
        k += n * n + 1
    else:
        P, delta = None, torch.zeros(batch, dtype=torch.float64)
    is_power, shape = s[:, k], s[:, k + 1]
    interim, liability = s[:, k + 2] > 0.5, s[:, k + 3] > 0.5
    q = shape.clamp(max=1.0 - 1e-7)
    ke = q / (1.0 - q)  # κ e_max (log valuation)

    def value(e: torch.Tensor) -> torch.Tensor:
        """G(e · e_max) / M for efforts e in units of e_max, broadcast over trailing axes."""
        extra = (1,) * (e.dim() - 1)
        kk, rho = ke.view(-1, *extra), shape.view(-1, *extra)
        log_part = torch.log1p(kk * e) / torch.log1p(kk).clamp_min(1e-12)
        # ê^ρ with a floor inside the power: its gradient at ê = 0 would be infinite
        power_part = e.clamp_min(1e-12) ** rho
        g = torch.where(is_power.view(-1, *extra) > 0.5, power_part, log_part)
        return g / x[:, :1].view(-1, *extra)

    lo1 = torch.where(interim & ~liability, -delta, torch.zeros_like(delta))
    e1 = u[:, :n]
    r1 = lo1[:, None] + u[:, n : 2 * n] * ((1.0 + delta) - lo1)[:, None]
    u1 = r1 - phi * e1
    off = ~torch.eye(n, dtype=torch.bool)
    groups = []
    if dynamic:
        m = n * n
        e2 = u[:, 2 * n : 2 * n + m].reshape(batch, n, n)
        r2 = u[:, 2 * n + m :].reshape(batch, n, n)
        u2 = r2 - phi[:, None, :] * e2  # U2[i, j]
        cross2 = r2[:, :, None, :] - phi[:, None, :, None] * e2[:, :, None, :]  # [b, i, j, j']
        ic2 = (u2[:, :, :, None] - cross2)[:, :, off]
        cont = delta[:, None] * (P * u2).sum(2)
        cont_cross = delta[:, None, None] * torch.einsum("bij,bkj->bik", P, u2)
        profit = (nu * (value(e1) - r1)).sum(1) + delta * (nu * (P * (value(e2) - r2)).sum(2)).sum(
            1
        )
    else:
        cont = torch.zeros_like(u1)
        cont_cross = torch.zeros(batch, n, n, dtype=torch.float64)
        profit = (nu * (value(e1) - r1)).sum(1)
    total = u1 + cont
    dev = r1[:, None, :] - phi[:, :, None] * e1[:, None, :] + cont_cross
    groups.append((total[:, :, None] - dev)[:, off])
    if dynamic:
        groups.append(ic2.reshape(batch, -1))
    groups.append(torch.where(interim[:, None], total, u1))  # static: total is u1
    if dynamic:
        groups.append(u2.reshape(batch, -1))
    big = torch.full_like(r1, torch.inf)  # liability rows hold only with limited liability
    groups.append(torch.where(liability[:, None], r1, big))
    if dynamic:
        groups.append(torch.where(liability[:, None], r2.reshape(batch, -1), big.repeat(1, n)))
    return profit, torch.cat([g.reshape(batch, -1) for g in groups], dim=1)


def shaped_loss(
    profit: torch.Tensor,
    slacks: torch.Tensor,
    reference: torch.Tensor,
    margin: float,
    penalty: float,
) -> torch.Tensor:
    """Mean over the batch of  -profit / reference + penalty · Σ_rows max(0, margin - slack):
    the profit as a share of each instance's optimum (so every instance weighs as its gap does)
    and a hinge that asks every row for slack `margin` (units of M), the safety margin the raw
    map's float64 check needs. Rows without a constraint carry slack +inf (no term)."""
    hinge = torch.relu(margin - slacks).nan_to_num(posinf=0.0).sum(1)
    return (-profit / reference + penalty * hinge).mean()


def exact_objective(
    env: Any, obs: np.ndarray, act: np.ndarray, margin: float, penalty: float
) -> Callable[[np.ndarray], Callable[[torch.Tensor, torch.Tensor], torch.Tensor]]:
    """For the warm-start rows (obs, oracle actions): `for_rows(idx)` gives the shaped loss of a
    batch of those rows' states as a function of the actions. The oracle's own profit is each
    row's reference (its optimum). Refused for an env without a closed-form reward here."""
    from optkit.families.contract.env import ContractEnv

    if not isinstance(env, ContractEnv) or env.action_map != "raw":
        raise InvalidInputError(
            "exact_updates",
            "the exact fine-tuning needs a reward stated in closed form: the contract env's raw "
            "map (the projected map's reward passes through an LP)",
        )
    n, dynamic = int(env.n_types), bool(env.dynamic)
    states = torch.as_tensor(obs)
    with torch.no_grad():
        reference = contract_raw_reward(states, torch.as_tensor(act), n, dynamic)[0]
    reference = reference.clamp_min(REFERENCE_FLOOR)

    def for_rows(idx: np.ndarray) -> Callable[[torch.Tensor, torch.Tensor], torch.Tensor]:
        ref = reference[torch.as_tensor(idx)]

        def loss(s: torch.Tensor, a: torch.Tensor) -> torch.Tensor:
            profit, slacks = contract_raw_reward(s, a, n, dynamic)
            return shaped_loss(profit, slacks, ref, margin, penalty)

        return loss

    return for_rows
