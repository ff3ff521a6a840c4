"""The online_alloc family's benchmark scenario (`optkit bench online_alloc`; FamilySpec.bench).

`nrm`: one stream per input model (iid, markov, periodic, adversarial) and seed, m = 100
resources, d = 10 options, T = 2,000 requests (T = 500 in the quick run). Every online policy
plays the stream; the reference is the hindsight LP value certified by `dual_bound` (an upper
bound on every online policy, tight as T grows), so the gap is 1 - reward / OPT_LP. The MIP and
the entropic `hindsight_cvxpy` oracle are left out: the first is for small T, the second for the
matching variant. Time per decision is wall time / T.
"""

from __future__ import annotations

from optkit.core.benchmark import BenchItem, Scenario
from optkit.families.online_alloc.generate import generate

INPUT_MODELS = ("iid", "markov", "periodic", "adversarial")
PRESET_OF = {"iid": "nrm", "markov": "nrm-markov", "periodic": "nrm-periodic",
             "adversarial": "nrm-adversarial"}  # fmt: skip
T_FULL, T_QUICK = 2_000, 500


def nrm_items(seeds: tuple[int, ...], quick: bool) -> list[BenchItem]:
    T = T_QUICK if quick else T_FULL
    return [
        BenchItem(f"{model}-s{seed}", generate(PRESET_OF[model], seed, T=T), seed=seed, decisions=T)
        for seed in seeds
        for model in INPUT_MODELS
    ]


def scenarios() -> tuple[Scenario, ...]:
    return (
        Scenario(
            name="nrm",
            description=(
                f"network revenue management streams (m = 100, d = 10, T = {T_FULL:,}; quick "
                f"T = {T_QUICK}), one per input model ({', '.join(INPUT_MODELS)}) and seed, "
                "against the hindsight LP optimum certified by dual_bound"
            ),
            instances=nrm_items,
            methods=("dmd", "greedy", "fixed_dual", "resolve", "dual_bound"),
            reference="dual_bound",
            seeds=(0, 1, 2),
            quick_seeds=(0,),
        ),
    )
