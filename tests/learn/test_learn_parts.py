"""The learner's parts on their own: config, pruning, the diffusion actor, the warm-start reader."""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
import pytest
import torch
from learn_testkit import write_ground_truth

import optkit
from optkit.core.errors import InvalidInputError
from optkit.families.contract.env import raw_menu, target_efforts
from optkit.families.contract.instance import ContractDecision
from optkit.learn.config import (
    DMSACConfig,
    EDMSACConfig,
    config_from_dict,
    config_hash,
    load_config,
)
from optkit.learn.data import MANIFEST_NAME, contract_action, read_bc_data
from optkit.learn.diffusion import DiffusionActor, VPSchedule
from optkit.learn.pruning import MaskedMLP, compact, ramp_rate, rescore


# --- config ------------------------------------------------------------------------------------
def test_toml_sets_fields_and_env_table(tmp_path: Path):
    path = tmp_path / "run.toml"
    path.write_text('prune_rate = 0.5\ndenoise_steps = 8\n[env]\nkwargs = { action_map = "raw" }\n')
    cfg = load_config("edmsac", path, {"seed": 7})
    assert (cfg.prune_rate, cfg.denoise_steps, cfg.seed) == (0.5, 8, 7)
    assert cfg.env.kwargs == {"action_map": "raw"}


def test_an_algorithm_table_applies_to_that_algorithm_only(tmp_path: Path):
    """[edmsac] overrides the shared top level for EDMSAC; DMSAC, SAC and BC load (and hash) as
    if the table were not there, and the command line still wins."""
    shared = 'bc_pretrain_updates = 500\n[env]\nkwargs = { action_map = "projected" }\n'
    plain, tabled = tmp_path / "plain.toml", tmp_path / "tabled.toml"
    plain.write_text(shared)
    tabled.write_text(shared + "[edmsac]\nprune_ramp = 0.8\n[sac]\nlog_std_init = -2.0\n")
    edm = load_config("edmsac", tabled)
    assert (edm.prune_ramp, edm.bc_pretrain_updates, edm.env.kwargs["action_map"]) == (
        0.8, 500, "projected"
    )  # fmt: skip
    assert load_config("edmsac", tabled, {"prune_ramp": 0.5}).prune_ramp == 0.5
    assert load_config("sac", tabled).log_std_init == -2.0
    for algo in ("dmsac", "bc"):
        assert config_hash(load_config(algo, tabled)) == config_hash(load_config(algo, plain))


@pytest.mark.parametrize(
    ("text", "field"),
    [
        ("prune_rte = 0.3\n", "prune_rte"),  # a typo must not train the default silently
        ("[edmsac]\nprune_rmp = 0.8\n", "edmsac.prune_rmp"),
        ("[sac]\nprune_ramp = 0.8\n", "sac.prune_ramp"),  # checked even when not trained
        ("sac = 3\n", "sac"),
        ("[edmsac]\nprune_ramp = 2.0\n", "prune_ramp"),
        ("prune_rate = 1.5\n", "prune_rate"),
        ("batch_size = 0\n", "batch_size"),
        ("actor_lr = nan\n", "actor_lr"),
        ("[env]\nname = 'x'\n", "env.name"),
        ("time_dim = 5\n", "time_dim"),
        ("[edmsac]\nprediction = 'v'\n", "prediction"),
    ],
)
def test_bad_config_names_the_field(tmp_path: Path, text: str, field: str):
    path = tmp_path / "bad.toml"
    path.write_text(text)
    with pytest.raises(InvalidInputError) as info:
        load_config("edmsac", path)
    assert info.value.field == field
    assert str(path) in str(info.value)


def test_dmsac_never_prunes_and_hash_tells_configs_apart():
    with pytest.raises(InvalidInputError, match="prune_rate"):
        DMSACConfig(prune_rate=0.3)
    a, b = EDMSACConfig(), EDMSACConfig(prune_rate=0.1)
    assert config_hash(a) == config_hash(EDMSACConfig()) != config_hash(b)
    assert config_hash(DMSACConfig()) != config_hash(EDMSACConfig(prune_rate=0.0))
    assert config_from_dict("edmsac", {"seed": 3}).seed == 3


# --- pruning -----------------------------------------------------------------------------------
def _mlp(seed: int = 0) -> MaskedMLP:
    torch.manual_seed(seed)
    return MaskedMLP(5, 20, 3, 2)


def test_rescore_masks_the_lowest_norm_neurons_per_layer():
    mlp = _mlp()
    with torch.no_grad():
        for layer in mlp.hidden:
            layer.weight.mul_(torch.arange(1, 21, dtype=torch.float32)[:, None])
            layer.bias.zero_()
    rescore(mlp, 0.3)
    # incoming norms grow with the neuron index: the first floor(0.3 · 20) = 6 go
    expected = torch.ones(3, 20)
    expected[:, :6] = 0
    assert torch.equal(mlp.masks, expected)


def test_a_masked_neuron_comes_back_when_it_becomes_important():
    mlp = _mlp()
    rescore(mlp, 0.25)
    masked = int(torch.nonzero(mlp.masks[0] == 0)[0])
    with torch.no_grad():
        mlp.hidden[0].weight[masked].mul_(1e3)
    changed = rescore(mlp, 0.25)
    assert mlp.masks[0, masked] == 1 and changed >= 2  # one back in, one out


def test_ramp_goes_linearly_to_the_target():
    assert ramp_rate(0, 1000, 0.3, 0.3) == 0.0
    assert ramp_rate(150, 1000, 0.3, 0.3) == pytest.approx(0.15)
    assert ramp_rate(300, 1000, 0.3, 0.3) == ramp_rate(999, 1000, 0.3, 0.3) == 0.3
    assert ramp_rate(10, 1000, 0.0, 0.3) == 0.0


def test_compact_computes_the_same_function_with_fewer_neurons():
    mlp = _mlp(1)
    rescore(mlp, 0.4)
    small = compact(mlp)
    x = torch.randn(7, 5, generator=torch.Generator().manual_seed(0))
    assert torch.allclose(small(x), mlp(x), atol=1e-6)
    assert [layer.out_features for layer in small.hidden] == [12, 12, 12]


# --- diffusion actor ---------------------------------------------------------------------------
def test_vp_schedule_is_a_valid_noising_schedule():
    sch = VPSchedule(5, 0.1, 10.0)
    abar = sch.sqrt_abar.double() ** 2
    assert torch.all(abar[1:] < abar[:-1]) and 0 < abar[-1] < abar[0] < 1
    assert torch.allclose(
        abar + sch.sqrt_one_minus_abar.double() ** 2, torch.ones(5, dtype=torch.float64), atol=1e-6
    )
    # the last step leaves little of the signal: x_T is close to N(0, I)
    assert abar[-1] < 0.01


def _actor(seed: int = 0, prune: float = 0.0, prediction: str = "eps") -> DiffusionActor:
    torch.manual_seed(seed)
    actor = DiffusionActor(21, 12, width=32, depth=3, time_dim=8, steps=5, prediction=prediction)
    if prune:
        rescore(actor.denoiser, prune)
    return actor


@pytest.mark.parametrize("prediction", ["eps", "x0"])
def test_compact_policy_matches_the_masked_actor(prediction: str):
    actor = _actor(2, prune=0.3, prediction=prediction)
    s = torch.rand(9, 21, generator=torch.Generator().manual_seed(1))
    assert torch.allclose(actor.compact()(s), actor.decide(s), atol=1e-5)
    assert torch.equal(actor.decide(s), actor.decide(s))  # deterministic decisions


def test_x0_prediction_decides_with_the_denoisers_last_output():
    """With prediction = "x0" the last step's posterior mean is x_0 itself (ᾱ_0 = 1 before the
    first step), so the decision is the denoiser's output at t = 0, clipped to the box."""
    actor = _actor(4, prediction="x0")
    s = torch.rand(6, 21, generator=torch.Generator().manual_seed(2))
    outputs = []
    hook = actor.denoiser.register_forward_hook(lambda m, i, out: outputs.append(out))
    decision = actor.decide(s)
    hook.remove()
    assert len(outputs) == actor.steps
    assert torch.allclose(decision, outputs[-1].clamp(-1.0, 1.0), atol=1e-6)


@pytest.mark.parametrize("prediction", ["eps", "x0"])
def test_cloning_moves_the_decision_toward_the_targets(prediction: str):
    """Either parametrisation's denoising loss, minimised, brings the deterministic decision
    toward the cloned actions (a state-dependent target, 400 updates on a tiny actor)."""
    actor = _actor(5, prediction=prediction)
    gen = torch.Generator().manual_seed(6)
    s = torch.rand(256, 21, generator=gen)
    target = torch.tanh(s[:, :12] * 2.0 - 1.0)
    before = (actor.decide(s) - target).abs().mean()
    opt = torch.optim.Adam(actor.parameters(), lr=3e-3)
    for _ in range(400):
        loss = actor.bc_loss(s, target, gen)
        opt.zero_grad()
        loss.backward()
        opt.step()
    after = (actor.decide(s) - target).abs().mean()
    assert after < 0.5 * before, (before, after)


def test_pruning_at_0_3_about_halves_the_flops_of_the_shipped_size():
    dense = DiffusionActor(21, 12)
    pruned = DiffusionActor(21, 12)
    rescore(pruned.denoiser, 0.3)
    ratio = pruned.compact().flops() / dense.compact().flops()
    assert 0.45 < ratio < 0.56, ratio


def test_policy_gradient_flows_through_the_whole_chain():
    actor = _actor()
    s = torch.rand(4, 21)
    a, logp = actor.sample(s, torch.Generator().manual_seed(0))
    (a.sum() + logp.sum()).backward()
    assert actor.denoiser.hidden[0].weight.grad.abs().sum() > 0
    assert actor.time_mlp[1].weight.grad.abs().sum() > 0  # the time embedding learns too
    assert actor.log_std.grad is not None and a.abs().max() <= 1.0


def test_entropy_estimate_is_the_gaussian_log_density():
    """With σ = exp(log_std) on every dimension, E[-log π] is the Gaussian entropy
    d (log σ + ½ log 2πe); the estimate's sample mean must match it."""
    actor = _actor()
    with torch.no_grad():
        actor.log_std.fill_(-1.0)
    s = torch.rand(4000, 21)
    with torch.no_grad():
        _, logp = actor.sample(s, torch.Generator().manual_seed(3))
    expected = 12 * (-1.0 + 0.5 * math.log(2 * math.pi * math.e))
    assert float(-logp.mean()) == pytest.approx(expected, abs=0.1)


# --- the warm-start data set -------------------------------------------------------------------
def test_raw_action_of_the_optimum_maps_back_to_it():
    inst = optkit.generate("contract", preset="default", seed=5)
    dec = optkit.solve(inst, "cvxpy").decision
    a = contract_action(inst, dec, "raw")
    assert np.all(np.abs(a) <= 1.0)  # the env's ranges hold every canonical optimum
    back = raw_menu(inst, a)
    for name in ("effort1", "reward1", "effort2", "reward2"):
        assert np.allclose(getattr(back, name), getattr(dec, name), atol=1e-9, rtol=1e-12)


def test_projected_action_gives_back_the_target_efforts():
    """The map is onto the nondecreasing rows in [0, e_max]: any such menu -- steep first steps
    and rows already at e_max included -- has an inverse action in the box whose targets are
    its efforts exactly. A decreasing row leaves the box (counted as clipped by the reader)."""
    inst = optkit.generate("contract", preset="default", seed=6)
    E = inst.effort_max
    e1 = np.array([0.1, 0.5, 0.9]) * E
    e2 = np.array([[0.8, 0.9, 1.0], [0.0, 0.2, 0.5], [1.0, 1.0, 1.0]]) * E
    dec = ContractDecision(effort1=e1, reward1=e1, effort2=e2, reward2=e2)
    a = contract_action(inst, dec, "projected")
    assert np.all(np.abs(a) <= 1.0)
    assert np.allclose(target_efforts(inst, a), np.concatenate([e1, e2.ravel()]), atol=1e-12)
    falling = e2.copy()
    falling[1] = [0.5, 0.2, 0.1]
    bad = ContractDecision(effort1=e1, reward1=e1, effort2=falling * E, reward2=e2)
    assert np.abs(contract_action(inst, bad, "projected")).max() > 1.0


@pytest.mark.parametrize("seed", range(20))
def test_every_optimal_menu_is_reachable_through_the_projected_map(seed):
    """The oracle's menu sent back through its inverse action scores the optimum (the map is
    onto; Contract-v0's capped map lost 5% here on average)."""
    from optkit.families.contract.env import ContractEnv

    inst = optkit.generate("contract", preset="default", seed=seed)
    res = optkit.solve(inst, "fast")
    a = contract_action(inst, res.decision, "projected")
    assert np.all(np.abs(a) <= 1.0 + 1e-9)
    env = ContractEnv(action_map="projected")
    env.reset(options={"instance": inst})
    reward = env.step(np.clip(a, -1.0, 1.0))[1]
    assert reward == pytest.approx(res.objective, rel=1e-6)


def test_reader_keeps_optimal_rows_of_the_family(tmp_path: Path, gt_data: Path):
    inst = optkit.generate("contract", preset="default", seed=1)
    extra = [
        {"id": "zz-error", "family": "contract", "status": "error", "objective": None,
         "instance": json.dumps(inst.to_dict()), "decision": None},
        {"id": "zz-other", "family": "knapsack", "status": "optimal", "objective": 1.0,
         "instance": "{}", "decision": "{}"},
    ]  # fmt: skip
    path = write_ground_truth(tmp_path / "gt", range(3_000_000, 3_000_004), extra)
    data = read_bc_data(path, "contract", "projected")
    assert len(data) == 4 and data.skipped == 2
    assert data.obs.shape == (4, 21) and data.act.shape == (4, 12)
    assert np.abs(data.act).max() <= 1.0
    raw = read_bc_data(gt_data, "contract", "raw", max_rows=5)
    assert raw.act.shape == (5, 24) and raw.clipped == 0


@pytest.mark.parametrize(
    ("solver", "params", "raw_ok"),
    [("fast", {}, False), ("fast", {"canonical": True}, True), ("cvxpy", {}, True)],
)
def test_reader_wants_canonical_rewards_for_the_raw_map(tmp_path, solver, params, raw_ok):
    """fast's default rewards are optimal but not canonical, and leave the raw map's ranges."""
    path = write_ground_truth(tmp_path / "gt", range(3_000_000, 3_000_002))
    config = {"family": "contract", "solver": solver, "params": params}
    (path / MANIFEST_NAME).write_text(json.dumps({"config": config}))
    assert len(read_bc_data(path, "contract", "projected")) == 2
    if raw_ok:
        assert len(read_bc_data(path, "contract", "raw")) == 2
    else:
        with pytest.raises(InvalidInputError, match="canonical=true") as info:
            read_bc_data(path, "contract", "raw")
        assert info.value.field == "bc_data"


def test_reader_refuses_a_foreign_file(tmp_path: Path):
    import pyarrow as pa
    import pyarrow.parquet as pq

    pq.write_table(pa.table({"x": [1, 2]}), tmp_path / "foreign.parquet")
    with pytest.raises(InvalidInputError) as info:
        read_bc_data(tmp_path / "foreign.parquet", "contract")
    assert info.value.field == "bc_data"
    with pytest.raises(InvalidInputError, match="no such data set"):
        read_bc_data(tmp_path / "missing", "contract")


@pytest.mark.parametrize("algo", ["edmsac", "dmsac", "sac", "bc"])
def test_every_shipped_config_loads(algo: str):
    """models/configs/*.toml are what the docs' commands pass to `optkit train`."""
    from optkit.learn.config import load_config
    from optkit.learn.evaluate import make_env

    configs = sorted((Path(__file__).resolve().parents[2] / "models" / "configs").glob("*.toml"))
    assert len(configs) >= 3
    for path in configs:
        cfg = load_config(algo, path)
        if cfg.env.family == "contract":
            assert cfg.env.kwargs["action_map"] in ("projected", "raw"), path
        else:  # another family's env (knapsack-sac.toml): named by id, built by make_env
            assert make_env(cfg.env.id, cfg.env.kwargs, cfg.env.family).action_space.shape


def test_paired_table_averages_seeds_per_instance_then_differences():
    from optkit.learn.report import paired_table

    def run(name: str, algo: str, rho: float | None = None) -> dict:
        return {"name": name, "algo": algo, "meta": {"config": {"prune_rate": rho}}}

    runs = [run("e0", "edmsac", 0.3), run("e1", "edmsac", 0.3), run("e5", "edmsac", 0.5)]
    runs += [run("b0", "bc")]
    held = {
        "e0": {"decision": np.array([0.01, 0.03, 0.02])},
        "e1": {"decision": np.array([0.03, 0.01, 0.02])},
        "e5": {"decision": np.array([9.0, 9.0, 9.0])},  # another ϱ: not EDMSAC's row
        "b0": {"decision": np.array([0.03, 0.02, 0.01])},
    }
    row = paired_table(runs, held).splitlines()[-1].split("|")
    assert row[1].strip() == "bc" and row[2].strip() == "1"
    assert row[3].strip() == "2.000%"
    # differences per instance: -0.01, 0, +0.01 -> mean 0, one better, one worse
    assert row[4].strip().startswith("+0.000 ±") and row[5].strip() == "1 / 1"


def test_raw_curves_plot_only_raw_runs(tmp_path):
    """docs/img/edmsac-raw.png: drawn from the raw-map runs' curves, nothing without them."""
    from optkit.learn.report import plot_raw_curves

    def run(amap: str) -> dict:
        curve = [
            {"actor_updates": k, "val_infeasible": inf, "val_gap": gap}
            for k, inf, gap in ((0, 1.0, 0.01), (500, 0.3, 0.12), (1000, 0.1, 0.10))
        ]
        return {
            "name": f"r-{amap}",
            "curve": curve,
            "meta": {"env": {"kwargs": {"action_map": amap}}},
        }

    assert plot_raw_curves([run("projected")], tmp_path / "none.png") is False
    assert not (tmp_path / "none.png").exists()
    assert plot_raw_curves([run("projected"), run("raw")], tmp_path / "raw.png") is True
    assert (tmp_path / "raw.png").read_bytes()[:4] == b"\x89PNG"


def test_an_x0_checkpoint_loads_with_its_parametrisation(tmp_path: Path):
    from optkit.learn.policy import load_checkpoint, save_checkpoint

    actor = _actor(7, prune=0.3, prediction="x0")
    kwargs = {"obs_dim": 21, "act_dim": 12, "width": 32, "depth": 3, "time_dim": 8, "steps": 5}
    path = tmp_path / "x0.pt"
    save_checkpoint(path, "edmsac", "diffusion", {**kwargs, "prediction": "x0"}, actor, {})
    s = torch.rand(5, 21, generator=torch.Generator().manual_seed(8))
    assert torch.allclose(load_checkpoint(path).policy(s), actor.decide(s), atol=1e-5)
    save_checkpoint(path, "edmsac", "diffusion", {**kwargs, "prediction": "v"}, actor, {})
    with pytest.raises(InvalidInputError, match="prediction"):
        load_checkpoint(path)
