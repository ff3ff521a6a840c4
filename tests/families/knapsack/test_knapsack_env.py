"""The Gymnasium accept/reject env: API conformance, seeding, and return = true value."""

from __future__ import annotations

import math

import numpy as np
from gymnasium.utils.env_checker import check_env
from knapsack_testkit import EXAMPLE_PATH

import optkit
from optkit.families.knapsack.env import ComposeEnv
from optkit.families.knapsack.evaluate import set_value


def test_env_passes_the_gymnasium_checker():
    check_env(ComposeEnv(preset="single_agent"), skip_render_check=True)


def rollout(env, seed, accept):
    obs, _ = env.reset(seed=seed)
    total, done, trace = 0.0, False, [obs]
    while not done:
        obs, reward, done, truncated, info = env.step(np.array([1.0 if accept else -1.0]))
        total += reward
        trace.append(obs)
        assert not truncated and env.observation_space.contains(obs)
    return total, np.array(trace)


def test_return_is_the_true_value_of_the_selection():
    env = ComposeEnv(preset="multi_agent")
    total, _ = rollout(env, 5, accept=True)
    mask = env._composer.chosen
    assert mask.any()
    assert math.isclose(total, set_value(env.instance, mask), rel_tol=1e-12)
    assert env.instance.prices @ mask <= env.instance.budget


def test_rejecting_everything_earns_nothing():
    total, trace = rollout(ComposeEnv(instance=optkit.load(EXAMPLE_PATH)), 0, accept=False)
    assert total == 0.0 and (trace[:, 0] == 0).all()


def test_same_seed_same_episode():
    a = rollout(ComposeEnv(preset="single_agent"), 11, accept=True)
    b = rollout(ComposeEnv(preset="single_agent"), 11, accept=True)
    assert a[0] == b[0] and np.array_equal(a[1], b[1])
