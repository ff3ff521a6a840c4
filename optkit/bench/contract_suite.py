"""Build the canonical contract suite: instances plus certified solutions.

    python -m optkit.bench.contract_suite --out instances/contract/suite-v1

Ten sizes I = 1..10 times seven variants covering both IR notions, both valuations, one and two
periods and limited liability: 70 instances. Each solution is the `cvxpy` SolveResult JSON and
is written only if it is certified (status optimal, evaluate() max violation <= 1e-7, dual-bound
gap <= 1e-6); anything else is reported and the build exits non-zero.
"""

from __future__ import annotations

import argparse
import dataclasses
import sys
from collections.abc import Callable
from pathlib import Path

import optkit
from optkit.core.jsonio import write_json_atomic
from optkit.core.status import Status
from optkit.core.tolerances import CERTIFIED_GAP_REL, EXACT_FEASIBILITY
from optkit.families.contract import ContractInstance

SIZES = range(1, 11)


def _power_interim(seed: int, n: int) -> ContractInstance:
    inst = optkit.generate("contract", "power", seed, n_types=n)
    return dataclasses.replace(inst, ir="interim")


def _static_power(seed: int, n: int) -> ContractInstance:
    inst = optkit.generate("contract", "power", seed, n_types=n)
    return dataclasses.replace(inst, periods=1, transition=None, discount=1.0)


VARIANTS: dict[str, Callable[[int, int], ContractInstance]] = {
    "default": lambda s, n: optkit.generate("contract", "default", s, n_types=n),
    "interim": lambda s, n: optkit.generate("contract", "interim", s, n_types=n),
    "power": lambda s, n: optkit.generate("contract", "power", s, n_types=n),
    "power-interim": _power_interim,
    "static": lambda s, n: optkit.generate("contract", "static", s, n_types=n),
    "static-power": _static_power,
    "liability": lambda s, n: optkit.generate(
        "contract", "default", s, n_types=n, limited_liability=True
    ),
}


def build(out: Path, base_seed: int = 2026) -> int:
    failures = 0
    for v_index, (variant, make) in enumerate(VARIANTS.items()):
        for n in SIZES:
            seed = base_seed + 100 * v_index + n
            name = f"{variant}-I{n:02d}"
            inst = dataclasses.replace(make(seed, n), name=name)
            res = optkit.solve(inst, solver="cvxpy")
            ok = (
                res.status is Status.OPTIMAL
                and res.evaluation is not None
                and res.evaluation.max_violation <= EXACT_FEASIBILITY
                and res.gap is not None
                and res.gap <= CERTIFIED_GAP_REL
            )
            print(f"{name:22s} {res.status.value:10s} obj={res.objective!s:22s} gap={res.gap}")
            if not ok:
                failures += 1
                continue
            write_json_atomic(out / f"{name}.json", inst.to_dict())
            sol = res.to_dict()
            sol["timing"] = {k: 0.0 for k in sol["timing"]}  # keep the files reproducible
            write_json_atomic(out / f"{name}.solution.json", sol)
    return failures


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("--seed", type=int, default=2026)
    args = parser.parse_args(argv)
    failures = build(args.out, args.seed)
    print(f"{failures} instance(s) not certified" if failures else "all certified")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
