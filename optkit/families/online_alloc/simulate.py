"""Batched simulator: S independent streams advanced together, vectorised over streams.

One Python iteration per time step handles all S streams with array operations on (S, m) prices
and budgets and (S, m, d) requests; there is no loop over streams. The arithmetic is dmd.py's
(`margins`, `MirrorStep.apply`) applied to the stacked arrays, so stream s plays exactly the
actions the single-stream policy plays on it (tests/families/online_alloc/test_simulate.py).
Streams must share T, m and d; their budgets, requests and seeds are their own.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from optkit.core.errors import InvalidInputError
from optkit.families.online_alloc.dmd import DMDParams, MirrorStep, margins
from optkit.families.online_alloc.instance import NO_ACTION, OnlineAllocInstance

BLOCK = 64
"""Time steps whose requests are stacked into one block (BLOCK, S, m, d) in the streams' own
compact dtype (uint8 for nrm: 1 KB per request). Each step converts its (S, m, d) slice to
float64: converting whole blocks up front writes 8 KB per request and is memory-bound."""


@dataclass(frozen=True)
class BatchResult:
    actions: np.ndarray
    """(S, T) option played per stream and request, -1 for none."""
    rewards: np.ndarray
    """(S,) total reward per stream."""
    mu: np.ndarray
    """(S, m) final prices."""
    remaining: np.ndarray
    """(S, m) budget left."""


def simulate(
    instances: Sequence[OnlineAllocInstance],
    policy: str = "dmd",
    params: DMDParams | None = None,
    mu: np.ndarray | None = None,
) -> BatchResult:
    """Run `dmd` (with `params`), `greedy` or `fixed_dual` (prices `mu`, (m,) or (S, m)) on
    every stream at once."""
    if not instances:
        raise InvalidInputError("instances", "needs at least one stream")
    T, m, d = instances[0].T, instances[0].m, instances[0].d
    for k, inst in enumerate(instances):
        if (inst.T, inst.m, inst.d) != (T, m, d):
            raise InvalidInputError(
                f"instances[{k}]", f"(T, m, d) = {(inst.T, inst.m, inst.d)}, not {(T, m, d)}"
            )
    if instances[0].variant == "matching":
        raise InvalidInputError("instances", "matching streams run single-stream (run_stream)")
    S = len(instances)
    rho = np.stack([inst.rho for inst in instances])
    remaining = rho * T
    mirror = None
    safety = True
    if policy == "dmd":
        params = params or DMDParams()
        prices = np.tile(params.initial(m), (S, 1))
        reward_max = np.array([max(float(inst.rewards.max()), 0.0) for inst in instances])
        mirror = MirrorStep.make(params, rho, T, reward_max[:, None])
        safety = params.safety
    elif policy == "greedy":
        prices = np.zeros((S, m))
    elif policy == "fixed_dual":
        if mu is None:
            raise InvalidInputError("mu", "fixed_dual needs prices")
        prices = np.array(np.broadcast_to(np.asarray(mu, dtype=np.float64), (S, m)))
    else:
        raise InvalidInputError("policy", f"must be dmd, greedy or fixed_dual, got {policy!r}")
    actions = np.empty((S, T), dtype=np.int64)
    total = np.zeros(S)
    streams = np.arange(S)
    Cb = np.empty((BLOCK, S, m, d), dtype=np.result_type(*(i.consumption for i in instances)))
    Rb = np.empty((BLOCK, S, d))
    for lo in range(0, T, BLOCK):
        n = min(T, lo + BLOCK) - lo
        for s, inst in enumerate(instances):  # stacking only: S copies per block, not per step
            Cb[:n, s] = inst.consumption[lo : lo + n]
            Rb[:n, s] = inst.rewards[lo : lo + n]
        for k in range(n):
            Ck = Cb[k].astype(np.float64)
            marg = margins(prices, Rb[k], Ck)
            best = marg.argmax(axis=1)
            tentative = marg[streams, best] > 0.0
            col = Ck[streams, :, best]  # (S, m): use of each stream's best option
            take = tentative & (col <= remaining).all(axis=1) if safety else tentative
            # multiplying by a 0/1 mask leaves x - 0 = x and x + 0 = x: the same numbers as the
            # single-stream path, which skips those updates
            remaining -= col * take[:, None]
            total += Rb[k][streams, best] * take
            actions[:, lo + k] = np.where(take, best, NO_ACTION)
            if mirror is not None:
                mirror.apply(prices, col * tentative[:, None])
    return BatchResult(actions, total, prices, remaining)
