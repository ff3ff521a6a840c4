"""`optkit train` and `optkit evaluate-policy` (optkit/learn; spec/edmsac.md).

Mounted in optkit/cli/__init__.py as plain functions. torch is imported only when one of these
commands runs, so `optkit --help` and every other command work without the `learn` extra; with
it missing these commands fail with exit code 2 and the install hint.
Exit codes: 0 done, 2 bad input (one line naming the flag, file or field), 3 training diverged
(NaN or inf loss; the last good state stays for --resume), 130 interrupted (state kept).
"""

from __future__ import annotations

import importlib
import math
from enum import Enum
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.console import Console
from rich.markup import escape
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from optkit.cli.baseline import Backend
from optkit.cli.bench import parse_seeds
from optkit.core.api import MAX_THREADS
from optkit.core.errors import InvalidInputError, MissingExtraError
from optkit.core.jsonio import dumps, finite_or_null

if TYPE_CHECKING:  # torch stays unimported until a learn command runs
    from optkit.learn.config import TrainConfig
    from optkit.learn.multiseed import SeedResult

EXIT_DIVERGED = 3
err = Console(stderr=True, highlight=False, soft_wrap=True)


class Algo(str, Enum):
    edmsac = "edmsac"
    dmsac = "dmsac"
    sac = "sac"
    bc = "bc"


class ActionMap(str, Enum):
    projected = "projected"
    raw = "raw"


class Format(str, Enum):
    table = "table"
    json = "json"


def _learn(module: str):
    """Import optkit.learn.<module>; a missing torch names the extra."""
    try:
        return importlib.import_module(f"optkit.learn.{module}")
    except ImportError as exc:
        if (getattr(exc, "name", None) or "").split(".")[0] == "torch":
            raise MissingExtraError("optkit train / evaluate-policy", "learn", exc) from exc
        raise


def _quiet(ctx: typer.Context) -> bool:
    return bool(ctx.find_root().params.get("quiet"))


def _progress_bar(quiet: bool) -> Progress:
    """Bars on stderr: label, bar, done/total, elapsed, and a status text field."""
    return Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        TextColumn("{task.fields[status]}"),
        console=err,
        disable=quiet,
    )


def train_cmd(
    ctx: typer.Context,
    family: Annotated[
        str,
        typer.Argument(
            help="Family whose env to train on: contract, or another whose env the --config's "
            "[env] table names (models/configs/knapsack-sac.toml)."
        ),
    ],
    algo: Annotated[Algo, typer.Option("--algo", help="edmsac, dmsac, sac or bc.")] = Algo.edmsac,
    seed: Annotated[
        int | None, typer.Option("--seed", min=0, help="The run's one seed (default 0).")
    ] = None,
    seeds: Annotated[
        list[str] | None,
        typer.Option(
            "--seeds",
            help="Train one run per seed, in parallel: 0-4 or 0,2 (names get -s<seed>).",
        ),
    ] = None,
    config: Annotated[
        Path | None, typer.Option("--config", help="TOML of hyperparameters ([env] table too).")
    ] = None,
    action_map: Annotated[
        ActionMap | None, typer.Option("--action-map", help="Override env.kwargs.action_map.")
    ] = None,
    data: Annotated[
        Path | None,
        typer.Option("--data", help="Oracle warm-start data set (an `optkit baseline` --out)."),
    ] = None,
    env_steps: Annotated[
        int | None, typer.Option("--env-steps", min=1, help="Override total_env_steps.")
    ] = None,
    bc_updates: Annotated[
        int | None, typer.Option("--bc-updates", min=0, help="Override bc_pretrain_updates.")
    ] = None,
    prune_rate: Annotated[
        float | None, typer.Option("--prune-rate", min=0.0, max=0.99, help="Override ϱ (edmsac).")
    ] = None,
    max_minutes: Annotated[
        float | None, typer.Option("--max-minutes", min=0.0, help="Stop (and save) after this.")
    ] = None,
    name: Annotated[
        str | None,
        typer.Option("--name", help="Checkpoint name (default <family>-<algo>-<map>-s<seed>)."),
    ] = None,
    models: Annotated[
        Path, typer.Option("--models", help="Where the checkpoint, card and curve go.")
    ] = Path("models"),
    runs: Annotated[
        Path, typer.Option("--runs", help="Resumable run state folder (one subfolder per run).")
    ] = Path("runs"),
    resume: Annotated[
        bool, typer.Option("--resume/--no-resume", help="Continue the run's saved state.")
    ] = False,
    device: Annotated[str, typer.Option("--device", help="cpu (cuda: not supported yet).")] = "cpu",
    threads: Annotated[
        int, typer.Option("--threads", min=1, max=MAX_THREADS, help="torch threads.")
    ] = 1,
    heldout: Annotated[
        int, typer.Option("--heldout", min=1, help="Held-out instances scored for the card.")
    ] = 500,
    backend: Annotated[
        Backend, typer.Option("--backend", help="With --seeds: local process pool, or Ray tasks.")
    ] = Backend.local,
    workers: Annotated[
        int | None,
        typer.Option(
            "--workers",
            min=1,
            help="With --seeds: runs at once (default: CPUs / --threads; Ray: cluster CPUs).",
        ),
    ] = None,
    address: Annotated[
        str | None, typer.Option("--address", help="Ray cluster address (default: a local Ray).")
    ] = None,
) -> None:
    """Train a learner; writes MODELS/NAME.pt, its card NAME.md and MODELS/logs/NAME.csv.
    With --seeds, one run per seed on a process pool or Ray (`--backend ray`), then a table of
    the seeds' held-out gaps and their mean with a 95% interval over seeds."""
    seed_list = parse_seeds(seeds) if seeds is not None else None
    if seed_list is not None and seed is not None:
        raise InvalidInputError("--seeds", "give --seed or --seeds, not both")
    for flag, given in (
        ("--backend", backend is not Backend.local),
        ("--workers", workers is not None),
        ("--address", address is not None),
    ):
        if given and seed_list is None:
            raise InvalidInputError(flag, "only applies with --seeds")
    if address is not None and backend is not Backend.ray:
        raise InvalidInputError("--address", "only applies with --backend ray")
    config_mod = _learn("config")
    if config is not None and config.is_dir():
        raise InvalidInputError("--config", f"{config} is a folder, expected a TOML file")
    if name is not None:
        _check_run_name(name)
    if device != "cpu":
        # The learner keeps every tensor on the CPU; a --device that silently ran on the CPU would
        # mislead, so anything else is refused until the GPU path exists and is tested.
        raise InvalidInputError("--device", f"only cpu is supported, got {device!r}")
    overrides = {
        "seed": (seed_list[0] if seed_list else seed) or 0,
        "bc_data": str(data) if data is not None else None,
        "total_env_steps": env_steps,
        "bc_pretrain_updates": bc_updates,
        "max_minutes": max_minutes,
        "prune_rate": prune_rate,
    }
    cfg = config_mod.load_config(algo.value, config, overrides)
    if cfg.env.family != family:
        problem = f"the config's env is for {cfg.env.family!r}"
        if config is None:
            problem += (
                f" (the default); pass a --config whose [env] table names a {family} env, "
                "e.g. models/configs/knapsack-sac.toml"
            )
        raise InvalidInputError("family", problem)
    if action_map is not None:
        import dataclasses

        env = dataclasses.replace(
            cfg.env, kwargs={**cfg.env.kwargs, "action_map": action_map.value}
        )
        cfg = dataclasses.replace(cfg, env=env)
    if seed_list is not None:
        _train_seeds(ctx, algo.value, cfg, seed_list, name, models, runs, resume, threads,
                     heldout, backend, workers, address)  # fmt: skip
        return
    import torch

    train_mod = _learn("train")
    torch.set_num_threads(threads)
    run_name = name or train_mod.run_name(algo.value, cfg)
    quiet = _quiet(ctx)
    with _progress_bar(quiet) as bar:
        tasks: dict[str, int] = {}

        def progress(phase: str, done: int, total: int, metrics: dict[str, float]) -> None:
            if phase not in tasks:
                label = {"bc": "behaviour cloning", "exact": "exact fine-tuning"}.get(
                    phase, "RL iterations"
                )
                tasks[phase] = bar.add_task(label, total=total, status="")
            status = " ".join(f"{k}={v:.3g}" for k, v in metrics.items() if k in _SHOWN)
            bar.update(tasks[phase], completed=done, status=status)

        try:
            run = train_mod.train(
                algo.value, cfg, runs / run_name, resume=resume, progress=progress
            )
        except train_mod.TrainingDiverged as exc:
            err.print(f"error: {exc}", markup=False)
            raise typer.Exit(EXIT_DIVERGED) from None
    ckpt, card = train_mod.publish(run, models, run_name, heldout_n=heldout)
    h = run.rows[-1]
    if not quiet:
        err.print(
            f"{run_name}: validation gap {100 * h['val_gap']:.3f}% after {run.wall_s:.0f} s; "
            f"wrote {ckpt}, {card}"
        )


_SHOWN = ("bc_loss", "exact_loss", "critic_loss", "alpha", "prune_rate")


def _train_seeds(
    ctx: typer.Context,
    algo: str,
    cfg: TrainConfig,
    seed_list: list[int],
    name: str | None,
    models: Path,
    runs: Path,
    resume: bool,
    threads: int,
    heldout: int,
    backend: Backend,
    workers: int | None,
    address: str | None,
) -> None:
    """One run per seed on a backend of optkit.bench.backends; a seed that fails (diverged,
    refused, its worker died) is a row of the table, the others finish (exit 3 if any failed)."""
    import dataclasses
    import os

    from optkit.bench.backends import LocalBackend, RayBackend, Task
    from optkit.bench.baseline import BLAS_THREAD_VARIABLES

    multiseed = _learn("multiseed")
    train_mod = _learn("train")
    jobs = {}
    for s in seed_list:
        run_cfg = dataclasses.replace(cfg, seed=s)
        run_name = f"{name}-s{s}" if name else train_mod.run_name(algo, run_cfg)
        jobs[run_name] = multiseed.SeedJob(
            algo, run_cfg, run_name, str(models), str(runs), resume, heldout, threads
        )
    if backend is Backend.local:
        blas = {k: str(threads) for k in BLAS_THREAD_VARIABLES}
        n_workers = workers or max(1, (os.cpu_count() or 1) // threads)
        runner = LocalBackend(n_workers, preload=("optkit.learn.multiseed",), env=blas)
    else:
        runner = RayBackend(workers, address, cpus_per_task=threads)
    tasks = [Task(key, (job,)) for key, job in jobs.items()]
    results: dict[str, SeedResult] = {}
    failures: dict[str, str] = {}
    with _progress_bar(_quiet(ctx)) as bar:
        task_id = bar.add_task(f"seeds ({runner.name})", total=len(tasks), status="")
        for outcome in runner.map(multiseed.train_seed, tasks):
            if outcome is None:  # a tick: let the elapsed time move
                bar.refresh()
                continue
            if outcome.failure is not None:
                failures[outcome.key] = outcome.failure.message
                status = f"{outcome.key}: failed"
            else:
                results[outcome.key] = outcome.value
                status = f"{outcome.key}: {100 * outcome.value.mean_gap:.3f}%"
            bar.update(task_id, advance=1, status=status)
    ordered = [results[k] for k in jobs if k in results]
    table = Table(
        title=f"{algo}: held-out gap per seed (checkpoints and cards in {escape(str(models))})"
    )
    for col in ("seed", "name", "held-out mean gap ± 95% CI", "infeasible", "train s"):
        table.add_column(col, overflow="fold")
    for key, job in jobs.items():
        if key in results:
            r = results[key]
            table.add_row(
                str(r.seed),
                escape(r.name),
                f"{100 * r.mean_gap:.3f}% ± {100 * r.ci95:.3f}",
                f"{100 * r.infeasible_share:.1f}%",
                f"{r.train_wall_s:.0f}" + ("" if r.complete else " (stopped)"),
            )
        else:
            table.add_row(str(job.cfg.seed), "-", escape(f"failed: {failures[key]}"), "-", "-")
    summary = multiseed.across_seeds(ordered)
    Console(highlight=False, soft_wrap=True).print(table)
    if ordered:
        ci = summary["ci95"]
        half = "" if math.isnan(ci) else f" ± {100 * ci:.3f} (95% t-interval over seeds)"
        print(f"mean over {summary['n_seeds']} seeds: {100 * summary['mean_gap']:.3f}%{half}")
    if failures:
        err.print(
            f"error: {len(failures)} of {len(jobs)} seeds failed; the others were published",
            markup=False,
        )
        raise typer.Exit(EXIT_DIVERGED)


def _check_run_name(name: str) -> None:
    """--name becomes MODELS/NAME.pt, RUNS/NAME/ and MODELS/logs/NAME.csv: a plain file name,
    so that "../x" or "a/b" cannot write outside --models and --runs."""
    if (
        not name
        or name in (".", "..")
        or name.startswith(".")
        or Path(name).name != name
        or "/" in name
        or "\\" in name
    ):
        raise InvalidInputError(
            "--name", f"must be a plain file name (no folders, not hidden), got {name!r}"
        )


def evaluate_policy_cmd(
    checkpoint: Annotated[Path, typer.Argument(help="A policy checkpoint (.pt).")],
    folder: Annotated[Path, typer.Argument(help="Folder of instance JSON files.")],
    fmt: Annotated[Format, typer.Option("--format", help="table or json")] = Format.table,
) -> None:
    """Score a checkpoint on your instances against the certified optimum (gap, feasibility)."""
    from optkit.core import api, registry

    policy = _learn("policy")
    evaluate = _learn("evaluate")
    loaded = policy.load_checkpoint(checkpoint)
    if not folder.is_dir():
        raise InvalidInputError("DIR", f"{folder}: not a folder")
    files = sorted(p for p in folder.glob("*.json") if not p.name.endswith(".solution.json"))
    if not files:
        raise InvalidInputError("DIR", f"{folder}: no instance JSON files")
    family = loaded.meta["env"]["family"]
    trained = loaded.meta.get("instance_shape", {})
    # A batch never dies for one item: a file that does not load, or that this checkpoint
    # cannot act on (another family, another size), is reported as its own row.
    errors: dict[str, str] = {}
    good: list[tuple[Path, object]] = []
    for f in files:
        try:
            inst = api.load(f)
            got = registry.family_of(inst).name
            if got != family:
                raise InvalidInputError("family", f"the checkpoint is for {family}, got {got}")
            shape = policy.instance_shape(family, inst)
            if shape != trained:
                raise InvalidInputError(
                    "instance", f"the checkpoint was trained for {trained} instances, got {shape}"
                )
        except InvalidInputError as exc:
            errors[f.name] = str(exc) if exc.source else str(exc.with_source(str(f)))
            continue
        good.append((f, inst))
    optimum = evaluate.oracle_objectives(family, [inst for _, inst in good]) if good else []
    rows = []
    for (f, inst), opt in zip(good, optimum, strict=True):
        try:
            decision, info = policy.act_on_instance(loaded, inst)
        except InvalidInputError as exc:
            errors[f.name] = str(exc.with_source(str(f)))
            continue
        gap = float(evaluate.gaps(opt, info["objective"]))
        rows.append(
            {
                "instance": f.name,
                "objective": float(info["objective"]),
                "optimum": float(opt),
                "gap": gap,
                "max_violation": float(info.get("max_violation", 0.0)),
                "feasible": bool(info.get("feasible", True)),
            }
        )
    import numpy as np

    summary = (
        evaluate.summarize(
            np.array([r["gap"] for r in rows]), np.array([r["feasible"] for r in rows])
        )
        if rows
        else None
    )
    if fmt is Format.json:
        doc = {"checkpoint": str(checkpoint), "summary": summary, "instances": rows}
        if errors:
            doc["errors"] = [{"instance": k, "error": v} for k, v in errors.items()]
        print(dumps(finite_or_null(doc)))
    else:
        table = Table("instance", "objective", "optimum", "gap", "max viol", "feasible")
        for r in rows:
            table.add_row(
                escape(r["instance"]),
                f"{r['objective']:.8g}",
                f"{r['optimum']:.8g}",
                f"{100 * r['gap']:.3f}%",
                f"{r['max_violation']:.1e}",
                str(r["feasible"]),
            )
        for name, msg in errors.items():
            table.add_row(escape(name), "[red]invalid[/red]", escape(msg), "", "", "")
        Console(highlight=False, soft_wrap=True).print(table)
        if summary is not None:
            ci = summary["ci95"]
            print(
                f"{len(rows)} instances: mean gap {100 * summary['mean_gap']:.3f}%"
                + ("" if ci != ci else f" ± {100 * ci:.3f} (95% CI)")
                + f", infeasible {100 * summary['infeasible_share']:.1f}%"
                + (f"; {len(errors)} invalid file(s) skipped" if errors else "")
            )
    if errors:
        raise typer.Exit(2)  # bad input, as `optkit solve DIR` with an invalid item
