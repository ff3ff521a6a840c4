"""`optkit export FILE --format lp|mps`: the Pyomo model of exact_pyomo.py as an LP or MPS file.

Written atomically (a temp file in the target's folder, then a rename), with Pyomo's symbolic
labels so rows and columns carry the instance's component and skill names.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

from optkit.core.fields import as_choice
from optkit.families.knapsack.exact_pyomo import pyomo_model
from optkit.families.knapsack.instance import KnapsackInstance

FORMATS = ("lp", "mps")


def export(instance: KnapsackInstance, path: Path, fmt: str) -> None:
    from pyomo.opt import ProblemFormat

    fmt = as_choice(fmt, "format", FORMATS)
    path = Path(path)
    model = pyomo_model(instance)
    path.parent.mkdir(parents=True, exist_ok=True)
    # Pyomo guesses the format from the suffix and warns (on stdout) unless the guess equals the
    # format given, which must therefore be its ProblemFormat, not the string.
    fd, tmp = tempfile.mkstemp(prefix=f".{path.stem}-", suffix=f".{fmt}", dir=path.parent)
    os.close(fd)
    os.chmod(tmp, 0o644)  # mkstemp's 0600 would make the model file private
    try:
        formats = {"lp": ProblemFormat.cpxlp, "mps": ProblemFormat.mps}
        model.write(tmp, format=formats[fmt], io_options={"symbolic_solver_labels": True})
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise
