"""Online allocation instances and decisions (spec/online_alloc.md), frozen and validated.

Notation (Balseiro, Lu, Mirrokni, "The Best of Many Worlds: Dual Mirror Descent for Online
Allocation Problems"): T requests, m resources, d options per request. Request t offers rewards
r_t in R^d and consumes C_t[:, i] in R^m_+ when option i is played; resource j has the budget
ρ_j · T. The `bidding` variant (one budget, second-price auctions) is the d = m = 1 case of the
same engine: winning auction t earns v_t - price_t and pays price_t, so r_t = v_t - price_t and
C_t = price_t. Every policy and oracle runs on `rewards` / `consumption`; only the JSON names and
the decision ("bids" instead of "actions") differ.

Arrays are read-only after construction; `consumption` keeps a compact dtype (uint8/bool for the
Bernoulli `nrm` generator: 1 byte per entry instead of 8) and every reader casts chunk by chunk.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

from optkit.core.errors import InvalidInputError
from optkit.core.fields import INT64_MAX, INT64_MIN, Fields, as_array, as_choice, as_float
from optkit.core.seeding import check_seed

FAMILY = "online_alloc"
SCHEMA_VERSION = 1
VARIANTS = ("choice", "bidding", "matching")
INPUT_MODELS = ("iid", "markov", "periodic", "adversarial", "given")
CONSUMPTION_DTYPES = (np.float64, np.float32, np.uint8, np.bool_)
NO_ACTION = -1


def _readonly(a: np.ndarray) -> np.ndarray:
    a.setflags(write=False)
    return a


def check_float_array(a: Any, name: str, shape: tuple[int, ...], *, ge: float | None = None):
    """A finite array of exactly `shape` (float32 kept as is), every bad entry named by index."""
    if not isinstance(a, np.ndarray) or a.dtype.kind not in "fiub":
        return as_array(a, name, shape, ge=ge)
    if a.shape != shape:
        raise InvalidInputError(name, f"must have shape {shape}, got {a.shape}")
    if a.dtype.kind == "f":
        bad = ~np.isfinite(a)
        if bad.any():
            idx = ", ".join(str(int(i)) for i in np.argwhere(bad)[0])
            raise InvalidInputError(f"{name}[{idx}]", f"must be finite, got {a[bad].flat[0]}")
        if ge is not None and (a < ge).any():
            idx = ", ".join(str(int(i)) for i in np.argwhere(a < ge)[0])
            raise InvalidInputError(f"{name}[{idx}]", f"must be >= {ge}, got {a[a < ge].flat[0]}")
    elif a.dtype.kind == "i" and ge is not None and (a < ge).any():
        idx = ", ".join(str(int(i)) for i in np.argwhere(a < ge)[0])
        raise InvalidInputError(f"{name}[{idx}]", f"must be >= {ge}, got {a[a < ge].flat[0]}")
    return a


@dataclass(frozen=True, eq=False)
class OnlineAllocInstance:
    """One request stream with its budgets. Build `choice` streams from rewards + consumption,
    `bidding` streams from values + prices (rewards/consumption are then derived)."""

    rho: np.ndarray
    """ρ, shape (m,), budget per request (resource units per request), every entry > 0; the
    total budget of resource j is ρ_j · T."""
    rewards: np.ndarray | None = None
    """r, shape (T, d), reward of option i of request t (reward units, finite, any sign)."""
    consumption: np.ndarray | None = None
    """C, shape (T, m, d), resource j used by option i of request t; >= 0; float64, float32,
    uint8 or bool (kept compact)."""
    values: np.ndarray | None = None
    """bidding only: v, shape (T,), the bidder's value of auction t (money), >= 0."""
    prices: np.ndarray | None = None
    """bidding only: shape (T,), the highest competing bid of auction t (money), >= 0."""
    variant: str = "choice"
    input_model: str = "given"
    """How the stream was drawn (iid, markov, periodic, adversarial) or 'given' (read from data)."""
    seed: int | None = None
    preset: str | None = None
    entropy: float | None = None
    """matching only: λ > 0, weight of the allocation's entropy H(x_t0, x_t) in the reward."""
    generator: dict[str, Any] | None = field(default=None, compare=False)
    """{"preset", "seed", "options"} when the stream regenerates bit for bit from a generator
    spec (then to_dict() writes only the spec); None for streams held as arrays."""
    name: str | None = None

    def __post_init__(self) -> None:
        set_ = lambda k, v: object.__setattr__(self, k, v)  # noqa: E731  (frozen dataclass)
        set_("variant", as_choice(self.variant, "variant", VARIANTS))
        set_("input_model", as_choice(self.input_model, "input_model", INPUT_MODELS))
        for key in ("name", "preset"):
            if getattr(self, key) is not None and not isinstance(getattr(self, key), str):
                raise InvalidInputError(key, "must be a string or null")
        if self.seed is not None:
            set_("seed", check_seed(self.seed))
        rho = as_array(self.rho, "rho", (None,))
        if rho.shape[0] < 1:
            raise InvalidInputError("rho", "must list at least one resource")
        if (rho <= 0).any():
            j = int(np.argmax(rho <= 0))
            raise InvalidInputError(f"rho[{j}]", f"budget per request must be > 0, got {rho[j]}")
        set_("rho", rho)
        if self.variant == "matching":
            set_("entropy", as_float(self.entropy, "entropy", gt=0))
        elif self.entropy is not None:
            raise InvalidInputError("entropy", "only the matching variant has an entropy weight")
        if self.variant == "bidding":
            self._init_bidding()
        else:
            self._init_choice()

    def _init_choice(self) -> None:
        if self.values is not None or self.prices is not None:
            raise InvalidInputError("values", "only the bidding variant has values/prices")
        if self.rewards is None or self.consumption is None:
            raise InvalidInputError("rewards", "choice streams need rewards and consumption")
        r = self.rewards
        if not isinstance(r, np.ndarray) or r.ndim != 2:
            r = as_array(r, "rewards", (None, None))
        T, d = r.shape
        if T < 1 or d < 1:
            raise InvalidInputError(
                "rewards", f"needs T >= 1 requests and d >= 1 options, {r.shape}"
            )
        r = _readonly(np.asarray(check_float_array(r, "rewards", (T, d)), dtype=np.float64))
        m = self.rho.shape[0]
        c = self.consumption
        if not isinstance(c, np.ndarray):
            c = as_array(c, "consumption", (T, m, d), ge=0)
        if c.shape != (T, m, d):
            raise InvalidInputError(
                "consumption", f"must have shape (T, m, d) = {(T, m, d)}, got {c.shape}"
            )
        if c.dtype.kind not in "fiub":
            # astype(float64) would drop an imaginary part (or fail on objects) without a word
            raise InvalidInputError("consumption", f"must be a real numeric array, got {c.dtype}")
        if c.dtype.type not in CONSUMPTION_DTYPES:
            if c.dtype.kind in "iu" and c.size and c.min() >= 0 and c.max() <= 255:
                c = c.astype(np.uint8)
            else:
                c = c.astype(np.float64)
        c = check_float_array(c, "consumption", (T, m, d), ge=0)
        object.__setattr__(self, "rewards", r)
        object.__setattr__(self, "consumption", _readonly(c) if c.flags.writeable else c)

    def _init_bidding(self) -> None:
        if self.values is None or self.prices is None:
            raise InvalidInputError("values", "bidding streams need values and prices")
        if self.rho.shape[0] != 1:
            raise InvalidInputError("rho", f"bidding has one budget, got {self.rho.shape[0]}")
        v = as_array(self.values, "values", (None,), ge=0)
        p = as_array(self.prices, "prices", (v.shape[0],), ge=0)
        if v.shape[0] < 1:
            raise InvalidInputError("values", "needs at least one auction")
        rewards, consumption = (v - p)[:, None], p[:, None, None].copy()
        # dataclasses.replace() hands the derived arrays back in: accept them only unchanged
        for key, derived in (("rewards", rewards), ("consumption", consumption)):
            given = getattr(self, key)
            if given is not None and not np.array_equal(np.asarray(given), derived):
                raise InvalidInputError(key, "bidding streams are given by values and prices")
        set_ = lambda k, val: object.__setattr__(self, k, val)  # noqa: E731
        set_("values", v)
        set_("prices", p)
        set_("rewards", _readonly(rewards))
        set_("consumption", _readonly(consumption))

    # -- sizes -------------------------------------------------------------------------------
    @property
    def T(self) -> int:  # noqa: N802  (the paper's name)
        return int(self.rewards.shape[0])

    @property
    def m(self) -> int:
        return int(self.rho.shape[0])

    @property
    def d(self) -> int:
        return int(self.rewards.shape[1])

    @property
    def budgets(self) -> np.ndarray:
        """B = ρ · T, shape (m,): the total budget of each resource."""
        return self.rho * self.T

    def header(self) -> dict[str, Any]:
        """The JSON header without the arrays (what a streaming policy may know up front)."""
        d: dict[str, Any] = {"family": FAMILY, "schema_version": SCHEMA_VERSION}
        if self.name is not None:
            d["name"] = self.name
        d.update(
            variant=self.variant,
            m=self.m,
            d=self.d,
            T=self.T,
            rho=self.rho.tolist(),
            input_model=self.input_model,
            seed=self.seed,
            preset=self.preset,
        )
        if self.entropy is not None:
            d["entropy"] = self.entropy
        return d

    # -- JSON ---------------------------------------------------------------------------------
    def to_dict(self) -> dict[str, Any]:
        """The header plus the generator spec. Array-backed streams go through storage.save()."""
        if self.generator is None:
            raise InvalidInputError(
                "generator",
                "this stream is held as arrays: write it with "
                "optkit.families.online_alloc.storage.save(instance, path) (JSON + .npz)",
            )
        return {**self.header(), "generator": dict(self.generator)}

    @classmethod
    def from_dict(cls, data: Any) -> OnlineAllocInstance:
        """A generator-spec document (arrays in a sibling .npz need storage.from_file)."""
        from optkit.families.online_alloc.storage import instance_from_header

        return instance_from_header(data, None)


@dataclass(frozen=True, eq=False)
class OnlineAllocDecision:
    """One action per request, plus the fractional entries of an LP solution.

    `actions[t]` is the option played for request t (-1: none). LP oracles return a basic
    solution, integral except on at most m requests: those are listed in `fractional` (request
    index, option, amount in [0, 1]) and their `actions` entry is -1. For `bidding` the JSON
    holds "bids" (win iff bid >= price) and `actions` is derived from them.
    """

    actions: np.ndarray
    """shape (T,), int64, option index in [-1, d)."""
    duals: np.ndarray | None = None
    """shape (m,), the policy's final dual prices (price per resource unit), informational."""
    frac_t: np.ndarray = field(default_factory=lambda: np.zeros(0, np.int64))
    """shape (k,), request index of each fractional entry."""
    frac_option: np.ndarray = field(default_factory=lambda: np.zeros(0, np.int64))
    """shape (k,), option index of each fractional entry."""
    frac_x: np.ndarray = field(default_factory=lambda: np.zeros(0))
    """shape (k,), amount of that option played, in [0, 1]."""
    bids: np.ndarray | None = None
    """bidding only: shape (T,), the bid placed in auction t (money, >= 0)."""

    def __post_init__(self) -> None:
        a = np.asarray(self.actions)
        if a.ndim != 1 or (a.dtype.kind not in "iu" and a.size):
            raise InvalidInputError("actions", "must be a list of integers (one per request)")
        a = _readonly(a.astype(np.int64, copy=True))
        object.__setattr__(self, "actions", a)
        if self.duals is not None:
            duals = as_array(self.duals, "duals", (None,), ge=0)
            object.__setattr__(self, "duals", duals)
        k = len(self.frac_t)
        for name, kind in (("frac_t", "int"), ("frac_option", "int"), ("frac_x", "float")):
            v = np.asarray(getattr(self, name))
            if v.shape != (k,):
                raise InvalidInputError(f"fractional.{name[5:]}", f"must have length {k}")
            if kind == "int":
                if v.dtype.kind not in "iu" and k:
                    raise InvalidInputError(f"fractional.{name[5:]}", "must be integers")
                v = v.astype(np.int64)
            else:
                v = np.asarray(as_array(v, "fractional.x", (k,)))
            object.__setattr__(self, name, _readonly(v))
        if self.bids is not None:
            bids = as_array(self.bids, "bids", (a.shape[0],), ge=0)
            object.__setattr__(self, "bids", bids)

    @classmethod
    def from_bids(cls, instance: OnlineAllocInstance, bids: np.ndarray, **kw: Any):
        """A bidding decision: the auctions won (bid >= price) become the actions."""
        bids = as_array(bids, "bids", (instance.T,), ge=0)
        actions = np.where(bids >= instance.prices, 0, NO_ACTION)
        return cls(actions=actions, bids=bids, **kw)

    def check_fits(self, instance: OnlineAllocInstance) -> None:
        T, d = instance.T, instance.d
        if self.actions.shape[0] != T:
            raise InvalidInputError("actions", f"must have length T = {T}, got {len(self.actions)}")
        bad = (self.actions < NO_ACTION) | (self.actions >= d)
        if bad.any():
            t = int(np.argmax(bad))
            raise InvalidInputError(
                f"actions[{t}]", f"must be -1 or an option in [0, {d}), got {self.actions[t]}"
            )
        if self.duals is not None and self.duals.shape[0] != instance.m:
            raise InvalidInputError("duals", f"must have length m = {instance.m}")
        for name, hi in (("frac_t", T), ("frac_option", d)):
            v = getattr(self, name)
            bad = (v < 0) | (v >= hi)
            if bad.any():
                k = int(np.argmax(bad))
                raise InvalidInputError(f"fractional.{name[5:]}[{k}]", f"must be in [0, {hi})")
        if self.frac_t.size and (self.actions[self.frac_t] != NO_ACTION).any():
            k = int(np.argmax(self.actions[self.frac_t] != NO_ACTION))
            raise InvalidInputError(
                f"fractional.t[{k}]", "a request with fractional entries must have action -1"
            )

    def to_dict(self) -> dict[str, Any]:
        d: dict[str, Any] = {"family": FAMILY, "schema_version": SCHEMA_VERSION}
        if self.bids is not None:
            d["bids"] = self.bids.tolist()
        else:
            d["actions"] = self.actions.tolist()
        if self.duals is not None:
            d["duals"] = self.duals.tolist()
        if self.frac_t.size:
            d["fractional"] = {
                "t": self.frac_t.tolist(),
                "option": self.frac_option.tolist(),
                "x": self.frac_x.tolist(),
            }
        return d

    @classmethod
    def from_dict(cls, data: Any, instance: OnlineAllocInstance | None = None):
        f = Fields(data)
        f.get("family")
        f.get("schema_version")
        frac = f.get("fractional", None)
        kw: dict[str, Any] = {}
        if frac is not None:
            g = Fields(frac, "fractional")
            t = g.get("t")
            kw["frac_t"] = _ints(t, "fractional.t")
            kw["frac_option"] = _ints(g.get("option"), "fractional.option")
            kw["frac_x"] = as_array(g.get("x"), "fractional.x", (len(kw["frac_t"]),))
            g.finish()
        duals = f.get("duals", None)
        if duals is not None:
            kw["duals"] = as_array(duals, "duals", (None,), ge=0)
        if instance is not None and instance.variant == "bidding":
            bids = f.get("bids")
            f.finish()
            dec = cls.from_bids(instance, bids, **kw)
        else:
            actions = _ints(f.get("actions"), "actions")
            f.finish()
            dec = cls(actions=actions, **kw)
        if instance is not None:
            dec.check_fits(instance)
        return dec


def _ints(value: Any, name: str) -> np.ndarray:
    if not isinstance(value, list):
        raise InvalidInputError(name, "must be a list of integers")
    for k, v in enumerate(value):
        if isinstance(v, bool) or not isinstance(v, int):
            raise InvalidInputError(f"{name}[{k}]", f"must be an integer, got {v!r}")
        if not INT64_MIN <= v <= INT64_MAX:  # np.asarray would raise OverflowError
            raise InvalidInputError(f"{name}[{k}]", f"is out of range, got {v}")
    return np.asarray(value, dtype=np.int64)
