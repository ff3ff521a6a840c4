"""The Gymnasium env: API conformance and that its prices play exactly like fixed_dual."""

from __future__ import annotations

import numpy as np
from gymnasium.utils.env_checker import check_env

import optkit
from optkit.families.online_alloc.env import OnlineAllocEnv
from optkit.families.online_alloc.generate import generate


def test_env_passes_gymnasium_checker():
    check_env(OnlineAllocEnv("small", T=50), skip_render_check=True)


def test_constant_action_matches_fixed_dual():
    inst = generate("small", 9, T=100)
    env = OnlineAllocEnv(instance=inst, window=7, with_oracle=True)
    obs, _ = env.reset(seed=0)
    action = np.linspace(-1, 0, inst.m).astype(np.float32)
    mu = env.prices(action)
    done, info = False, {}
    while not done:
        obs, _, done, _, info = env.step(action)
    fixed = optkit.solve(inst, "fixed_dual", params={"mu": mu.tolist()})
    assert info["total_reward"] == fixed.objective
    assert info["hindsight_lp"] >= fixed.objective
    assert obs[-1] == 0.0 and env.observation_space.contains(obs)
