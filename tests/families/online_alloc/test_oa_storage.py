"""Instance files: JSON + .npz round trip, generator specs, and every refused input (exit 2)."""

from __future__ import annotations

import json
import os

import numpy as np
import pytest

import optkit
from optkit.families.online_alloc import storage
from optkit.families.online_alloc.generate import generate


@pytest.fixture
def saved(tmp_path):
    inst = generate("small", 5, T=30)
    path = storage.save(inst, tmp_path / "stream.json")
    return inst, path


def header(path):
    return json.loads(path.read_text())


def write_header(path, data):
    path.write_text(json.dumps(data))


def test_npz_round_trip_keeps_compact_dtype(saved):
    inst, path = saved
    back = optkit.load(path)
    assert back.consumption.dtype == np.uint8
    assert np.array_equal(back.consumption, inst.consumption)
    assert np.array_equal(back.rewards, inst.rewards) and np.array_equal(back.rho, inst.rho)
    assert header(path)["arrays"] == "stream.npz"


def test_generator_spec_regenerates_bit_for_bit(tmp_path):
    inst = generate("nrm", 3, T=500, m=7, input_model="markov")
    path = tmp_path / "spec.json"
    path.write_text(json.dumps(inst.to_dict()))
    back = optkit.load(path)
    assert np.array_equal(back.rewards, inst.rewards)
    assert np.array_equal(back.consumption, inst.consumption)
    assert back.rho.tolist() == inst.rho.tolist()


def test_bidding_round_trip(tmp_path):
    inst = generate("bidding-small", 1)
    back = optkit.load(storage.save(inst, tmp_path / "b.json"))
    assert back.variant == "bidding" and np.array_equal(back.prices, inst.prices)


def test_header_rho_must_match_generator(tmp_path):
    data = generate("small", 2, T=10).to_dict()
    data["rho"][1] += 1e-9
    write_header(tmp_path / "x.json", data)
    with pytest.raises(optkit.InvalidInputError) as exc:
        optkit.load(tmp_path / "x.json")
    assert exc.value.field == "rho[1]"


@pytest.mark.parametrize(("key", "value"), [("seed", 5), ("preset", "nrm")])
def test_header_seed_and_preset_must_match_generator(tmp_path, key, value):
    """A generator-spec header that names another seed or preset than its generator's is
    refused (it loaded silently as the generator's), naming the key."""
    data = generate("small", 2, T=10).to_dict()
    assert data["generator"]["seed"] == 2 and data[key] != value
    data[key] = value
    write_header(tmp_path / "x.json", data)
    with pytest.raises(optkit.InvalidInputError) as exc:
        optkit.load(tmp_path / "x.json")
    assert exc.value.field == key


def _cli_error(run_cli, path, needle):
    res = run_cli("solve", path, "--solver", "greedy")
    assert res.code == 2, res.err
    assert len(res.err_lines) == 1 and needle in res.err, res.err
    return res


def test_budget_not_positive_exit_2(run_cli, saved):
    _, path = saved
    data = header(path)
    data["rho"][2] = 0.0
    write_header(path, data)
    _cli_error(run_cli, path, "rho[2]")


def test_shape_disagrees_with_header_exit_2(run_cli, saved):
    _, path = saved
    data = header(path)
    data["T"] = 31
    write_header(path, data)
    _cli_error(run_cli, path, "stream.npz:rewards")


def test_negative_consumption_exit_2(run_cli, tmp_path):
    inst = generate("small", 1, T=10)
    C = inst.consumption.astype(np.float32)
    C[4, 1, 2] = -1.0
    np.savez(tmp_path / "s.npz", rewards=inst.rewards, consumption=C)
    write_header(tmp_path / "s.json", {**inst.header(), "arrays": "s.npz"})
    _cli_error(run_cli, tmp_path / "s.json", "consumption[4, 1, 2]")


def test_nan_reward_exit_2(run_cli, tmp_path):
    inst = generate("small", 1, T=10)
    R = inst.rewards.copy()
    R[3, 0] = np.nan
    np.savez(tmp_path / "s.npz", rewards=R, consumption=inst.consumption)
    write_header(tmp_path / "s.json", {**inst.header(), "arrays": "s.npz"})
    _cli_error(run_cli, tmp_path / "s.json", "rewards[3, 0]")


def test_pickled_npz_exit_2(run_cli, tmp_path):
    inst = generate("small", 1, T=10)
    objects = np.empty((10, 3), dtype=object)
    objects[:] = 1.0
    np.savez(tmp_path / "s.npz", rewards=objects, consumption=inst.consumption)
    write_header(tmp_path / "s.json", {**inst.header(), "arrays": "s.npz"})
    _cli_error(run_cli, tmp_path / "s.json", "pickle")


@pytest.mark.parametrize("target", ["../outside.npz", "/tmp/abs.npz", "link.npz"])
def test_escaping_npz_exit_2(run_cli, tmp_path, target):
    inst = generate("small", 1, T=10)
    inner = tmp_path / "inner"
    inner.mkdir()
    storage.save(inst, tmp_path / "outside.json")  # a valid .npz one folder up
    os.symlink(tmp_path / "outside.npz", inner / "link.npz")
    write_header(inner / "s.json", {**inst.header(), "arrays": target})
    _cli_error(run_cli, inner / "s.json", "arrays")


def test_size_guard_names_the_estimate(monkeypatch, tmp_path):
    monkeypatch.setattr(storage, "physical_memory_bytes", lambda: 1 << 20)
    data = generate("small", 1, T=10).to_dict()
    data["generator"]["options"]["T"] = 10**6
    data["T"] = 10**6
    write_header(tmp_path / "big.json", data)
    with pytest.raises(optkit.InvalidInputError) as exc:
        optkit.load(tmp_path / "big.json")
    assert exc.value.field == "generator.options.T" and "GiB" in exc.value.problem


def test_unknown_key_and_missing_arrays(tmp_path, saved):
    _, path = saved
    data = header(path)
    data["colour"] = "red"
    write_header(path, data)
    with pytest.raises(optkit.InvalidInputError) as exc:
        optkit.load(path)
    assert exc.value.field == "colour"
    del data["colour"], data["arrays"]
    write_header(path, data)
    with pytest.raises(optkit.InvalidInputError) as exc:
        optkit.load(path)
    assert exc.value.field == "arrays"


def test_named_bidding_spec_loads(tmp_path):
    data = generate("bidding-small", 4).to_dict()
    data["name"] = "b4"
    write_header(tmp_path / "b.json", data)
    back = optkit.load(tmp_path / "b.json")
    assert back.name == "b4" and back.variant == "bidding"


def test_shipped_examples_load_and_certify():
    from pathlib import Path

    folder = Path(__file__).resolve().parents[3] / "instances" / "online_alloc"
    for path in sorted(folder.glob("*.json")):
        inst = optkit.load(path)
        if inst.T <= 1000:
            res = optkit.solve(
                inst, "hindsight_cvxpy" if inst.variant == "matching" else "dual_bound"
            )
            assert res.status is optkit.Status.OPTIMAL and res.gap <= 1e-6, path.name


@pytest.mark.parametrize(
    ("preset", "options", "field"),
    [
        ("nrm", {"n_types": 3}, "n_types"),
        ("nrm-periodic", {"stay": 0.5}, "stay"),
        ("nrm-markov", {"block": 10}, "block"),
        ("small", {"low_factor": 0.5}, "low_factor"),
        ("small", {"entropy": 1.0}, "entropy"),
    ],
)
def test_an_option_the_streams_model_never_reads_is_refused(preset, options, field):
    """`optkit generate online_alloc --n-types 3` on an iid preset silently changed nothing."""
    with pytest.raises(optkit.InvalidInputError) as exc:
        generate(preset, 0, **options)
    assert exc.value.field == field
    generate("nrm-markov", 0, T=50, n_types=3, stay=0.5)  # where they apply, they are read
