"""An experimental action map for the contract env, `headroom` -- not part of the env's contract.

The env's `projected` map caps every period-2 effort step at e_max / I (ê2_ij = e_max Σ_{k<=j}
u_ik / I), so a row whose first effort exceeds e_max / I is out of its range: 91% of the optimal
menus of preset `default` (docs/edmsac.md). This map keeps the env's projection LP and changes
only the targets, per history i:
    ê2_ij = ê2_i,j-1 + u_ij (e_max - ê2_i,j-1),   u = (a + 1)/2,   ê2_i,-1 = 0,
each step a share of the remaining headroom. Every nondecreasing row in [0, e_max] is reachable
(the map is onto), and the inverse is u_ij = (e2_ij - e2_i,j-1) / (e_max - e2_i,j-1) (any u when
the row is already at e_max). Period 1 is the env's map, ê1 = u1 e_max.

It exists to measure what the learner achieves when the map can express the optimum, as
evidence for an env change (proposed in the issue report); the shipped `contract-edmsac-v1` uses
the env's documented `projected` map. Gymnasium id (module-qualified, so gym.make imports this):
    optkit.learn.headroom:optkit-learn/ContractHeadroom-v0
"""

from __future__ import annotations

import gymnasium as gym
import numpy as np

from optkit.families.contract.env import ContractEnv
from optkit.families.contract.instance import ContractDecision, ContractInstance
from optkit.families.contract.projection import ProjectedMap

ENV_ID = "optkit-learn/ContractHeadroom-v0"
GYM_ID = f"{__name__}:{ENV_ID}"


def headroom_targets(inst: ContractInstance, action: np.ndarray) -> np.ndarray:
    """Target efforts (Layout effort order) of an action under the headroom map."""
    n, E = inst.n_types, inst.effort_max
    u = (np.clip(np.asarray(action, dtype=float), -1.0, 1.0) + 1.0) / 2.0
    e1 = u[:n] * E
    if not inst.dynamic:
        return e1
    e2 = np.zeros((n, n))
    prev = np.zeros(n)
    for j, share in enumerate(u[n:].reshape(n, n).T):
        prev = prev + share * (E - prev)
        e2[:, j] = prev
    return np.concatenate([e1, e2.ravel()])


def headroom_action(inst: ContractInstance, decision: ContractDecision) -> np.ndarray:
    """The inverse: the action whose targets are the decision's efforts."""
    n, E = inst.n_types, inst.effort_max
    parts = [2.0 * decision.effort1 / E - 1.0]
    if inst.dynamic:
        e2 = np.clip(decision.effort2, 0.0, E)
        prev = np.concatenate([np.zeros((n, 1)), e2[:, :-1]], axis=1)
        room = E - prev
        share = np.divide(e2 - prev, room, out=np.zeros_like(e2), where=room > 1e-12 * E)
        parts.append((2.0 * share - 1.0).ravel())
    return np.concatenate(parts)


class HeadroomContractEnv(ContractEnv):
    """ContractEnv with the `headroom` targets in front of the same projection LP."""

    def __init__(self, **kwargs):
        if kwargs.pop("action_map", "headroom") != "headroom":
            raise ValueError("HeadroomContractEnv has one action map, 'headroom'")
        super().__init__(action_map="projected", **kwargs)
        self.action_map = "headroom"  # what the warm-start reader inverts
        self._headroom_map: ProjectedMap | None = None

    def reset(self, *, seed=None, options=None):
        obs, info = super().reset(seed=seed, options=options)
        self._headroom_map = ProjectedMap(self.instance)
        return obs, info

    def menu(self, action: np.ndarray) -> ContractDecision:
        if self._headroom_map is None:
            raise RuntimeError("call reset() first")
        return self._headroom_map(headroom_targets(self.instance, action)).decision


if ENV_ID not in gym.registry:
    gym.register(id=ENV_ID, entry_point=HeadroomContractEnv)
