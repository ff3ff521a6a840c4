"""`optkit baseline`: ground truth at scale into a Parquet data set (optkit/bench/baseline.py).

Mounted in optkit/cli/__init__.py as ``app.command("baseline")(baseline_cmd)``. Exit codes: 0 the
run finished (items that failed are rows with status error), 2 bad input or a refused --out (one
line naming the flag or file), 130 interrupted (finished rows kept; rerun to resume).
"""

from __future__ import annotations

import importlib
from enum import Enum
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console

from optkit.bench.baseline import (
    DEFAULT_BATCH_CHUNK,
    DEFAULT_FLUSH_S,
    DEFAULT_GRACE_S,
    BaselineConfig,
    BaselineInterrupted,
    RichProgress,
    parse_assignments,
    run_baseline,
)
from optkit.cli.outputs import check_out_dir
from optkit.core import api, registry
from optkit.core.api import MAX_THREADS
from optkit.core.errors import InvalidInputError, OptkitError

EXIT_INTERRUPTED = 130


class Backend(str, Enum):
    local = "local"
    ray = "ray"


def _quiet(ctx: typer.Context) -> bool:
    """The global -q of the `optkit` callback (the root context's parameter)."""
    return bool(ctx.find_root().params.get("quiet"))


def baseline_cmd(
    ctx: typer.Context,
    solver: Annotated[str, typer.Option("--solver", help="Solver name (see `optkit families`).")],
    out: Annotated[
        Path, typer.Option("--out", help="Data set directory (created; reruns resume it).")
    ],
    input_dir: Annotated[
        Path | None,
        typer.Argument(
            metavar="DIR", help="Folder of instance JSON files (or give --family and --n instead)."
        ),
    ] = None,
    family: Annotated[
        str | None, typer.Option("--family", help="Generate the instances of this family.")
    ] = None,
    preset: Annotated[
        str | None, typer.Option("--preset", help="Generator preset (default: the family's).")
    ] = None,
    n: Annotated[int | None, typer.Option("--n", min=1, help="Number of instances.")] = None,
    seed: Annotated[
        int, typer.Option("--seed", min=0, help="Seed of the first instance; item k uses seed + k.")
    ] = 0,
    gen_option: Annotated[
        list[str] | None,
        typer.Option(
            "--gen-option", help="Generator option KEY=VALUE (repeatable), e.g. n_types=8."
        ),
    ] = None,
    param: Annotated[
        list[str] | None,
        typer.Option("--param", help="Solver param KEY=VALUE (repeatable; VALUE read as JSON)."),
    ] = None,
    time_limit: Annotated[
        float | None,
        typer.Option(
            "--time-limit",
            min=0.0,
            help="Solver seconds per item, set-up included; the item is killed after "
            "limit + --grace (a chunk of N items: N x limit, shared, + --grace).",
        ),
    ] = None,
    chunk: Annotated[
        int | None,
        typer.Option(
            "--chunk",
            help="Items per task, solved in one batch call (>= 1; default "
            f"{DEFAULT_BATCH_CHUNK} for a solver with a batch entry point such as contract "
            "fast, else 1). Throughput only: rows do not depend on it, timings (and answers "
            "cut by a time limit) aside.",
        ),
    ] = None,
    grace: Annotated[
        float,
        typer.Option("--grace", min=0.0, help="Seconds past --time-limit before the hard kill."),
    ] = DEFAULT_GRACE_S,
    flush_every: Annotated[
        float,
        typer.Option(
            "--flush-every",
            min=0.0,
            help="Seconds between part writes (a kill loses at most this much finished work).",
        ),
    ] = DEFAULT_FLUSH_S,
    solver_seed: Annotated[
        int, typer.Option("--solver-seed", min=0, help="Seed handed to the solver on every item.")
    ] = 0,
    threads: Annotated[
        int, typer.Option("--threads", min=1, max=MAX_THREADS, help="Solver threads per item.")
    ] = 1,
    backend: Annotated[
        Backend, typer.Option("--backend", help="local process pool, or Ray tasks.")
    ] = Backend.local,
    workers: Annotated[
        int | None,
        typer.Option(
            "--workers", min=1, help="Parallel items (default: CPU count; Ray: cluster CPUs)."
        ),
    ] = None,
    address: Annotated[
        str | None, typer.Option("--address", help="Ray cluster address (default: a local Ray).")
    ] = None,
    plugin: Annotated[
        list[str] | None,
        typer.Option(
            "--plugin", help="Module to import first, registering families/solvers (repeatable)."
        ),
    ] = None,
) -> None:
    """Solve a folder of instances, or N generated ones, into a resumable Parquet data set."""
    config = BaselineConfig(
        solver=solver,
        input_dir=input_dir,
        family=family,
        preset=preset,
        n=n,
        seed=seed,
        options=parse_assignments(gen_option, "--gen-option"),
        params=parse_assignments(param, "--param"),
        time_limit_s=time_limit,
        solver_seed=solver_seed,
        threads=threads,
        plugins=tuple(plugin or ()),
    )
    check_out_dir(out, "--out")  # before the preflight: nothing is created if it is refused
    _preflight(config)
    quiet = _quiet(ctx)
    err = Console(stderr=True, highlight=False, soft_wrap=True)
    try:
        summary = run_baseline(
            config,
            out,
            backend=backend.value,
            workers=workers,
            address=address,
            progress=None if quiet else RichProgress(),
            chunk=chunk,
            grace_s=grace,
            flush_s=flush_every,
        )
    except BaselineInterrupted as exc:
        err.print(exc.summary.line(), markup=False)
        raise typer.Exit(EXIT_INTERRUPTED) from None
    print(summary.line())  # the result: on stdout, -q or not


def _preflight(config: BaselineConfig) -> None:
    """Refuse a --gen-option or --param that every item would fail on, before the data set is
    created: such a run used to finish "N error" with exit 0 and leave a data set whose recorded
    configuration then refused the corrected rerun. Costs one generation (with --gen-option) and
    one solve with a zero time limit (with --param; every solver checks its params first)."""
    if not (config.options or config.params):
        return
    for module in config.plugins:  # their families and solvers must be registered first
        try:
            importlib.import_module(module)
        except ImportError:
            return  # plan() refuses it naming --plugin
    inst = None
    if config.family is not None:
        try:
            fam = registry.get_family(config.family)
        except OptkitError:
            return  # plan() names it
        preset = config.preset or fam.default_preset
        if preset not in fam.presets:
            return
        try:
            inst = api.generate(config.family, preset, config.seed, **config.options)
        except InvalidInputError as exc:
            raise InvalidInputError("--gen-option", f"{exc.field}: {exc.problem}") from None
    elif config.input_dir is not None and Path(config.input_dir).is_dir():
        for f in sorted(Path(config.input_dir).glob("*.json")):
            if f.name.endswith(".solution.json"):
                continue
            try:
                inst = api.load(f)
                break
            except InvalidInputError:
                continue  # that item's own error row
    if inst is None or not config.params:
        return
    try:
        api.solve(
            inst,
            solver=config.solver,
            time_limit_s=0.0,
            seed=config.solver_seed,
            threads=config.threads,
            params=config.params,
        )
    except InvalidInputError as exc:
        if exc.field.startswith("params"):
            raise InvalidInputError("--param", f"{exc.field}: {exc.problem}") from None
    except OptkitError:
        return  # an unknown solver or a missing extra: plan() reports it
