"""Diagnostics of the contract learner: how far the action map lets a policy get, and whether the
critic points the actor the right way.

    .venv/bin/python -m optkit.learn.diagnostics ceiling [--n 25]
    .venv/bin/python -m optkit.learn.diagnostics critic runs/<run>/state.pt [--n 30] [--slope 0.02]
    .venv/bin/python -m optkit.learn.diagnostics margin [--n 100] [--checkpoint RAW.pt]
    .venv/bin/python -m optkit.learn.diagnostics refine runs/<run>/state.pt [--n 300]
        [--checkpoint models/<published>.pt] [--validation] [--steps 0.25:0.1,1:0.1]
    .venv/bin/python -m optkit.learn.diagnostics fit models/<checkpoint>.pt [--n 200]
    .venv/bin/python -m optkit.learn.diagnostics regress DATA [--rows N] [--width 512]
        [--depth 4] [--epochs 24] [--n 500] [--seed 0] [--exact-updates K] [--features]

`ceiling`: on held-out instances (seeds 0..n-1), the gap of the oracle's own menu sent through
the env's `projected` map: its exact inverse action (`effort_action`), clipped to the box, which
is what behaviour cloning can at best imitate. The map is onto, so the figure measures float
rounding in the inverse and the projection LP (Contract-v0's capped map scored 5.11% here).

`critic`: for n validation-distribution instances (seeds 700_000 + k, seen by neither training
nor the held-out set), at the deterministic action a of the run's actor, compare the critic's action
gradient ∇_a min(Q1, Q2)(s, a) with the true gradient of the (normalised) reward, by central
differences through the env (step 0.02 per coordinate). Prints the cosine per instance and the
mean. A mean near +1 means RL steps improve the policy; near 0 they are noise; negative, they
undo it. docs/edmsac.md reports the numbers for the shipped runs' settings.

`margin`: what the `raw` map's safety margin costs, against what it must cover. For held-out
instances (seeds 0..n-1) and margins m (shares of φ_1 e_max), the gap of the profit-maximising
menu whose every IC/IR inequality holds with slack >= m φ_1 e_max (`margin_menu`, Clarabel). With
--checkpoint, also the quantiles of that raw-map policy's max violation in the same unit: a
policy cloning such menus stays feasible only where its own error is below m.

`refine`: for a run trained with the `local` critic, the held-out gap (seeds 0..n-1) of the
run's deterministic actor, and of that action moved by η times the critic's Newton step (capped
in length), for a few η and caps (`--steps η:cap,...`), with how many instances got better and
worse: what the critic adds at decision time. `--validation` uses the validation seeds
(500_000 + k) instead, to choose η and the cap without touching the held-out set.

`fit`: how precisely a checkpoint's actor reproduces the oracle. For held-out instances (seeds
0..n-1), |actor action - oracle action| per coordinate in action units (the box is [-1, 1], so
0.02 is 1% of a coordinate's range), the oracle's action being its canonical optimum (`fast`,
canonical=true) through the checkpoint's map's inverse, as behaviour cloning saw it. Quantiles
per block of coordinates (efforts and rewards of each period).

`regress`: the `raw` map asks a policy for a menu precise to its safety margin on every IC/IR
row. How precise can a plain regressor of the oracle get, given far more data than the learners
see? Trains an MLP (width × depth, Mish, MSE, Adam with a one-cycle schedule, batch 512) on a
canonical `optkit baseline` data set mapped into the raw box, and reports on the held-out
instances (seeds 0..n-1), a few times during training and at the end: |prediction - oracle| in
action units, the menu's max violation / (φ_1 e_max) (compare `margin`), and the infeasible
share (max violation > 1e-6, the env's test). Not a policy of the library: a measurement of the
regression problem the raw map poses. With `--exact-updates K` the regressor is then fine-tuned
for K updates with the exact fine-tuning's shaped loss (exact_reward.py; `--margin`,
`--penalty`), the learners' phase 1b on a plain MLP instead of the diffusion actor, and the mean
held-out gap is reported too. `--features` puts the derived features (features.py) in front of
the MLP, as `derived_features = true` does for the actor.
"""

from __future__ import annotations

import argparse

import numpy as np
import torch

from optkit.core import api
from optkit.learn.config import config_from_dict
from optkit.learn.data import ADAPTERS, adapter
from optkit.learn.edmsac import DiffusionSAC
from optkit.learn.evaluate import make_env
from optkit.learn.features import actor_features
from optkit.learn.sac import SAC

SEED0, STEP = 700_000, 0.02


def alignment(state_path: str, n: int = 30, slope_sigma: float | None = None) -> list[float]:
    """Per instance, cos(∇_a critic, finite-difference gradient of the reward) at the run's
    deterministic action. With slope_sigma, also print per instance the cosine between that
    finite-difference gradient and the least-squares slope of the reward over 200 Gaussian
    perturbations of scale slope_sigma (seeded): near 1 means the reward is smooth at that scale,
    so a critic fitted to such samples could point the right way."""
    agent, cfg, env = _agent(state_path)
    act_dim = env.action_space.shape[0]
    reference = None
    if cfg.normalize_reward and cfg.env.family in ADAPTERS:
        reference = adapter(cfg.env.family).reward_reference
    cosines = []
    for k in range(n):
        inst = api.generate(cfg.env.family, preset=cfg.env.preset, seed=SEED0 + k)
        obs, _ = env.reset(options={"instance": inst})
        scale = reference(inst) if reference is not None else 1.0
        a = agent.act(obs[None, :], stochastic=False)[0].astype(float)

        def reward(x: np.ndarray, inst=inst, scale=scale) -> float:
            env.reset(options={"instance": inst})
            return env.step(np.clip(x, -1.0, 1.0))[1] / scale

        eye = np.eye(act_dim)
        true = np.array([(reward(a + STEP * e) - reward(a - STEP * e)) / (2 * STEP) for e in eye])
        at = torch.tensor(a[None, :], dtype=torch.float32)
        grad = agent.critic_gradient(torch.as_tensor(obs[None, :]), at)[0].numpy()
        cosines.append(_cos(true, grad))
        if slope_sigma is not None:
            x = np.random.default_rng(k).normal(0.0, slope_sigma, (200, act_dim))
            y = np.array([reward(a + d) for d in x])
            fit = np.linalg.lstsq(np.c_[np.ones(len(x)), x], y, rcond=None)[0][1:]
            print(f"instance {k}: cos(finite differences, slope at σ={slope_sigma}) "
                  f"{_cos(true, fit):+.3f}")  # fmt: skip
    return cosines


def _cos(u: np.ndarray, v: np.ndarray) -> float:
    denom = float(np.linalg.norm(u) * np.linalg.norm(v))
    return float(u @ v) / denom if denom > 0 else 0.0


def map_ceiling(n: int = 25) -> np.ndarray:
    """Per held-out instance: gap of the oracle's clipped inverse action under the env's map."""
    from optkit.families.contract.env import ContractEnv
    from optkit.learn.data import contract_action

    env = ContractEnv(action_map="projected")
    out = []
    for k in range(n):
        inst = api.generate("contract", preset="default", seed=k)
        res = api.solve(inst, "fast")
        opt = float(res.objective)
        a = np.clip(contract_action(inst, res.decision, "projected"), -1.0, 1.0)
        env.reset(options={"instance": inst})
        out.append((opt - env.step(a)[1]) / max(abs(opt), 1.0))
    return np.array(out)


MARGINS = (0.0, 0.001, 0.003, 0.01)


def margin_menu(inst, margin: float):
    """The profit-maximising menu with every IC/IR inequality row of constraints.build_system
    holding with slack >= margin · φ_1 e_max (equality rows exactly); None if the solver fails."""
    import cvxpy as cp

    from optkit.families.contract.constraints import build_system, objective_weights
    from optkit.families.contract.instance import ContractDecision, LogValuation

    system = build_system(inst)
    lay, E = system.layout, inst.effort_max
    money = inst.phi[0] * E
    x = cp.Variable(len(lay.effort_cols))  # efforts / e_max
    y = cp.Variable(len(lay.reward_cols))  # rewards / (φ_1 e_max)
    v = inst.valuation
    if isinstance(v, LogValuation):
        value = v.omega * cp.log(1 + v.kappa * E * x)
    else:
        value = v.omega * E**v.rho * cp.power(x, v.rho)
    w_g, w_r = objective_weights(inst)
    rows = system.A_effort * (E / money) @ x + system.A_reward @ y
    eq = system.equality_rows
    cons = [x >= 0, x <= 1, rows[~eq] >= margin]
    if eq.any():
        cons.append(rows[eq] == 0)
    problem = cp.Problem(cp.Maximize(w_g @ value - money * (w_r @ y)), cons)
    try:
        problem.solve(solver="CLARABEL")
    except cp.error.SolverError:
        return None
    if problem.status != cp.OPTIMAL:
        return None
    n = lay.n
    e1, e2 = lay.split_efforts(x.value * E)
    r = y.value * money
    r2 = r[n:].reshape(n, n) if lay.dynamic else None
    return ContractDecision(effort1=e1, reward1=r[:n], effort2=e2, reward2=r2)


def margin_costs(n: int, margins=MARGINS) -> dict[float, np.ndarray]:
    """{m: per held-out instance gap of margin_menu(m)} (NaN where it failed)."""
    from optkit.families.contract.evaluate import evaluate
    from optkit.families.contract.fast import solve_batch
    from optkit.learn.evaluate import gaps

    insts = [api.generate("contract", preset="default", seed=k) for k in range(n)]
    outs, _ = solve_batch(insts)
    optimum = np.array([res.objective for res in outs], float)
    out = {}
    for m in margins:
        menus = [margin_menu(inst, m) for inst in insts]
        objective = [
            float(evaluate(inst, menu).objective) if menu is not None else np.nan
            for inst, menu in zip(insts, menus, strict=True)
        ]
        out[m] = gaps(optimum, np.array(objective))
    return out


def raw_violations(checkpoint: str, n: int) -> np.ndarray:
    """Per held-out instance: the raw-map policy's max violation / (φ_1 e_max)."""
    from optkit.families.contract.env import observe, raw_menu
    from optkit.families.contract.evaluate import evaluate
    from optkit.learn.policy import load_checkpoint

    loaded = load_checkpoint(checkpoint)
    if loaded.meta["env"]["kwargs"].get("action_map") != "raw":
        raise SystemExit(f"{checkpoint}: not a raw-map checkpoint")
    insts = [api.generate("contract", preset="default", seed=k) for k in range(n)]
    with torch.inference_mode():
        acts = loaded.policy(torch.as_tensor(np.stack([observe(i) for i in insts]))).numpy()
    return np.array(
        [
            evaluate(i, raw_menu(i, a)).max_violation / (i.phi[0] * i.effort_max)
            for i, a in zip(insts, acts, strict=True)
        ]
    )


def fit_errors(checkpoint: str, n: int) -> dict[str, np.ndarray]:
    """{block: |actor - oracle| in action units, shape (n, block size)} on held-out seeds."""
    from optkit.families.contract.env import observe
    from optkit.families.contract.fast import solve_batch
    from optkit.learn.data import contract_action
    from optkit.learn.policy import load_checkpoint

    loaded = load_checkpoint(checkpoint)
    action_map = loaded.meta["env"]["kwargs"].get("action_map", "projected")
    insts = [api.generate("contract", preset="default", seed=k) for k in range(n)]
    outs, _ = solve_batch(insts, canonical=True)
    target = np.stack(
        [contract_action(i, r.decision, action_map) for i, r in zip(insts, outs, strict=True)]
    )
    with torch.inference_mode():
        policy = getattr(loaded.policy, "base", loaded.policy)  # the actor, without a critic step
        acts = policy(torch.as_tensor(np.stack([observe(i) for i in insts]))).numpy()
    err = np.abs(acts - target)
    k = insts[0].n_types
    blocks = {"e1": k, "R1": k, "e2": k * k, "R2": k * k} if action_map == "raw" else {
        "e1": k, "e2 steps": k * k}  # fmt: skip
    out, start = {}, 0
    for name, size in blocks.items():
        out[name], start = err[:, start : start + size], start + size
    if start != err.shape[1]:
        raise SystemExit(f"{checkpoint}: action size {err.shape[1]} is not the I = {k} layout")
    return out


def regression_study(
    data: str,
    rows: int | None = None,
    width: int = 512,
    depth: int = 4,
    epochs: int = 24,
    n: int = 500,
    seed: int = 0,
    report=print,
    exact_updates: int = 0,
    margin: float = 0.002,
    penalty: float = 50.0,
    features: bool = False,
) -> dict[str, float]:
    """Train the plain regressor of `regress` and return its final held-out figures
    (quantiles of coordinate error and of violation, infeasible share); `report` gets a line
    per evaluation. `features`: the network reads the derived features (features.py) of the
    observation, as a `derived_features = true` actor does."""
    import time

    from optkit.families.contract.env import ContractEnv, observe, raw_menu
    from optkit.families.contract.evaluate import evaluate
    from optkit.families.contract.fast import solve_batch
    from optkit.learn.data import contract_action, read_bc_data
    from optkit.learn.evaluate import gaps
    from optkit.learn.exact_reward import exact_objective
    from optkit.learn.features import ContractFeatures
    from optkit.learn.networks import mlp

    t0 = time.perf_counter()
    bc = read_bc_data(data, "contract", "raw", max_rows=rows)
    X, Y = torch.as_tensor(bc.obs), torch.as_tensor(bc.act)
    insts = [api.generate("contract", preset="default", seed=k) for k in range(n)]
    outs, _ = solve_batch(insts, canonical=True)
    target = np.stack(
        [contract_action(i, r.decision, "raw") for i, r in zip(insts, outs, strict=True)]
    )
    optimum = np.array([r.objective for r in outs])
    obs = torch.as_tensor(np.stack([observe(i) for i in insts]))
    report(
        f"{len(bc)} rows ({bc.clipped} clipped to the box) read in {time.perf_counter() - t0:.0f} s"
    )
    with torch.random.fork_rng():
        torch.manual_seed(seed)  # initialisation only; the global RNG is restored
        if features:
            feats = ContractFeatures(insts[0].n_types, insts[0].dynamic)
            net = torch.nn.Sequential(feats, mlp(feats.out_dim, width, depth, Y.shape[1]))
        else:
            net = mlp(X.shape[1], width, depth, Y.shape[1])
    batch = min(512, len(X))
    per_epoch = len(X) // batch
    opt = torch.optim.Adam(net.parameters(), lr=1e-3)
    sched = torch.optim.lr_scheduler.OneCycleLR(
        opt, max_lr=2e-3, total_steps=epochs * per_epoch, pct_start=0.05
    )
    gen = torch.Generator().manual_seed(seed)

    def held_out() -> dict[str, float]:
        with torch.inference_mode():
            a = net(obs).clamp(-1.0, 1.0).double().numpy()
        err = np.abs(a - target).ravel()
        evs = [evaluate(i, raw_menu(i, x)) for i, x in zip(insts, a, strict=True)]
        viol = np.array([e.max_violation for e in evs])
        scale = np.array([i.phi[0] * i.effort_max for i in insts])
        out = {f"err p{q}": float(np.percentile(err, q)) for q in (50, 90, 99)}
        out |= {f"viol p{q}": float(np.percentile(viol / scale, q)) for q in (50, 90, 99)}
        out["infeasible"] = float((viol > 1e-6).mean())
        out["gap"] = float(np.mean(gaps(optimum, np.array([e.objective for e in evs]))))
        return out

    for epoch in range(epochs):
        perm = torch.randperm(len(X), generator=gen)
        for k in range(per_epoch):
            idx = perm[k * batch : (k + 1) * batch]
            loss = torch.nn.functional.mse_loss(net(X[idx]), Y[idx])
            opt.zero_grad()
            loss.backward()
            opt.step()
            sched.step()
        if epoch == epochs - 1 or (epoch + 1) % max(1, epochs // 4) == 0:
            res = held_out()
            report(
                f"epoch {epoch + 1}/{epochs} ({time.perf_counter() - t0:.0f} s): "
                + ", ".join(f"{k} {v:.4f}" for k, v in res.items())
            )
    if exact_updates:
        rows_of = exact_objective(ContractEnv(action_map="raw"), bc.obs, bc.act, margin, penalty)
        opt = torch.optim.Adam(net.parameters(), lr=1e-4)
        sched = torch.optim.lr_scheduler.CosineAnnealingLR(opt, exact_updates, eta_min=1e-5)
        for k in range(exact_updates):
            idx = torch.randint(0, len(X), (1024,), generator=gen).numpy()
            loss = rows_of(idx)(X[idx], net(X[idx]))
            opt.zero_grad()
            loss.backward()
            opt.step()
            sched.step()
            if (k + 1) % max(1, exact_updates // 5) == 0:
                res = held_out()
                report(
                    f"exact {k + 1}/{exact_updates} ({time.perf_counter() - t0:.0f} s): "
                    + ", ".join(f"{k} {v:.4f}" for k, v in res.items())
                )
    return res


def _agent(state_path: str):
    """(agent, cfg, env) of a saved run state."""
    state = torch.load(state_path, map_location="cpu", weights_only=True)
    algo, cfg = state["algo"], config_from_dict(state["algo"], state["config"])
    env = make_env(cfg.env.id, cfg.env.kwargs, cfg.env.family)
    obs_dim, act_dim = env.observation_space.shape[0], env.action_space.shape[0]
    agent = (
        SAC(obs_dim, act_dim, cfg, 0)
        if algo == "sac"
        else DiffusionSAC(obs_dim, act_dim, cfg, 0, 1, actor_features(cfg, env))
    )
    agent.load_state_dict(state["agent"])
    return agent, cfg, env


def refinement(
    state_path: str,
    n: int = 300,
    steps=((0.25, 0.1), (0.5, 0.1), (0.25, 0.3)),
    checkpoint: str | None = None,
    seed0: int = 0,
) -> dict[str, np.ndarray]:
    """{"actor": gaps, "eta=..,cap=..": gaps} on held-out seeds 0..n-1 (local critic runs); the
    actor is the run's last one, or a published checkpoint's (its own decision, without any
    critic step it carries)."""
    from optkit.learn.evaluate import gaps, oracle_objectives
    from optkit.learn.networks import capped_move

    agent, cfg, env = _agent(state_path)
    if cfg.critic != "local":
        raise SystemExit(f"{state_path}: trained with critic {cfg.critic!r}, not 'local'")
    insts = [api.generate(cfg.env.family, preset=cfg.env.preset, seed=seed0 + k) for k in range(n)]
    optimum = oracle_objectives(cfg.env.family, insts)
    obs = torch.as_tensor(np.stack([env.reset(options={"instance": i})[0] for i in insts]))
    decide = agent.actor.decide
    if checkpoint is not None:
        from optkit.learn.policy import load_checkpoint

        policy = load_checkpoint(checkpoint).policy
        decide = getattr(policy, "base", policy)
    with torch.no_grad():
        a0 = decide(obs)
        newton = agent.critic.newton_step(obs, a0)

    def gap_of(actions: torch.Tensor) -> np.ndarray:
        objective = []
        for inst, a in zip(insts, actions.numpy(), strict=True):
            env.reset(options={"instance": inst})
            objective.append(env.step(a)[1])
        return gaps(optimum, np.array(objective))

    out = {"actor": gap_of(a0)}
    for eta, cap in steps:
        out[f"eta={eta:g}, cap={cap:g}"] = gap_of(capped_move(a0, eta * newton, cap))
    return out


def eta_cap_list(text: str) -> tuple[tuple[float, float], ...]:
    """ "0.25:0.1,1:0.1" -> ((0.25, 0.1), (1.0, 0.1)); argparse reports a ValueError."""
    pairs = tuple(tuple(float(x) for x in p.split(":")) for p in text.split(","))
    if any(len(p) != 2 or not (p[0] > 0 and p[1] > 0) for p in pairs):
        raise ValueError(text)
    return pairs  # type: ignore[return-value]


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    sub = parser.add_subparsers(dest="what", required=True)
    crit = sub.add_parser("critic")
    crit.add_argument("state")
    crit.add_argument("--n", type=int, default=30)
    crit.add_argument("--slope", type=float, default=None, metavar="SIGMA")
    ceil = sub.add_parser("ceiling")
    ceil.add_argument("--n", type=int, default=25)
    ref = sub.add_parser("refine")
    ref.add_argument("state")
    ref.add_argument("--n", type=int, default=300)
    ref.add_argument("--checkpoint", default=None, help="refine this published actor instead")
    ref.add_argument("--validation", action="store_true", help="validation seeds 500_000 + k")
    ref.add_argument("--steps", type=eta_cap_list, default=None, metavar="ETA:CAP,...")
    fitp = sub.add_parser("fit")
    fitp.add_argument("checkpoint")
    fitp.add_argument("--n", type=int, default=200)
    reg = sub.add_parser("regress")
    reg.add_argument("data", help="a canonical `optkit baseline` contract data set")
    reg.add_argument("--rows", type=int, default=None)
    reg.add_argument("--width", type=int, default=512)
    reg.add_argument("--depth", type=int, default=4)
    reg.add_argument("--epochs", type=int, default=24)
    reg.add_argument("--n", type=int, default=500)
    reg.add_argument("--seed", type=int, default=0)
    reg.add_argument("--exact-updates", type=int, default=0)
    reg.add_argument("--margin", type=float, default=0.002)
    reg.add_argument("--penalty", type=float, default=50.0)
    reg.add_argument("--features", action="store_true", help="read derived features too")
    marg = sub.add_parser("margin")
    marg.add_argument("--n", type=int, default=100)
    marg.add_argument("--checkpoint", default=None)
    args = parser.parse_args(argv)
    if args.what == "regress":  # the one heavy study: torch's default threads
        res = regression_study(
            args.data, args.rows, args.width, args.depth, args.epochs, args.n, args.seed,
            report=lambda line: print(line, flush=True), exact_updates=args.exact_updates,
            margin=args.margin, penalty=args.penalty, features=args.features,
        )  # fmt: skip
        print("| rows | net | exact updates | coordinate error p50 / p90 / p99 | max violation / "
              "(φ_1 e_max) p50 / p90 / p99 | infeasible | mean gap |")  # fmt: skip
        print("|---|---|---|---|---|---|---|")
        net = f"{args.width}×{args.depth}" + (" + features" if args.features else "")
        print(f"| {args.rows or 'all'} | {net} | {args.exact_updates} | "
              + " / ".join(f"{res[f'err p{q}']:.4f}" for q in (50, 90, 99)) + " | "
              + " / ".join(f"{100 * res[f'viol p{q}']:.2f}%" for q in (50, 90, 99))
              + f" | {100 * res['infeasible']:.1f}% | {100 * res['gap']:.2f}% |")  # fmt: skip
        return
    torch.set_num_threads(1)
    if args.what == "refine":
        from optkit.learn.evaluate import VAL_SEED0

        res = refinement(
            args.state,
            args.n,
            args.steps or ((0.25, 0.1), (0.5, 0.1), (0.25, 0.3)),
            checkpoint=args.checkpoint,
            seed0=VAL_SEED0 if args.validation else 0,
        )
        base = res["actor"]
        print("| decision | mean gap | median | better / worse than the actor |")
        print("|---|---|---|---|")
        for name, g in res.items():
            better, worse = int((g < base - 1e-9).sum()), int((g > base + 1e-9).sum())
            print(f"| {name} | {100 * g.mean():.3f}% | {100 * np.median(g):.3f}% "
                  f"| {better} / {worse} |")  # fmt: skip
        return
    if args.what == "fit":
        print(f"{args.checkpoint}: |actor - oracle| in action units, {args.n} held-out instances")
        print("| coordinates | p50 | p90 | p99 |")
        print("|---|---|---|---|")
        for name, e in fit_errors(args.checkpoint, args.n).items():
            q = np.percentile(e, [50, 90, 99])
            print(f"| {name} ({e.shape[1]}) | " + " | ".join(f"{x:.4f}" for x in q) + " |")
        return
    if args.what == "margin":
        print("| margin m (share of φ_1 e_max) | mean gap | median | p95 | solver failures |")
        print("|---|---|---|---|---|")
        for m, g in margin_costs(args.n).items():
            ok = g[np.isfinite(g)]
            print(f"| {m:g} | {100 * ok.mean():.2f}% | {100 * np.median(ok):.2f}% "
                  f"| {100 * np.percentile(ok, 95):.2f}% | {len(g) - len(ok)} |")  # fmt: skip
        if args.checkpoint:
            v = raw_violations(args.checkpoint, args.n)
            q = np.percentile(v, [10, 50, 90, 99])
            quantiles = " / ".join(f"{100 * x:.2f}%" for x in q)
            print(f"\n{args.checkpoint}: max violation / (φ_1 e_max) over {args.n} held-out "
                  f"instances, p10 / p50 / p90 / p99: {quantiles}")  # fmt: skip
        return
    if args.what == "critic":
        cos = alignment(args.state, args.n, args.slope)
        print(f"{args.state}: mean cosine {np.mean(cos):+.3f} over {len(cos)} instances")
        print("per instance: " + " ".join(f"{c:+.2f}" for c in cos))
        return
    g = map_ceiling(args.n)
    print("| oracle menu through the env's `projected` map | instances | mean gap | max gap |")
    print("|---|---|---|---|")
    print(f"| exact inverse, clipped to the box | {len(g)} | {100 * g.mean():.2e}% "
          f"| {100 * g.max():.2e}% |")  # fmt: skip


if __name__ == "__main__":
    main()
