"""`optkit bench`: every registered method against the certified optimum; writes the report.

    optkit bench [FAMILY[/SCENARIO] ...] [--methods M,...] [--seeds 0-4] [--time-limit S ...]
                 --report DIR [--quick]

List flags take comma-separated values or repeat (`--seeds 0,1 --seeds 5`); seeds also take
inclusive ranges (`0-4`), time limits the word `none`. Mounted in optkit/cli/__init__.py; the
demo (`optkit demo`) calls `run_and_report` too.
"""

from __future__ import annotations

import shlex
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.progress import BarColumn, MofNCompleteColumn, TimeElapsedColumn, TimeRemainingColumn
from rich.progress import Progress as RichProgressBar
from rich.table import Table

from optkit.bench import harness
from optkit.core.api import MAX_THREADS
from optkit.core.errors import InvalidInputError
from optkit.core.fields import as_float
from optkit.core.seeding import check_seed


def _split(values: Sequence[str] | None) -> list[str]:
    return [v.strip() for raw in values or () for v in raw.split(",") if v.strip()]


MAX_SEEDS = 100_000
"""More seeds than this is a typo (0-1000000000000), not a grid: every seed is a full pass over
each scenario. The range is refused before it is expanded (it used to exhaust memory)."""


def _given_but_empty(values: Sequence[str] | None, flag: str) -> None:
    """`--seeds ,` parses to nothing, which would silently mean "the scenario's own"."""
    if values and not _split(values):
        raise InvalidInputError(flag, f"no value in {', '.join(map(repr, values))}")


def parse_seeds(values: Sequence[str] | None) -> list[int]:
    """ "0,1,2", "0-4" (inclusive) or repeated flags; duplicates refused (same grid twice)."""
    _given_but_empty(values, "--seeds")
    seeds: list[int] = []
    for text in _split(values):
        if text.startswith("-"):
            raise InvalidInputError("--seeds", f"{text!r}: seeds are non-negative integers")
        lo, sep, hi = text.partition("-")
        try:
            first, last = (int(lo), int(hi)) if sep else (int(text), int(text))
        except ValueError:
            raise InvalidInputError(
                "--seeds", f"{text!r} is not an integer or a range a-b"
            ) from None
        if last < first:
            raise InvalidInputError("--seeds", f"empty range {text!r}")
        if len(seeds) + (last - first + 1) > MAX_SEEDS:
            raise InvalidInputError("--seeds", f"more than {MAX_SEEDS} seeds (at {text!r})")
        seeds += [check_seed(s, "--seeds") for s in range(first, last + 1)]
    if len(set(seeds)) != len(seeds):
        raise InvalidInputError("--seeds", "a seed is listed twice")
    return seeds


def parse_time_limits(values: Sequence[str] | None) -> list[float | None]:
    """Seconds >= 0, or "none" for no limit; duplicates refused."""
    _given_but_empty(values, "--time-limit")
    limits: list[float | None] = []
    for text in _split(values):
        if text.lower() == "none":
            limits.append(None)
            continue
        try:
            value = float(text)
        except ValueError:
            raise InvalidInputError(
                "--time-limit", f"{text!r} is not a number of seconds or 'none'"
            ) from None
        limits.append(as_float(value, "--time-limit", ge=0))
    if len(set(limits)) != len(limits):
        raise InvalidInputError("--time-limit", "a time limit is listed twice")
    return limits


class _RichProgress(harness.Progress):
    """One bar per scenario on stderr (rate and ETA); silent under -q."""

    def __init__(self, bar: RichProgressBar):
        self.bar, self.task = bar, None

    def scenario(self, label: str, total: int) -> None:
        if self.task is not None:
            self.bar.update(self.task, visible=False)
        self.task = self.bar.add_task(label, total=total)

    def advance(self, row: harness.BenchRow) -> None:
        self.bar.advance(self.task)


def _cli_state():
    from optkit.cli import _state, err, out  # at call time: the package is fully imported

    return _state, err, out


def run_and_report(
    the_plan: harness.Plan,
    report_dir: Path,
    quick: bool,
    threads: int = 1,
    sections: Sequence[Any] = (),
    models_folder: Path | None = None,
    title: str = "optkit benchmark",
) -> harness.BenchRun:
    """Run the planned grid with a progress bar, print the tables, write the report.

    `sections` are `optkit.bench.report.Section`s added after the benchmark tables.
    """
    from optkit.bench import report  # matplotlib and scipy load only when a report is written

    report.check_folder(report_dir)
    state, err, out = _cli_state()
    columns = (
        "[progress.description]{task.description}",
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        TimeRemainingColumn(),
    )
    command = shlex.join(["optkit", *sys.argv[1:]]) if sys.argv else "optkit"
    with RichProgressBar(*columns, console=err, disable=state["quiet"], transient=True) as bar:
        bench = harness.run_bench(
            the_plan, quick=quick, threads=threads, progress=_RichProgress(bar), command=command
        )
    models = harness.model_cards(models_folder) if models_folder is not None else []
    index = report.write_report(
        report_dir,
        bench,
        models=models,
        models_folder=models_folder,
        sections=sections,
        title=title,
    )
    for run in bench.runs:
        _print_tables(out, run)
    for note in bench.notes:
        out.print(f"note: {note}", markup=False)
    errors = sum(r.status == "error" for r in bench.rows)
    out.print(  # --report is the user's path: "[/x]" in it is text, not markup
        f"report: {index.parent / 'index.md'} and {index} "
        f"({len(bench.rows)} rows, {errors} error rows; raw rows in {index.parent / 'rows'})",
        markup=False,
    )
    return bench


def _print_tables(out, run: harness.ScenarioRun) -> None:
    from optkit.bench import report

    summaries = report.summarise(run)
    several = len(run.time_limits_s) > 1
    header = report.TABLE_HEADER if not several else ("limit", *report.TABLE_HEADER)
    table = Table(*header, title=f"{run.label} ({run.n_items} items)")
    for s in summaries:
        cells = report.table_cells(s)
        table.add_row(*((report.fmt_limit(s.time_limit_s), *cells) if several else cells))
    if summaries:
        out.print(table)
    for note in run.notes:
        out.print(f"{run.label}: {note}", markup=False)


def bench_cmd(
    report_dir: Annotated[
        Path, typer.Option("--report", help="Folder to write index.md, index.html, plots, rows.")
    ],
    families: Annotated[
        list[str] | None,
        typer.Argument(
            help="FAMILY or FAMILY/SCENARIO (default: every family with bench scenarios)."
        ),
    ] = None,
    methods: Annotated[
        list[str] | None,
        typer.Option("--methods", help="Only these solvers (comma-separated or repeated)."),
    ] = None,
    seeds: Annotated[
        list[str] | None,
        typer.Option("--seeds", help="Seeds replacing each scenario's own: 0,1,2 or 0-4."),
    ] = None,
    time_limits: Annotated[
        list[str] | None,
        typer.Option("--time-limit", help="Seconds per solve, set-up included; several or 'none'."),
    ] = None,
    quick: Annotated[
        bool,
        typer.Option("--quick/--full", help="Each scenario's quick subset (seconds) or all of it."),
    ] = False,
    threads: Annotated[
        int, typer.Option("--threads", min=1, max=MAX_THREADS, help="Solver threads.")
    ] = 1,
) -> None:
    """Learned vs exact vs heuristic methods on the same instances, seeds and time limits:
    gap to the certified optimum with a 95% CI, feasible share, time per decision."""
    _given_but_empty(methods, "--methods")
    the_plan = harness.plan(
        targets=list(families or ()),
        methods=_split(methods),
        seeds=parse_seeds(seeds),
        time_limits_s=parse_time_limits(time_limits),
        quick=quick,
    )
    if not the_plan.runs:
        raise InvalidInputError(
            "FAMILY", "no family has bench scenarios: " + "; ".join(the_plan.notes)
        )
    run_and_report(the_plan, report_dir, quick, threads, models_folder=harness.REPO_ROOT / "models")
