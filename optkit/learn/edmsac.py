"""EDMSAC (and DMSAC, its unpruned twin): soft actor-critic with the diffusion actor.

Differences from `sac.SAC`:
- the actor is `diffusion.DiffusionActor` (DDPM chain + exploration Gaussian for log π);
- next actions for the critic targets come from a target actor (Polyak-averaged like the
  critics), which always carries the online actor's pruning masks;
- dynamic structured pruning (pruning.py): every `prune_every` actor updates -- behaviour-cloning
  updates included -- the denoiser's hidden neurons are re-scored and the lowest share ϱ(u) of
  each layer masked, ϱ(u) ramping from 0 to `prune_rate` over the first `prune_ramp` share of
  all actor updates. DMSAC is the same code with ϱ = 0. With `prune_exact = false` the exact
  fine-tuning holds the masks cloning left: a neuron that comes back brings weights that got no
  gradient while it was masked, a jump in the decision larger than the raw map's safety margin.
"""

from __future__ import annotations

import copy
from typing import Any

import torch

from optkit.learn.config import EDMSACConfig
from optkit.learn.diffusion import DiffusionActor
from optkit.learn.pruning import ramp_rate, rescore
from optkit.learn.sac import SoftActorCritic, polyak


def make_actor(
    obs_dim: int, act_dim: int, cfg: EDMSACConfig, features: dict[str, Any] | None = None
) -> DiffusionActor:
    """The diffusion actor of a config; `features` is the spec of its derived input features
    (features.py), None for the observation as it is."""
    return DiffusionActor(
        obs_dim,
        act_dim,
        width=cfg.width,
        depth=cfg.depth,
        time_dim=cfg.time_dim,
        steps=cfg.denoise_steps,
        beta_min=cfg.beta_min,
        beta_max=cfg.beta_max,
        log_std_init=cfg.log_std_init,
        prediction=cfg.prediction,
        features=features,
    )


class DiffusionSAC(SoftActorCritic):
    """EDMSAC; DMSAC when cfg.prune_rate == 0."""

    def __init__(
        self,
        obs_dim: int,
        act_dim: int,
        cfg: EDMSACConfig,
        noise_seed: int,
        total_actor_updates: int,
        features: dict[str, Any] | None = None,
    ):
        actor = make_actor(obs_dim, act_dim, cfg, features)
        super().__init__(actor, obs_dim, act_dim, cfg, cfg.actor_lr, noise_seed)
        self.actor_target = copy.deepcopy(actor).requires_grad_(False)
        self.total_actor_updates = max(1, total_actor_updates)
        self.prune_rate_now = 0.0
        actor.denoiser.track_activations = cfg.prune_activation

    def next_action(self, s: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        return self.actor_target.sample(s, self.generator)

    def after_actor_update(self, phase: str) -> dict[str, float]:
        cfg = self.cfg
        assert isinstance(cfg, EDMSACConfig)
        polyak(self.actor_target, self.actor, cfg.tau)
        changed = 0
        hold = phase == "exact" and not cfg.prune_exact
        if cfg.prune_rate > 0 and self.actor_updates % cfg.prune_every == 0 and not hold:
            self.prune_rate_now = ramp_rate(
                self.actor_updates, self.total_actor_updates, cfg.prune_rate, cfg.prune_ramp
            )
            changed = rescore(self.actor.denoiser, self.prune_rate_now, cfg.prune_activation)
            self.actor_target.denoiser.masks.copy_(self.actor.denoiser.masks)
        return {"prune_rate": self.prune_rate_now, "mask_changes": float(changed)}

    def modules(self) -> dict[str, Any]:
        return {**super().modules(), "actor_target": self.actor_target}

    def state_dict(self) -> dict[str, Any]:
        return {**super().state_dict(), "prune_rate_now": self.prune_rate_now}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        super().load_state_dict(state)
        self.prune_rate_now = float(state["prune_rate_now"])
