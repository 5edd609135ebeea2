"""How many L-BFGS pairs: iterations and time for ``memory`` = 10, 50, 100.

Logistic regression (``ls``/``lbfgs``): iterations and wall time to
the gradient criterion ``tol`` on raw digits, raw breast cancer, raw wine and
the dense 50,000 x 500 set of ``bench_logistic.py``. Two-layer networks (100
tanh units, standardised inputs): the objective after a fixed number of
iterations (``tol=0``) and the time they took, on standardised digits and a
5,000 x 100 synthetic regression. One BLAS thread. This is the measurement
behind ``memory="auto"`` (100 pairs) and the networks default of 10.

Run from the repository root::

    python benchmarks/bench_memory.py [--quick] [--memories 10,50,100]
"""

import argparse
import os

import _common as common
import numpy as np
from bench_logistic import DATASETS
from sklearn.exceptions import ConvergenceWarning

from sklearn_so import SOLogisticRegression, SOTwoLayerClassifier, SOTwoLayerRegressor
from sklearn_so._harness.datasets import bundled, linear_regression
from sklearn_so._harness.fits import limit_threads, timed_fit
from sklearn_so._harness.reports import markdown_table


def logistic_problems(quick):
    """(name, X, y, tol) of the logistic problems."""
    problems = [
        ("digits (raw)", *bundled("digits"), 1e-6),
        ("breast cancer (raw)", *bundled("breast_cancer"), 1e-4),
        ("wine (raw)", *bundled("wine"), 1e-6),
    ]
    if not quick:
        dense = DATASETS["dense_50k"]()
        problems.append(("dense 50,000 x 500", dense.X, dense.y, 1e-6))
    return [(name, np.asarray(X, dtype=float), y, tol) for name, X, y, tol in problems]


def network_problems(quick):
    """(name, estimator class, X, y, iterations) of the network problems."""
    iterations = 50 if quick else 200
    return [
        (
            "digits (standardised)",
            SOTwoLayerClassifier,
            *bundled("digits", standardise=True),
            iterations,
        ),
        (
            "regression 5,000 x 100",
            SOTwoLayerRegressor,
            *linear_regression(5_000, 100, noise=1.0),
            iterations,
        ),
    ]


def fit_seconds(estimator, X, y):
    """Wall time of ``estimator.fit(X, y)``; convergence warnings are dropped.

    The fits stop on purpose before convergence (networks) or are measured
    for their iteration counts, so the warnings say nothing here.
    """
    seconds, _ = timed_fit(estimator, X, y, record=ConvergenceWarning)
    return seconds


def main(argv=None):
    """Print the two tables as Markdown, after the environment."""
    load_before = os.getloadavg()
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="small problems only")
    parser.add_argument("--memories", default="10,50,100", help="comma-separated")
    args = parser.parse_args(argv)
    memories = [int(m) for m in args.memories.split(",")]
    base = memories[0]
    limit_threads(1)

    rows = []
    for name, X, y, tol in logistic_problems(args.quick):
        first = None
        for memory in memories:
            # direction="lbfgs": "auto" takes Newton's direction (no pairs)
            # on breast cancer and wine.
            est = SOLogisticRegression(
                direction="lbfgs", memory=memory, tol=tol, max_iter=100_000
            )
            seconds = fit_seconds(est, X, y)
            n_iter = int(est.n_iter_[0])
            first = first or n_iter
            rows.append(
                [
                    name,
                    str(memory),
                    str(n_iter),
                    f"{first / n_iter:.2f}",
                    f"{seconds:.3g}",
                ]
            )
    logistic_table = markdown_table(
        [
            "logistic problem",
            "memory",
            "iterations",
            f"iterations at memory={base} over these",
            "time [s]",
        ],
        rows,
    )
    rows = []
    for name, cls, X, y, iterations in network_problems(args.quick):
        first = None
        for memory in memories:
            est = cls(memory=memory, tol=0.0, max_iter=iterations, random_state=0)
            seconds = fit_seconds(est, X, y)
            first = first or (est.loss_, seconds)
            rows.append(
                [
                    name,
                    str(memory),
                    str(est.n_iter_),
                    f"{est.loss_:.4g}",
                    f"{first[0] / est.loss_:.2f}",
                    f"{seconds:.3g}",
                    f"{seconds / first[1]:.2f}",
                ]
            )
    network_table = markdown_table(
        [
            "network problem",
            "memory",
            "iterations",
            "objective",
            f"objective at memory={base} over this",
            "time [s]",
            f"time over time at memory={base}",
        ],
        rows,
    )
    print("# L-BFGS memory: iterations and time\n")
    print("\n".join(common.environment_lines(load_before)))
    print(f"\n{logistic_table}\n\n{network_table}")


if __name__ == "__main__":
    main()
