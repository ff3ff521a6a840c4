"""Instance files: a JSON header with the arrays in a sibling .npz, or a generator spec.

```
{"family": "online_alloc", "schema_version": 1, "variant": "choice", "m": 100, "d": 10,
 "T": 10000, "rho": [...], "input_model": "iid", "seed": 3, "preset": "nrm",
 "arrays": "stream.npz"}                       # or "generator": {"preset", "seed", "options"}
```
The .npz holds `rewards` (T, d) and `consumption` (T, m, d) (float64, float32, uint8 or bool)
for `choice`, `values` and `prices` (T,) for `bidding`. It is read with allow_pickle=False, its
path must resolve inside the header's folder, every member's shape and dtype is checked against
the header from the .npy headers before any array is read, and a stream too large for this
machine's memory is refused up front with the estimate in the message.
"""

from __future__ import annotations

import dataclasses
import os
import zipfile
from pathlib import Path
from typing import Any

import numpy as np

from optkit.core.errors import InvalidInputError
from optkit.core.fields import Fields, as_array, as_choice, as_float, as_int
from optkit.core.jsonio import write_json_atomic
from optkit.core.seeding import check_seed
from optkit.families.online_alloc.instance import (
    CONSUMPTION_DTYPES,
    INPUT_MODELS,
    VARIANTS,
    OnlineAllocInstance,
)

MEMORY_FRACTION = 0.5
"""Refuse streams whose arrays would take more than this share of physical memory."""


def physical_memory_bytes() -> int:
    try:
        return os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    except (ValueError, OSError, AttributeError):  # not POSIX: assume a modest 8 GiB
        return 8 << 30


def check_size(T: int, m: int, d: int, itemsize: int, what: str = "T") -> None:
    """Raise before allocating a stream that cannot fit in memory (estimate in the message)."""
    need = T * d * 8 + T * m * d * itemsize
    limit = MEMORY_FRACTION * physical_memory_bytes()
    if need > limit:
        raise InvalidInputError(
            what,
            f"the stream needs about {need / 2**30:.1f} GiB (T={T}, m={m}, d={d}, "
            f"{itemsize} byte(s) per consumption entry), more than {limit / 2**30:.1f} GiB "
            f"({MEMORY_FRACTION:.0%} of this machine's memory)",
        )


def instance_from_header(data: Any, path: Path | None) -> OnlineAllocInstance:
    """Read a header document; `path` (the JSON's location) is needed for an "arrays" file."""
    f = Fields(data)
    f.get("family")
    f.get("schema_version")  # checked by core.api.check_header
    name = f.get("name", None)
    variant = as_choice(f.get("variant", "choice"), "variant", VARIANTS)
    m = as_int(f.get("m"), "m", ge=1)
    d = as_int(f.get("d"), "d", ge=1)
    T = as_int(f.get("T"), "T", ge=1)
    rho = as_array(f.get("rho"), "rho", (m,))
    input_model = as_choice(f.get("input_model", "given"), "input_model", INPUT_MODELS)
    entropy = f.get("entropy", None)
    if entropy is not None:
        entropy = as_float(entropy, "entropy", gt=0)
    seed = f.get("seed", None)
    seed = None if seed is None else check_seed(seed)
    preset = f.get("preset", None)
    if preset is not None and not isinstance(preset, str):
        raise InvalidInputError("preset", "must be a string or null")
    has_arrays, has_gen = f.has("arrays"), f.has("generator")
    if has_arrays == has_gen:
        raise InvalidInputError("arrays", 'give exactly one of "arrays" (an .npz) or "generator"')
    if has_gen:
        inst = _from_generator(f.get("generator"))
        f.finish()
        for key, want, got in (
            ("variant", variant, inst.variant),
            ("m", m, inst.m),
            ("d", d, inst.d),
            ("T", T, inst.T),
            ("input_model", input_model, inst.input_model),
            ("entropy", entropy, inst.entropy),
            ("seed", seed, inst.seed),
            ("preset", preset, inst.preset),
        ):
            if key in ("seed", "preset") and want is None:  # optional in the header
                continue
            if want != got:
                raise InvalidInputError(key, f"header says {want!r}, the generator makes {got!r}")
        if not np.array_equal(rho, inst.rho):
            j = int(np.argmax(rho != inst.rho))
            raise InvalidInputError(
                f"rho[{j}]", f"header says {rho[j]!r}, the generator makes {inst.rho[j]!r}"
            )
        return inst if name is None else _renamed(inst, name)
    arrays = f.get("arrays")
    f.finish()
    if path is None:
        raise InvalidInputError("arrays", "an .npz-backed header must be loaded from its file")
    npz = _confined(arrays, path)
    members = _read_npz(npz, variant, T, m, d)
    common = dict(
        input_model=input_model,
        seed=seed,
        preset=preset,
        name=name,
        variant=variant,
        entropy=entropy,
    )
    try:
        if variant == "bidding":
            return OnlineAllocInstance(
                rho=rho, values=members["values"], prices=members["prices"], **common
            )
        return OnlineAllocInstance(
            rho=rho, rewards=members["rewards"], consumption=members["consumption"], **common
        )
    except InvalidInputError as exc:
        raise InvalidInputError(f"{npz.name}:{exc.field}", exc.problem) from None


def _renamed(inst: OnlineAllocInstance, name: str) -> OnlineAllocInstance:
    if not isinstance(name, str):
        raise InvalidInputError("name", "must be a string")
    return dataclasses.replace(inst, name=name)


def _from_generator(spec: Any) -> OnlineAllocInstance:
    from optkit.families.online_alloc.generate import PRESET_NAMES, generate, resolve_preset

    g = Fields(spec, "generator")
    preset = g.get("preset")
    if not isinstance(preset, str):
        raise InvalidInputError("generator.preset", "must be a preset name")
    if preset not in PRESET_NAMES:  # named as the file's field, not the registry's lookup
        raise InvalidInputError(
            "generator.preset", f"unknown preset {preset!r}; valid: {', '.join(PRESET_NAMES)}"
        )
    seed = check_seed(g.get("seed"), "generator.seed")
    options = g.get("options", {})
    g.finish()
    if not isinstance(options, dict):
        raise InvalidInputError("generator.options", "must be an object")
    try:
        p = resolve_preset(preset, **options)
    except InvalidInputError as exc:
        raise InvalidInputError(f"generator.options.{exc.field}", exc.problem) from None
    check_size(p.T, p.m, p.d, 1, "generator.options.T")
    return generate(preset, seed, **options)


def _confined(arrays: Any, json_path: Path) -> Path:
    """The .npz path, which must be a relative name resolving inside the header's folder."""
    if not isinstance(arrays, str) or not arrays.endswith(".npz"):
        raise InvalidInputError("arrays", f"must name an .npz file, got {arrays!r}")
    folder = json_path.resolve().parent
    if Path(arrays).is_absolute():
        raise InvalidInputError("arrays", f"must be relative to the JSON's folder, got {arrays!r}")
    target = (folder / arrays).resolve()  # symlinks resolved: a link out of the folder escapes
    if not target.is_relative_to(folder):
        raise InvalidInputError("arrays", f"{arrays!r} escapes the folder {folder}")
    if not target.is_file():
        raise InvalidInputError("arrays", f"{arrays!r} not found next to the JSON")
    return target


def _expected(variant: str, T: int, m: int, d: int) -> dict[str, tuple[int, ...]]:
    if variant == "bidding":
        if (m, d) != (1, 1):
            raise InvalidInputError("m", "bidding has one budget and one option (m = d = 1)")
        return {"values": (T,), "prices": (T,)}
    return {"rewards": (T, d), "consumption": (T, m, d)}


def _read_npz(npz: Path, variant: str, T: int, m: int, d: int) -> dict[str, np.ndarray]:
    want = _expected(variant, T, m, d)
    try:
        zf = zipfile.ZipFile(npz)
    except (zipfile.BadZipFile, OSError) as exc:
        raise InvalidInputError("arrays", f"{npz.name} is not an .npz archive ({exc})") from None
    with zf:
        names = {n.removesuffix(".npy"): n for n in zf.namelist()}
        for key in names:
            if key not in want:
                raise InvalidInputError(
                    f"{npz.name}:{key}", f"unknown array (valid: {', '.join(want)})"
                )
        itemsize = 8
        for key, shape in want.items():
            if key not in names:
                raise InvalidInputError(f"{npz.name}:{key}", "is missing")
            with zf.open(names[key]) as fh:
                try:
                    version = np.lib.format.read_magic(fh)
                    read = (
                        np.lib.format.read_array_header_1_0
                        if version == (1, 0)
                        else np.lib.format.read_array_header_2_0
                    )
                    got_shape, _, dtype = read(fh)
                except ValueError as exc:
                    raise InvalidInputError(
                        f"{npz.name}:{key}", f"bad .npy header ({exc})"
                    ) from None
            if dtype.hasobject:
                raise InvalidInputError(
                    f"{npz.name}:{key}", "holds Python objects (pickle); refused"
                )
            if tuple(got_shape) != shape:
                axes = "(T, m, d)" if len(shape) == 3 else "(T, d)" if len(shape) == 2 else "(T,)"
                raise InvalidInputError(
                    f"{npz.name}:{key}",
                    f"shape {tuple(got_shape)} disagrees with the header's {axes} = {shape}",
                )
            allowed = CONSUMPTION_DTYPES if key == "consumption" else (np.float64, np.float32)
            if dtype.type not in allowed:
                names_ = ", ".join(np.dtype(t).name for t in allowed)
                raise InvalidInputError(
                    f"{npz.name}:{key}", f"dtype {dtype} not allowed (valid: {names_})"
                )
            if key == "consumption":
                itemsize = dtype.itemsize
    check_size(T, m, d, itemsize)
    out: dict[str, np.ndarray] = {}
    with np.load(npz, allow_pickle=False) as z:
        for key in want:
            try:
                out[key] = z[key]
            except ValueError as exc:  # pickled data slipped past the header check
                raise InvalidInputError(f"{npz.name}:{key}", f"refused: {exc}") from None
    return out


def save(instance: OnlineAllocInstance, json_path: str | os.PathLike[str]) -> Path:
    """Write the header JSON and its sibling .npz (same stem); both atomic. Returns the JSON path.

    Consumption keeps its compact dtype; the .npz is uncompressed so loading is a memory copy.
    """
    json_path = Path(json_path)
    npz = json_path.with_suffix(".npz")
    arrays = (
        {"values": instance.values, "prices": instance.prices}
        if instance.variant == "bidding"
        else {"rewards": instance.rewards, "consumption": instance.consumption}
    )
    tmp = npz.with_name(f".{npz.name}.tmp.npz")
    np.savez(tmp, **arrays)
    os.replace(tmp, npz)
    write_json_atomic(json_path, {**instance.header(), "arrays": npz.name})
    return json_path


def from_file(data: Any, path: Path) -> OnlineAllocInstance:
    """FamilySpec.from_file: `optkit.load(path)` hands the parsed JSON and its path here."""
    return instance_from_header(data, path)
