"""`optkit export` for podpack: the first stage of the tiered model as an LP or MPS file.

The first stage maximises placed(>= t_1), the pods of the highest priority placed, over the
model of tiered.py from the instance's current state (requests and allocatable divided by the
per-resource gcd, exact; the scale is in the `cpsat`/`mip` certificate). Variable x(v) is
pod-on-node pair v in tiered.build order (pods in file order, each pod's nodes in order).
Later stages add one lock row each and change the objective: `optkit solve --solver mip`.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

from optkit.families.podpack.exact_mip import pyomo_model
from optkit.families.podpack.instance import PodpackInstance
from optkit.families.podpack.tiered import build


def export(instance: PodpackInstance, path: Path, fmt: str) -> None:
    """Write the first-stage MIP to `path` ("lp" or "mps"), atomically."""
    from pyomo.opt import ProblemFormat

    formats = {"lp": ProblemFormat.cpxlp, "mps": ProblemFormat.mps}
    model = build(instance)
    m = pyomo_model(model, stage=0)
    path = Path(path)
    fd, tmp = tempfile.mkstemp(prefix="optkit-export-", suffix=f".{fmt}", dir=path.parent)
    os.close(fd)
    try:
        m.write(tmp, format=formats[fmt], io_options={"symbolic_solver_labels": True})
        os.replace(tmp, path)
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)
