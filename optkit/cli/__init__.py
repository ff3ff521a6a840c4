"""The `optkit` command (typer). Thin: parses flags, calls the layers, renders results.

Exit codes (spec/architecture.md): 0 ok, including proved verdicts; 2 bad input (one line on
stderr naming file, field and problem; no traceback); 3 the solver gave no usable answer;
130 interrupted; 1 internal error.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Iterable
from enum import Enum
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.markup import escape
from rich.table import Table

import optkit
from optkit.cli.outputs import check_out_dir, check_out_file, writing
from optkit.core import api, registry
from optkit.core.api import MAX_THREADS
from optkit.core.errors import InvalidInputError, OptkitError, UnknownNameError
from optkit.core.jsonio import dumps, read_json, write_json_atomic
from optkit.core.result import SolveResult
from optkit.core.seeding import MAX_SEED
from optkit.core.status import Status
from optkit.core.tolerances import relative_difference
from optkit.core.versions import versions

EXIT_OK, EXIT_INTERNAL, EXIT_BAD_INPUT, EXIT_NO_ANSWER, EXIT_INTERRUPTED = 0, 1, 2, 3, 130

app = typer.Typer(
    add_completion=False,
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    help="optkit: solver-backed optimisation for edge/cloud AI-agent resource allocation.",
)
# Tables are read in logs and CI output too: do not squeeze them to 80 columns off a terminal.
out = Console(highlight=False, soft_wrap=True, width=None if sys.stdout.isatty() else 160)
err = Console(stderr=True, highlight=False, soft_wrap=True)
_state = {"verbose": 0, "quiet": False}


class OutputFormat(str, Enum):
    table = "table"
    json = "json"


def _version(value: bool) -> None:
    if value:
        print(f"optkit {optkit.__version__}")
        raise typer.Exit()


@app.callback()
def _main(
    verbose: Annotated[int, typer.Option("-v", "--verbose", count=True, help="More detail.")] = 0,
    quiet: Annotated[bool, typer.Option("-q", "--quiet", help="Only results and errors.")] = False,
    version: Annotated[
        bool, typer.Option("--version", callback=_version, is_eager=True, help="Print the version.")
    ] = False,
) -> None:
    _state["verbose"], _state["quiet"] = verbose, quiet


def _info(msg: str) -> None:
    if not _state["quiet"]:
        err.print(msg, markup=False)  # paths are the user's: "[/x]" in one is not markup


# ---------------------------------------------------------------------------------------------
@app.command("versions")
def versions_cmd() -> None:
    """optkit and every solver backend's version."""
    for name, ver in versions().items():
        print(f"{name:>10}: {ver or 'not installed'}")


@app.command("families")
def families_cmd(
    fmt: Annotated[
        OutputFormat, typer.Option("--format", help="table or json")
    ] = OutputFormat.table,
) -> None:
    """List families, their presets and their solvers with guarantees."""
    rows = []
    for name in registry.family_names():
        fam = registry.get_family(name)
        for s in registry.solver_specs(name):
            rows.append(
                {
                    "family": name,
                    "solver": s.name,
                    "guarantee": s.guarantee.value,
                    "default": s.name == fam.default_solver,
                    "description": s.description,
                    "presets": list(fam.presets),
                }
            )
    if fmt is OutputFormat.json:
        print(dumps(rows))
        return
    table = Table("family", "solver", "guarantee", "description", title="optkit families")
    for r in rows:
        table.add_row(
            r["family"],
            r["solver"] + (" (default)" if r["default"] else ""),
            r["guarantee"],
            r["description"],
        )
    out.print(table)
    for name in registry.family_names():
        out.print(f"{name} presets: {', '.join(registry.get_family(name).presets)}")


@app.command("generate")
def generate_cmd(
    family: Annotated[str, typer.Argument(help="Family name (see `optkit families`).")],
    out_dir: Annotated[Path, typer.Option("--out", help="Folder to write the instance JSONs to.")],
    n: Annotated[int, typer.Option("--n", min=1, help="Number of instances.")] = 1,
    seed: Annotated[
        int,
        typer.Option("--seed", min=0, help="Seed of the first instance; instance k uses seed + k."),
    ] = 0,
    preset: Annotated[str | None, typer.Option("--preset", help="Named preset.")] = None,
    n_types: Annotated[
        int | None,
        typer.Option("--n-types", min=1, help="Override the preset's size (contract: I)."),
    ] = None,
    overwrite: Annotated[
        bool, typer.Option("--overwrite/--no-overwrite", help="Replace files that exist.")
    ] = False,
) -> None:
    """Write N seeded instances of a preset as JSON files (atomically)."""
    fam = registry.get_family(family)
    preset = preset or fam.default_preset
    options: dict[str, Any] = {} if n_types is None else {"n_types": n_types}
    if seed + n - 1 > MAX_SEED:  # checked before the first file, not after the last valid seed
        raise InvalidInputError("--seed", f"seed + n - 1 = {seed + n - 1} exceeds 2**63-1")
    check_out_dir(out_dir, "--out")
    if not overwrite:
        taken = _existing_seeds(out_dir, f"{family}-{preset}-s", seed, n)
        if taken is not None:
            p = out_dir / f"{family}-{preset}-s{taken}.json"
            raise InvalidInputError("--out", f"{p} exists (pass --overwrite to replace it)")
    # Paths are made one at a time: a huge --n must not build a list of them before writing.
    for k in range(n):
        p = out_dir / f"{family}-{preset}-s{seed + k}.json"
        try:
            inst = api.generate(family, preset, seed + k, **options)
        except InvalidInputError as exc:
            if exc.field == "n_types":  # the flag's name, not the generator's keyword
                raise InvalidInputError("--n-types", exc.problem) from None
            raise
        data = inst.to_dict()
        data.setdefault("name", p.stem)
        with writing("--out", p):
            write_json_atomic(p, data)
    _info(f"wrote {n} {family}/{preset} instance(s) to {out_dir}")


def _existing_seeds(folder: Path, prefix: str, seed: int, n: int) -> int | None:
    """The smallest seed in [seed, seed + n) whose file PREFIX<seed>.json exists in `folder`.

    Reads the folder once instead of testing n paths, so --n 10**9 costs what the folder holds.
    """
    if not folder.is_dir():
        return None
    found = []
    for entry in os.scandir(folder):
        name = entry.name
        if name.startswith(prefix) and name.endswith(".json"):
            digits = name[len(prefix) : -len(".json")]
            if digits.isdigit() and str(int(digits)) == digits and seed <= int(digits) < seed + n:
                found.append(int(digits))
    return min(found) if found else None


def _instance_files(path: Path) -> list[Path]:
    if path.is_dir():
        files = sorted(p for p in path.glob("*.json") if not p.name.endswith(".solution.json"))
        if not files:
            raise InvalidInputError("", "folder holds no instance *.json", source=str(path))
        return files
    if not path.exists():
        raise InvalidInputError("", "file not found", source=str(path))
    return [path]


def _fmt(x: Any, spec: str = ".6g") -> str:
    if x is None:
        return "-"
    if isinstance(x, list):
        return "[" + ", ".join(_fmt(v, spec) for v in x) + "]"
    return format(x, spec)


@app.command("solve")
def solve_cmd(
    path: Annotated[Path, typer.Argument(help="Instance JSON file, or a folder of them.")],
    solver: Annotated[
        str | None,
        typer.Option("--solver", help="Solver name (default: the family's default exact solver)."),
    ] = None,
    time_limit: Annotated[
        float | None, typer.Option("--time-limit", min=0.0, help="Seconds, set-up included.")
    ] = None,
    seed: Annotated[int, typer.Option("--seed", min=0)] = 0,
    threads: Annotated[int, typer.Option("--threads", min=1, max=MAX_THREADS)] = 1,
    fmt: Annotated[
        OutputFormat, typer.Option("--format", help="table or json")
    ] = OutputFormat.table,
    save: Annotated[
        Path | None,
        typer.Option(
            "--out", help="Write the result JSON here (a file; a folder when solving a folder)."
        ),
    ] = None,
    overwrite: Annotated[
        bool,
        typer.Option("--overwrite/--no-overwrite", help="Replace result files that exist (--out)."),
    ] = False,
) -> None:
    """Solve one instance (or every instance in a folder): status, objective, bound, gap."""
    files = _instance_files(path)
    batch = path.is_dir()
    targets: dict[Path, Path] = {}
    if save is not None:
        # Checked before the first solve: a bad --out must not cost the solves, and a result
        # already on disk (an earlier, perhaps better, answer) is not replaced unasked.
        if batch:
            check_out_dir(save, "--out")
            targets = {f: save / f"{f.stem}.solution.json" for f in files}
        else:
            check_out_file(save, "--out", overwrite=overwrite)
            targets = {files[0]: save}
        if not overwrite:
            for t in targets.values():
                if t.exists():
                    raise InvalidInputError("--out", f"{t} exists (pass --overwrite to replace it)")
    results: list[tuple[Path, SolveResult | str]] = []
    for f in files:
        try:
            inst = api.load(f)
            res = api.solve(
                inst, solver=solver, time_limit_s=time_limit, seed=seed, threads=threads
            )
        except (InvalidInputError, UnknownNameError) as exc:
            # an item of another family with --solver NAME is that item's problem alone
            if not batch:
                raise
            results.append((f, str(exc)))  # a batch never dies for one item
            continue
        if save is not None:
            try:
                with writing("--out", targets[f]):
                    write_json_atomic(targets[f], res.to_dict())
            except InvalidInputError as exc:
                if not batch:
                    raise
                results.append((f, str(exc)))
                continue
        results.append((f, res))
    if fmt is OutputFormat.json:
        docs = [
            r.to_dict() if isinstance(r, SolveResult) else {"file": str(f), "error": r}
            for f, r in results
        ]
        print(dumps(docs[0] if not batch else docs))
    else:
        _result_table(results)
    if any(isinstance(r, str) for _, r in results):
        raise typer.Exit(EXIT_BAD_INPUT)
    if any(not _usable(r) for _, r in results):
        raise typer.Exit(EXIT_NO_ANSWER)


def _usable(res: SolveResult | str) -> bool:
    if isinstance(res, str):
        return False
    return res.status.is_verdict or (res.status is Status.TIME_LIMIT and res.has_decision)


def _result_table(results: Iterable[tuple[Path, SolveResult | str]]) -> None:
    table = Table("instance", "solver", "status", "objective", "bound", "gap", "max viol", "time s")
    for f, r in results:
        if isinstance(r, str):
            # messages quote the user's values: a "[/bold]" in one must print, not raise
            table.add_row(escape(f.name), "-", "[red]invalid[/red]", escape(r), "", "", "", "")
            continue
        ev = r.evaluation
        table.add_row(
            escape(f.name),
            r.solver.name,
            r.status.value,
            _fmt(r.objective, ".8g"),
            _fmt(r.bound, ".8g"),
            _fmt(r.gap, ".1e"),
            _fmt(ev.max_violation if ev else None, ".1e"),
            f"{r.timing.wall_s:.3f}",
        )
    out.print(table)


@app.command("check")
def check_cmd(
    path: Annotated[Path, typer.Argument(help="Instance JSON file.")],
    decision: Annotated[Path, typer.Option("--decision", help="Decision JSON (or a result JSON).")],
    fmt: Annotated[
        OutputFormat, typer.Option("--format", help="table or json")
    ] = OutputFormat.table,
) -> None:
    """Re-score a decision: objective, every violated constraint, feasible or not."""
    inst = api.load(path)
    dec = api.load_decision(inst, decision)
    report = api.evaluate(inst, dec)
    data = report.to_dict()
    if fmt is OutputFormat.json:
        print(dumps(data))
        return
    # constraint names carry the user's pod/component names: printed as text, not markup
    out.print(f"objective      {_fmt(report.objective, '.10g')}", markup=False)
    out.print(
        f"max violation  {report.max_violation:.3e}"
        + (f"  ({report.worst})" if report.worst else ""),
        markup=False,
    )
    out.print(f"feasible       {str(report.feasible).lower()}", markup=False)
    for name, v in list(data.get("violations", {}).items())[:20]:
        out.print(f"  violated {name}: {v:.3e}", markup=False)


@app.command("demo")
def demo_cmd(
    quick: Annotated[
        bool,
        typer.Option(
            "--quick/--full", help="A small subset (well under a minute) or the whole suite."
        ),
    ] = False,
    suite: Annotated[
        Path | None,
        typer.Option(
            "--suite", help="Suite folder (default: the shipped instances/contract/suite-v1)."
        ),
    ] = None,
    report_dir: Annotated[
        Path,
        typer.Option("--report", help="Folder for the benchmark report (index.md, index.html)."),
    ] = Path("reports") / "demo",
) -> None:
    """The main job on embedded defaults: solve the shipped contract suite and compare with its
    certified solutions, benchmark every registered family's methods (and any model in models/),
    write the report and print where it is."""
    from optkit.bench import harness, report  # plotting and statistics load only when needed

    if suite is not None and not suite.is_dir():
        raise InvalidInputError("--suite", f"{suite} is not a folder of contract instances")
    folder = suite or _shipped_suite()
    files = _instance_files(folder)
    if quick:
        files = files[:: max(1, len(files) // 8)][:8]
    the_plan = harness.plan(quick=quick)  # checked before the first solve, like the folder
    report.check_folder(report_dir)
    rows, worst_diff, failures = [], 0.0, 0
    invalid: list[tuple[Path, str]] = []
    for f in files:
        cert_path = f.with_name(f.stem + ".solution.json")
        ref = None
        try:  # a batch never dies for one item: a broken file or certificate is its own row
            inst = api.load(f)
            fam = registry.family_of(inst).name
            if fam != "contract":
                raise InvalidInputError(
                    "family", f"the demo suite holds contract instances, got {fam}", str(f)
                )
            if cert_path.exists():
                ref = SolveResult.from_dict(read_json(cert_path)).objective
        except InvalidInputError as exc:
            invalid.append((f, str(exc)))
            continue
        res = api.solve(inst)
        diff = None
        if ref is not None and res.evaluation is not None:
            diff = relative_difference(res.evaluation.objective, ref)
            worst_diff = max(worst_diff, diff)
        if res.status is not Status.OPTIMAL:
            failures += 1
        rows.append((f, inst, res, diff))
    header = (
        "instance",
        "I",
        "T",
        "ir",
        "G",
        "status",
        "objective",
        "gap",
        "max viol",
        "vs certified",
        "ms",
    )
    cells = [
        (
            f.stem,
            str(inst.n_types),
            str(inst.periods),
            inst.ir,
            inst.valuation.kind,
            r.status.value,
            _fmt(r.objective, ".8g"),
            _fmt(r.gap, ".1e"),
            _fmt(r.evaluation.max_violation if r.evaluation else None, ".1e"),
            _fmt(diff, ".1e"),
            f"{1e3 * r.timing.wall_s:.1f}",
        )
        for f, inst, r, diff in rows
    ] + [(f.stem, "-", "-", "-", "-", "invalid", msg, "", "", "", "") for f, msg in invalid]
    table = Table(*header, title=escape(f"contract suite: {folder}"))
    for line in cells:
        table.add_row(*map(escape, line))  # file names and messages are the user's text
    out.print(table)
    verdict = (
        f"{len(rows)} instances, {len(rows) - failures} optimal; "
        f"largest relative difference to the certified objective: {worst_diff:.1e}"
        + (f"; {len(invalid)} invalid file(s) skipped" if invalid else "")
    )
    out.print(verdict, markup=False)
    suite_section = report.Section(
        title=f"Main job: the shipped contract suite ({'quick subset' if quick else 'all of it'})",
        text=f"{folder}: the default exact solver against the certified solutions. {verdict}.",
        header=header,
        rows=tuple(cells),
    )
    run_and_report(
        the_plan,
        report_dir,
        quick,
        sections=[suite_section],
        models_folder=harness.REPO_ROOT / "models",
        title="optkit demo" + (" --quick" if quick else ""),
    )
    if invalid:
        raise typer.Exit(EXIT_BAD_INPUT)
    if failures:
        raise typer.Exit(EXIT_NO_ANSWER)


class ExportFormat(str, Enum):
    lp = "lp"
    mps = "mps"


@app.command("export")
def export_cmd(
    path: Annotated[Path, typer.Argument(help="Instance JSON file.")],
    fmt: Annotated[ExportFormat, typer.Option("--format", help="lp or mps")] = ExportFormat.lp,
    target: Annotated[
        Path | None, typer.Option("--out", help="Model file to write (default: FILE.lp / .mps).")
    ] = None,
    overwrite: Annotated[
        bool, typer.Option("--overwrite/--no-overwrite", help="Replace a file that exists.")
    ] = False,
) -> None:
    """Write the family's LP/MIP model of an instance as a solver-neutral LP or MPS file."""
    target = target or path.with_suffix(f".{fmt.value}")
    check_out_file(target, "--out", overwrite=overwrite)
    inst = api.load(path)
    with writing("--out", target):
        api.export(inst, target, fmt.value)
    _info(f"wrote {target}")


from optkit.cli.bench import bench_cmd, run_and_report  # noqa: E402

app.command("bench")(bench_cmd)
from optkit.cli.learn import evaluate_policy_cmd, train_cmd  # noqa: E402

app.command("train")(train_cmd)
app.command("evaluate-policy")(evaluate_policy_cmd)


from optkit.cli.baseline import baseline_cmd  # noqa: E402

app.command("baseline")(baseline_cmd)


def _shipped_suite() -> Path:
    root = Path(optkit.__file__).resolve().parent.parent
    folder = root / "instances" / "contract" / "suite-v1"
    if not folder.is_dir():
        raise InvalidInputError("--suite", f"no shipped suite at {folder}; pass --suite DIR")
    return folder


# Family sub-commands (`optkit podpack import`): one typer app per family in optkit/cli/<family>.py,
# mounted here; they raise InvalidInputError/typer.Exit like the commands above and share main().
from optkit.cli import podpack as _podpack  # noqa: E402

app.add_typer(
    _podpack.app, name="podpack", help="Kubernetes pod packing: kubectl import, plan export."
)


# ---------------------------------------------------------------------------------------------
def main(argv: list[str] | None = None) -> int:
    """Entry point: maps every failure to its exit code with one line on stderr."""
    try:
        # In non-standalone mode click returns a command's typer.Exit code instead of raising.
        rc = app(args=argv, prog_name="optkit", standalone_mode=False)
        return rc if isinstance(rc, int) else EXIT_OK
    except typer.Exit as exc:
        return exc.exit_code
    except typer.Abort:
        err.print("interrupted")
        return EXIT_INTERRUPTED
    except typer.TyperException as exc:  # bad flags: click's own one-line usage message
        fmt = getattr(exc, "format_message", None)
        err.print(f"error: {fmt() if fmt else exc}", markup=False)
        return EXIT_BAD_INPUT
    except KeyboardInterrupt:
        err.print("interrupted")
        return EXIT_INTERRUPTED
    except InvalidInputError as exc:
        err.print(f"error: {exc}", markup=False)
        return EXIT_BAD_INPUT
    except OptkitError as exc:  # unknown names, missing extras
        err.print(f"error: {exc}", markup=False)
        return EXIT_BAD_INPUT
    except Exception as exc:  # noqa: BLE001
        if _state["verbose"]:
            raise
        err.print(
            f"internal error: {type(exc).__name__}: {exc} (rerun with -v for the traceback)",
            markup=False,
        )
        return EXIT_INTERNAL


def run() -> None:
    sys.exit(main())


if __name__ == "__main__":
    run()
