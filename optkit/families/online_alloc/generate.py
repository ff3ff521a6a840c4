"""Seeded request streams: the `nrm` generator of spec/online_alloc.md and its input models.

`nrm` (network revenue management, Balseiro-Lu-Mirrokni §6): per resource
p_j = (1 + Beta(3, 1)) / 2, ρ_j = U(β/2, (1+β)/2) · p_j with β = 0.5; C_t[j, i] ~ Bernoulli(p_j);
r_t = C_tᵀθ + N(0, I_d) clipped to [0, 10], θ = |a| / ||a||, a ~ N(0, I_m).

Input models (all seeded):
- `iid`: every request from the one distribution above.
- `markov`: K request types, each with its own (p^k, θ^k) drawn once; the type sequence is a
  sticky Markov chain (stay with probability `stay`, else jump to one of the K - 1 others
  uniformly), started uniformly. ρ uses the mean p over types (the chain's stationary mean).
- `periodic`: the same K types played in a fixed schedule: type(t) = (t // block) mod K.
- `adversarial`: i.i.d. requests whose rewards are multiplied by `low_factor` for the first half
  of the horizon: low-value requests first, high-value late, so a policy that spends early is
  punished (the hindsight optimum keeps the budget for the second half).
The `matching` variant draws its requests exactly like `choice` (nrm) and adds the entropy
weight λ (`entropy`, default 0.5).

Draw order is part of a preset's definition: the model (p, θ, ρ scale) from Generator(seed); the
type sequence and the requests from Generator([seed, stream]), in fixed blocks of BLOCK requests
(C, then noise). Changing it changes every stream, so it is a new preset name, never an edit.
Generating in blocks keeps memory at one block of float draws at T = 10^6.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Any

import numpy as np

from optkit.core.errors import InvalidInputError, UnknownNameError
from optkit.core.fields import as_choice, as_float, as_int
from optkit.core.seeding import check_seed, make_rng
from optkit.families.online_alloc.instance import OnlineAllocInstance

BLOCK = 2048
"""Requests drawn per block; part of the draw order (bit-for-bit regeneration)."""
REWARD_CLIP = (0.0, 10.0)
BIDDING_SPEND_SCALE = 0.15
"""E[price · 1{value > price}] for value ~ U(0, 1), price = max of 3 U(0, 1): the expected spend
per auction of a bidder who wins every auction with positive surplus; ρ scales it below 1."""


@dataclass(frozen=True)
class Preset:
    """A named generator configuration. Options passed to generate() override these fields."""

    variant: str = "choice"
    input_model: str = "iid"
    T: int = 10_000
    m: int = 100
    d: int = 10
    beta: float = 0.5
    """ρ_j = U(β/2, (1+β)/2) · p_j: smaller β, scarcer budgets."""
    n_types: int = 4
    """K request types (markov, periodic)."""
    stay: float = 0.99
    """markov: probability of keeping the current type."""
    block: int = 100
    """periodic: requests per type in the schedule."""
    low_factor: float = 0.2
    """adversarial: reward multiplier of the first half of the horizon."""
    entropy: float = 0.5
    """matching: λ, the weight of the allocation's entropy in the reward."""
    stream: int = 0
    """Which sample path of requests: the model (p, θ, ρ, types) comes from the seed alone, the
    requests from (seed, stream), so stream 1 is an independent draw from the same law (the
    training stream of fixed_dual, forecasts, repeated runs)."""


PRESETS: dict[str, Preset] = {
    "nrm": Preset(),
    "nrm-markov": Preset(input_model="markov"),
    "nrm-periodic": Preset(input_model="periodic"),
    "nrm-adversarial": Preset(input_model="adversarial"),
    "small": Preset(T=200, m=5, d=3),
    "matching-small": Preset(variant="matching", T=200, m=5, d=5),
    "bidding": Preset(variant="bidding", m=1, d=1),
    "bidding-small": Preset(variant="bidding", T=200, m=1, d=1),
}
PRESET_NAMES = tuple(PRESETS)
OPTION_NAMES = tuple(f.name for f in dataclasses.fields(Preset))


MODEL_OPTIONS = {
    "n_types": ("markov", "periodic"),
    "stay": ("markov",),
    "block": ("periodic",),
    "low_factor": ("adversarial",),
}
"""Options read by some input models only (Preset's field docs)."""


def resolve_preset(preset: str, **options: Any) -> Preset:
    """The preset with `options` applied, every option checked and named on error."""
    if preset not in PRESETS:
        raise UnknownNameError("online_alloc preset", preset, list(PRESET_NAMES))
    base = PRESETS[preset]
    for key in options:
        if key not in OPTION_NAMES:
            raise InvalidInputError(key, f"unknown option (valid: {', '.join(OPTION_NAMES)})")
    p = dataclasses.replace(base, **options)
    as_choice(p.variant, "variant", ("choice", "bidding", "matching"))
    as_choice(p.input_model, "input_model", ("iid", "markov", "periodic", "adversarial"))
    for k in ("T", "m", "d", "n_types", "block"):
        as_int(getattr(p, k), k, ge=1)
    as_int(p.stream, "stream", ge=0)
    as_float(p.beta, "beta", gt=0, le=1)
    as_float(p.stay, "stay", ge=0, le=1)
    as_float(p.low_factor, "low_factor", ge=0, le=1)
    as_float(p.entropy, "entropy", gt=0)
    # an option the stream's model never reads is a mistake, not a no-op (`--n-types 3` on an
    # iid preset silently changed nothing)
    for key, models in MODEL_OPTIONS.items():
        if key in options and p.input_model not in models:
            raise InvalidInputError(
                key, f"applies to input_model {' or '.join(models)}, not {p.input_model!r}"
            )
    if "entropy" in options and p.variant != "matching":
        raise InvalidInputError("entropy", f"applies to variant 'matching', not {p.variant!r}")
    if p.variant == "bidding":
        if (p.m, p.d) != (1, 1):
            raise InvalidInputError("m", "bidding has one budget and one option (m = d = 1)")
        if p.input_model not in ("iid", "adversarial"):
            raise InvalidInputError("input_model", "bidding streams are iid or adversarial")
    return p


def generate(preset: str = "nrm", seed: int = 0, **options: Any) -> OnlineAllocInstance:
    """One seeded stream; `options` (T, m, d, input_model, beta, ...) override the preset."""
    seed = check_seed(seed)
    p = resolve_preset(preset, **options)
    # a T or m x d too large for this machine: refused with the estimate, not a MemoryError
    from optkit.families.online_alloc.storage import check_size

    check_size(p.T, p.m, p.d, 1)
    rng = make_rng(seed)
    requests = np.random.default_rng([seed, p.stream])
    spec = {"preset": preset, "seed": seed, "options": dict(options)}
    common = dict(input_model=p.input_model, seed=seed, preset=preset, generator=spec)
    if p.variant == "bidding":
        values, prices, rho = _bidding(rng, requests, p)
        return OnlineAllocInstance(
            rho=rho, values=values, prices=prices, variant="bidding", **common
        )
    rewards, consumption, rho = _nrm(rng, requests, p)
    if p.variant == "matching":
        common["entropy"] = p.entropy
    return OnlineAllocInstance(
        rho=rho, rewards=rewards, consumption=consumption, variant=p.variant, **common
    )


def _types(rng: np.random.Generator, p: Preset, K: int) -> np.ndarray:
    """Request type of each t, shape (T,)."""
    if p.input_model == "markov" and K > 1:
        start = rng.integers(K)
        switch = rng.random(p.T) >= p.stay
        jump = rng.integers(1, K, size=p.T)
        switch[0] = False
        return (start + np.cumsum(switch * jump)) % K
    if p.input_model == "periodic":
        return (np.arange(p.T) // p.block) % K
    return np.zeros(p.T, dtype=np.int64)


def _nrm(
    rng: np.random.Generator, req: np.random.Generator, p: Preset
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    K = p.n_types if p.input_model in ("markov", "periodic") else 1
    prob = (1.0 + rng.beta(3.0, 1.0, size=(K, p.m))) / 2.0  # p^k_j in [1/2, 1]
    a = rng.standard_normal((K, p.m))
    theta = np.abs(a) / np.linalg.norm(a, axis=1, keepdims=True)
    rho = rng.uniform(p.beta / 2, (1 + p.beta) / 2, size=p.m) * prob.mean(axis=0)
    types = _types(req, p, K)
    rewards = np.empty((p.T, p.d))
    consumption = np.empty((p.T, p.m, p.d), dtype=np.uint8)
    for lo in range(0, p.T, BLOCK):
        hi = min(p.T, lo + BLOCK)
        k = types[lo:hi]
        c = req.random((hi - lo, p.m, p.d)) < prob[k][:, :, None]
        consumption[lo:hi] = c
        noise = req.standard_normal((hi - lo, p.d))
        # r_t[i] = Σ_j C_t[j, i] θ_j + ε_i; einsum on the bool block avoids a float copy
        rewards[lo:hi] = np.einsum("nmd,nm->nd", c, theta[k]) + noise
    np.clip(rewards, *REWARD_CLIP, out=rewards)
    if p.input_model == "adversarial":
        rewards[: p.T // 2] *= p.low_factor
    return rewards, consumption, rho


def _bidding(
    rng: np.random.Generator, req: np.random.Generator, p: Preset
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    rho = rng.uniform(p.beta / 2, (1 + p.beta) / 2, size=1) * BIDDING_SPEND_SCALE
    values = req.uniform(0.0, 1.0, size=p.T)
    prices = req.uniform(0.0, 1.0, size=(p.T, 3)).max(axis=1)
    if p.input_model == "adversarial":
        values[: p.T // 2] *= p.low_factor
    return values, prices, rho
