"""The contract env and its two action maps (spec/contract.md, "Environment for learners")."""

from __future__ import annotations

import warnings

import gymnasium as gym
import numpy as np
import pytest
from contract_testkit import gen
from gymnasium.utils.env_checker import check_env
from hypothesis import given, settings
from hypothesis import strategies as st

import optkit
from optkit.core.errors import InvalidInputError
from optkit.families.contract.env import (
    ENV_ID,
    ContractEnv,
    raw_action,
    raw_menu,
    target_efforts,
)
from optkit.families.contract.evaluate import evaluate
from optkit.families.contract.projection import ProjectedMap

CASES = [
    ("default", None, False),
    ("interim", None, False),
    ("interim", None, True),
    ("power", None, False),
    ("static", 4, False),
]


@pytest.mark.parametrize("action_map", ["raw", "projected"])
@pytest.mark.parametrize("preset,n_types,ll", CASES)
def test_passes_gymnasium_env_checker_without_warnings(action_map, preset, n_types, ll):
    env = ContractEnv(preset, n_types=n_types, action_map=action_map, limited_liability=ll)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        check_env(env, skip_render_check=True)


def test_registered_with_gymnasium():
    env = gym.make(ENV_ID, action_map="raw")
    obs, _ = env.reset(seed=0)
    assert obs.shape == env.observation_space.shape


@settings(max_examples=60, deadline=None)
@given(case=st.sampled_from(CASES), seed=st.integers(0, 2**31), lam=st.floats(0.0, 1e3))
def test_raw_penalty_is_lambda_times_evaluate_violation(case, seed, lam):
    preset, n_types, ll = case
    env = ContractEnv(preset, n_types=n_types, action_map="raw", penalty=lam, limited_liability=ll)
    env.reset(seed=seed)
    env.action_space.seed(seed)
    _, reward, terminated, truncated, info = env.step(env.action_space.sample())
    report = evaluate(env.instance, env.last_decision)
    total = sum(report.violations(tol=0.0).values())
    assert report.total_violation == pytest.approx(total, rel=1e-12, abs=1e-12)
    assert info["penalty"] == pytest.approx(lam * total, rel=1e-12, abs=1e-12)
    assert reward == pytest.approx(report.objective - lam * total, rel=1e-12, abs=1e-9)
    assert terminated and not truncated


@settings(max_examples=60, deadline=None)
@given(case=st.sampled_from(CASES), seed=st.integers(0, 2**31), data=st.data())
def test_projected_menu_is_feasible_for_every_action(case, seed, data):
    preset, n_types, ll = case
    env = ContractEnv(preset, n_types=n_types, action_map="projected", limited_liability=ll)
    env.reset(seed=seed)
    d = env.action_space.shape[0]
    corner = st.sampled_from([-1.0, 1.0])
    action = np.array(
        data.draw(st.lists(st.one_of(st.floats(-1, 1), corner), min_size=d, max_size=d))
    )
    _, reward, _, _, info = env.step(action.astype(np.float32))
    report = evaluate(env.instance, env.last_decision)
    assert report.max_violation <= 1e-7, report.worst
    assert info["penalty"] == 0.0 and reward == report.objective


@pytest.mark.parametrize("preset,n_types,ll", CASES)
def test_projecting_the_optimum_returns_it(preset, n_types, ll):
    """Target = the certified optimal efforts: distance 0 and (cheapest rewards) the optimum."""
    inst = gen(preset, 5, n_types=n_types, limited_liability=ll)
    opt = optkit.solve(inst, "cvxpy")
    dec = opt.decision
    target = np.concatenate([dec.effort1, dec.effort2.ravel()]) if inst.dynamic else dec.effort1
    proj = ProjectedMap(inst)(target)
    assert proj.distance <= 1e-6 * inst.effort_max * target.size
    value = evaluate(inst, proj.decision).objective
    assert value == pytest.approx(opt.objective, rel=1e-5)


def test_projection_depends_on_the_target_only():
    inst = gen("default", 2)
    pm = ProjectedMap(inst)
    rng = np.random.default_rng(0)
    target = rng.uniform(0, inst.effort_max, 12)
    first = pm(target).decision
    for _ in range(5):
        pm(rng.uniform(0, inst.effort_max, 12))
    again = pm(target).decision
    for field in ("effort1", "reward1", "effort2", "reward2"):
        np.testing.assert_array_equal(getattr(first, field), getattr(again, field))


def test_zero_target_gives_the_zero_menu():
    inst = gen("default", 3)
    dec = ProjectedMap(inst)(np.zeros(12)).decision
    assert np.abs(dec.effort1).max() == 0 and np.abs(dec.reward2).max() <= 1e-12


def test_projected_targets_have_nondecreasing_rows():
    inst = gen("default", 4)
    t = target_efforts(inst, np.random.default_rng(1).uniform(-1, 1, 12))
    e2 = t[3:].reshape(3, 3)
    assert (np.diff(e2, axis=1) >= 0).all() and t.min() >= 0 and t.max() <= inst.effort_max


@pytest.mark.parametrize("seed", range(10))
@pytest.mark.parametrize("preset", ["default", "interim", "power"])
def test_raw_ranges_hold_the_optimum(preset, seed):
    """The documented raw ranges hold the canonical optimum: an action in the box maps to it.
    Seed 0 of `default` has canonical R2 at exactly φ_1 e_max, the range's top."""
    inst = gen(preset, seed)
    dec = optkit.solve(inst, "fast", params={"canonical": True}).decision
    E, money = inst.effort_max, inst.phi[0] * inst.effort_max
    lo1 = -inst.discount * money if inst.ir == "interim" else 0.0
    hi1 = (1 + inst.discount) * money
    a = np.concatenate(
        [
            2 * dec.effort1 / E - 1,
            2 * (dec.reward1 - lo1) / (hi1 - lo1) - 1,
            2 * dec.effort2.ravel() / E - 1,
            2 * dec.reward2.ravel() / money - 1,
        ]
    )
    assert np.abs(a).max() <= 1 + 1e-9
    np.testing.assert_allclose(raw_action(inst, dec), a, atol=1e-12)
    back = raw_menu(inst, np.clip(a, -1, 1))
    np.testing.assert_allclose(back.reward2, dec.reward2, atol=1e-9 * money)
    np.testing.assert_allclose(back.effort1, dec.effort1, atol=1e-9 * E)


def test_raw_ranges_need_canonical_rewards():
    """Why raw warm starts need canonical data: other optimal rewards (fast's default) move
    money into period 2, past the range, at the same profit."""
    inst = gen("default", 0)
    canonical = optkit.solve(inst, "fast", params={"canonical": True})
    other = optkit.solve(inst, "fast")
    assert other.objective == pytest.approx(canonical.objective, rel=1e-6)
    money = inst.phi[0] * inst.effort_max
    assert canonical.decision.reward2.max() <= money * (1 + 1e-9)
    assert other.decision.reward2.max() > 1.05 * money


def test_same_seed_same_episode():
    def run(seed):
        env = ContractEnv("default", action_map="projected")
        obs, _ = env.reset(seed=seed)
        return obs, env.step(np.linspace(-1, 1, 12, dtype=np.float32))[1]

    (o1, r1), (o2, r2), (o3, _) = run(7), run(7), run(8)
    np.testing.assert_array_equal(o1, o2)
    assert r1 == r2 and not np.array_equal(o1, o3)


def test_observation_is_bounded_and_sized():
    env = ContractEnv("default")
    obs, _ = env.reset(seed=0)
    assert obs.shape == (2 * 3 + 9 + 1 + 5,) and obs.min() >= 0 and obs.max() <= 1


def test_oracle_reports_the_gap():
    env = ContractEnv("default", action_map="projected", oracle=True)
    env.reset(seed=0)
    _, reward, _, _, info = env.step(np.zeros(12, dtype=np.float32))
    assert info["oracle_status"] == "optimal"
    assert info["gap"] == pytest.approx((info["optimum"] - reward) / max(1, abs(info["optimum"])))
    assert info["gap"] >= -1e-6


def test_fixed_instances_and_errors():
    insts = [gen("default", s) for s in range(3)]
    env = ContractEnv(instances=insts)
    env.reset(seed=0)
    assert any(env.instance is i for i in insts)
    with pytest.raises(InvalidInputError, match="action_map"):
        ContractEnv(action_map="clipped")
    with pytest.raises(InvalidInputError, match="n_types"):
        ContractEnv("static")
    with pytest.raises(InvalidInputError, match="instances"):
        ContractEnv(instances=[gen("default", 0), gen("default", 0, n_types=2)])
    env.step(np.zeros(12, dtype=np.float32))
    with pytest.raises(RuntimeError, match="reset"):
        env.step(np.zeros(12, dtype=np.float32))


def test_projection_recovers_when_the_first_simplex_gives_up():
    """Regression: `default` seed 254 with every effort at e_max made primal simplex (no
    presolve) end "Unknown"; the fixed retry sequence returns a feasible menu, the same one on
    every call."""
    inst = gen("default", 254)
    action = np.array([1, 1, 1, 1, -1, -1, 1, -1, -1, 1, -1, -1], dtype=float)
    pm = ProjectedMap(inst)
    first = pm(target_efforts(inst, action)).decision
    assert evaluate(inst, first).max_violation <= 1e-7
    pm(target_efforts(inst, np.zeros(12)))
    again = pm(target_efforts(inst, action)).decision
    np.testing.assert_array_equal(first.effort2, again.effort2)


def test_version_0_is_refused_with_the_pointer_to_v1():
    """v0's `projected` map capped period-2 steps at e_max / I; its id must not silently give
    v1's different map."""
    assert ENV_ID == "optkit/Contract-v1"
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        with pytest.raises(gym.error.DeprecatedEnv, match="Contract-v1"):
            gym.make("optkit/Contract-v0")
