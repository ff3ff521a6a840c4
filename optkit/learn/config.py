"""Hyperparameters: one frozen dataclass per algorithm, a one-line docstring per field (CleanRL).

    cfg = load_config("edmsac", Path("run.toml"), overrides={"seed": 3})

A TOML file holds the algorithm's fields at top level and the environment in an ``[env]`` table;
a table named after an algorithm (``[edmsac]``, ``[dmsac]``, ``[sac]``, ``[bc]``) holds fields for
that algorithm only, over the top level, so one file can configure a whole comparison (the
shared budget at top level, EDMSAC's pruning ramp in ``[edmsac]``) and every other algorithm's
config, and hash, stays as if the table were not there. Unknown keys are refused naming the key,
in every table (a typo must not silently train the default). Validation
runs in ``__post_init__``, so a config built in Python is checked as much as one read from TOML.
`config_hash` is the SHA-256 of the canonical JSON of the config: the card records it.

Defaults are the shipped `contract-edmsac-v1` run; the budget fields (`total_env_steps`,
`bc_pretrain_updates`) are what the 15-minute target on 2 cores is measured against.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import math
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from optkit.core.errors import InvalidInputError
from optkit.core.seeding import check_seed

PREDICTIONS = ("eps", "x0")
"""What the diffusion actor's denoiser outputs: the noise ε (Diffusion-QL's choice) or the clean
action x_0 (diffusion.py)."""

ALGOS = ("edmsac", "dmsac", "sac", "bc")


@dataclass(frozen=True)
class EnvConfig:
    """Which Gymnasium env the learner trains on; any env with a Box observation and a
    [-1, 1]^d Box action whose `reset(options={"instance": x})` accepts an instance plugs in."""

    id: str = "optkit/Contract-v1"
    """Gymnasium id (registered when its family is imported)."""
    family: str = "contract"
    """optkit family of the env's instances (oracle, data adapter, held-out generator)."""
    kwargs: dict[str, Any] = field(default_factory=lambda: {"action_map": "projected"})
    """Keyword arguments of the env's constructor (contract: preset, action_map, penalty)."""
    preset: str = "default"
    """Generator preset of the validation and held-out instances."""

    def __post_init__(self) -> None:
        if not isinstance(self.id, str) or not self.id:
            raise InvalidInputError("env.id", "must be a Gymnasium env id")
        if not isinstance(self.kwargs, dict):
            raise InvalidInputError("env.kwargs", "must be a table")


CRITICS = ("mlp", "local")


@dataclass(frozen=True)
class TrainConfig:
    """Fields every algorithm shares: budget, collection, critics, evaluation, seeds."""

    seed: int = 0
    """Seeds networks, exploration noise, env draws and replay sampling (spawned children)."""
    env: EnvConfig = field(default_factory=EnvConfig)
    """The environment (an ``[env]`` table in TOML)."""
    total_env_steps: int = 12_000
    """RL budget in environment steps (one step is one episode here)."""
    n_envs: int = 16
    """Episodes collected per iteration (one batched actor call)."""
    samples_per_instance: int = 1
    """Episodes per drawn instance in an iteration (divides n_envs). One action per state leaves
    a critic only cross-state variation to learn ∂Q/∂a from, confounded with the policy's own
    state dependence; several actions on the same state give it within-state contrasts. Needs
    an env whose reset accepts options={"instance": env.instance}."""
    greedy_baseline: bool = False
    """Per instance group (needs samples_per_instance >= 2 and one-step episodes), the first env
    takes the deterministic action and the group's rewards are stored minus its reward, so the
    critics learn the advantage over the current greedy policy (a greedy-rollout baseline, Kool
    et al., ICLR 2019). A state-only shift leaves ∇_a Q unchanged but removes the cross-instance
    spread of returns, far larger than the within-instance differences RL has to resolve."""
    updates_per_iter: int = 8
    """Gradient updates per iteration (update-to-data ratio = this / n_envs)."""
    learning_starts: int = 512
    """Env steps collected before the first RL update."""
    batch_size: int = 256
    """Replay minibatch size."""
    buffer_size: int = 100_000
    """Replay capacity (transitions)."""
    gamma: float = 0.99
    """Discount (the contract env's episodes are one step long, so it never bites there)."""
    tau: float = 0.005
    """Soft target update rate for critics and target actor."""
    critic_lr: float = 3e-4
    """Adam step size of the twin critics."""
    critic_width: int = 256
    """Hidden width of each critic (two hidden layers, Mish)."""
    critic: str = "mlp"
    """"mlp": twin Q(s, a) MLPs. "local" (needs greedy_baseline): twin diagonal-quadratic models
    of the advantage around the greedy action a0 that the same state's group played (inputs
    s and a0; networks.LocalTwinQ), and the actor is denoised toward a0 plus `improve_step`
    times their Newton step (sac.py); after any RL, the decision that is validated, selected
    and published is the actor's plus the critic's step (policy.RefinedPolicy). The MLP Q's
    gradient pointed the wrong way; this critic's step improves the cloned actor's held-out gap
    (docs/edmsac.md, "A critic built around the greedy action")."""
    improve_step: float = 0.25
    """η: the share of the local critic's Newton step in the decision and in the actor's
    targets (the step is capped at length sac.IMPROVE_MAX_NORM)."""
    normalize_reward: bool = True
    """Divide each reward by the family's per-instance reference (contract: first-best profit)."""
    reward_scale: float = 1.0
    """Rewards (normalised or not) are multiplied by this before the critics see them."""
    target_entropy_per_dim: float = -2.0
    """Target entropy per action dimension for the automatic temperature."""
    alpha_init: float = 0.05
    """Initial entropy temperature."""
    alpha_lr: float = 3e-4
    """Adam step size of log α."""
    bc_data: str | None = None
    """Oracle warm-start data set (an `optkit baseline` Parquet directory); None: no warm start."""
    bc_max_rows: int | None = None
    """Read at most this many optimal rows of bc_data (None: all)."""
    bc_pretrain_updates: int = 3000
    """Behaviour-cloning updates before RL (0 with bc_data set: clone only during RL)."""
    bc_batch_size: int = 256
    """Minibatch size of the behaviour-cloning loss."""
    exact_updates: int = 0
    """Actor updates of the exact fine-tuning after cloning (train.py, phase 1b), on the warm-start
    data's states: for a one-step env whose reward the family states in closed form (contract's
    raw map, exact_reward.py) Q(s, a) = r(s, a), so the actor descends the shaped reward of its
    own deterministic decision, with no learned critic in between. 0: no such phase."""
    exact_lr: float = 1e-4
    """Adam step size of the exact fine-tuning (cosine down to a tenth of it)."""
    exact_batch_size: int = 512
    """States per exact fine-tuning update."""
    safety_margin: float = 0.002
    """Slack the exact fine-tuning asks of every IC/IR row, in units of φ_1 e_max: the raw map's
    float64 check fails a menu whose error on any row exceeds the slack it kept."""
    margin_penalty: float = 50.0
    """Weight of Σ max(0, safety_margin - slack) (units of φ_1 e_max) against the profit as a
    share of the optimum, in the exact fine-tuning's loss."""
    bc_lr_end: float = 3e-5
    """Behaviour-cloning step size anneals from actor_lr to this on a cosine over the pretraining
    updates (Diffusion-QL's schedule, Wang et al. 2023): a constant step leaves the fit noisy."""
    bc_weight_start: float = 1.0
    """Weight of the BC loss in the actor loss at the first RL update."""
    bc_weight_end: float = 0.1
    """...annealed linearly to this at the last RL update (a float, not a switch)."""
    critic_warmup: int = 1000
    """RL updates that train only the critics (the actor waits until Q means something)."""
    actor_every: int = 1
    """After the warm-up, the actor and α are updated on every k-th RL update only (TD3's
    delayed policy updates, Fujimoto et al. 2018); the critics on every one. 0 (`local` critic
    only): the actor is the best validated cloning point (select_best) and keeps those weights;
    RL fits the critic whose step the decision takes -- in-loop actor updates toward that step
    were measured to make the held-out gap worse, 0.894% -> 1.06-1.08% (docs/edmsac.md)."""
    rl_actor_lr: float = 3e-5
    """Actor step size during RL (behaviour cloning uses actor_lr): small steps on a learned Q."""
    val_instances: int = 64
    """Validation instances (seeds 500_000 + k: disjoint from training and held-out seeds)."""
    eval_every: int = 50
    """Iterations between validation points of the learning curve (and checkpoints)."""
    select_best: bool = True
    """Publish the actor of the best validation point -- least infeasible share above 1%, then
    (while above it) least median violation, then least gap (validation seeds are disjoint from
    held-out ones); False: the last actor. A pruning run's points count only once ϱ has reached
    its target (the ramp is over), so the published network is as pruned as its card says."""
    max_minutes: float | None = None
    """Stop (with a final checkpoint) after this much wall time; None: run the whole budget."""

    def __post_init__(self) -> None:
        check_seed(self.seed, "seed")
        positive = (
            "n_envs",
            "updates_per_iter",
            "batch_size",
            "buffer_size",
            "critic_width",
            "bc_batch_size",
            "val_instances",
            "eval_every",
        )
        for name in positive:
            _int(self, name, ge=1)
        _int(self, "learning_starts", ge=0)
        _int(self, "total_env_steps", ge=0)  # 0: no RL phase (cloning, exact fine-tuning)
        _int(self, "exact_updates", ge=0)
        _int(self, "exact_batch_size", ge=1)
        _float(self, "exact_lr", gt=0.0)
        _float(self, "safety_margin", ge=0.0)
        _float(self, "margin_penalty", ge=0.0)

        _int(self, "samples_per_instance", ge=1)
        if self.n_envs % self.samples_per_instance:
            raise InvalidInputError("samples_per_instance", "must divide n_envs")
        if not isinstance(self.greedy_baseline, bool):
            raise InvalidInputError("greedy_baseline", "must be true or false")
        if self.greedy_baseline and self.samples_per_instance < 2:
            raise InvalidInputError(
                "greedy_baseline", "needs samples_per_instance >= 2 (one greedy env per group)"
            )
        if self.critic not in CRITICS:
            raise InvalidInputError(
                "critic", f"must be one of {list(CRITICS)}, got {self.critic!r}"
            )
        _float(self, "improve_step", gt=0.0, le=1.0)
        if self.critic == "local" and not self.greedy_baseline:
            raise InvalidInputError(
                "critic", "'local' needs greedy_baseline = true (its reference action)"
            )
        _int(self, "bc_pretrain_updates", ge=0)
        _int(self, "critic_warmup", ge=0)
        _int(self, "actor_every", ge=0)
        if self.actor_every == 0 and self.critic != "local":
            raise InvalidInputError(
                "actor_every", "0 (a fixed actor) needs critic = 'local': RL would change nothing"
            )
        if self.bc_max_rows is not None:
            _int(self, "bc_max_rows", ge=1)
        _float(self, "gamma", ge=0.0, le=1.0)
        _float(self, "tau", gt=0.0, le=1.0)
        for name in (
            "critic_lr",
            "rl_actor_lr",
            "reward_scale",
            "alpha_init",
            "alpha_lr",
            "bc_lr_end",
        ):
            _float(self, name, gt=0.0)
        _float(self, "target_entropy_per_dim")
        _float(self, "bc_weight_start", ge=0.0)
        _float(self, "bc_weight_end", ge=0.0)
        if self.max_minutes is not None:
            _float(self, "max_minutes", gt=0.0)
        if not isinstance(self.normalize_reward, bool):
            raise InvalidInputError("normalize_reward", "must be true or false")
        if not isinstance(self.select_best, bool):
            raise InvalidInputError("select_best", "must be true or false")
        if self.bc_data is not None and not isinstance(self.bc_data, str):
            raise InvalidInputError("bc_data", "must be a path string")


@dataclass(frozen=True)
class EDMSACConfig(TrainConfig):
    """EDMSAC: DDPM actor + twin critics + entropy + dynamic structured pruning (spec/edmsac.md)."""

    actor_lr: float = 3e-4
    """Adam step size of the diffusion actor."""
    width: int = 256
    """Hidden width of the denoiser MLP."""
    depth: int = 3
    """Hidden layers of the denoiser MLP (each one is pruned; the output layer never is)."""
    time_dim: int = 16
    """Size of the sinusoidal time embedding."""
    denoise_steps: int = 5
    """T, the reverse diffusion steps."""
    beta_min: float = 0.1
    """VP schedule: β at t = 0 (continuous-time rate)."""
    beta_max: float = 10.0
    """VP schedule: β at t = 1."""
    log_std_init: float = -2.5
    """Initial log σ of the Gaussian on the final action (the entropy estimator's scale)."""
    prediction: str = "eps"
    """What the denoiser outputs: "eps" (the noise, Diffusion-QL) or "x0" (the clean action;
    diffusion.py says when it matters)."""
    derived_features: bool = False
    """Feed the denoiser the family's derived features of the observation as well (features.py:
    for contract the cost ratios and value scale every IC/IR row is built from)."""
    prune_rate: float = 0.3
    """ϱ, the target share of each hidden layer's neurons masked."""
    prune_every: int = 100
    """K, actor updates between re-scorings of the masks (a masked neuron may come back)."""
    prune_ramp: float = 0.3
    """ϱ ramps linearly from 0 to prune_rate over this share of all actor updates."""
    prune_activation: bool = False
    """Importance = incoming-weight L2 norm × mean |activation| (False: the norm alone)."""
    prune_exact: bool = True
    """Re-score the masks during the exact fine-tuning too. False holds the masks cloning left
    (the raw map: a neuron coming back with stale weights moves every decision at once, by more
    than the safety margin; docs/edmsac.md, "Raw map")."""

    def __post_init__(self) -> None:
        super().__post_init__()
        _float(self, "actor_lr", gt=0.0)
        for name in ("width", "depth", "time_dim", "denoise_steps", "prune_every"):
            _int(self, name, ge=1)
        if self.time_dim % 2:
            raise InvalidInputError("time_dim", "must be even (sine and cosine halves)")
        _float(self, "beta_min", gt=0.0)
        _float(self, "beta_max", gt=self.beta_min)
        _float(self, "log_std_init", ge=-10.0, le=1.0)
        if self.prediction not in PREDICTIONS:
            raise InvalidInputError("prediction", f"must be one of {', '.join(PREDICTIONS)}")
        _float(self, "prune_rate", ge=0.0, lt=1.0)
        _float(self, "prune_ramp", ge=0.0, le=1.0)
        for name in ("prune_activation", "prune_exact", "derived_features"):
            if not isinstance(getattr(self, name), bool):
                raise InvalidInputError(name, "must be true or false")


@dataclass(frozen=True)
class DMSACConfig(EDMSACConfig):
    """DMSAC: EDMSAC without pruning (the paper's unpruned diffusion SAC)."""

    prune_rate: float = 0.0
    """Always 0: DMSAC never prunes (use edmsac with prune_rate for a sweep)."""

    def __post_init__(self) -> None:
        super().__post_init__()
        if self.prune_rate != 0.0:
            raise InvalidInputError("prune_rate", "dmsac does not prune; use --algo edmsac")


@dataclass(frozen=True)
class SACConfig(TrainConfig):
    """SAC with a tanh-squashed Gaussian MLP actor (same env, buffer, critics, evaluation)."""

    actor_lr: float = 3e-4
    """Adam step size of the Gaussian actor."""
    width: int = 256
    """Hidden width of the actor MLP (two hidden layers, Mish)."""
    log_std_init: float | None = None
    """Initial bias of the log σ head (σ starts near exp of it, as the diffusion actor's σ
    does); None: PyTorch's default init, σ ≈ 1 before tanh. Squared-error cloning does not
    train σ, so with the `local` critic and a fixed actor (σ then never moves) this must be
    small: the critic's model is fitted on samples about 0.03 from the decision."""

    def __post_init__(self) -> None:
        super().__post_init__()
        if self.log_std_init is not None:
            _float(self, "log_std_init", ge=-10.0, le=1.0)


@dataclass(frozen=True)
class BCConfig(EDMSACConfig):
    """BC: the diffusion actor trained by behaviour cloning only (no critic, no RL)."""

    total_env_steps: int = 1
    """Unused by bc (no RL); kept >= 1 so the shared checks hold."""
    bc_pretrain_updates: int = 6000
    """Behaviour-cloning updates: the whole training of bc."""
    prune_rate: float = 0.0
    """bc clones the unpruned actor (pruning is part of EDMSAC's RL)."""


CONFIG_TYPES: dict[str, type[TrainConfig]] = {
    "edmsac": EDMSACConfig,
    "dmsac": DMSACConfig,
    "sac": SACConfig,
    "bc": BCConfig,
}


def _int(cfg: Any, name: str, ge: int | None = None) -> None:
    value = getattr(cfg, name)
    if isinstance(value, bool) or not isinstance(value, int):
        raise InvalidInputError(name, f"must be an integer, got {value!r}")
    if ge is not None and value < ge:
        raise InvalidInputError(name, f"must be >= {ge}, got {value}")


def _float(cfg: Any, name: str, *, gt=None, ge=None, lt=None, le=None) -> None:
    value = getattr(cfg, name)
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise InvalidInputError(name, f"must be a number, got {value!r}")
    value = float(value)
    if not math.isfinite(value):
        raise InvalidInputError(name, f"must be finite, got {value}")
    for bound, ok, text in (
        (gt, lambda b: value > b, ">"),
        (ge, lambda b: value >= b, ">="),
        (lt, lambda b: value < b, "<"),
        (le, lambda b: value <= b, "<="),
    ):
        if bound is not None and not ok(bound):
            raise InvalidInputError(name, f"must be {text} {bound}, got {value}")
    object.__setattr__(cfg, name, value)


def config_from_dict(algo: str, data: dict[str, Any]) -> TrainConfig:
    """Build the algorithm's config from a plain dict (TOML or a checkpoint); unknown keys fail."""
    if algo not in CONFIG_TYPES:
        raise InvalidInputError("algo", f"must be one of {list(CONFIG_TYPES)}, got {algo!r}")
    cls = CONFIG_TYPES[algo]
    known = {f.name for f in dataclasses.fields(cls)}
    data = dict(data)
    for key in data:
        if key not in known:
            raise InvalidInputError(key, f"is not a {algo} hyperparameter (valid: {sorted(known)})")
    if "env" in data:
        env = data["env"]
        if not isinstance(env, dict):
            raise InvalidInputError("env", "must be a table")
        env_known = {f.name for f in dataclasses.fields(EnvConfig)}
        for key in env:
            if key not in env_known:
                raise InvalidInputError(f"env.{key}", f"unknown (valid: {sorted(env_known)})")
        data["env"] = EnvConfig(**env)
    return cls(**data)


def load_config(
    algo: str, path: Path | None = None, overrides: dict[str, Any] | None = None
) -> TrainConfig:
    """The algorithm's defaults, updated by a TOML file and then by `overrides`."""
    data: dict[str, Any] = {}
    if path is not None:
        try:
            with open(path, "rb") as fh:
                data = tomllib.load(fh)
        except FileNotFoundError:
            raise InvalidInputError("--config", f"{path}: no such file") from None
        except tomllib.TOMLDecodeError as exc:
            raise InvalidInputError("--config", f"{path}: not valid TOML ({exc})") from None
    try:
        data = _merge_algorithm_table(algo, data)
        data.update({k: v for k, v in (overrides or {}).items() if v is not None})
        return config_from_dict(algo, data)
    except InvalidInputError as exc:
        raise (exc.with_source(str(path)) if path is not None else exc) from None


def _merge_algorithm_table(algo: str, data: dict[str, Any]) -> dict[str, Any]:
    """The top-level fields updated by the `[algo]` table; the other algorithms' tables are
    checked against their own fields and dropped (an unknown `algo` is config_from_dict's to
    refuse)."""
    data = dict(data)
    own: dict[str, Any] = {}
    for name in [k for k in data if k in CONFIG_TYPES]:
        table = data.pop(name)
        if not isinstance(table, dict):
            raise InvalidInputError(name, f"must be a table of {name} hyperparameters")
        known = {f.name for f in dataclasses.fields(CONFIG_TYPES[name])} - {"env"}
        for key in table:
            if key not in known:
                raise InvalidInputError(
                    f"{name}.{key}", f"is not a {name} hyperparameter (valid: {sorted(known)})"
                )
        if name == algo:
            own = table
    return {**data, **own}


def config_to_dict(cfg: TrainConfig) -> dict[str, Any]:
    return dataclasses.asdict(cfg)


def config_hash(cfg: TrainConfig) -> str:
    """SHA-256 of the config's canonical JSON (sorted keys, with its type): the card's config id."""
    data = {"type": type(cfg).__name__, **config_to_dict(cfg)}
    text = json.dumps(data, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(text.encode()).hexdigest()
