"""Policy checkpoints and the learned solvers (`optkit solve FILE --solver edmsac`).

A checkpoint (``models/<family>-<algo>-v<k>.pt``) is a plain dict read with
``torch.load(weights_only=True)`` -- tensors and JSON-like values only, so loading a file never
runs code:
    format, format_version     "optkit-policy", 1
    algo, arch                 "edmsac" | "dmsac" | "bc" | "sac";  "diffusion" | "gaussian"
    arch_kwargs                constructor arguments of the actor (sizes, schedule)
    actor                      the actor's state_dict (pruning masks included)
    meta                       env (id, family, kwargs, preset), instance_shape, config and its
                               hash, seeds, data set, versions, wall time, held-out numbers
    critic, critic_kwargs,     (only runs with the `local` critic) its state_dict, constructor
    refine                     arguments, and the decision step {"eta", "cap"}
Loading builds the actor, checks every tensor, and compacts it (masked neurons sliced out); with a
critic, the policy is `RefinedPolicy`: the actor's decision plus the critic's capped Newton step.
"""

from __future__ import annotations

import os
import time
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

import torch

from optkit.core.errors import InvalidInputError
from optkit.core.result import SolverOutput
from optkit.core.status import Status
from optkit.core.timing import Deadline
from optkit.core.tolerances import INFEASIBLE_VIOLATION
from optkit.learn.diffusion import DiffusionActor
from optkit.learn.networks import GaussianActor, LocalTwinQ
from optkit.learn.pruning import mlp_flops

FORMAT, FORMAT_VERSION = "optkit-policy", 1
MODELS_ENV = "OPTKIT_MODELS"
"""Environment variable naming the folder of shipped checkpoints (default: the repo's models/)."""
ARCHS = {"diffusion": DiffusionActor, "gaussian": GaussianActor}


def models_dir() -> Path:
    return Path(os.environ.get(MODELS_ENV) or Path(__file__).resolve().parents[2] / "models")


class RefinedPolicy(torch.nn.Module):
    """The decision of a run trained with the `local` critic: the compact actor's action a0 moved
    by eta times the critic's Newton step, the step capped at length `cap` (action units), then
    clipped to the box. Deterministic, like the actor."""

    def __init__(self, base: torch.nn.Module, critic: LocalTwinQ, eta: float, cap: float):
        super().__init__()
        self.base, self.critic, self.eta, self.cap = base, critic, float(eta), float(cap)
        self.obs_dim, self.act_dim = base.obs_dim, base.act_dim
        self.requires_grad_(False)
        self.eval()

    def forward(self, s: torch.Tensor) -> torch.Tensor:
        return self.critic.improved(s, self.base(s), self.eta, self.cap)

    def flops(self) -> int:
        """The actor's FLOPs plus one pass of both critic twins (dense layers, as the actor's)."""
        twin = [
            (m.in_features, m.out_features)
            for m in self.critic.q1
            if isinstance(m, torch.nn.Linear)
        ]
        return int(self.base.flops()) + 2 * mlp_flops(twin)

    def actor_flops(self) -> int:
        return int(self.base.flops())

    def hidden_widths(self) -> list[int]:
        return self.base.hidden_widths()


def save_checkpoint(
    path: Path,
    algo: str,
    arch: str,
    arch_kwargs: dict,
    actor: torch.nn.Module,
    meta: dict,
    critic: tuple[torch.nn.Module, dict, dict] | None = None,
) -> None:
    """Write atomically (temp file + rename). `critic`: (LocalTwinQ, its constructor kwargs,
    {"eta", "cap"}) for runs whose decisions take the critic's step."""
    data = {
        "format": FORMAT,
        "format_version": FORMAT_VERSION,
        "algo": algo,
        "arch": arch,
        "arch_kwargs": dict(arch_kwargs),
        "actor": {k: v.detach().clone() for k, v in actor.state_dict().items()},
        "meta": meta,
    }
    if critic is not None:
        net, kwargs, refine = critic
        data["critic"] = {k: v.detach().clone() for k, v in net.state_dict().items()}
        data["critic_kwargs"], data["refine"] = dict(kwargs), dict(refine)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.tmp")
    torch.save(data, tmp)
    os.replace(tmp, path)


@dataclass(frozen=True)
class LoadedPolicy:
    path: str
    algo: str
    actor: torch.nn.Module
    """The full actor (masks included), in eval mode."""
    policy: torch.nn.Module
    """The compacted deterministic policy: obs (B, obs_dim) -> action (B, d) (a RefinedPolicy
    when the checkpoint carries a critic)."""
    meta: dict[str, Any]


def _bad(path: Path, problem: str) -> InvalidInputError:
    return InvalidInputError("checkpoint", problem, source=str(path))


def load_checkpoint(path: str | os.PathLike[str]) -> LoadedPolicy:
    """Read, validate and compact a checkpoint; any bad file raises InvalidInputError."""
    path = Path(path)
    if not path.is_file():
        raise _bad(path, "no such file")
    try:
        data = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as exc:  # corrupt zip, foreign pickle (refused by weights_only), ...
        raise _bad(
            path, f"not a readable optkit policy checkpoint ({type(exc).__name__})"
        ) from None
    if not isinstance(data, dict) or data.get("format") != FORMAT:
        raise _bad(path, f"not an optkit policy checkpoint (no format {FORMAT!r})")
    if data.get("format_version") != FORMAT_VERSION:
        raise _bad(path, f"format_version {data.get('format_version')!r}; this optkit reads 1")
    arch = data.get("arch")
    if arch not in ARCHS:
        raise _bad(path, f"arch {arch!r} is not one of {sorted(ARCHS)}")
    try:
        actor = ARCHS[arch](**data["arch_kwargs"])
        actor.load_state_dict(data["actor"])
    except (KeyError, TypeError, ValueError, RuntimeError) as exc:
        raise _bad(path, f"actor does not match its arch_kwargs ({exc})") from None
    for name, tensor in actor.state_dict().items():
        if tensor.is_floating_point() and not bool(torch.isfinite(tensor).all()):
            raise _bad(path, f"actor tensor {name} holds NaN or inf")
    actor.eval()
    policy = actor.compact()
    if "critic" in data:
        try:
            critic = LocalTwinQ(**data["critic_kwargs"])
            critic.load_state_dict(data["critic"])
            eta, cap = float(data["refine"]["eta"]), float(data["refine"]["cap"])
        except (KeyError, TypeError, ValueError, RuntimeError) as exc:
            raise _bad(path, f"critic does not match its critic_kwargs ({exc})") from None
        for name, tensor in critic.state_dict().items():
            if not bool(torch.isfinite(tensor).all()):
                raise _bad(path, f"critic tensor {name} holds NaN or inf")
        policy = RefinedPolicy(policy, critic, eta, cap)
    return LoadedPolicy(str(path), str(data["algo"]), actor, policy, dict(data["meta"]))


@cache
def _shipped(name: str) -> LoadedPolicy:
    return load_checkpoint(models_dir() / f"{name}.pt")


def instance_shape(family: str, instance: Any) -> dict[str, int]:
    """What fixes the observation and action sizes of a family's env (checked before acting)."""
    if family == "contract":
        return {"n_types": int(instance.n_types), "periods": int(instance.periods)}
    return {}


def instance_regime(family: str, instance: Any) -> dict[str, str]:
    """What the training preset holds fixed and the observation only flags (contract: the IR
    notion, limited liability, the valuation's form). A policy trained on one regime is not
    refused on another, but its answer is flagged: it never saw such states."""
    if family == "contract":
        return {
            "ir": str(instance.ir),
            "limited_liability": str(bool(instance.limited_liability)),
            "valuation": type(instance.valuation).__name__,
        }
    return {}


def regime_mismatch(loaded: LoadedPolicy, instance: Any) -> dict[str, tuple[str, str]]:
    """{field: (trained, got)} where the instance leaves the checkpoint's training preset."""
    from optkit.core import api

    env_meta = loaded.meta["env"]
    family = env_meta["family"]
    trained = instance_regime(family, api.generate(family, preset=env_meta["preset"], seed=0))
    got = instance_regime(family, instance)
    return {k: (trained[k], got[k]) for k in trained if got.get(k) != trained[k]}


def size_mismatch(loaded: LoadedPolicy, instance: Any) -> str | None:
    """Why the policy cannot act on an instance of this size (its observation and action have
    the trained size's dimensions), or None when the sizes match."""
    shape = instance_shape(loaded.meta["env"]["family"], instance)
    trained = loaded.meta.get("instance_shape", {})
    if shape == trained:
        return None
    return (
        f"checkpoint {Path(loaded.path).name} was trained for {trained} instances, got {shape}; "
        "train one for this size with `optkit train`"
    )


def act_on_instance(loaded: LoadedPolicy, instance: Any) -> tuple[Any, dict[str, Any]]:
    """The policy's decision on one instance through its env's action map, and the env's info."""
    from optkit.learn.evaluate import make_env

    env_meta = loaded.meta["env"]
    wrong_size = size_mismatch(loaded, instance)
    if wrong_size:
        raise InvalidInputError("instance", wrong_size)
    env = make_env(env_meta["id"], env_meta["kwargs"], env_meta["family"])
    obs, _ = env.reset(options={"instance": instance})
    with torch.inference_mode():
        action = loaded.policy(torch.as_tensor(obs[None, :]))[0].numpy()
    _, _, _, _, info = env.step(action)
    return env.last_decision, info


def solve_checkpoint(
    instance: Any,
    *,
    default: str,
    deadline: Deadline,
    seed: int = 0,
    threads: int = 1,
    params: dict[str, Any] | None = None,
) -> SolverOutput:
    """Solver entry point body: params {"checkpoint": PATH} overrides the shipped checkpoint.
    Deterministic (the seed is unused). Status FEASIBLE for a feasible menu; a menu violating a
    constraint by more than 1e-6 (possible under the raw map) is returned with status ERROR; an
    instance of another size than the trained one is NOT_APPLICABLE, naming both sizes."""
    params = dict(params or {})
    path = params.pop("checkpoint", None)
    if params:
        raise InvalidInputError(
            "params", f"learned solvers take only 'checkpoint', got {sorted(params)}"
        )
    t0 = time.perf_counter()
    loaded = load_checkpoint(path) if path is not None else _shipped(default)
    build_s = time.perf_counter() - t0
    wrong_size = size_mismatch(loaded, instance)
    if wrong_size:  # outside the policy's domain: a verdict (the bench lists it), not an error
        return SolverOutput(
            Status.NOT_APPLICABLE, message=wrong_size, build_s=build_s, backend="torch",
            backend_version=str(torch.__version__),
        )  # fmt: skip
    torch.set_num_threads(threads)
    t1 = time.perf_counter()
    decision, info = act_on_instance(loaded, instance)
    solve_s = time.perf_counter() - t1
    feasible = float(info.get("max_violation", 0.0)) <= INFEASIBLE_VIOLATION
    flags, notes = [], []
    if not feasible:
        flags.append("learned_decision_infeasible")
        notes.append(f"learned menu violates a constraint by {info['max_violation']:.2e}")
    outside = regime_mismatch(loaded, instance)
    if outside:
        flags.append("outside_training_regime")
        preset = loaded.meta["env"]["preset"]
        notes.append(
            f"trained on preset {preset!r}; this instance differs in "
            + ", ".join(f"{k} ({got}, trained {want})" for k, (want, got) in outside.items())
        )
    return SolverOutput(
        status=Status.FEASIBLE if feasible else Status.ERROR,
        objective=float(info["objective"]),
        decision=decision,
        build_s=build_s,
        solve_s=solve_s,
        flags=tuple(flags),
        message="; ".join(notes),
        backend="torch",
        backend_version=str(torch.__version__),
    )


def solve_edmsac(instance: Any, **kwargs: Any) -> SolverOutput:
    """EDMSAC, projected map (models/contract-edmsac-v1.pt): feasible by construction."""
    return solve_checkpoint(instance, default="contract-edmsac-v1", **kwargs)
