"""Problem families. Importing this package registers every family (each imports core only).

The spec names both this package (`optkit/families/`) and the API call `optkit.families()` that
lists the registered family names; the module is made callable so both hold without one name
shadowing the other (`import optkit.families.contract` keeps working).
"""

import sys
import types

from optkit.core.registry import family_names
from optkit.families import (
    contract,  # noqa: F401  (registers the family)
    knapsack,  # noqa: F401
    online_alloc,  # noqa: F401
    podpack,  # noqa: F401
)


class _CallableModule(types.ModuleType):
    def __call__(self) -> list[str]:
        """Names of the registered families, sorted."""
        return family_names()


sys.modules[__name__].__class__ = _CallableModule
