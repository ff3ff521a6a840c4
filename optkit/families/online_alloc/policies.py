"""Online policies with a streaming API, and their registered solver entry points.

Every policy sees one request at a time and never the future:
    policy.reset(header)            StreamHeader: ρ, horizon T, options d, reward bound r̄
    action = policy.step(r_t, C_t)  option index, or -1 for none
    policy.state() / load_state(s)  JSON-ready dict (prices, remaining budgets, t): a service
                                    can persist its duals and resume
Policies: `DMD` (dmd.py), `Greedy` (μ ≡ 0: the best positive reward while affordable),
`FixedDual` (a fixed bid price μ*, fitted on a separate training stream), `Resolve` (every k
requests, re-solve the LP on a bootstrap forecast of the remaining horizon built from the
requests seen so far, with the remaining budgets; act on its duals until the next re-solve).
All of them play through the same safety rule: an action some resource cannot afford is skipped.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any

import numpy as np

from optkit.core.errors import InvalidInputError
from optkit.core.fields import Fields, as_array, as_int
from optkit.core.result import SolverOutput
from optkit.core.seeding import make_rng
from optkit.core.status import Status
from optkit.core.timing import Deadline
from optkit.families.online_alloc.dmd import DMDParams, MirrorStep
from optkit.families.online_alloc.dual_bound import OutOfTime
from optkit.families.online_alloc.instance import (
    NO_ACTION,
    OnlineAllocDecision,
    OnlineAllocInstance,
)

BLOCK = 1024
"""Requests converted to float64 at once by `run_stream` (no per-step cast in the hot path)."""


@dataclass(frozen=True)
class StreamHeader:
    """What a policy may know before the first request (no request data)."""

    rho: np.ndarray
    """(m,) budget per request; total budgets ρ·T."""
    T: int
    """Horizon: the number of requests."""
    d: int
    """Options per request."""
    reward_max: float
    """r̄, an upper bound on rewards (the paper assumes it known; entropy's price cap uses it)."""
    entropy: float | None = None
    """matching: λ; the inner problem is then a softmax over the options and "none"."""

    @property
    def m(self) -> int:
        return int(self.rho.shape[0])

    @classmethod
    def from_instance(cls, instance: OnlineAllocInstance) -> StreamHeader:
        r_max = float(max(instance.rewards.max(), 0.0))
        return cls(instance.rho, instance.T, instance.d, r_max, instance.entropy)


class DualPricePolicy:
    """Bid-price control: play argmax_i r_ti - μᵀC_t[:, i] when positive and affordable.

    With a `MirrorStep` the prices follow dual mirror descent; without one they stay fixed."""

    name = "dual_price"

    def __init__(self, mu_init: np.ndarray | None = None, safety: bool = True):
        self._mu_init = None if mu_init is None else np.asarray(mu_init, dtype=np.float64)
        self.safety = safety
        self.mirror: MirrorStep | None = None

    def _prices(self, header: StreamHeader) -> np.ndarray:
        if self._mu_init is None:
            return np.zeros(header.m)
        if self._mu_init.shape != (header.m,):
            raise InvalidInputError("params.mu", f"must have length m = {header.m}")
        return self._mu_init.copy()

    def reset(self, header: StreamHeader) -> None:
        self.header = header
        self.mu = self._prices(header)
        self.remaining = header.rho * header.T
        self.t = 0
        self.last_x = np.zeros(header.d)
        self._sync()

    def _sync(self) -> None:
        """Derived hot-path state: μ as a (1, m) row view, and a lower bound on min(remaining)
        that lets most steps skip the per-resource affordability test."""
        self._mu_row = self.mu[None, :]
        self._floor = float(self.remaining.min())

    def step(self, rewards: np.ndarray, consumption: np.ndarray) -> int:
        """Decide request t: rewards (d,), consumption (m, d) as in the instance."""
        C_t = np.ascontiguousarray(consumption, dtype=np.float64)
        return self._step(np.asarray(rewards, dtype=np.float64), C_t)

    def _step(self, rewards: np.ndarray, consumption: np.ndarray) -> int:
        """The hot path: `consumption` (m, d) contiguous float64 (run_stream converts blocks).

        dmd.margins for one request, written against the cached (1, m) row (the same matmul
        the batched simulator runs per stream). Safety: if the largest use fits under the
        floor (<= every remaining budget) the action is affordable without comparing all m
        resources; otherwise compare them and refresh the floor."""
        marg = rewards - np.matmul(self._mu_row, consumption)[0]
        if self.header.entropy is not None:
            return self._split(marg, consumption)
        i = int(marg.argmax())
        action = NO_ACTION
        used = None
        if marg[i] > 0.0:
            used = consumption[:, i]
            peak = float(used.max())
            ok = not self.safety or peak <= self._floor
            if not ok:
                ok = bool((used <= self.remaining).all())
                self._floor = float(self.remaining.min())
            if ok:
                np.subtract(self.remaining, used, out=self.remaining)
                self._floor -= peak  # min(remaining - used) >= min(remaining) - max(used)
                action = i
        if self.mirror is not None:
            self.mirror.apply(self.mu, used)
        self.t += 1
        return action

    def _split(self, marg: np.ndarray, consumption: np.ndarray) -> int:
        """matching: the inner problem max_x (r - μᵀC)ᵀx + λH(x0, x) over the simplex with
        "none" has the softmax solution x_i ∝ exp(margin_i / λ), x_0 ∝ 1. The tentative split
        is played (`last_x`) if affordable, else nothing; the prices step on its use either way.
        Returns -1: the allocation is fractional."""
        z = marg / self.header.entropy
        top = max(float(z.max()), 0.0)
        w = np.exp(z - top)
        x = w / (w.sum() + np.exp(-top))
        used = consumption @ x
        if not self.safety or (used <= self.remaining).all():
            np.subtract(self.remaining, used, out=self.remaining)
            self.last_x = x
        else:
            self.last_x = np.zeros_like(x)
        if self.mirror is not None:
            self.mirror.apply(self.mu, used)
        self.t += 1
        return NO_ACTION

    def state(self) -> dict[str, Any]:
        return {"t": self.t, "mu": self.mu.tolist(), "remaining": self.remaining.tolist()}

    def load_state(self, state: dict[str, Any]) -> None:
        f = Fields(state, "state")
        m = self.header.m
        self.t = as_int(f.get("t"), "state.t", ge=0, le=self.header.T)
        self.mu = np.array(as_array(f.get("mu"), "state.mu", (m,), ge=0))
        self.remaining = np.array(as_array(f.get("remaining"), "state.remaining", (m,)))
        f.finish()
        self._sync()


class Greedy(DualPricePolicy):
    """The best positive reward while affordable (μ ≡ 0)."""

    name = "greedy"


class FixedDual(DualPricePolicy):
    """Certainty-equivalent bid prices μ*, held fixed for the whole stream."""

    name = "fixed_dual"

    def __init__(self, mu: np.ndarray, safety: bool = True):
        super().__init__(as_array(mu, "params.mu", (None,), ge=0), safety)


class DMD(DualPricePolicy):
    """Dual mirror descent (Balseiro, Lu, Mirrokni 2020, Algorithm 1)."""

    name = "dmd"

    def __init__(self, params: DMDParams | None = None):
        params = params or DMDParams()
        super().__init__(None, params.safety)
        self.params = params

    def _prices(self, header: StreamHeader) -> np.ndarray:
        return self.params.initial(header.m)

    def reset(self, header: StreamHeader) -> None:
        super().reset(header)
        self.mirror = MirrorStep.make(self.params, header.rho, header.T, header.reward_max)


@dataclass(frozen=True)
class ResolveParams:
    every: int | None = None
    """Re-solve every k requests (None: T // 20, at least 1)."""
    sample: int = 500
    """Forecast size: requests resampled (with replacement) from those seen so far."""

    @classmethod
    def from_params(cls, params: dict) -> ResolveParams:
        f = Fields(params, "params")
        every = f.get("every", None)
        out = cls(
            every=None if every is None else as_int(every, "params.every", ge=1),
            sample=as_int(f.get("sample", 500), "params.sample", ge=1),
        )
        f.finish()
        return out


class Resolve(DualPricePolicy):
    """Re-solving: bid prices from the LP on a bootstrap forecast of the remaining horizon.

    Before the first re-solve it has seen nothing and plays greedily (μ = 0). The forecast at
    request t resamples n = min(sample, T - t) of the t requests seen so far; the LP gets the
    remaining budgets scaled by n / (T - t), so its duals price the rest of the horizon."""

    name = "resolve"

    def __init__(
        self,
        params: ResolveParams = ResolveParams(),
        seed: int = 0,
        threads: int = 1,
        deadline: Deadline | None = None,
    ):
        super().__init__(None, True)
        self.params, self.seed, self.threads = params, seed, threads
        self.deadline = deadline
        """The solve's deadline: a re-solve gets what remains of it, none once it has passed
        (the prices then stay as they are; run_stream stops at its next check)."""

    def reset(self, header: StreamHeader) -> None:
        super().reset(header)
        self.every = self.params.every or max(1, header.T // 20)
        self.rng = make_rng(self.seed)
        self.seen_r: list[np.ndarray] = []
        self.seen_c: list[np.ndarray] = []

    def _step(self, rewards: np.ndarray, consumption: np.ndarray) -> int:
        if self.t > 0 and self.t % self.every == 0:
            self._resolve()
        action = super()._step(rewards, consumption)
        self.seen_r.append(np.array(rewards, dtype=np.float64))
        self.seen_c.append(np.array(consumption))
        return action

    def _resolve(self) -> None:
        from optkit.families.online_alloc.exact_highs import solve_lp

        left = self.header.T - self.t
        n = min(self.params.sample, left)
        pick = self.rng.integers(0, self.t, size=n)
        R = np.stack([self.seen_r[k] for k in pick])
        C = np.stack([self.seen_c[k] for k in pick])
        sol = solve_lp(
            R,
            C,
            np.maximum(self.remaining, 0.0) * (n / left),
            threads=self.threads,
            deadline=self.deadline,
        )
        if sol.duals is not None:
            self.mu[:] = sol.duals  # in place: the hot path holds a view of μ

    def state(self) -> dict[str, Any]:
        """Prices and budgets plus what the forecasts need: the requests seen and the RNG."""
        return {
            **super().state(),
            "seen_rewards": [r.tolist() for r in self.seen_r],
            "seen_consumption": [c.tolist() for c in self.seen_c],
            "rng": self.rng.bit_generator.state,
        }

    def load_state(self, state: dict[str, Any]) -> None:
        state = dict(state)
        seen_r, seen_c = state.pop("seen_rewards"), state.pop("seen_consumption")
        rng_state = state.pop("rng")
        super().load_state(state)
        h = self.header
        self.seen_r = [np.array(as_array(r, "state.seen_rewards", (h.d,))) for r in seen_r]
        self.seen_c = [
            np.array(as_array(c, "state.seen_consumption", (h.m, h.d), ge=0)) for c in seen_c
        ]
        if len(self.seen_r) != self.t or len(self.seen_c) != self.t:
            raise InvalidInputError("state.seen_rewards", f"must list t = {self.t} requests")
        self.rng.bit_generator.state = rng_state


class StreamTimeout(TimeoutError):
    """run_stream's deadline passed after `done` of `T` requests: the policy's actions so far
    and no action for the rest (a feasible decision: skipping never overspends)."""

    def __init__(self, done: int, T: int, actions: np.ndarray, trace: np.ndarray | None):
        super().__init__(f"time limit reached after {done} of {T} requests")
        self.done, self.actions, self.trace = done, actions, trace


def run_stream(
    policy: DualPricePolicy, instance: OnlineAllocInstance, deadline: Deadline | None = None
) -> tuple[np.ndarray, np.ndarray | None]:
    """Feed the stream to the policy one request at a time. Returns the actions (T,) and an
    extra array: for bidding the price μ_t each auction saw (to place the DMD bid
    v_t / (1 + μ_t)), for matching the fractional allocation (T, d); else None."""
    policy.reset(StreamHeader.from_instance(instance))
    T = instance.T
    actions = np.empty(T, dtype=np.int64)
    trace = np.empty(T) if instance.variant == "bidding" else None
    split = np.empty((T, instance.d)) if instance.variant == "matching" else None
    R, C = instance.rewards, instance.consumption
    step = policy._step
    for lo in range(0, T, BLOCK):
        if deadline is not None and deadline.expired():
            # the requests still to come get no action (trace: a price of +inf bids 0)
            actions[lo:] = NO_ACTION
            if trace is not None:
                trace[lo:] = np.inf
            if split is not None:
                split[lo:] = 0.0
            raise StreamTimeout(lo, T, actions, split if split is not None else trace)
        hi = min(T, lo + BLOCK)
        Cb = C[lo:hi].astype(np.float64)
        Rb = R[lo:hi]
        for k in range(hi - lo):
            if trace is not None:
                trace[lo + k] = policy.mu[0]
            actions[lo + k] = step(Rb[k], Cb[k])
            if split is not None:
                split[lo + k] = policy.last_x
    return actions, (split if split is not None else trace)


def make_decision(
    instance: OnlineAllocInstance, actions: np.ndarray, mu: np.ndarray, trace: np.ndarray | None
) -> OnlineAllocDecision:
    if instance.variant == "matching":
        ft, fo = np.nonzero(trace > 0)  # `trace` is the (T, d) allocation here
        return OnlineAllocDecision(
            actions=actions, duals=mu, frac_t=ft, frac_option=fo, frac_x=trace[ft, fo]
        )
    if instance.variant != "bidding":
        return OnlineAllocDecision(actions=actions, duals=mu)
    # DMD's inner problem bids v / (1 + μ) (spec); rounding can put the bid a hair on the other
    # side of the price than the margin test r - μC > 0 that decided, so the bid is nudged to
    # the side the policy chose (and 0 where the safety rule skipped the auction).
    v, p = instance.values, instance.prices
    bid = v / (1.0 + trace)
    won = actions == 0
    bids = np.where(won, np.maximum(bid, p), np.minimum(bid, np.nextafter(p, -1.0)))
    return OnlineAllocDecision(actions=actions, duals=mu, bids=np.maximum(bids, 0.0))


def _run(instance, policy, deadline, extra: dict | None = None) -> SolverOutput:
    t0 = time.perf_counter()
    status, message = Status.FEASIBLE, ""
    try:
        actions, trace = run_stream(policy, instance, deadline)
    except StreamTimeout as exc:  # TIME_LIMIT with the incumbent: the stream so far
        actions, trace = exc.actions, exc.trace
        status, message = Status.TIME_LIMIT, f"{exc}; no action for the rest"
    solve_s = time.perf_counter() - t0
    taken = actions != NO_ACTION
    reward = float(instance.rewards[np.flatnonzero(taken), actions[taken]].sum())
    if instance.variant == "matching":  # trace: the (T, d) allocation
        shares = np.concatenate([trace, 1.0 - trace.sum(axis=1, keepdims=True)], axis=1)
        shares = np.clip(shares, 0.0, 1.0)
        logs = np.log(np.where(shares > 0, shares, 1.0))
        reward = float((instance.rewards * trace).sum() - instance.entropy * (shares * logs).sum())
    decision = make_decision(instance, actions, policy.mu.copy(), trace)
    return SolverOutput(
        status=status,
        objective=reward,
        decision=decision,
        certificate={"final_duals": policy.mu.tolist(), **(extra or {})},
        solve_s=solve_s,
        message=message,
        backend="numpy",
        backend_version=np.__version__,
    )


# -- registered entry points: fn(instance, deadline=, seed=, threads=, params=) ----------------
def solve_dmd(instance, deadline: Deadline, seed: int, threads: int, params: dict):
    p = DMDParams.from_params(params)
    return _run(instance, DMD(p), deadline, {"eta": p.step_size(instance.T)})


def solve_greedy(instance, deadline: Deadline, seed: int, threads: int, params: dict):
    f = Fields(params, "params")
    f.finish()
    return _run(instance, Greedy(), deadline)


def _lp_only(instance: OnlineAllocInstance, name: str) -> SolverOutput | None:
    if instance.variant != "matching":
        return None
    return SolverOutput(
        status=Status.NOT_APPLICABLE,
        message=f"{name} prices requests with the hindsight LP; matching's hindsight problem is "
        "entropic (use dmd or greedy)",
    )


def solve_resolve(instance, deadline: Deadline, seed: int, threads: int, params: dict):
    p = ResolveParams.from_params(params)
    if (na := _lp_only(instance, "resolve")) is not None:
        return na
    return _run(instance, Resolve(p, seed=seed, threads=threads, deadline=deadline), deadline)


def solve_fixed_dual(instance, deadline: Deadline, seed: int, threads: int, params: dict):
    """μ* from params["mu"], or fitted by dual_bound on a training stream drawn from the same
    generator with an independent seed (never the evaluated stream itself)."""
    f = Fields(params, "params")
    mu = f.get("mu", None)
    train_T = as_int(f.get("train_T", min(instance.T, 10_000)), "params.train_T", ge=1)
    f.finish()
    if (na := _lp_only(instance, "fixed_dual")) is not None:
        return na
    extra: dict[str, Any] = {}
    if mu is None:
        if instance.generator is None:
            return SolverOutput(
                status=Status.NOT_APPLICABLE,
                message="fixed_dual needs params.mu or a generator-spec instance to draw a "
                "training stream from",
            )
        try:
            mu, extra = fit_fixed_dual(instance, train_T, seed, deadline)
        except OutOfTime:
            return SolverOutput(
                status=Status.TIME_LIMIT,
                message="time limit reached while fitting the prices on the training stream",
            )
    return _run(instance, FixedDual(np.asarray(mu, dtype=np.float64)), deadline, extra)


def fit_fixed_dual(
    instance: OnlineAllocInstance, train_T: int, seed: int, deadline: Deadline | None = None
):
    """μ* of the hindsight LP of an independent training stream: same preset, options and model
    seed (so the same request law), another `stream` of requests."""
    from optkit.families.online_alloc.dual_bound import solve_dual_bound
    from optkit.families.online_alloc.generate import generate

    g = instance.generator
    assert g is not None
    stream = int(g["options"].get("stream", 0)) + 1 + seed
    train = generate(g["preset"], g["seed"], **{**g["options"], "T": train_T, "stream": stream})
    # the fit counts against the solve's deadline; prices stopped short of the optimum are
    # still prices (dual_bound raises OutOfTime only before it has any)
    res = solve_dual_bound(train, seed=seed, deadline=deadline)
    return res.mu, {"train_stream": stream, "train_T": train_T}
