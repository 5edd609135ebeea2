"""Both products of an iteration from one read of X: fused against separate.

On a dense, C-ordered X of at least 32 MiB with several classes, an
iteration whose line search takes the unit step (L-BFGS, Newton) forms
the direction's image, the trial point's loss and ``X.T R`` there in one
pass over X in row blocks, and each Hessian product of ``newton-cg`` does
the same (``ProductEngine.forward_backward_blocks``). This script times
the same fits with that pass (the package's rule) and without it (two
separate products), interleaved round after round so that both see the
same load, at one and at two BLAS threads, and checks that both take the
same iterations to the same objective. What the rule leaves out -- smaller
X, binary problems, and BLAS running more than one thread -- is timed with
the pass forced on, to show why.

Usage::

    python benchmarks/bench_fused.py --output benchmarks/results
"""

import argparse
import os
import statistics
import sys
import time
import warnings
from pathlib import Path

import numpy as np
from sklearn.datasets import make_classification
from threadpoolctl import threadpool_limits

import sklearn_so._engine as engine_module
from sklearn_so import SOLogisticRegression
from sklearn_so._harness.datasets import dense_multiclass, image_like_multiclass

sys.path.insert(0, str(Path(__file__).resolve().parent))
import _common as common  # noqa: E402


def _standardised(n_samples, n_features, n_classes):
    X, y = make_classification(
        n_samples,
        n_features,
        n_informative=n_features // 2,
        n_classes=n_classes,
        n_clusters_per_class=1,
        random_state=0,
    )
    return (X - X.mean(axis=0)) / X.std(axis=0), y


def problems():
    """name -> (X, y): multiclass X either side of the rule's size, two binary."""
    return {
        "5 classes, 20000 x 300": dense_multiclass(20_000, 300),
        "10 classes, 100000 x 200": _standardised(100_000, 200, 10),
        "10 classes, 3000 x 300": _standardised(3_000, 300, 10),
        "image-like, 5000 x 784": image_like_multiclass(5_000),
        "binary, 20000 x 300": _standardised(20_000, 300, 2),
        "binary, 50000 x 500": _standardised(50_000, 500, 2),
    }


CASES = [
    ("5 classes, 20000 x 300", "lbfgs"),
    ("5 classes, 20000 x 300", "newton-cg"),
    ("10 classes, 100000 x 200", "lbfgs"),
    ("10 classes, 3000 x 300", "lbfgs"),
    ("image-like, 5000 x 784", "lbfgs"),
    ("image-like, 5000 x 784", "newton-cg"),
    ("binary, 20000 x 300", "lbfgs"),
    ("binary, 50000 x 500", "lbfgs"),
]


def _forced_rows(self, q):
    """The rule without its conditions on the size, the outputs and the threads."""
    X = self.X
    if not isinstance(X, np.ndarray) or not X.flags.c_contiguous:
        return None
    return engine_module.fused_block_size(X)


def _fused_by(name, X, threads):
    """The label of the fused variant: "rule" where the rule fuses, else "forced"."""
    left_out = threads > 1 or name.startswith("binary")
    return "forced" if left_out or X.nbytes < engine_module.FUSED_MIN_BYTES else "rule"


def fit(X, y, direction, variant):
    """Wall seconds and the fitted estimator, with the pass per ``variant``."""
    rule = engine_module.ProductEngine.fused_block_rows
    size = engine_module.FUSED_MIN_BYTES
    try:
        if variant == "separate":
            engine_module.FUSED_MIN_BYTES = np.inf
        elif variant == "forced":
            engine_module.ProductEngine.fused_block_rows = _forced_rows
        estimator = SOLogisticRegression(direction=direction)
        start = time.perf_counter()
        estimator.fit(X, y)
        return time.perf_counter() - start, estimator
    finally:
        engine_module.ProductEngine.fused_block_rows = rule
        engine_module.FUSED_MIN_BYTES = size


def run(rounds, threads):
    """Table rows for every case at ``threads`` BLAS threads."""
    data = problems()
    times, fitted = {}, {}
    with threadpool_limits(threads):
        for round_ in range(rounds):
            for name, direction in CASES:
                X, y = data[name]
                fused = _fused_by(name, X, threads)
                pair = ["separate", fused] if round_ % 2 == 0 else [fused, "separate"]
                for variant in pair:
                    seconds, estimator = fit(X, y, direction, variant)
                    key = (name, direction, variant == "separate")
                    times.setdefault(key, []).append(seconds)
                    fitted[key] = estimator
    rows = []
    for name, direction in CASES:
        separate, fused = (
            fitted[(name, direction, True)],
            fitted[(name, direction, False)],
        )
        t_separate = statistics.median(times[(name, direction, True)])
        t_fused = statistics.median(times[(name, direction, False)])
        same = int(separate.n_iter_[0]) == int(fused.n_iter_[0]) and abs(
            separate.loss_ - fused.loss_
        ) <= 1e-10 * abs(separate.loss_)
        n_bytes = data[name][0].nbytes / 2**20
        rows.append(
            f"| {name} ({n_bytes:.0f} MiB) | {direction} | {threads} | "
            f"{_fused_by(name, data[name][0], threads)} | "
            f"{t_separate * 1e3:.0f} | {t_fused * 1e3:.0f} | "
            f"{t_separate / t_fused:.2f} | "
            f"{int(separate.n_iter_[0])} / {int(fused.n_iter_[0])} | "
            f"{sum(separate.product_counts_.values())} / "
            f"{sum(fused.product_counts_.values())} | "
            f"{'yes' if same else 'no'} |"
        )
    return rows


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--output", type=Path, default=common.DEFAULT_OUTPUT)
    args = parser.parse_args(argv)
    load_before = os.getloadavg()
    warnings.simplefilter("ignore")
    rows = run(args.rounds, 1) + run(args.rounds, 2)
    table = "\n".join(
        [
            "| problem | direction | threads | fused by | separate [ms] | "
            "fused [ms] | speed-up | n_iter (sep / fused) | products | "
            "same iterates |",
            "|---|---|---|---|---|---|---|---|---|---|",
            *rows,
        ]
    )
    protocol = (
        f"Protocol: `SOLogisticRegression(direction=...)` at its defaults "
        f"(tol 1e-4), {args.rounds} rounds, the two variants alternating "
        "within each round; wall time, median. 'separate': two products "
        "per iteration; 'fused': the package's rule ('rule': multiclass "
        f"X of {engine_module.FUSED_MIN_BYTES // 2**20} MiB or more at one "
        "thread) or the pass forced on ('forced': smaller X, binary "
        "problems and two BLAS threads, which the rule leaves out). 'same "
        "iterates': the same "
        "n_iter and objectives within 1e-10 relative (X.T R is summed by "
        "blocks, so the path may differ by rounding)."
    )
    title = "# Fused pass over X: both products of an iteration from one read"
    report = common.report_document(title, load_before, [protocol, table], [])
    common.write_results(args.output, {}, "fused.md", report)


if __name__ == "__main__":
    main()
