"""`optkit podpack import | plan-export`: real cluster dumps in, reviewable plans out."""

from __future__ import annotations

from enum import Enum
from pathlib import Path
from typing import Annotated

import typer

from optkit.cli.outputs import check_out_file, writing
from optkit.core import api
from optkit.core.api import MAX_THREADS
from optkit.core.errors import InvalidInputError
from optkit.core.jsonio import dumps, read_json, write_json_atomic, write_text_atomic
from optkit.core.result import SolveResult
from optkit.families.podpack.instance import PodpackInstance
from optkit.families.podpack.kubectl import import_kubectl
from optkit.families.podpack.plan import actions_script, build_plan

app = typer.Typer(
    add_completion=False,
    no_args_is_help=True,
    help="Kubernetes pod packing: import a kubectl dump, export a plan as kubectl actions.",
)


class Format(str, Enum):
    table = "table"
    json = "json"


def _refuse_existing(path: Path, overwrite: bool, flag: str) -> None:
    """Before any work: an existing file is kept unless --overwrite, a folder or an unwritable
    place is refused naming the flag (it used to fail after the solve, as an internal error)."""
    check_out_file(path, flag, overwrite=overwrite)


@app.command("import")
def import_cmd(
    dump: Annotated[Path, typer.Argument(help="`kubectl get nodes,pods -A -o json` output.")],
    out: Annotated[Path, typer.Option("--out", help="Instance JSON to write.")],
    overwrite: Annotated[
        bool, typer.Option("--overwrite/--no-overwrite", help="Replace a file that exists.")
    ] = False,
    fmt: Annotated[Format, typer.Option("--format", help="table or json")] = Format.table,
) -> None:
    """Read a kubectl List of nodes and pods; write the podpack instance (units: millicores,
    bytes). Unsupported constraints are flagged per pod."""
    _refuse_existing(out, overwrite, "--out")
    try:
        result = import_kubectl(read_json(dump), name=dump.stem)
    except InvalidInputError as exc:
        raise exc.with_source(str(dump)) from None
    with writing("--out", out):
        write_json_atomic(out, result.instance.to_dict())
    summary = {"instance": str(out), **result.to_dict()}
    if fmt is Format.json:
        print(dumps(summary))
        return
    print(
        f"wrote {out}: {summary['nodes']} nodes, {summary['pods']} pods "
        f"({summary['pending']} pending, {summary['protected']} protected), "
        f"{len(result.skipped)} skipped"
    )
    for pod, why in result.skipped.items():
        print(f"  skipped {pod}: {why}")
    for pod, notes in result.flags.items():
        for note in notes:
            print(f"  flag {pod}: {note}")


@app.command("plan-export")
def plan_export_cmd(
    instance_path: Annotated[Path, typer.Argument(help="podpack instance JSON.")],
    out: Annotated[Path, typer.Option("--out", help="Plan JSON to write.")],
    decision: Annotated[
        Path | None,
        typer.Option("--decision", help="Decision or result JSON; default: solve with --solver."),
    ] = None,
    solver: Annotated[
        str, typer.Option("--solver", help="Solver used when no --decision is given.")
    ] = "kube_default",
    preemption: Annotated[
        bool | None,
        typer.Option("--preemption/--no-preemption", help="kube_* solvers: preempt (default no)."),
    ] = None,
    seed: Annotated[int, typer.Option("--seed", min=0)] = 0,
    time_limit: Annotated[
        float | None,
        typer.Option("--time-limit", min=0.0, help="Seconds for the solver, set-up included."),
    ] = None,
    threads: Annotated[
        int, typer.Option("--threads", min=1, max=MAX_THREADS, help="Solver threads.")
    ] = 1,
    script: Annotated[
        Path | None, typer.Option("--script", help="Also write the actions as a shell script.")
    ] = None,
    overwrite: Annotated[
        bool, typer.Option("--overwrite/--no-overwrite", help="Replace files that exist.")
    ] = False,
    fmt: Annotated[Format, typer.Option("--format", help="table or json")] = Format.table,
) -> None:
    """Write a plan as JSON plus an ordered list of kubectl actions (evictions first, then
    placements) and a per-pod explanation of every pod left pending."""
    _refuse_existing(out, overwrite, "--out")
    if script is not None:
        if script.absolute() == out.absolute():
            raise InvalidInputError("--script", f"{script} is also the --out file")
        _refuse_existing(script, overwrite, "--script")
    if preemption is not None and (decision is not None or not solver.startswith("kube_")):
        used = "--decision" if decision is not None else f"--solver {solver}"
        raise InvalidInputError("--preemption", f"applies to the kube_* solvers, not {used}")
    inst = api.load(instance_path)
    if not isinstance(inst, PodpackInstance):
        raise InvalidInputError("family", "is not podpack", source=str(instance_path))
    if decision is not None:
        dec = api.load_decision(inst, decision)
        verdict = None
    else:
        params = {} if preemption is None else {"preemption": preemption}
        res: SolveResult = api.solve(
            inst, solver=solver, time_limit_s=time_limit, seed=seed, threads=threads, params=params
        )
        if not res.has_decision:
            # a verdict (e.g. an infeasible current state), reported rather than crashed on
            verdict = {"status": res.status.value, "message": res.message}
            print(dumps(verdict) if fmt is Format.json else f"{res.status.value}: {res.message}")
            return
        verdict = {"status": res.status.value, "solver": solver}
        if res.certificate and "outcome" in res.certificate:  # cpsat_fallback
            verdict["outcome"] = res.certificate["outcome"]
        dec = res.decision
    plan = build_plan(inst, dec)
    if verdict is not None:
        plan["solve"] = verdict
    with writing("--out", out):
        write_json_atomic(out, plan)
    if script is not None:
        with writing("--script", script):
            write_text_atomic(script, actions_script(plan))
    if fmt is Format.json:
        print(dumps(plan))
        return
    print(f"objective {plan['objective']}  feasible {str(plan['feasible']).lower()}")
    print(f"{len(plan['actions'])} action(s); written to {out}")
    for a in plan["actions"]:
        flags = f"  [{'; '.join(a['flags'])}]" if a["flags"] else ""
        print(
            f"  {a['step']:>3}. {a['action']:<5} {a['pod']} -> {a['node']} ({a['reason']}){flags}"
        )
    for pod, why in plan["pending"].items():
        print(f"  pending {pod} (priority {why['priority']}): {why['summary']}")
