"""`optkit export` of the hindsight LP through highspy's model writer (LP or MPS).

The model is exact_highs.build_highs_model: the same matrix the oracles solve, written by HiGHS
itself (Pyomo is too slow at 10^7 nonzeros). Written to a temp file and renamed (atomic).
"""

from __future__ import annotations

import os
from pathlib import Path

from optkit.core.errors import InvalidInputError
from optkit.families.online_alloc.exact_highs import build_highs_model
from optkit.families.online_alloc.instance import OnlineAllocInstance


def export(instance: OnlineAllocInstance, path: Path, fmt: str) -> None:
    if instance.variant == "matching":
        raise InvalidInputError(
            "variant", "matching's hindsight problem has an entropy term: no LP/MPS model"
        )
    import highspy

    h = highspy.Highs()
    h.setOptionValue("output_flag", False)
    build_highs_model(instance.rewards, instance.consumption, instance.budgets).pass_to(h)
    path = Path(path)
    # HiGHS picks the format from the extension; the temp name keeps it
    tmp = path.with_name(f".{path.stem}.tmp.{fmt}")
    status = h.writeModel(str(tmp))
    # kWarning: HiGHS made up names (c0, r0, ...) for the unnamed columns and rows of the MPS
    if status == highspy.HighsStatus.kError or not tmp.exists():
        tmp.unlink(missing_ok=True)
        raise RuntimeError(f"HiGHS could not write {path} ({status})")
    os.replace(tmp, path)
