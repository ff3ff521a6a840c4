"""Derived input features (optkit/learn/features.py): their values, the actor and checkpoints that
carry them, and the config switch."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch

import optkit
from optkit.core.errors import InvalidInputError
from optkit.families.contract.env import ContractEnv, observe
from optkit.learn.config import load_config
from optkit.learn.diffusion import DiffusionActor
from optkit.learn.features import ContractFeatures, build_features, features_for_env
from optkit.learn.pruning import rescore


@pytest.mark.parametrize(
    ("preset", "seed"), [("default", 0), ("default", 1), ("interim", 2), ("power", 3)]
)
def test_contract_features_are_the_instances_own_numbers(preset: str, seed: int):
    """φ ratios, differences, ln x, the value scale, the curvature and δ·P, read back from the
    observation, equal the instance's parameters (float32 observation: about 1e-5 relative)."""
    inst = optkit.core.api.generate("contract", preset=preset, seed=seed)
    feats = ContractFeatures(inst.n_types, inst.dynamic)
    s = torch.as_tensor(observe(inst))[None].double()
    out = feats(s)[0].numpy()
    n, d = inst.n_types, feats.obs_dim
    assert out.shape == (feats.out_dim,) and np.array_equal(out[:d], s[0].numpy())
    phi = np.asarray(inst.phi) / inst.phi[0]
    np.testing.assert_allclose(out[d : d + n], phi, rtol=1e-5)
    k = d + n + len(feats.pairs)
    np.testing.assert_allclose(out[d + n : k], [phi[i] - phi[j] for i, j in feats.pairs], atol=1e-5)
    e_max = inst.effort_max
    g_max = float(inst.valuation.value(np.float64(e_max)))
    x = np.asarray(inst.phi) * e_max / g_max  # cost of the maximal effort over its value
    np.testing.assert_allclose(np.exp(out[k : k + n]), x, rtol=1e-4)
    np.testing.assert_allclose(out[k + n], 1.0 / x[0], rtol=1e-4)
    v = inst.valuation
    shape = v.kappa * e_max if v.to_dict()["kind"] == "log" else v.rho / (1.0 - v.rho)
    np.testing.assert_allclose(np.exp(out[k + n + 1]), shape, rtol=1e-4)
    np.testing.assert_allclose(
        out[k + n + 2 :], inst.discount * np.asarray(inst.transition).ravel(), rtol=1e-5
    )


def test_static_contract_features_have_no_transition_part():
    inst = optkit.core.api.generate("contract", preset="static", seed=0)
    feats = ContractFeatures(inst.n_types, inst.dynamic)
    out = feats(torch.as_tensor(observe(inst))[None])
    n = inst.n_types
    assert out.shape == (1, feats.obs_dim + 2 * n + n * (n - 1) // 2 + 2)
    assert bool(torch.isfinite(out).all())


def test_features_refuse_a_bad_spec_and_a_mismatched_observation():
    with pytest.raises(ValueError, match="family"):
        build_features({"family": "podpack"})
    with pytest.raises(ValueError, match="n_types"):
        build_features({"family": "contract", "n_types": 0, "dynamic": True})
    with pytest.raises(ValueError, match="dynamic"):
        build_features({"family": "contract", "n_types": 3, "dynamic": "yes"})
    with pytest.raises(ValueError, match="observations of 21"):
        DiffusionActor(11, 6, width=16, depth=2, features=ContractFeatures(3, True).spec())
    assert build_features(None) is None
    assert features_for_env(ContractEnv(action_map="raw")) == {
        "family": "contract",
        "n_types": 3,
        "dynamic": True,
    }


def _featured_actor(seed: int, prediction: str) -> DiffusionActor:
    torch.manual_seed(seed)
    spec = ContractFeatures(3, True).spec()
    actor = DiffusionActor(
        21, 24, width=32, depth=3, time_dim=8, prediction=prediction, features=spec
    )
    rescore(actor.denoiser, 0.3)
    return actor


@pytest.mark.parametrize("prediction", ["eps", "x0"])
def test_compact_policy_with_features_matches_the_masked_actor(prediction: str):
    actor = _featured_actor(3, prediction)
    s = torch.rand(9, 21, generator=torch.Generator().manual_seed(1))
    assert torch.allclose(actor.compact()(s), actor.decide(s), atol=1e-5)
    # the features reach the decision: the same weights without them read other inputs
    assert actor.denoiser.hidden[0].in_features == 24 + 8 + ContractFeatures(3, True).out_dim


def test_a_featured_checkpoint_round_trips(tmp_path: Path):
    from optkit.learn.policy import load_checkpoint, save_checkpoint

    actor = _featured_actor(4, "x0")
    kwargs = {"obs_dim": 21, "act_dim": 24, "width": 32, "depth": 3, "time_dim": 8}
    kwargs |= {"prediction": "x0", "features": actor.features_spec}
    path = tmp_path / "feat.pt"
    save_checkpoint(path, "edmsac", "diffusion", kwargs, actor, {})
    s = torch.rand(5, 21, generator=torch.Generator().manual_seed(8))
    assert torch.allclose(load_checkpoint(path).policy(s), actor.decide(s), atol=1e-5)
    save_checkpoint(path, "edmsac", "diffusion", {**kwargs, "features": None}, actor, {})
    with pytest.raises(InvalidInputError, match="arch_kwargs"):  # weights for other inputs
        load_checkpoint(path)


def test_derived_features_must_be_a_bool(tmp_path: Path):
    path = tmp_path / "run.toml"
    path.write_text("[edmsac]\nderived_features = 1\n")
    with pytest.raises(InvalidInputError, match="derived_features"):
        load_config("edmsac", path, {})


def test_a_run_with_derived_features_publishes_a_checkpoint_that_decides_alike(
    tmp_path: Path, gt_data: Path
):
    """derived_features = true on the raw map: train, publish, reload; the checkpoint records
    the feature spec and decides as the trained actor does."""
    import dataclasses

    from learn_testkit import tiny_config

    from optkit.learn.config import EnvConfig
    from optkit.learn.policy import load_checkpoint
    from optkit.learn.train import publish, train

    cfg = tiny_config(
        "edmsac", gt_data, env=EnvConfig(kwargs={"action_map": "raw"}), total_env_steps=0,
        exact_updates=4, exact_batch_size=8,
    )  # fmt: skip
    run = train("edmsac", dataclasses.replace(cfg, derived_features=True), tmp_path / "run")
    ckpt, _ = publish(run, tmp_path / "models", "feat", heldout_n=4, latency=False)
    loaded = load_checkpoint(ckpt)
    assert loaded.actor.features_spec == {"family": "contract", "n_types": 3, "dynamic": True}
    s = torch.as_tensor(
        np.stack([observe(optkit.core.api.generate("contract", seed=k)) for k in range(5)])
    )
    run.agent.actor.load_state_dict(run.best_actor or run.agent.actor.state_dict())
    assert torch.allclose(loaded.policy(s), run.agent.actor.decide(s), atol=1e-5)


def test_derived_features_are_refused_for_a_family_without_them(tmp_path: Path):
    import dataclasses

    from learn_testkit import TINY, TINY_DIFFUSION

    from optkit.learn.train import train

    repo = Path(__file__).resolve().parents[2]
    cfg = load_config("edmsac", repo / "models" / "configs" / "knapsack-sac.toml")
    small = {k: v for k, v in TINY.items() if k != "bc_pretrain_updates"}
    cfg = dataclasses.replace(cfg, **small, **TINY_DIFFUSION, derived_features=True)
    with pytest.raises(InvalidInputError, match="has no derived features") as info:
        train("edmsac", cfg, tmp_path / "run")
    assert info.value.field == "derived_features"
