"""The oracle warm-start data set: an `optkit baseline` Parquet mapped into the env's action box.

`optkit baseline` writes one row per instance (optkit/bench/dataset.py, SCHEMA); this reader
uses the columns ``id``, ``family``, ``status``, ``instance`` (instance JSON) and ``decision``
(the canonical optimal menu's JSON), keeps the rows whose status is ``optimal``, and maps each
(instance, decision) to (observation, action) with the family's adapter. Reading needs only
pyarrow, never optkit.bench (learn does not import bench).

Contract adapter (the inverse of the env's action maps, optkit/families/contract/env.py):
  raw        the inverse affine map: a = 2 (x - lo)/(hi - lo) - 1 per entry, with the env's
             `raw_ranges` (they hold every canonical optimum of the warm-start data; a row
             outside is clipped and counted);
  projected  the target efforts whose projection is the optimum -- the optimal efforts
             themselves, through the env's `effort_action`: a1 = 2 e1/e_max - 1 and per
             history i each step as a share of the remaining headroom,
             a_ij = 2 (e2_ij - e2_i,j-1)/(e_max - e2_i,j-1) - 1. The map is onto, so an optimal
             menu is clipped only by float rounding at the box's faces (`BCData.clipped`).

Knapsack adapter (a multi-step env, optkit/Compose-v0): each row's episode replayed accepting
exactly the hindsight optimum's components as they arrive, one (observation, ±ORACLE_ACCEPT)
pair per offer (`knapsack_steps`).

Oracle data reaches the learner only through this module; it never travels through the env's
info dict.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from optkit.core.errors import InvalidInputError

CLIP_TOL = 1e-9
MANIFEST_NAME = "_optkit_baseline.json"
"""The config file `optkit baseline` writes beside its Parquet parts (solver and params); the
same name as optkit.bench.dataset.MANIFEST_NAME, which learn may not import (layers)."""
REQUIRED_COLUMNS = ("id", "family", "status", "instance", "decision")


def contract_action(inst: Any, decision: Any, action_map: str) -> np.ndarray:
    """The point of [-1, 1]^d that the contract env's `action_map` sends to `decision` (before
    clipping: entries outside the box mean the map cannot reach the decision exactly)."""
    if action_map == "projected":
        from optkit.families.contract.env import effort_action

        return effort_action(inst, decision)
    if action_map == "raw":
        from optkit.families.contract.env import raw_action

        return raw_action(inst, decision)
    raise InvalidInputError("action_map", f"must be 'raw' or 'projected', got {action_map!r}")


@dataclass(frozen=True)
class FamilyAdapter:
    """What the learner needs from a family beyond its env: read rows, observe, invert the map.

    A one-step env gives `observe` and `to_action` (one pair per row); a multi-step env gives
    `to_steps` instead, the episode its oracle decision plays (one pair per step)."""

    instance_from_json: Callable[[str], Any]
    decision_from_json: Callable[[str, Any], Any]
    default_action_map: str
    observe: Callable[[Any], np.ndarray] | None = None
    to_action: Callable[[Any, Any, str], np.ndarray] | None = None
    to_steps: Callable[[Any, Any, str], tuple[np.ndarray, np.ndarray]] | None = None
    """(observations (k, obs_dim), actions (k, d)) of the env's episode on the instance when
    every step takes the oracle decision's action."""
    check_source: Callable[[dict[str, Any], str], str | None] | None = None
    """Given the data set's `optkit baseline` config and the action map, why the rows cannot
    serve as cloning targets for that map (None: they can)."""
    reward_reference: Callable[[Any], float] | None = None
    """A positive per-instance scale computable without the oracle; the learner divides rewards
    by it (`normalize_reward`). One-step episodes on a fixed instance: the best action of each
    instance is unchanged, but the critic sees a dimensionless return instead of one scaled by
    numbers the observation leaves out on purpose (N, ω, e_max)."""


def contract_reward_reference(inst: Any) -> float:
    """The first-best profit (complete information, closed form): an upper bound on every IC/IR
    menu's profit, 0.8-0.99 of which the optimum reaches on preset `default`."""
    from optkit.families.contract.baselines import first_best_menu
    from optkit.families.contract.evaluate import evaluate

    return max(float(evaluate(inst, first_best_menu(inst)).objective), 1e-9)


def contract_check_source(config: dict[str, Any], action_map: str) -> str | None:
    """The raw map clones rewards as well as efforts, and only canonical rewards lie in its ranges
    (env.raw_ranges): `cvxpy` writes canonical menus, `fast` only with canonical=true. Its
    default rewards are optimal too but move money between periods (38% of preset `default`'s
    rows fell outside the box, and a run cloned from them was 100% infeasible)."""
    if action_map != "raw":
        return None
    solver, params = config.get("solver"), config.get("params") or {}
    if solver == "cvxpy" or (solver == "fast" and params.get("canonical") is True):
        return None
    return (
        f"the raw map clones rewards, which must be canonical; this data set was written by "
        f"{solver!r} with params {params}: regenerate it with `--solver cvxpy` or "
        "`--solver fast --param canonical=true`"
    )


def _contract_adapter() -> FamilyAdapter:
    from optkit.families.contract.env import observe
    from optkit.families.contract.instance import ContractDecision, ContractInstance

    return FamilyAdapter(
        instance_from_json=lambda text: ContractInstance.from_dict(json.loads(text)),
        decision_from_json=lambda text, inst: ContractDecision.from_dict(
            json.loads(text), instance=inst
        ),
        observe=observe,
        to_action=contract_action,
        default_action_map="projected",
        check_source=contract_check_source,
        reward_reference=contract_reward_reference,
    )


ORACLE_ACCEPT = 0.5
"""The action cloned for "accept" (its negative for "reject") in knapsack's env, which accepts
iff the action is > 0: inside the box, so a tanh or clipped actor can reach it."""


def knapsack_steps(inst: Any, decision: Any, action_map: str) -> tuple[np.ndarray, np.ndarray]:
    """Replay knapsack's composer env on the instance (the tests zcl sees), accepting exactly the
    components of the hindsight optimum as they arrive: one (observation, action) per offer."""
    from optkit.families.knapsack.env import ComposeEnv

    env = ComposeEnv(instance=inst)
    obs, _ = env.reset(options={"instance": inst})
    chosen, steps, acts = set(decision.chosen), [], []
    done = env.offered is None
    while not done:
        a = ORACLE_ACCEPT if inst.component_names[env.offered] in chosen else -ORACLE_ACCEPT
        steps.append(obs)
        acts.append([a])
        obs, _, done, _, _ = env.step(np.array([a], np.float32))
    # reshaped: an episode may have no offer at all
    obs = np.asarray(steps, np.float32).reshape(-1, env.observation_space.shape[0])
    return obs, np.asarray(acts, np.float32).reshape(-1, env.action_space.shape[0])


def _knapsack_adapter() -> FamilyAdapter:
    from optkit.families.knapsack.instance import KnapsackDecision, KnapsackInstance

    return FamilyAdapter(
        instance_from_json=lambda text: KnapsackInstance.from_dict(json.loads(text)),
        decision_from_json=lambda text, inst: KnapsackDecision.from_dict(
            json.loads(text), instance=inst
        ),
        default_action_map="accept",
        to_steps=knapsack_steps,
    )


ADAPTERS: dict[str, Callable[[], FamilyAdapter]] = {
    "contract": _contract_adapter,
    "knapsack": _knapsack_adapter,
}


def adapter(family: str) -> FamilyAdapter:
    if family not in ADAPTERS:
        raise InvalidInputError(
            "env.family", f"no warm-start adapter for {family!r} (have {sorted(ADAPTERS)})"
        )
    return ADAPTERS[family]()


@dataclass(frozen=True)
class BCData:
    """Behaviour-cloning pairs: observations (n, obs_dim) and box actions (n, d), float32."""

    obs: np.ndarray
    act: np.ndarray
    ids: tuple[str, ...]
    clipped: int
    """Rows whose exact inverse left the box (clipped to it): the map cannot reach them."""
    skipped: int
    """Rows not used: status other than optimal, or another family."""
    source: str

    def __len__(self) -> int:
        return len(self.ids)


def read_bc_data(
    path: str | Path,
    family: str,
    action_map: str | None = None,
    max_rows: int | None = None,
) -> BCData:
    """Read an `optkit baseline` data set directory (or one Parquet file) into BCData."""
    import pyarrow.parquet as pq  # lazy: only warm-started runs read Parquet

    ad = adapter(family)
    action_map = action_map or ad.default_action_map
    path = Path(path)
    if not path.exists():
        raise InvalidInputError("bc_data", f"{path}: no such data set")
    manifest = path / MANIFEST_NAME if path.is_dir() else path.parent / MANIFEST_NAME
    if ad.check_source is not None and manifest.is_file():
        try:
            config = json.loads(manifest.read_text())["config"]
        except (ValueError, KeyError, TypeError):
            problem = f"{manifest}: unreadable baseline manifest"
            raise InvalidInputError("bc_data", problem) from None
        problem = ad.check_source(config, action_map)
        if problem:
            raise InvalidInputError("bc_data", f"{path}: {problem}")
    try:
        table = pq.read_table(path, columns=list(REQUIRED_COLUMNS))
    except Exception as exc:  # pyarrow raises several types for a bad or foreign file
        raise InvalidInputError(
            "bc_data",
            f"{path}: not an optkit baseline data set with columns "
            f"{list(REQUIRED_COLUMNS)} ({type(exc).__name__}: {exc})",
        ) from None
    rows = table.to_pylist()
    rows.sort(key=lambda r: r["id"])  # part order depends on the writer; ids do not
    obs, act, ids, clipped, skipped, used = [], [], [], 0, 0, 0
    for row in rows:
        if row["family"] != family or row["status"] != "optimal" or row["decision"] is None:
            skipped += 1
            continue
        if max_rows is not None and used >= max_rows:
            break
        used += 1
        try:
            inst = ad.instance_from_json(row["instance"])
            dec = ad.decision_from_json(row["decision"], inst)
        except InvalidInputError as exc:
            raise InvalidInputError(f"bc_data[{row['id']}]", str(exc)) from None
        if ad.to_steps is not None:
            o, a = ad.to_steps(inst, dec, action_map)
            obs.extend(o)
            act.extend(a)
            ids.extend(f"{row['id']}#{k}" for k in range(len(a)))
            continue
        a = ad.to_action(inst, dec, action_map)
        if (np.abs(a) > 1.0 + CLIP_TOL).any():
            clipped += 1
        obs.append(ad.observe(inst))
        act.append(np.clip(a, -1.0, 1.0))
        ids.append(row["id"])
    if not ids:
        raise InvalidInputError("bc_data", f"{path}: no optimal {family} rows")
    return BCData(
        obs=np.asarray(obs, np.float32),
        act=np.asarray(act, np.float32),
        ids=tuple(ids),
        clipped=clipped,
        skipped=skipped,
        source=str(path),
    )
