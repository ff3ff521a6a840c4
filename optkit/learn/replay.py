"""A fixed-capacity replay buffer in numpy (float32), with its own seeded sampler."""

from __future__ import annotations

from typing import Any

import numpy as np


class ReplayBuffer:
    """Ring buffer of (s, a, r, s', done, ref); `sample` draws uniformly with a seeded Generator.
    `ref` is the greedy action the transition's group played (the `local` critic's reference;
    zeros when there is none)."""

    def __init__(self, obs_dim: int, act_dim: int, capacity: int, rng: np.random.Generator):
        self.capacity, self.rng = capacity, rng
        self.obs = np.zeros((capacity, obs_dim), np.float32)
        self.act = np.zeros((capacity, act_dim), np.float32)
        self.rew = np.zeros(capacity, np.float32)
        self.next_obs = np.zeros((capacity, obs_dim), np.float32)
        self.done = np.zeros(capacity, np.float32)
        self.ref = np.zeros((capacity, act_dim), np.float32)
        self.pos, self.size = 0, 0

    def add(self, obs, act, rew, next_obs, done, ref=None) -> None:
        """Add a batch of transitions (leading axis = transitions)."""
        n = len(rew)
        idx = (self.pos + np.arange(n)) % self.capacity
        self.obs[idx], self.act[idx], self.rew[idx] = obs, act, rew
        self.next_obs[idx], self.done[idx] = next_obs, done
        self.ref[idx] = 0.0 if ref is None else ref
        self.pos = int((self.pos + n) % self.capacity)
        self.size = int(min(self.size + n, self.capacity))

    def sample(self, batch: int) -> dict[str, np.ndarray]:
        idx = self.rng.integers(0, self.size, batch)
        return {
            "obs": self.obs[idx],
            "act": self.act[idx],
            "rew": self.rew[idx],
            "next_obs": self.next_obs[idx],
            "done": self.done[idx],
            "ref": self.ref[idx],
        }

    def state_dict(self) -> dict[str, Any]:
        n = self.size
        return {
            "obs": self.obs[:n].copy(),
            "act": self.act[:n].copy(),
            "rew": self.rew[:n].copy(),
            "next_obs": self.next_obs[:n].copy(),
            "done": self.done[:n].copy(),
            "ref": self.ref[:n].copy(),
            "pos": self.pos,
            "rng": self.rng.bit_generator.state,
        }

    def load_state_dict(self, state: dict[str, Any]) -> None:
        n = len(state["rew"])
        for name in ("obs", "act", "rew", "next_obs", "done"):
            getattr(self, name)[:n] = np.asarray(state[name])
        self.ref[:n] = np.asarray(state["ref"]) if "ref" in state else 0.0  # older run states
        self.size, self.pos = n, int(state["pos"])
        self.rng.bit_generator.state = state["rng"]
