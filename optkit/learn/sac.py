"""Soft actor-critic (Haarnoja et al., 2018), written once for any actor with the interface
`sample(s, generator) -> (a, log π)`, `decide(s)`, `bc_loss(s, a*, generator)`, `compact()`.

One update (`rl_step`):
  critics   y = scale·r + γ (1 - done) (min_k Q'_k(s', a') - α log π(a'|s')),
            a' from `next_action`; loss = Σ_k (Q_k(s, a) - y)²
  actor     α log π(ã|s) - min_k Q_k(s, ã) / mean|min_k Q_k| + w_bc · bc_loss,   ã ~ π(·|s)
            The Q term is divided by its own (detached) mean magnitude, as TD3+BC does (Fujimoto
            & Gu, 2021), so the BC weight and α mean the same thing whatever the reward scale.
  local     with cfg.critic = "local" (networks.LocalTwinQ): the critics fit the advantage
            r - r(a0) over the group's greedy action a0 with a diagonal quadratic in a - a0
            (Huber, batch-standardised), and the actor's Q term is replaced by the diffusion
            (or squared-error) loss toward the critic's improved decision,
                a+ = clip(a_det + η · newton step, capped at IMPROVE_MAX_NORM),  η = improve_step,
            on the RL batch's states: the actor learns improved actions with the loss that
            cloned the oracle, instead of a gradient pushed through the whole chain, which wrecked
            the cloned fit even at tiny step sizes (docs/edmsac.md, "A critic built around the
            greedy action"). Exploration is the actor's Gaussian around a_det (`explore`) so the
            critic's samples stay near a0; that Gaussian carries the entropy term and α's update.
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
from collections.abc import Callable
from typing import Any

import numpy as np
import torch
from torch import nn
from torch.nn import functional as F

from optkit.learn.config import SACConfig, TrainConfig
from optkit.learn.networks import GaussianActor, LocalTwinQ, TwinQ

IMPROVE_MAX_NORM = 0.1
"""Cap on the length of the local critic's improvement step (action units): its model is fitted
on exploration samples about 0.03 from a0 and is not trusted much beyond."""


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
        self.local = cfg.critic == "local"
        critic_type = LocalTwinQ if self.local else TwinQ
        self.critic = critic_type(obs_dim, act_dim, cfg.critic_width)
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
            if not stochastic:
                a = self.actor.decide(s)
            elif self.local:  # near the decision, where the local critic measures slopes
                a = self.actor.explore(s, self.generator)
            else:
                a = self.actor.sample(s, self.generator)[0]
        return a.numpy().astype(np.float32)

    def decision(self, obs: np.ndarray, refined: bool = False) -> np.ndarray:
        """The deterministic action; with `refined` (local critic only) moved by η times the
        critic's capped Newton step, as policy.RefinedPolicy decides."""
        if not refined:
            return self.act(obs, stochastic=False)
        if not self.local:
            raise ValueError("a refined decision needs the local critic")
        s = _tensor(obs)
        with torch.no_grad():
            a = self.critic.improved(
                s, self.actor.decide(s), self.cfg.improve_step, IMPROVE_MAX_NORM
            )
        return a.numpy().astype(np.float32)

    def next_action(self, s: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        return self.actor.sample(s, self.generator)

    # --- updates --------------------------------------------------------------------------
    def after_actor_update(self, phase: str) -> dict[str, float]:
        """Hook for per-actor-update work (EDMSAC: re-score pruning masks); `phase` is the
        update's: "bc", "exact" or "rl"."""
        return {}

    def bc_step(self, obs: np.ndarray, act: np.ndarray) -> dict[str, float]:
        """One behaviour-cloning update of the actor (the oracle warm start)."""
        loss = self.actor.bc_loss(_tensor(obs), _tensor(act), self.generator)
        self.actor_opt.zero_grad(set_to_none=True)
        loss.backward()
        self.actor_opt.step()
        self.actor_updates += 1
        return {"bc_loss": loss.item(), **self.after_actor_update("bc")}

    def exact_step(
        self, obs: np.ndarray, loss_of: Callable[[torch.Tensor, torch.Tensor], torch.Tensor]
    ) -> dict[str, float]:
        """One actor update on an exact objective of the deterministic decision: `loss_of(s, a)`
        is differentiable in a (train.py, phase 1b: for a one-step env with a closed-form
        reward, Q(s, a) = r(s, a), so no learned critic stands between the actor and it)."""
        s = _tensor(obs)
        loss = loss_of(s, self.actor.decision_graph(s))
        self.actor_opt.zero_grad(set_to_none=True)
        loss.backward()
        self.actor_opt.step()
        self.actor_updates += 1
        return {"exact_loss": loss.item(), **self.after_actor_update("exact")}

    def restart_actor_optimizer(self, lr: float) -> None:
        """A fresh Adam for the actor at step size lr (the start of RL fine-tuning with the
        local critic). The moments left by behaviour cloning describe its gradients, not the RL
        ones: carried over, Adam's slowly adapting second moment lets the first RL steps run at
        several times lr. (The `mlp` critic keeps the old behaviour, which the shipped runs
        were trained with.)"""
        self.actor_opt = torch.optim.Adam(self.actor.parameters(), lr=lr)

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

        if self.local:
            critic_loss, q1 = self._local_critic_loss(s, a, r, done, _tensor(batch["ref"]))
        else:
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
        if self.local:  # denoise toward the critic's improved decision (module docstring)
            logp = self.actor.exploration_log_prob(s, self.generator)
            with torch.no_grad():
                a_det = self.actor.decide(s)
                target = self.critic.improved(s, a_det, cfg.improve_step, IMPROVE_MAX_NORM)
            q_term = -self.actor.bc_loss(s, target, self.generator)
        else:
            a_new, logp = self.actor.sample(s, self.generator)
            q_new = torch.min(*self.critic(s, a_new))
            q_term = q_new.mean() / q_new.abs().mean().detach().clamp_min(1e-6)
        actor_loss = (alpha * logp).mean() - q_term
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
        extra = self.after_actor_update("rl")
        return {
            "critic_loss": critic_loss.item(),
            "actor_loss": actor_loss.item(),
            "bc_loss": bc_loss.item(),
            "alpha": self.log_alpha.exp().item(),
            "entropy": -logp.mean().item(),
            "q_mean": q1.mean().item() / cfg.reward_scale,
            **extra,
        }

    def _local_critic_loss(
        self, s: torch.Tensor, a: torch.Tensor, r: torch.Tensor, done: torch.Tensor, ref
    ) -> tuple[torch.Tensor, torch.Tensor]:
        """Huber loss of the `local` twins on the batch's advantages r(s, a) - r(s, a0), divided
        by the batch's RMS advantage (scale-free; the Newton step is a ratio, unchanged by it).
        One-step episodes only: no bootstrap term."""
        if bool((done < 1.0).any()):
            raise RuntimeError("the local critic needs one-step episodes (greedy_baseline)")
        q1, q2 = self.critic(s, a, ref)
        y = r / r.pow(2).mean().sqrt().clamp_min(1e-12)
        return F.huber_loss(q1, y) + F.huber_loss(q2, y), q1

    def critic_gradient(self, s: torch.Tensor, a: torch.Tensor) -> torch.Tensor:
        """∇_a of the critic at (s, a): min(Q1, Q2) for the MLP twins, the twins' mean model
        around a for the local ones."""
        if self.local:
            with torch.no_grad():
                return self.critic.gradient(s, a)
        at = a.detach().clone().requires_grad_(True)
        torch.min(*self.critic(s, at)).sum().backward()
        return at.grad

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
        actor = GaussianActor(obs_dim, act_dim, cfg.width, cfg.log_std_init)
        super().__init__(actor, obs_dim, act_dim, cfg, cfg.actor_lr, noise_seed)
