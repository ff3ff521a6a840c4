"""Learning curves, gap table and pruning sweep of the shipped checkpoints (docs/edmsac.md).

    .venv/bin/python -m optkit.learn.report [--models models] [--img docs/img]

Reads every models/<name>.pt (its card numbers: held-out gap, CI, infeasible share, FLOPs,
latency) and models/logs/<name>.csv (its curve); prints the markdown tables of docs/edmsac.md
(re-measured on the held-out set: for a checkpoint that decides with the critic's step, also its
actor alone; EDMSAC against each other algorithm, paired per instance) and
writes docs/img/edmsac-curves.png (validation gap vs wall time, one line per run) and, when
pruning-sweep checkpoints exist, docs/img/edmsac-pruning.png (gap, FLOPs and batch-1024
throughput vs ϱ), and with raw-map runs docs/img/edmsac-raw.png (their validation infeasible share
and gap vs actor updates). Throughput is re-measured here on this machine (batch 1024, median of
20).
"""

from __future__ import annotations

import argparse
import csv
from pathlib import Path
from typing import Any

import numpy as np

from optkit.learn.policy import load_checkpoint


def _rows(path: Path) -> list[dict[str, Any]]:
    with open(path, newline="", encoding="utf-8") as fh:
        return list(csv.DictReader(fh))


def label(meta: dict[str, Any], algo: str) -> str:
    amap = meta["env"]["kwargs"].get("action_map") or meta["env"]["id"].rsplit("/", 1)[-1]
    rho = meta["config"].get("prune_rate")
    tail = f" ϱ={rho:g}" if algo == "edmsac" and rho is not None else ""
    return f"{algo} ({amap}){tail} s{meta['seed']}"


def collect(models: Path) -> list[dict[str, Any]]:
    out = []
    for ckpt in sorted(models.glob("*.pt")):
        loaded = load_checkpoint(ckpt)
        log = models / "logs" / f"{ckpt.stem}.csv"
        out.append(
            {
                "name": ckpt.stem,
                "algo": loaded.algo,
                "label": label(loaded.meta, loaded.algo),
                "meta": loaded.meta,
                "policy": loaded.policy,
                "curve": _rows(log) if log.exists() else [],
            }
        )
    return out


def seed_table(runs: list[dict[str, Any]]) -> str:
    """Held-out mean gap per algorithm on the projected map: mean and spread over seeds."""
    groups: dict[str, list[float]] = {}
    for r in runs:
        m = r["meta"]
        if m["env"]["kwargs"].get("action_map") != "projected":
            continue
        rho = m["config"].get("prune_rate")
        if r["algo"] == "edmsac" and rho != 0.3:
            continue  # the sweep's other rates are in the pruning table
        groups.setdefault(r["algo"], []).append(m["heldout"]["mean_gap"])
    lines = [
        "| algorithm (projected map) | seeds | held-out mean gap per seed | mean over seeds |",
        "|---|---|---|---|",
    ]
    for algo in ("edmsac", "dmsac", "sac", "bc"):
        g = groups.get(algo, [])
        if g:
            per = ", ".join(f"{100 * x:.2f}%" for x in g)
            lines.append(f"| {algo} | {len(g)} | {per} | {100 * np.mean(g):.2f}% |")
    return "\n".join(lines)


def heldout_gaps(runs: list[dict[str, Any]], n: int = 500) -> dict[str, dict[str, np.ndarray]]:
    """Per projected-map checkpoint, its per-instance held-out gaps (seeds 0..n-1): "decision"
    (the checkpoint's policy) and, for a policy that takes a critic step, "actor" (without it)."""
    from optkit.learn.evaluate import (
        HELDOUT_SEED0,
        gaps,
        make_env,
        make_instances,
        oracle_objectives,
        rollout,
        torch_decide,
    )

    chosen = [r for r in runs if r["meta"]["env"]["kwargs"].get("action_map") == "projected"]
    if not chosen:
        return {}
    env_meta = chosen[0]["meta"]["env"]
    insts = make_instances(env_meta["family"], env_meta["preset"], n, HELDOUT_SEED0)
    optimum = oracle_objectives(env_meta["family"], insts)
    out: dict[str, dict[str, np.ndarray]] = {}
    for r in chosen:
        m = r["meta"]["env"]
        env = make_env(m["id"], m["kwargs"], m["family"])
        policies = {"decision": r["policy"]}
        if hasattr(r["policy"], "base"):
            policies["actor"] = r["policy"].base
        out[r["name"]] = {
            k: gaps(optimum, rollout(env, torch_decide(p), insts).objective)
            for k, p in policies.items()
        }
    return out


def step_table(runs: list[dict[str, Any]], held: dict[str, dict[str, np.ndarray]]) -> str:
    """What the critic's step adds: each refined checkpoint's actor alone against its decision
    (actor + step), paired on the same held-out instances, with how many got better / worse."""
    lines = [
        "| checkpoint | actor alone | actor + critic step | better / worse | critic FLOPs |",
        "|---|---|---|---|---|",
    ]
    for r in runs:
        g = held.get(r["name"], {})
        if "actor" not in g:
            continue
        alone, step = g["actor"], g["decision"]
        critic_flops = r["policy"].flops() - r["policy"].actor_flops()
        lines.append(
            f"| {r['name']} | {100 * alone.mean():.3f}% | {100 * step.mean():.3f}% "
            f"| {int((step < alone - 1e-9).sum())} / {int((step > alone + 1e-9).sum())} "
            f"| {critic_flops:,} |"
        )
    return "\n".join(lines) if len(lines) > 2 else ""


def paired_table(runs: list[dict[str, Any]], held: dict[str, dict[str, np.ndarray]]) -> str:
    """EDMSAC (ϱ = 0.3) against each other algorithm on the same held-out instances: the
    per-instance gap averaged over each algorithm's seeds, and the mean of the difference with
    a 95% CI (paired, so the instances' common difficulty cancels)."""
    per_algo: dict[str, list[np.ndarray]] = {}
    for r in runs:
        if r["name"] not in held:
            continue
        if r["algo"] == "edmsac" and r["meta"]["config"].get("prune_rate") != 0.3:
            continue
        per_algo.setdefault(r["algo"], []).append(held[r["name"]]["decision"])
    if "edmsac" not in per_algo:
        return ""
    mine = np.mean(per_algo["edmsac"], axis=0)
    lines = [
        "| EDMSAC vs | seeds (theirs) | their mean gap | EDMSAC − theirs (95% CI, paired) "
        "| EDMSAC better / worse |",
        "|---|---|---|---|---|",
    ]
    for algo in ("dmsac", "sac", "bc"):
        if algo not in per_algo:
            continue
        theirs = np.mean(per_algo[algo], axis=0)
        d = mine - theirs
        half = 1.96 * float(np.std(d, ddof=1)) / np.sqrt(len(d))
        lines.append(
            f"| {algo} | {len(per_algo[algo])} | {100 * theirs.mean():.3f}% "
            f"| {100 * d.mean():+.3f} ± {100 * half:.3f} points "
            f"| {int((d < -1e-9).sum())} / {int((d > 1e-9).sum())} |"
        )
    return "\n".join(lines)


def gap_table(runs: list[dict[str, Any]]) -> str:
    lines = [
        "| checkpoint | run | held-out mean gap (95% CI) | median | infeasible | FLOPs/decision "
        "| batch-1 ms | env steps | train wall s | published at |",
        "|---|---|---|---|---|---|---|---|---|---|",
    ]
    for r in runs:
        h, m = r["meta"]["heldout"], r["meta"]
        lat = h.get("latency_batch1_s")
        pub = m.get("published", {})
        lines.append(
            f"| {r['name']} | {r['label']} | {100 * h['mean_gap']:.2f}% ± {100 * h['ci95']:.2f} "
            f"| {100 * h['median_gap']:.2f}% | {100 * h['infeasible_share']:.1f}% "
            f"| {h['flops']:,} | {'-' if lat is None else f'{1e3 * lat:.3f}'} "
            f"| {m['env_steps']:,} | {m['train_wall_s']:.0f} "
            f"| {pub.get('phase', '-')} {pub.get('actor_updates', '')} |"
        )
    return "\n".join(lines)


def plot_curves(runs: list[dict[str, Any]], path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, 2, figsize=(12, 4.5))
    colours: dict[str, Any] = {}
    n_val: set[int] = set()
    for r in runs:
        # an infeasible menu can beat the optimum: its "gap" is not a gap (raw map, tables only)
        if not r["curve"] or float(r["curve"][-1]["val_infeasible"]) > 0.01:
            continue
        n_val.add(r["meta"]["config"].get("val_instances"))
        group = r["label"].rsplit(" s", 1)[0]  # one colour per algorithm/map/ϱ, a line per seed
        first = group not in colours
        colours.setdefault(group, f"C{len(colours) % 10}")
        wall = [float(x["wall_s"]) for x in r["curve"]]
        gap = [100 * float(x["val_gap"]) for x in r["curve"]]
        ups = [int(x["actor_updates"]) for x in r["curve"]]
        for ax, x in ((axes[0], wall), (axes[1], ups)):
            ax.plot(x, gap, color=colours[group], lw=0.9, alpha=0.8, label=group if first else None)
    for ax, xl in zip(
        axes, ("training wall time (s, shared 2-core host)", "actor updates"), strict=True
    ):
        ax.set_xlabel(xl)
        ax.set_ylabel("validation mean gap to the optimum (%)")
        ax.set_yscale("log")
        ax.grid(True, which="both", alpha=0.3)
    axes[0].legend(fontsize=7)
    fig.suptitle(
        f"contract `default`, I = 3: validation gap ({'/'.join(map(str, sorted(n_val)))} "
        "instances) during training, one line per seed (feasible maps only)"
    )
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def plot_raw_curves(runs: list[dict[str, Any]], path: Path) -> bool:
    """The raw-map runs' validation curves: infeasible share and mean gap against actor updates
    (the gap of a mostly infeasible point is not a gap, so it is drawn only where at most half of
    the decisions are infeasible). False (nothing written) without raw-map runs."""
    raw = [r for r in runs if r["curve"] and r["meta"]["env"]["kwargs"].get("action_map") == "raw"]
    if not raw:
        return False
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, 2, figsize=(12, 4.5))
    for k, r in enumerate(raw):
        ups = [int(x["actor_updates"]) for x in r["curve"]]
        inf = [100 * float(x["val_infeasible"]) for x in r["curve"]]
        axes[0].plot(ups, inf, color=f"C{k % 10}", lw=1.0, label=r["name"])
        pts = [(u, 100 * float(x["val_gap"])) for u, x in zip(ups, r["curve"], strict=True)
               if float(x["val_infeasible"]) <= 0.5]  # fmt: skip
        if pts:
            axes[1].plot(*zip(*pts, strict=True), color=f"C{k % 10}", lw=1.0, label=r["name"])
    axes[0].axhline(1.0, color="k", ls="--", lw=0.8, label="target: 1% infeasible")
    axes[1].axhline(3.0, color="k", ls="--", lw=0.8, label="target: 3% gap")
    axes[0].set_ylabel("validation decisions infeasible (%)")
    axes[1].set_ylabel("validation mean gap (%), points with <= 50% infeasible")
    for ax in axes:
        ax.set_xlabel("actor updates (cloning, then exact fine-tuning)")
        ax.grid(True, alpha=0.3)
        ax.legend(fontsize=7)
    fig.suptitle("contract `default`, I = 3, raw map: validation curves, one line per seed")
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return True


def pruning_sweep(runs: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """One point per diffusion-actor run on the projected map: ϱ, gap, FLOPs, throughput."""
    from optkit.learn.evaluate import decision_latency

    points = []
    for r in runs:
        m = r["meta"]
        if r["algo"] not in ("edmsac", "dmsac"):
            continue
        if m["env"]["kwargs"].get("action_map") != "projected":
            continue
        obs = np.random.default_rng(0).uniform(0, 1, (64, r["policy"].obs_dim)).astype(np.float32)
        sec = decision_latency(r["policy"], obs, 1024, reps=20)
        points.append(
            {
                "name": r["name"],
                "rho": float(m["config"]["prune_rate"]),
                "gap": float(m["heldout"]["mean_gap"]),
                "flops": int(m["heldout"]["flops"]),
                "actor_flops": int(getattr(r["policy"], "actor_flops", r["policy"].flops)()),
                "throughput": 1.0 / sec,
                "widths": r["policy"].hidden_widths(),
            }
        )
    return sorted(points, key=lambda p: (p["rho"], p["name"]))


def plot_pruning(points: list[dict[str, Any]], path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, 3, figsize=(13, 4))
    rho = [p["rho"] for p in points]
    for ax, key, scale, yl in (
        (axes[0], "gap", 100, "held-out mean gap (%)"),
        (axes[1], "flops", 1e-3, "kFLOPs per decision"),
        (axes[2], "throughput", 1e-3, "decisions/s at batch 1024 (thousands)"),
    ):
        ax.plot(rho, [scale * p[key] for p in points], "o")
        ax.set_xlabel("pruning rate ϱ")
        ax.set_ylabel(yl)
        ax.grid(True, alpha=0.3)
    fig.suptitle("EDMSAC pruning sweep (projected map; ϱ = 0 is DMSAC)")
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--models", type=Path, default=Path("models"))
    parser.add_argument("--img", type=Path, default=Path("docs/img"))
    args = parser.parse_args(argv)
    import torch

    torch.set_num_threads(1)
    runs = collect(args.models)
    print(seed_table(runs))
    print()
    print(gap_table(runs))
    held = heldout_gaps(runs)
    for table in (step_table(runs, held), paired_table(runs, held)):
        if table:
            print()
            print(table)
    args.img.mkdir(parents=True, exist_ok=True)
    plot_curves(runs, args.img / "edmsac-curves.png")
    plot_raw_curves(runs, args.img / "edmsac-raw.png")
    points = pruning_sweep(runs)
    if points:
        print()
        print(
            "| checkpoint | ϱ | hidden widths | held-out gap | FLOPs/decision (actor) "
            "| batch-1024 decisions/s |"
        )
        print("|---|---|---|---|---|---|")
        for p in points:
            print(
                f"| {p['name']} | {p['rho']:g} | {p['widths']} | {100 * p['gap']:.2f}% "
                f"| {p['flops']:,} ({p['actor_flops']:,}) | {p['throughput']:,.0f} |"
            )
        plot_pruning(points, args.img / "edmsac-pruning.png")


if __name__ == "__main__":
    main()
