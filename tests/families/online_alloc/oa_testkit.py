"""Small hand-worked online_alloc instances shared by the tests (plain helpers, no fixtures)."""

from __future__ import annotations

import numpy as np

from optkit.families.online_alloc.instance import OnlineAllocInstance


def three_requests(rho: float = 0.5) -> OnlineAllocInstance:
    """T = 3 requests, one resource, one option each, every option uses 1 unit.

    Rewards 1, 3, 2 and budget ρT = 1.5. The hindsight LP takes request 1 whole and half of
    request 2: 3 + 0.5·2 = 4. The integral optimum takes request 1 only: 3 (request 2 alone
    is 2, requests 0 + 1 need 2 units). Greedy takes request 0 first (reward 1), then cannot
    afford request 1 or 2 (0.5 left): 1. The LP's budget price is μ* = 2 (request 2 is the
    marginal one): D(2) = max(0, 1-2) + max(0, 3-2) + max(0, 2-2) + 2·1.5 = 4.
    """
    return OnlineAllocInstance(
        rho=np.array([rho]),
        rewards=np.array([[1.0], [3.0], [2.0]]),
        consumption=np.ones((3, 1, 1), dtype=np.uint8),
    )


def two_resources() -> OnlineAllocInstance:
    """T = 4, m = 2, d = 2: option 0 uses resource 0, option 1 uses resource 1, one unit each.

    Budgets ρT = (1, 1). Rewards per request (option 0, option 1): (4, 1), (3, 2), (1, 5),
    (2, 2). Each resource serves one request: the best is request 0 on resource 0 (4) and
    request 2 on resource 1 (5), total 9, integral, so LP = MIP = 9.
    """
    C = np.zeros((4, 2, 2), dtype=np.uint8)
    C[:, 0, 0] = 1
    C[:, 1, 1] = 1
    return OnlineAllocInstance(
        rho=np.array([0.25, 0.25]),
        rewards=np.array([[4.0, 1.0], [3.0, 2.0], [1.0, 5.0], [2.0, 2.0]]),
        consumption=C,
    )
