"""Gymnasium env for a learned accept/reject composer (spec: "Learned").

Episode: one instance (a fixed one, or a fresh draw of `preset` per reset, seeded by the reset
seed). Components arrive in retrieval order (online.py); each admissible one (fits, no conflict,
requirements met) is tested in the sandbox (BernoulliTester, tests_per_component trials) and
shown to the agent; inadmissible ones are skipped without a step.

Observation, Box(4) in [0, 1] (float32):
  0  z, the share of the budget spent
  1  estimated marginal-gain density of the current component over U, clipped to [0, 1]
     (U: online.density_bounds, the largest prior-mean standalone density of the inventory)
  2  mean posterior standard deviation of its declared skills' qualities (≤ 0.5)
  3  estimated coverage so far, Σ_s w_s E[C_s] / Σ_s w_s
Action: Box(-1, 1, (1,)), the normalised box of spec/architecture.md; accept iff action > 0.
Reward: on accept, the true marginal gain of the component (value of the selection on the true
q after minus before, evaluate.set_value), so an episode's return is the true value of the final
selection; 0 on reject. (all_skills: the gain in true Σ_s max q, the coverage surrogate.)
Termination: the stream ends or nothing admissible is left. No truncation.
Instance: a fixed one (constructor), one passed to `reset(options={"instance": inst})` (how the
learners replay held-out instances, optkit.learn.config.EnvConfig), else a fresh draw.
Info: at termination, `objective` = evaluate.set_value of the final selection on the true q (the
family's own score, what the hindsight optimum is compared with; for `weighted` it equals the
episode's return), `feasible` = True (admissibility keeps every constraint) and `max_violation`.
Registered as ``optkit/Compose-v0`` (kwargs: preset, tests_per_component).
"""

from __future__ import annotations

from typing import Any

import gymnasium as gym
import numpy as np

from optkit.families.knapsack.evaluate import evaluate
from optkit.families.knapsack.generate import generate
from optkit.families.knapsack.instance import KnapsackDecision, KnapsackInstance
from optkit.families.knapsack.online import (
    BernoulliTester,
    Composer,
    OnlineConfig,
    arrival_order,
    density_bounds,
)

ENV_ID = "optkit/Compose-v0"


class ComposeEnv(gym.Env):
    metadata = {"render_modes": []}

    def __init__(
        self,
        instance: KnapsackInstance | None = None,
        preset: str = "single_agent",
        tests_per_component: int = 5,
    ):
        self._fixed = instance
        self._preset = preset
        self._config = OnlineConfig(tests_per_component=tests_per_component)
        self.observation_space = gym.spaces.Box(0.0, 1.0, (4,), dtype=np.float32)
        self.action_space = gym.spaces.Box(-1.0, 1.0, (1,), dtype=np.float32)
        self._composer: Composer | None = None

    def reset(self, *, seed: int | None = None, options: dict[str, Any] | None = None):
        super().reset(seed=seed)
        draw = int(self.np_random.integers(0, 2**62))
        given = (options or {}).get("instance")
        if given is not None and not isinstance(given, KnapsackInstance):
            raise TypeError(f"options['instance'] must be a KnapsackInstance, got {type(given)}")
        fixed = given if given is not None else self._fixed
        self.instance = fixed if fixed is not None else generate(self._preset, draw)
        inst = self.instance
        # a given instance is tested as `optkit.solve(inst, "zcl", seed=s)` tests it (s: the
        # reset's seed, else 0), so a learned policy and the online rules meet the same outcomes
        tester_seed = draw if given is None else (0 if seed is None else seed)
        self._composer = Composer(inst, BernoulliTester(inst, tester_seed), self._config)
        self._weights = self._composer.weights
        self._order = [int(i) for i in arrival_order(inst)]
        _, self._U, _ = density_bounds(self._composer, np.array(self._order))
        self._pos = -1
        self._true = 0.0
        done = self._advance()
        return self._observe(done), {"instance": inst.name}

    @property
    def offered(self) -> int | None:
        """Index of the component on offer (the one the next action decides), None when done."""
        if self._composer is None or self._pos >= len(self._order):
            return None
        return self._order[self._pos]

    def _true_value(self, mask: np.ndarray) -> float:
        q = self.instance.quality
        return float(self._weights @ (q * mask[:, None]).max(axis=0))

    def _advance(self) -> bool:
        """Move to the next admissible component and test it; True when none is left."""
        c = self._composer
        while True:
            self._pos += 1
            if self._pos >= len(self._order):
                return True
            i = self._order[self._pos]
            if c.admissible(i):
                c.test(i)
                if c.admissible(i):
                    return False

    def _observe(self, done: bool) -> np.ndarray:
        c, inst = self._composer, self.instance
        z = min(c.spent / inst.budget, 1.0)
        coverage = c.estimated_value() / self._weights.sum()
        if done:
            return np.array([z, 0.0, 0.0, coverage], dtype=np.float32)
        i = self._order[self._pos]
        density = c.gain(i) / inst.prices[i] / self._U
        sd = c.uncertainty[i][inst.offers[i]]
        return np.array(
            [z, min(max(density, 0.0), 1.0), float(sd.mean()) if sd.size else 0.0, coverage],
            dtype=np.float32,
        )

    def step(self, action):
        c = self._composer
        reward = 0.0
        if float(np.asarray(action).reshape(-1)[0]) > 0:
            before = self._true_value(c.chosen)
            c.accept(self._order[self._pos])
            reward = self._true_value(c.chosen) - before
        done = self._advance()
        info: dict[str, Any] = {"chosen": int(c.chosen.sum())}
        if done:
            report = evaluate(self.instance, KnapsackDecision.from_mask(self.instance, c.chosen))
            info |= {
                "objective": report.objective,
                "max_violation": report.max_violation,
                "feasible": report.feasible,
            }
        return self._observe(done), reward, done, False, info


if ENV_ID not in gym.registry:
    gym.register(id=ENV_ID, entry_point="optkit.families.knapsack.env:ComposeEnv")
