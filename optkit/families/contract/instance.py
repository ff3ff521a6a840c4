"""Contract instances and decisions (spec/contract.md): frozen, validated on construction, JSON.

Notation: I types, θ_1 < ... < θ_I willingness, φ_i = c / θ_i the cost per unit of effort (so
φ_1 > ... > φ_I: type 1 is the least willing), ν the period-1 prior, P the period-2 Markov matrix.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal

import numpy as np

from optkit.core.errors import InvalidInputError
from optkit.core.fields import (
    MAX_MAGNITUDE,
    Fields,
    as_array,
    as_bool,
    as_choice,
    as_float,
    as_int,
    stochastic,
)

FAMILY = "contract"
SCHEMA_VERSION = 1
IR_KINDS = ("per_period", "interim")
MIN_WILLINGNESS_GAP = 0.0  # strictly increasing; generators use a 0.05 gap (spec)


@dataclass(frozen=True)
class LogValuation:
    """G(e) = ω · ln(1 + κ e), ω, κ > 0."""

    omega: float
    kappa: float
    kind: Literal["log"] = field(default="log", init=False)

    def __post_init__(self) -> None:
        object.__setattr__(
            self, "omega", as_float(self.omega, "valuation.omega", gt=0, le=MAX_MAGNITUDE)
        )
        object.__setattr__(
            self, "kappa", as_float(self.kappa, "valuation.kappa", gt=0, le=MAX_MAGNITUDE)
        )

    def value(self, e: np.ndarray) -> np.ndarray:
        return self.omega * np.log1p(self.kappa * e)

    def derivative(self, e: np.ndarray) -> np.ndarray:
        return self.omega * self.kappa / (1.0 + self.kappa * e)

    def to_dict(self) -> dict[str, Any]:
        return {"kind": "log", "omega": self.omega, "kappa": self.kappa}


@dataclass(frozen=True)
class PowerValuation:
    """G(e) = ω · e^ρ, ω > 0, 0 < ρ < 1."""

    omega: float
    rho: float
    kind: Literal["power"] = field(default="power", init=False)

    def __post_init__(self) -> None:
        object.__setattr__(
            self, "omega", as_float(self.omega, "valuation.omega", gt=0, le=MAX_MAGNITUDE)
        )
        object.__setattr__(self, "rho", as_float(self.rho, "valuation.rho", gt=0, lt=1))

    def value(self, e: np.ndarray) -> np.ndarray:
        return self.omega * np.power(e, self.rho)

    def derivative(self, e: np.ndarray) -> np.ndarray:
        with np.errstate(divide="ignore"):
            return self.omega * self.rho * np.power(e, self.rho - 1.0)

    def to_dict(self) -> dict[str, Any]:
        return {"kind": "power", "omega": self.omega, "rho": self.rho}


Valuation = LogValuation | PowerValuation


def valuation_from_dict(data: Any) -> Valuation:
    f = Fields(data, "valuation")
    kind = as_choice(f.get("kind"), "valuation.kind", ("log", "power"))
    if kind == "log":
        v: Valuation = LogValuation(omega=f.get("omega"), kappa=f.get("kappa"))
    else:
        v = PowerValuation(omega=f.get("omega"), rho=f.get("rho"))
    f.finish()
    return v


@dataclass(frozen=True)
class ContractInstance:
    """A two-period (or static, periods = 1) contract design problem for N identical ESs."""

    n_servers: int
    """N, the number of edge servers; the menu is per ES and totals scale by N."""
    willingness: np.ndarray
    """θ, shape (I,), strictly increasing, > 0."""
    unit_cost: float
    """c > 0: φ_i = c / θ_i is type i's cost per unit of effort."""
    prior: np.ndarray
    """ν, shape (I,), period-1 type distribution, every entry > 0."""
    valuation: Valuation
    """The cloud's value G(e) of one ES's contribution e."""
    transition: np.ndarray | None = None
    """P, shape (I, I), row-stochastic period-2 Markov matrix; None only when periods = 1."""
    discount: float = 1.0
    """δ in (0, 1] on period 2."""
    periods: int = 2
    """2 (dynamic contract) or 1 (static screening)."""
    ir: str = "per_period"
    """'per_period' (IR in each period) or 'interim' (IR1 counts the expected continuation)."""
    limited_liability: bool = False
    """True adds R >= 0 to every reward."""
    effort_max: float = 10.0
    """Upper bound on every effort (unit of effort)."""
    name: str | None = None

    def __post_init__(self) -> None:
        set_ = lambda k, v: object.__setattr__(self, k, v)  # noqa: E731  (frozen dataclass)
        set_("n_servers", as_int(self.n_servers, "n_servers", ge=1))
        set_("periods", as_int(self.periods, "periods", ge=1, le=2))
        theta = as_array(self.willingness, "willingness", (None,), gt=0, le=MAX_MAGNITUDE)
        n = theta.shape[0]
        if n < 1:
            raise InvalidInputError("willingness", "must list at least one type")
        steps = np.diff(theta)
        if (steps <= MIN_WILLINGNESS_GAP).any():
            k = int(np.argmax(steps <= MIN_WILLINGNESS_GAP)) + 1
            raise InvalidInputError(f"willingness[{k}]", "must be strictly increasing")
        set_("willingness", theta)
        set_("unit_cost", as_float(self.unit_cost, "unit_cost", gt=0, le=MAX_MAGNITUDE))
        prior = as_array(self.prior, "prior", (n,))
        prior = stochastic(prior, "prior")
        if (prior <= 0).any():
            raise InvalidInputError(f"prior[{int(np.argmax(prior <= 0))}]", "must be > 0")
        set_("prior", prior)
        if not isinstance(self.valuation, (LogValuation, PowerValuation)):
            raise InvalidInputError("valuation", "must be a LogValuation or PowerValuation")
        set_("discount", as_float(self.discount, "discount", gt=0, le=1))
        if self.transition is None:
            if self.periods == 2:
                raise InvalidInputError("transition", "is required when periods = 2")
        else:
            set_(
                "transition",
                stochastic(as_array(self.transition, "transition", (n, n)), "transition"),
            )
        set_("ir", as_choice(self.ir, "ir", IR_KINDS))
        set_("limited_liability", as_bool(self.limited_liability, "limited_liability"))
        set_("effort_max", as_float(self.effort_max, "effort_max", gt=0, le=MAX_MAGNITUDE))
        if self.name is not None and not isinstance(self.name, str):
            raise InvalidInputError("name", "must be a string")
        phi = self.unit_cost / theta
        phi.setflags(write=False)
        object.__setattr__(self, "_phi", phi)

    @property
    def n_types(self) -> int:
        return int(self.willingness.shape[0])

    @property
    def phi(self) -> np.ndarray:
        """φ = c / θ, shape (I,), strictly decreasing: cost per unit of effort by type."""
        return self._phi  # type: ignore[attr-defined]

    @property
    def dynamic(self) -> bool:
        return self.periods == 2

    # -- JSON ---------------------------------------------------------------------------------
    def to_dict(self) -> dict[str, Any]:
        d: dict[str, Any] = {"family": FAMILY, "schema_version": SCHEMA_VERSION}
        if self.name is not None:
            d["name"] = self.name
        d.update(
            n_servers=self.n_servers,
            willingness=self.willingness.tolist(),
            unit_cost=self.unit_cost,
            prior=self.prior.tolist(),
        )
        if self.transition is not None:
            d["transition"] = self.transition.tolist()
        d.update(
            discount=self.discount,
            periods=self.periods,
            valuation=self.valuation.to_dict(),
            ir=self.ir,
            limited_liability=self.limited_liability,
            effort_max=self.effort_max,
        )
        return d

    @classmethod
    def from_dict(cls, data: Any) -> ContractInstance:
        f = Fields(data)
        f.get("family")
        f.get("schema_version")  # checked by core.api.check_header
        periods = as_int(f.get("periods", 2), "periods", ge=1, le=2)
        theta = as_array(f.get("willingness"), "willingness", (None,), gt=0, le=MAX_MAGNITUDE)
        n = theta.shape[0]
        if n < 1:  # before transition is sized by n, so the message names willingness
            raise InvalidInputError("willingness", "must list at least one type")
        transition = f.get("transition", None)  # None with periods = 2: refused by __post_init__
        if transition is not None:
            transition = as_array(transition, "transition", (n, n))
        discount = f.get("discount", None)
        if discount is None:
            if periods == 2:
                raise InvalidInputError("discount", "is required when periods = 2")
            discount = 1.0
        inst = cls(
            name=f.get("name", None),
            n_servers=f.get("n_servers"),
            willingness=theta,
            unit_cost=f.get("unit_cost"),
            prior=f.get("prior"),
            transition=transition,
            discount=discount,
            periods=periods,
            valuation=valuation_from_dict(f.get("valuation")),
            ir=f.get("ir", "per_period"),
            limited_liability=f.get("limited_liability", False),
            effort_max=f.get("effort_max"),
        )
        f.finish()
        return inst


@dataclass(frozen=True)
class ContractDecision:
    """A menu: period-1 items (e1_i, R1_i) and period-2 items (e2_ij, R2_ij) per history i."""

    effort1: np.ndarray
    """e1, shape (I,): effort asked of a period-1 report i."""
    reward1: np.ndarray
    """R1, shape (I,): payment for a period-1 report i (money per ES)."""
    effort2: np.ndarray | None = None
    """e2, shape (I, I): effort asked at history (period-1 report i, period-2 report j)."""
    reward2: np.ndarray | None = None
    """R2, shape (I, I): payment at history (i, j)."""

    def __post_init__(self) -> None:
        e1 = as_array(self.effort1, "effort1", (None,))
        n = e1.shape[0]
        object.__setattr__(self, "effort1", e1)
        object.__setattr__(self, "reward1", as_array(self.reward1, "reward1", (n,)))
        if (self.effort2 is None) != (self.reward2 is None):
            missing = "effort2" if self.effort2 is None else "reward2"
            raise InvalidInputError(missing, "effort2 and reward2 come together")
        if self.effort2 is not None:
            object.__setattr__(self, "effort2", as_array(self.effort2, "effort2", (n, n)))
            object.__setattr__(self, "reward2", as_array(self.reward2, "reward2", (n, n)))

    @classmethod
    def from_checked_arrays(
        cls,
        effort1: np.ndarray,
        reward1: np.ndarray,
        effort2: np.ndarray | None = None,
        reward2: np.ndarray | None = None,
    ) -> ContractDecision:
        """A decision from float64 arrays the caller has already checked (finite, shapes I and
        I x I), without re-validating: batch solvers check a whole batch at once and build
        thousands of menus per second."""
        d = object.__new__(cls)
        for name, value in (
            ("effort1", effort1),
            ("reward1", reward1),
            ("effort2", effort2),
            ("reward2", reward2),
        ):
            object.__setattr__(d, name, value)
        return d

    @property
    def n_types(self) -> int:
        return int(self.effort1.shape[0])

    def check_fits(self, instance: ContractInstance) -> None:
        """Shapes and periods must match the instance; raises naming the field."""
        if self.n_types != instance.n_types:
            raise InvalidInputError(
                "effort1", f"has {self.n_types} entries, the instance has {instance.n_types} types"
            )
        if instance.dynamic and self.effort2 is None:
            raise InvalidInputError("effort2", "is required when the instance has periods = 2")
        if not instance.dynamic and self.effort2 is not None:
            raise InvalidInputError("effort2", "must be omitted when the instance has periods = 1")

    def to_dict(self) -> dict[str, Any]:
        d: dict[str, Any] = {
            "family": FAMILY,
            "schema_version": SCHEMA_VERSION,
            "effort1": self.effort1.tolist(),
            "reward1": self.reward1.tolist(),
        }
        if self.effort2 is not None:
            d["effort2"] = self.effort2.tolist()
            d["reward2"] = self.reward2.tolist()  # type: ignore[union-attr]
        return d

    @classmethod
    def from_dict(cls, data: Any, instance: ContractInstance | None = None) -> ContractDecision:
        f = Fields(data)
        f.get("family", None)
        f.get("schema_version", None)
        if instance is not None:  # size against the instance first, so the short field is named
            n = instance.n_types
            for key, shape in (("effort1", (n,)), ("reward1", (n,))) + (
                (("effort2", (n, n)), ("reward2", (n, n))) if instance.dynamic else ()
            ):
                if f.has(key):
                    as_array(f.data[key], key, shape)
        dec = cls(
            effort1=f.get("effort1"),
            reward1=f.get("reward1"),
            effort2=f.get("effort2", None),
            reward2=f.get("reward2", None),
        )
        f.finish()
        if instance is not None:
            dec.check_fits(instance)
        return dec
