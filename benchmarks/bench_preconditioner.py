"""The centred preconditioner against the diagonal one, side by side.

``SOLogisticRegression(preconditioner="centred")`` eliminates the
intercepts from the diagonal preconditioner of the "lbfgs" direction (as
if the features were centred by their curvature-weighted means). This
script fits the logistic benchmark's problems, the Newton benchmark's and
a sparse tf-idf problem with 10 classes (a 200,000-row draw of
``bench_dask.py``'s generator) with ``direction="lbfgs"`` and either
preconditioner, and reports the iterations and the time each needs to
reach the optimum to a relative 1e-6: the iteration from the loss curve
of a tight fit, the time as the median of fits stopped at that iteration
(``max_iter``), the two preconditioners alternating round after round, at
one BLAS thread.

Usage::

    python benchmarks/bench_preconditioner.py --output benchmarks/results
"""

import argparse
import os
import statistics
import sys
import time
import warnings
from pathlib import Path

import numpy as np
from threadpoolctl import threadpool_limits

from sklearn_so import SOLogisticRegression

sys.path.insert(0, str(Path(__file__).resolve().parent))
import _common as common  # noqa: E402
import bench_dask  # noqa: E402
import bench_logistic  # noqa: E402
import bench_newton  # noqa: E402

# Relative distance to the optimum counted as reached.
TARGET = 1e-6
PRECONDITIONERS = ("diagonal", "centred")
PROBLEMS = (
    "digits",
    "digits_std",
    "breast_cancer_raw",
    "breast_cancer_std",
    "wine_raw",
    "dense_5k_300",
    "image_5k",
    "multiclass_20k_300",
    "dense_50k",
    "sparse_100k",
    "sparse_tfidf_10",
)


def sparse_tfidf_10(n_samples=200_000, n_features=20_000, n_classes=10):
    """One chunk of ``bench_dask.py``'s sparse text-like generator, in memory."""
    teacher = bench_dask._sparse_teacher(n_features, n_classes, 0)
    counts, y = bench_dask._draw_sparse_chunk(
        0, 0, n_samples, n_features, bench_dask.DEFAULT_WORDS, teacher
    )
    frequency = bench_dask._document_frequency(counts)
    idf = np.log((1.0 + n_samples) / (1.0 + frequency)) + 1.0
    return bench_dask._tfidf(counts, idf, np.float64), y


def load(name):
    """``(X, y)`` of a problem by name."""
    if name == "sparse_tfidf_10":
        return sparse_tfidf_10()
    datasets = {**bench_newton.DATASETS, **bench_logistic.DATASETS}
    dataset = datasets[name]()
    return dataset.X, dataset.y


def fit(X, y, preconditioner, **params):
    """Wall seconds of one ``direction="lbfgs"`` fit, and the estimator."""
    estimator = SOLogisticRegression(
        direction="lbfgs", preconditioner=preconditioner, **params
    )
    start = time.perf_counter()
    estimator.fit(X, y)
    return time.perf_counter() - start, estimator


def first_within(curve, f_star):
    """The first iteration whose objective is within TARGET of ``f_star``."""
    gap = (np.asarray(curve) - f_star) / f_star
    reached = np.flatnonzero(gap <= TARGET)
    return int(reached[0]) + 1 if reached.size else None


def benchmark(name, rounds):
    """One table row: iterations and median times of both preconditioners."""
    X, y = load(name)
    tight = {
        pre: fit(X, y, pre, tol=1e-10, max_iter=5000)[1] for pre in PRECONDITIONERS
    }
    f_star = min(estimator.loss_ for estimator in tight.values())
    iterations = {
        pre: first_within(tight[pre].loss_curve_, f_star) for pre in PRECONDITIONERS
    }
    times = {pre: [] for pre in PRECONDITIONERS}
    for round_ in range(rounds):
        order = PRECONDITIONERS if round_ % 2 == 0 else PRECONDITIONERS[::-1]
        for pre in order:
            if iterations[pre] is not None:
                seconds, _ = fit(X, y, pre, tol=0.0, max_iter=iterations[pre])
                times[pre].append(seconds)
    median = {pre: statistics.median(t) if t else None for pre, t in times.items()}
    shape = f"{X.shape[0]} x {X.shape[1]}, {len(np.unique(y))}"
    cells = []
    for pre in PRECONDITIONERS:
        cells += [
            str(iterations[pre]),
            f"{median[pre] * 1e3:.1f}" if median[pre] else "",
        ]
    ratio = ""
    if all(median.values()):
        ratio = f"{median['diagonal'] / median['centred']:.2f}"
    return f"| {name} | {shape} | {' | '.join(cells)} | {ratio} |"


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--problems", default=",".join(PROBLEMS))
    parser.add_argument("--output", type=Path, default=common.DEFAULT_OUTPUT)
    args = parser.parse_args(argv)
    load_before = os.getloadavg()
    warnings.simplefilter("ignore")
    rows = []
    with threadpool_limits(1):
        for name in args.problems.split(","):
            rows.append(benchmark(name, args.rounds))
            print(rows[-1], flush=True)
    table = "\n".join(
        [
            "| problem | n x d, classes | diagonal: iterations | diagonal [ms] | "
            "centred: iterations | centred [ms] | speed-up |",
            "|---|---|---|---|---|---|---|",
            *rows,
        ]
    )
    protocol = (
        "Protocol: `SOLogisticRegression(direction='lbfgs', preconditioner=...)`, "
        "C=1. f*: the lower objective of two tight fits (tol 1e-10, one per "
        "preconditioner); iterations: the first whose objective is within "
        f"{TARGET:g} of f* (relative), on the tight fit's loss curve; time: "
        f"median of {args.rounds} fits stopped there (`max_iter`), the two "
        "preconditioners alternating, wall time, one BLAS thread. "
        "speed-up: diagonal's time over centred's (> 1: centred faster)."
    )
    title = "# Preconditioner of the L-BFGS direction: diagonal against centred"
    report = common.report_document(title, load_before, [protocol, table], [])
    common.write_results(args.output, {}, "preconditioner.md", report)


if __name__ == "__main__":
    main()
