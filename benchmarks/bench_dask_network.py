"""The two-layer networks on a dask X: time per iteration, an interleaved A/B.

Two copies of the package are imported in one process -- this checkout (B)
and a baseline copy (A, e.g. main's ``sklearn_so`` folder copied under
another name, as for ``bench_overhead.py``) -- and fit the same network on
the same dask X, alternating round after round, on one in-process
``LocalCluster`` of 2 workers with 1 thread each, at one BLAS thread. X is
drawn on the client and persisted in row chunks on the workers before the
rounds. Each iteration's end is stamped (wall clock and this process's CPU
time, which with in-process workers includes the scheduler's and the
workers' work); the time per iteration is the span from the first
iteration's end to the last's over the iterations between them, so the
fit's setup and its final objective are left out. The same network fitted
on X in memory (numpy) is timed in the same rounds, and two bare dask
products on the same X (``bench_dask.bare_dask_products``) and in numpy, timed in
every round, are the cost reference.

The two copies must take the same iterations, products and round trips to
the same objective: the script checks the iterations and the objective
(1e-8 relative) and prints the round trips per iteration of each.

Usage::

    git worktree add ../baseline main
    mkdir ../ab && cp -r ../baseline/sklearn_so ../ab/sklearn_so_main
    python benchmarks/bench_dask_network.py --baseline ../ab/sklearn_so_main
"""

import argparse
import importlib
import os
import statistics
import sys
import time
import warnings

import numpy as np
from bench_dask import bare_dask_products, bare_numpy_products
from threadpoolctl import threadpool_limits

import sklearn_so

SOLVERS = ("fixed", "ls", "so")


def stamped(package):
    """Stamp the end of every iteration of ``package``'s solver; return the list.

    Each entry is ``(wall seconds, process seconds)``.
    """
    stamps = []
    solver = importlib.import_module(package.__name__ + "._optimizer").SubspaceSolver
    end_iteration = solver.end_iteration

    def stamping(self):
        stamps.append((time.perf_counter(), time.process_time()))
        return end_iteration(self)

    solver.end_iteration = stamping
    return stamps


def per_iteration(package, stamps, X, y, solver, max_iter, hidden):
    """Wall and CPU seconds per iteration of one fit, and the fitted network."""
    estimator = package.SOTwoLayerClassifier(
        hidden_units=hidden, solver=solver, max_iter=max_iter, tol=0.0, random_state=0
    )
    stamps.clear()
    estimator.fit(X, y)
    (wall0, cpu0), (wall1, cpu1) = stamps[0], stamps[-1]
    spans = len(stamps) - 1
    return (wall1 - wall0) / spans, (cpu1 - cpu0) / spans, estimator


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--baseline", required=True, help="the baseline copy")
    parser.add_argument("--n-samples", type=int, default=200_000)
    parser.add_argument("--n-features", type=int, default=50)
    parser.add_argument("--hidden", type=int, default=20)
    parser.add_argument("--chunks", type=int, default=4)
    parser.add_argument("--max-iter", type=int, default=8)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--solvers", default=",".join(SOLVERS))
    args = parser.parse_args(argv)
    import dask.array as da
    import distributed

    folder = os.path.abspath(args.baseline)
    sys.path.insert(0, os.path.dirname(folder))
    baseline = importlib.import_module(os.path.basename(folder))
    copies = {"A": baseline, "B": sklearn_so}
    stamps = {label: stamped(package) for label, package in copies.items()}
    warnings.simplefilter("ignore")
    rng = np.random.default_rng(0)
    n, d = args.n_samples, args.n_features
    X = rng.standard_normal((n, d))
    y = (X[:, :5].sum(axis=1) + 0.5 * rng.standard_normal(n) > 0).astype(int)
    solvers = args.solvers.split(",")
    with threadpool_limits(1):
        cluster = distributed.LocalCluster(
            n_workers=2, threads_per_worker=1, processes=False, dashboard_address=None
        )
        client = distributed.Client(cluster)
        try:
            Xd = da.from_array(X, chunks=(-(-n // args.chunks), d)).persist()
            distributed.wait(Xd)
            print(
                f"{n} x {d}, {args.hidden} hidden units, {args.chunks} chunks; "
                f"load {os.getloadavg()}",
                flush=True,
            )
            times, checks, bare = {}, {}, {"dask": [], "numpy": []}
            for round_ in range(args.rounds):
                # In every round: the same load as the fits around them.
                bare["dask"].append(bare_dask_products(Xd, args.hidden))
                bare["numpy"].append(bare_numpy_products(X, args.hidden))
                for solver in solvers:
                    order = ["A", "B"] if round_ % 2 == 0 else ["B", "A"]
                    runs = [(label, Xd) for label in order] + [("B", X)]
                    for label, data in runs:
                        place = "numpy" if data is X else "dask"
                        wall, cpu, est = per_iteration(
                            copies[label],
                            stamps[label],
                            data,
                            y,
                            solver,
                            args.max_iter,
                            args.hidden,
                        )
                        key = (solver, place, label if place == "dask" else "")
                        times.setdefault(key, []).append((wall, cpu))
                        trips = getattr(est, "round_trips_", {}).get("iterations", 0)
                        checks[key] = (est.n_iter_, est.loss_, trips / est.n_iter_)
                print(f"round {round_ + 1} load {os.getloadavg()}", flush=True)
        finally:
            client.close()
            cluster.close()
    bare_dask = statistics.median(bare["dask"])
    print(
        f"\ntwo bare products (median of the rounds): dask {1e3 * bare_dask:.1f} "
        f"ms, numpy {1e3 * statistics.median(bare['numpy']):.1f} ms"
    )
    print("solver  placement  copy  ms/iter wall  ms/iter cpu  trips/iter  n_iter")
    for key, runs in times.items():
        wall = 1e3 * statistics.median(w for w, _ in runs)
        cpu = 1e3 * statistics.median(c for _, c in runs)
        n_iter, _, trips = checks[key]
        print(
            f"{key[0]:6}  {key[1]:9}  {key[2] or '-':4}  {wall:12.1f}  {cpu:11.1f}"
            f"  {trips:10.2f}  {n_iter}"
        )
    for solver in solvers:
        a, b = checks[(solver, "dask", "A")], checks[(solver, "dask", "B")]
        wall = [
            statistics.median(w for w, _ in times[(solver, "dask", label)])
            for label in "AB"
        ]
        same = a[0] == b[0] and abs(a[1] - b[1]) <= 1e-8 * abs(a[1])
        print(
            f"{solver}: B/A wall {wall[1] / wall[0]:.3f}; B per iteration = "
            f"{wall[1] / bare_dask:.2f} x two bare dask products; same "
            f"iterations and objective: {same} ({a[1]:.12g} vs {b[1]:.12g})"
        )
    print(f"load {os.getloadavg()}")


if __name__ == "__main__":
    main()
