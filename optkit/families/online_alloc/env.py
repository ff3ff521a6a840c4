"""Gymnasium env: a learner sets the dual price vector, the family plays the requests.

Episode: one request stream (a fresh seeded stream per reset from a preset, or a fixed
instance). Each env step covers the next `window` requests:
- action: a in [-1, 1]^m, mapped to prices μ = (a + 1) / 2 · μ_max (μ_max = r̄ / min_j ρ_j, the
  bound on useful prices from dmd.py); the requests of the window are then played by bid-price
  control with the safety rule (argmax_i r_ti - μᵀC_t[:, i] when positive and affordable),
  exactly as `fixed_dual` plays them.
- observation (float32, 2m + 1): remaining budget per resource over its initial budget, the
  spend rate of the last window over ρ per resource (0 before the first), and the fraction of
  the horizon left. (The spend rate is capped at RATE_CAP.)
- reward: the reward earned in the window divided by the window length (reward per request),
  so step rewards are O(1) whatever the window.
- termination: after the last request (truncation never: the horizon is part of the instance).
`info` carries the episode's total reward and, at the end, the hindsight LP value when
`with_oracle=True` (dual_bound), so a learner can log its competitive ratio.
"""

from __future__ import annotations

from typing import Any

import gymnasium as gym
import numpy as np
from gymnasium import spaces

from optkit.core.errors import InvalidInputError
from optkit.families.online_alloc.dmd import margins
from optkit.families.online_alloc.generate import generate
from optkit.families.online_alloc.instance import OnlineAllocInstance

RATE_CAP = 10.0
"""Spend-rate observations are capped here (10x the budget rate is already "far too fast")."""


class OnlineAllocEnv(gym.Env):
    metadata = {"render_modes": []}

    def __init__(
        self,
        preset: str = "small",
        instance: OnlineAllocInstance | None = None,
        window: int = 10,
        with_oracle: bool = False,
        **options: Any,
    ):
        self.preset, self.options, self.fixed = preset, options, instance
        self.window, self.with_oracle = int(window), with_oracle
        probe = instance if instance is not None else generate(preset, 0, **options)
        if probe.variant == "matching":
            raise InvalidInputError("variant", "the env plays bid-price control: choice/bidding")
        m = probe.m
        self.action_space = spaces.Box(-1.0, 1.0, shape=(m,), dtype=np.float32)
        high = np.full(2 * m + 1, 1.0, dtype=np.float32)
        high[m : 2 * m] = RATE_CAP
        self.observation_space = spaces.Box(0.0, high, dtype=np.float32)
        self.instance = probe

    def reset(self, *, seed: int | None = None, options: dict | None = None):
        super().reset(seed=seed)
        if self.fixed is None:
            stream_seed = int(self.np_random.integers(0, 2**31 - 1))
            self.instance = generate(self.preset, stream_seed, **self.options)
        inst = self.instance
        self.t = 0
        self.remaining = inst.budgets.astype(np.float64).copy()
        self.last_rate = np.zeros(inst.m)
        self.total = 0.0
        self.mu_max = max(float(inst.rewards.max()), 1e-12) / float(inst.rho.min())
        return self._obs(), {}

    def _obs(self) -> np.ndarray:
        inst = self.instance
        return np.concatenate(
            [self.remaining / inst.budgets, self.last_rate, [1.0 - self.t / inst.T]]
        ).astype(np.float32)

    def prices(self, action: np.ndarray) -> np.ndarray:
        """The family's map from the action box to dual prices."""
        a = np.clip(np.asarray(action, dtype=np.float64), -1.0, 1.0)
        return (a + 1.0) / 2.0 * self.mu_max

    def step(self, action: np.ndarray):
        inst = self.instance
        mu = self.prices(action)
        lo, hi = self.t, min(inst.T, self.t + self.window)
        C = inst.consumption[lo:hi].astype(np.float64)
        R = inst.rewards[lo:hi]
        earned, spent = 0.0, np.zeros(inst.m)
        marg = margins(mu, R, C)  # (n, d): prices are fixed over the window
        for k in range(hi - lo):
            i = int(marg[k].argmax())
            if marg[k, i] > 0.0:
                use = C[k, :, i]
                if (use <= self.remaining).all():
                    self.remaining -= use
                    spent += use
                    earned += float(R[k, i])
        self.t = hi
        self.total += earned
        self.last_rate = np.minimum(spent / ((hi - lo) * inst.rho), RATE_CAP)
        done = self.t >= inst.T
        info: dict[str, Any] = {"total_reward": self.total}
        if done and self.with_oracle:
            from optkit.families.online_alloc.dual_bound import solve_dual_bound

            info["hindsight_lp"] = solve_dual_bound(inst).dual
        return self._obs(), earned / (hi - lo), done, False, info
