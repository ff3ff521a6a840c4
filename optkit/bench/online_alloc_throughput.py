"""DMD decision throughput: batched over streams, and one stream through the streaming API.

    python -m optkit.bench.online_alloc_throughput [--streams 256] [--T 2000] [--single-T 20000]

Streams are nrm (m = 100, d = 10 unless --m/--d) generated beforehand (generation excluded).
`batched` runs simulate.simulate on S streams at once (vectorised over streams); `single`
feeds one stream request by request through policy.step (policies.run_stream), the path a
service embedding the policy would use. Decisions/s = requests decided / wall seconds, best of
--repeat runs (the machine may be shared: the best run is the least disturbed one).
"""

from __future__ import annotations

import argparse
import time

import numpy as np

from optkit.families.online_alloc.dmd import REFERENCES, DMDParams
from optkit.families.online_alloc.generate import generate
from optkit.families.online_alloc.policies import DMD, Greedy, run_stream
from optkit.families.online_alloc.simulate import simulate


def calibration_loop(one, n: int = 5000) -> None:
    """A bare projected-subgradient loop (no safety rule, no streaming API, buffers reused):
    measured at 2.64e5 steps/s on the idle 2-core machine (m = 100, d = 10) before the others'
    jobs started. Its rate here says how loaded the CPU is; scale the other rates by it."""
    C = np.ascontiguousarray(one.consumption[:n].transpose(0, 2, 1), dtype=np.float64)
    R = one.rewards[:n]
    eta = 0.01
    mu, cost, marg, tmp = np.zeros(one.m), np.empty(one.d), np.empty(one.d), np.empty(one.m)
    rem, eta_rho = one.rho * n, eta * one.rho
    for t in range(n):
        Ct = C[t]
        np.dot(Ct, mu, out=cost)
        np.subtract(R[t], cost, out=marg)
        i = int(marg.argmax())
        if marg[i] > 0:
            col = Ct[i]
            np.subtract(rem, col, out=rem)
            np.multiply(col, eta, out=tmp)
            np.add(mu, tmp, out=mu)
        np.subtract(mu, eta_rho, out=mu)
        np.maximum(mu, 0, out=mu)


def best_of(repeat: int, fn) -> float:
    times = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return min(times)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--streams", type=int, default=256)
    ap.add_argument("--T", type=int, default=2000, help="requests per stream (batched)")
    ap.add_argument("--single-T", type=int, default=20_000)
    ap.add_argument("--m", type=int, default=100)
    ap.add_argument("--d", type=int, default=10)
    ap.add_argument("--repeat", type=int, default=3)
    args = ap.parse_args(argv)
    streams = [generate("nrm", s, T=args.T, m=args.m, d=args.d) for s in range(args.streams)]
    one = generate("nrm", 0, T=args.single_T, m=args.m, d=args.d)
    print(f"nrm m = {args.m}, d = {args.d}; batched: {args.streams} streams x T = {args.T}; ")
    print(f"single: one stream, T = {args.single_T}; best of {args.repeat}\n")
    print("| policy | path | decisions | seconds | decisions/s |")
    print("| --- | --- | --- | --- | --- |")
    n_batch = args.streams * args.T
    for ref in REFERENCES:
        p = DMDParams(reference=ref)
        s = best_of(args.repeat, lambda p=p: simulate(streams, "dmd", p))
        print(f"| dmd {ref} | batched | {n_batch} | {s:.3f} | {n_batch / s:,.0f} |")
    s = best_of(args.repeat, lambda: simulate(streams, "greedy"))
    print(f"| greedy | batched | {n_batch} | {s:.3f} | {n_batch / s:,.0f} |")
    for ref in REFERENCES:
        p = DMDParams(reference=ref)
        s = best_of(args.repeat, lambda p=p: run_stream(DMD(p), one))
        print(f"| dmd {ref} | single | {args.single_T} | {s:.3f} | {args.single_T / s:,.0f} |")
    s = best_of(args.repeat, lambda: run_stream(Greedy(), one))
    print(f"| greedy | single | {args.single_T} | {s:.3f} | {args.single_T / s:,.0f} |")
    s = best_of(args.repeat, lambda: calibration_loop(one))
    print(f"| calibration loop (idle: ~260,000/s) | single | 5000 | {s:.3f} | {5000 / s:,.0f} |")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
