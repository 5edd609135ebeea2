"""Fixed and per-iteration overhead on small problems: an interleaved A/B.

Two copies of the package are imported in one process -- this checkout
(B) and a baseline copy (A, e.g. main's ``sklearn_so`` folder copied under
another name) -- and their fits of the same small problems alternate, round
after round, at one BLAS thread; each fit is timed with
``time.process_time``. Interleaving exposes both copies to the same load
on a shared machine, so the ratio B/A of the medians is what the change
did, even when the seconds themselves are inflated. scikit-learn's
LogisticRegression (newton-cholesky, lbfgs) and MLPClassifier (lbfgs) are
timed in the same rounds, for the absolute comparison.

The two copies must take the same iterations to the same objective: the
script checks it and says so.

Usage::

    git worktree add ../baseline main
    mkdir ../ab && cp -r ../baseline/sklearn_so ../ab/sklearn_so_main
    python benchmarks/bench_overhead.py --baseline ../ab/sklearn_so_main
"""

import argparse
import importlib
import os
import statistics
import sys
import time
import warnings

import numpy as np
from sklearn.datasets import make_classification
from sklearn.linear_model import LogisticRegression
from sklearn.neural_network import MLPClassifier
from threadpoolctl import threadpool_limits

import sklearn_so
from sklearn_so._harness.datasets import bundled


def datasets():
    """The small problems: name -> (X, y)."""
    X200, y200 = make_classification(200, 10, n_informative=5, random_state=0)
    return {
        "breast cancer std": bundled("breast_cancer", standardise=True),
        "breast cancer raw": bundled("breast_cancer"),
        "digits": bundled("digits"),
        "200x10": (X200, y200),
    }


def ours(package):
    """(case, dataset, factory) for one copy of the package."""
    logistic = package.SOLogisticRegression
    network = package.SOTwoLayerClassifier
    return [
        ("logistic default", "breast cancer std", lambda: logistic()),
        ("logistic newton", "breast cancer std", lambda: logistic(direction="newton")),
        ("logistic so", "breast cancer std", lambda: logistic(solver="so")),
        ("logistic default", "breast cancer raw", lambda: logistic()),
        ("logistic newton", "breast cancer raw", lambda: logistic(direction="newton")),
        ("logistic default", "digits", lambda: logistic()),
        ("logistic default", "200x10", lambda: logistic()),
        ("logistic newton", "200x10", lambda: logistic(direction="newton")),
        ("network ls", "200x10", lambda: network(hidden_units=20, random_state=0)),
        (
            "network so",
            "200x10",
            lambda: network(hidden_units=20, solver="so", random_state=0),
        ),
    ]


def references():
    """scikit-learn's fits of the same problems, keyed like :func:`ours`."""
    return {
        "logistic": [
            ("newton-cholesky", lambda: LogisticRegression(solver="newton-cholesky")),
            ("lbfgs", lambda: LogisticRegression(max_iter=10000)),
        ],
        "network": [
            (
                "MLP lbfgs",
                lambda: MLPClassifier(
                    hidden_layer_sizes=(20,),
                    solver="lbfgs",
                    max_iter=10000,
                    random_state=0,
                ),
            )
        ],
    }


def timed_fit(make, X, y):
    """Process seconds of one fit, and the fitted estimator."""
    estimator = make()
    start = time.process_time()
    estimator.fit(X, y)
    return time.process_time() - start, estimator


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--baseline",
        required=True,
        help="folder of the baseline copy of the package (imported by its name)",
    )
    parser.add_argument("--rounds", type=int, default=21)
    args = parser.parse_args(argv)
    folder = os.path.abspath(args.baseline)
    sys.path.insert(0, os.path.dirname(folder))
    baseline = importlib.import_module(os.path.basename(folder))
    data = datasets()
    cases_a, cases_b = ours(baseline), ours(sklearn_so)
    refs = references()
    times = {}
    checks = {}
    warnings.simplefilter("ignore")
    with threadpool_limits(1):
        for round_ in range(args.rounds):
            timed = set()
            for (case, name, make_a), (_, _, make_b) in zip(
                cases_a, cases_b, strict=True
            ):
                X, y = data[name]
                pair = [("A", make_a), ("B", make_b)]
                if round_ % 2:
                    pair.reverse()
                for label, make in pair:
                    seconds, fitted = timed_fit(make, X, y)
                    times.setdefault((case, name, label), []).append(seconds)
                    checks[(case, name, label)] = (
                        int(np.ravel(fitted.n_iter_)[0]),
                        fitted.loss_,
                        dict(fitted.product_counts_),
                    )
                for ref, make in refs[case.split()[0]]:
                    if (ref, name) in timed:
                        continue
                    timed.add((ref, name))
                    seconds, _ = timed_fit(make, X, y)
                    times.setdefault((ref, name, "ref"), []).append(seconds)
    load = os.getloadavg()
    print(
        f"{args.rounds} interleaved rounds, 1 BLAS thread, process time; "
        f"load average {load[0]:.2f} {load[1]:.2f} {load[2]:.2f} at the end"
    )
    print()
    print("| problem | fit | A ms | B ms | B/A | same iterates |")
    print("|---|---|---|---|---|---|")
    for case, name, _ in cases_b:
        a = statistics.median(times[(case, name, "A")]) * 1e3
        b = statistics.median(times[(case, name, "B")]) * 1e3
        (iter_a, loss_a, counts_a), (iter_b, loss_b, counts_b) = (
            checks[(case, name, "A")],
            checks[(case, name, "B")],
        )
        same = (
            iter_a == iter_b
            and counts_a == counts_b
            and abs(loss_a - loss_b) <= 1e-10 * abs(loss_a)
        )
        print(
            f"| {name} | {case} ({iter_b} it.) | {a:.2f} | {b:.2f} | {b / a:.3f} | "
            f"{'yes' if same else 'NO'} |"
        )
    print()
    print("| problem | scikit-learn fit | ms |")
    print("|---|---|---|")
    for (ref, name, label), values in times.items():
        if label == "ref":
            print(f"| {name} | {ref} | {statistics.median(values) * 1e3:.2f} |")


if __name__ == "__main__":
    main()
