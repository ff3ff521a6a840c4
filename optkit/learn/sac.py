"""Soft actor-critic (Haarnoja et al., 2018), written once for any actor with the interface
`sample(s, generator) -> (a, log π)`, `decide(s)`, `bc_loss(s, a*, generator)`, `compact()`.

One update (`rl_step`):
  critics   y = scale·r + γ (1 - done) (min_k Q'_k(s', a') - α log π(a'|s')),
            a' from `next_action`; loss = Σ_k (Q_k(s, a) - y)²
  actor     α log π(ã|s) - min_k Q_k(s, ã) / mean|min_k Q_k| + w_bc · bc_loss,   ã ~ π(·|s)
            The Q term is divided by its own (detached) mean magnitude, as TD3+BC does (Fujimoto
            & Gu, 2021), so the BC weight and α mean the same thing whatever the reward scale.
  α         loss -log α · (log π + H_target), detached: α rises when the entropy is below target.
  targets   Polyak averaging with τ.
The first `critic_warmup` RL updates train the critics only: a warm-started actor would otherwise
follow the gradient of an untrained Q away from the oracle's actions. RL actor steps use the
smaller `rl_actor_lr`.
When every transition of a batch is terminal (the contract env's one-step episodes) the
bootstrap term is zero and the next actions are not computed at all: the same targets, less work.

`SAC` is this with the squashed Gaussian actor; edmsac.py subclasses it with the diffusion actor,
a target actor and pruning.
"""

from __future__ import annotations

import copy
import math
from typing import Any

import numpy as np
import torch
from torch import nn
from torch.nn import functional as F

from optkit.learn.config import SACConfig, TrainConfig
from optkit.learn.networks import GaussianActor, TwinQ


def _tensor(x: np.ndarray) -> torch.Tensor:
    return torch.as_tensor(np.asarray(x, dtype=np.float32))


def polyak(target: nn.Module, source: nn.Module, tau: float) -> None:
    with torch.no_grad():
        for t, s in zip(target.parameters(), source.parameters(), strict=True):
            t.mul_(1.0 - tau).add_(tau * s)


class SoftActorCritic:
    """Critics, temperature and the shared update; the actor is given."""

    def __init__(
        self,
        actor: nn.Module,
        obs_dim: int,
        act_dim: int,
        cfg: TrainConfig,
        actor_lr: float,
        noise_seed: int,
    ):
        self.cfg, self.obs_dim, self.act_dim = cfg, obs_dim, act_dim
        self.actor = actor
        self.critic = TwinQ(obs_dim, act_dim, cfg.critic_width)
        self.critic_target = copy.deepcopy(self.critic).requires_grad_(False)
        self.log_alpha = torch.tensor(math.log(cfg.alpha_init), requires_grad=True)
        self.target_entropy = cfg.target_entropy_per_dim * act_dim
        self.actor_opt = torch.optim.Adam(self.actor.parameters(), lr=actor_lr)
        self.critic_opt = torch.optim.Adam(self.critic.parameters(), lr=cfg.critic_lr)
        self.alpha_opt = torch.optim.Adam([self.log_alpha], lr=cfg.alpha_lr)
        self.generator = torch.Generator().manual_seed(noise_seed)  # exploration + BC noise
        self.actor_updates = 0

    # --- acting ---------------------------------------------------------------------------
    def act(self, obs: np.ndarray, stochastic: bool) -> np.ndarray:
        s = _tensor(obs)
        with torch.no_grad():
            a = self.actor.sample(s, self.generator)[0] if stochastic else self.actor.decide(s)
        return a.numpy().astype(np.float32)

    def next_action(self, s: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        return self.actor.sample(s, self.generator)

    # --- updates --------------------------------------------------------------------------
    def after_actor_update(self) -> dict[str, float]:
        """Hook for per-actor-update work (EDMSAC: re-score pruning masks)."""
        return {}

    def bc_step(self, obs: np.ndarray, act: np.ndarray) -> dict[str, float]:
        """One behaviour-cloning update of the actor (the oracle warm start)."""
        loss = self.actor.bc_loss(_tensor(obs), _tensor(act), self.generator)
        self.actor_opt.zero_grad(set_to_none=True)
        loss.backward()
        self.actor_opt.step()
        self.actor_updates += 1
        return {"bc_loss": loss.item(), **self.after_actor_update()}

    def set_actor_lr(self, lr: float) -> None:
        for group in self.actor_opt.param_groups:
            group["lr"] = lr

    def rl_step(
        self,
        batch: dict[str, np.ndarray],
        bc: tuple[np.ndarray, np.ndarray] | None = None,
        bc_weight: float = 0.0,
        update_actor: bool = True,
    ) -> dict[str, float]:
        """One critic update, then (unless `update_actor` is False: critic warm-up) one actor
        and temperature update."""
        cfg = self.cfg
        s, a, s2 = _tensor(batch["obs"]), _tensor(batch["act"]), _tensor(batch["next_obs"])
        r, done = _tensor(batch["rew"]) * cfg.reward_scale, _tensor(batch["done"])
        alpha = self.log_alpha.exp().detach()

        with torch.no_grad():
            y = r.clone()
            live = done < 1.0
            if bool(live.any()):
                a2, logp2 = self.next_action(s2[live])
                q2 = torch.min(*self.critic_target(s2[live], a2)) - alpha * logp2
                y[live] = y[live] + cfg.gamma * q2
        q1, q2 = self.critic(s, a)
        critic_loss = F.mse_loss(q1, y) + F.mse_loss(q2, y)
        self.critic_opt.zero_grad(set_to_none=True)
        critic_loss.backward()
        self.critic_opt.step()

        polyak(self.critic_target, self.critic, cfg.tau)
        if not update_actor:
            return {
                "critic_loss": critic_loss.item(),
                "q_mean": q1.mean().item() / cfg.reward_scale,
            }

        self.critic.requires_grad_(False)
        a_new, logp = self.actor.sample(s, self.generator)
        q_new = torch.min(*self.critic(s, a_new))
        q_scale = q_new.abs().mean().detach().clamp_min(1e-6)
        actor_loss = (alpha * logp).mean() - q_new.mean() / q_scale
        bc_loss = torch.zeros(())
        if bc is not None and bc_weight > 0.0:
            bc_loss = self.actor.bc_loss(_tensor(bc[0]), _tensor(bc[1]), self.generator)
            actor_loss = actor_loss + bc_weight * bc_loss
        self.actor_opt.zero_grad(set_to_none=True)
        actor_loss.backward()
        self.actor_opt.step()
        self.critic.requires_grad_(True)

        alpha_loss = -(self.log_alpha * (logp.detach() + self.target_entropy)).mean()
        self.alpha_opt.zero_grad(set_to_none=True)
        alpha_loss.backward()
        self.alpha_opt.step()

        self.actor_updates += 1
        extra = self.after_actor_update()
        return {
            "critic_loss": critic_loss.item(),
            "actor_loss": actor_loss.item(),
            "bc_loss": bc_loss.item(),
            "alpha": self.log_alpha.exp().item(),
            "entropy": -logp.mean().item(),
            "q_mean": q1.mean().item() / cfg.reward_scale,
            **extra,
        }

    # --- state ----------------------------------------------------------------------------
    def modules(self) -> dict[str, Any]:
        return {
            "actor": self.actor,
            "critic": self.critic,
            "critic_target": self.critic_target,
            "actor_opt": self.actor_opt,
            "critic_opt": self.critic_opt,
            "alpha_opt": self.alpha_opt,
        }

    def state_dict(self) -> dict[str, Any]:
        state = {name: m.state_dict() for name, m in self.modules().items()}
        state["log_alpha"] = self.log_alpha.detach().clone()
        state["generator"] = self.generator.get_state()
        state["actor_updates"] = self.actor_updates
        return state

    def load_state_dict(self, state: dict[str, Any]) -> None:
        for name, m in self.modules().items():
            m.load_state_dict(state[name])
        with torch.no_grad():
            self.log_alpha.copy_(state["log_alpha"])
        self.generator.set_state(state["generator"])
        self.actor_updates = int(state["actor_updates"])


class SAC(SoftActorCritic):
    """SAC with the tanh-squashed Gaussian MLP actor."""

    def __init__(self, obs_dim: int, act_dim: int, cfg: SACConfig, noise_seed: int):
        actor = GaussianActor(obs_dim, act_dim, cfg.width)
        super().__init__(actor, obs_dim, act_dim, cfg, cfg.actor_lr, noise_seed)
