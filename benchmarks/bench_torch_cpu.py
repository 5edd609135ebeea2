"""Our estimators on torch tensors (CPU) against the same fits on numpy.

Issue 13's CPU goal is that a fit on torch CPU tensors takes at most 1.3x
the time of the same fit on numpy arrays. On a shared machine, wall times
of fits run one after the other move with the load of the other processes,
so this script times the contestants interleaved (their order reversed
every other round) by *process* time, at 1 BLAS thread and 1 torch thread,
and reports the median of the per-round ratios (each contestant first fits
once, untimed, on 2,000 rows: one-time set-up costs). Every fit of one problem
ends with the same ``n_iter_``; the script checks it, and that both
objectives agree.

Problems, on the dense float32 X of ``bench_array_api.py`` (``make_data``:
default 1,000,000 x 500, standardised, binary):

- logistic: ``SOLogisticRegression(tol=1e-4)`` (the ``tol`` at which it
  reaches scikit-learn's target f*(1 + 1e-6) on this X in
  ``bench_array_api.py``), beside scikit-learn's
  ``LogisticRegression(solver="lbfgs", tol=1e-4)`` on numpy for scale;
- network: ``SOTwoLayerClassifier(hidden_units=50, activation="tanh",
  alpha=1e-4, random_state=0)`` for a fixed number of iterations
  (``--network-iterations``, ``tol=0``): time per iteration at this size
  (a fit to MLP's target takes hundreds of them).

Results: ``torch_cpu.md`` and ``torch_cpu.json`` in ``--output``.

Run from the repository root (about 15 minutes at the default size on one
core; ``--n-samples 20000`` takes seconds)::

    python benchmarks/bench_torch_cpu.py [--n-samples N] [--n-features D]
        [--rounds R] [--network-iterations K] [--output DIR]
"""

import argparse
import json
import os
import sys
import time
import warnings

import _common as common
import numpy as np
import sklearn
from bench_array_api import (
    DEFAULT_N_FEATURES,
    DEFAULT_N_SAMPLES,
    logistic_objective,
    make_data,
    network_objective,
    problem_list,
)
from sklearn.exceptions import ConvergenceWarning
from sklearn.linear_model import LogisticRegression

from sklearn_so import SOLogisticRegression, SOTwoLayerClassifier
from sklearn_so._harness.fits import limit_threads

LOGISTIC_TOL = 1e-4
HIDDEN = 50
WARM_UP_ROWS = 2000
RESULTS_JSON = "torch_cpu.json"
RESULTS_MD = "torch_cpu.md"


def make_estimator(problem, library, network_iterations):
    """A fresh estimator of ``problem`` for ``library`` (numpy, torch, sklearn)."""
    if problem == "logistic":
        if library == "sklearn":
            return LogisticRegression(tol=LOGISTIC_TOL, max_iter=1000)
        return SOLogisticRegression(tol=LOGISTIC_TOL)
    return SOTwoLayerClassifier(
        hidden_units=HIDDEN,
        activation="tanh",
        alpha=1e-4,
        random_state=0,
        max_iter=network_iterations,
        tol=0,
    )


def timed(estimator, X, y, dispatch):
    """Fit; return (process seconds, wall seconds)."""
    with sklearn.config_context(array_api_dispatch=dispatch), warnings.catch_warnings():
        # The network stops at max_iter by design.
        warnings.simplefilter("ignore", ConvergenceWarning)
        cpu, wall = time.process_time(), time.perf_counter()
        estimator.fit(X, y)
        return time.process_time() - cpu, time.perf_counter() - wall


def n_iter(estimator):
    """``n_iter_`` as a Python int, whatever array it is."""
    value = estimator.n_iter_
    return int(value if np.ndim(value) == 0 else np.asarray(value).ravel()[0])


def run_problem(problem, data, args):
    """Interleaved rounds of one problem; one row per contestant."""
    X, y, Xt, yt = data
    contestants = {"numpy": (X, y, False), "torch cpu": (Xt, yt, True)}
    if problem == "logistic":
        contestants = {"sklearn lbfgs numpy": (X, y, False), **contestants}
    objective = logistic_objective if problem == "logistic" else network_objective
    rows = {
        name: {"problem": problem, "contestant": name, "cpu_s": [], "wall_s": []}
        for name in contestants
    }
    order = list(contestants)
    # One untimed fit of each on a few rows first: torch's and BLAS's
    # one-time set-up costs are not part of a fit's time.
    for name in order:
        features, labels, dispatch = contestants[name]
        library = "sklearn" if name.startswith("sklearn") else name
        warm = make_estimator(problem, library, 2)
        timed(warm, features[:WARM_UP_ROWS], labels[:WARM_UP_ROWS], dispatch)
    for round_ in range(args.rounds):
        for name in order if round_ % 2 == 0 else order[::-1]:
            features, labels, dispatch = contestants[name]
            library = "sklearn" if name.startswith("sklearn") else name
            estimator = make_estimator(problem, library, args.network_iterations)
            cpu, wall = timed(estimator, features, labels, dispatch)
            row = rows[name]
            row["cpu_s"].append(cpu)
            row["wall_s"].append(wall)
            row["n_iter"] = n_iter(estimator)
            row["objective"] = float(objective(estimator, X, y))
            common.log(
                f"{problem} round {round_} {name:<20} cpu {cpu:.2f}s wall "
                f"{wall:.2f}s n_iter {row['n_iter']} load {os.getloadavg()[0]:.1f}"
            )
    numpy_row, torch_row = rows["numpy"], rows["torch cpu"]
    if numpy_row["n_iter"] != torch_row["n_iter"]:
        raise RuntimeError(
            f"{problem}: n_iter_ differs (numpy {numpy_row['n_iter']}, torch "
            f"{torch_row['n_iter']}): the times would not compare the same work"
        )
    gap = abs(torch_row["objective"] - numpy_row["objective"])
    if gap > 1e-5 * abs(numpy_row["objective"]):
        raise RuntimeError(f"{problem}: objectives differ by {gap:.2e}")
    for row in rows.values():
        row["median_cpu_s"] = float(np.median(row["cpu_s"]))
        row["median_wall_s"] = float(np.median(row["wall_s"]))
        row["torch_over_this"] = float(
            np.median(np.asarray(torch_row["cpu_s"]) / np.asarray(row["cpu_s"]))
        )
    return list(rows.values())


def markdown_report(args, rows, load_before):
    """The report: one table, the ratio, the facts of the run."""
    lines = [
        "# Torch (CPU) against numpy: the same fits, interleaved",
        "",
        *common.environment_lines(load_before),
        "",
        f"X: {args.n_samples} x {args.n_features} float32, standardised, binary "
        "(bench_array_api.make_data, seed 0). Process time (not wall time: the "
        "machine may be shared), 1 BLAS thread, 1 torch thread, contestants "
        "interleaved with their order reversed every other round. Ratio: median "
        "over rounds of torch's time / this contestant's time in the same round.",
        "",
        "| problem | contestant | n_iter | objective | median process time [s] "
        "| median wall time [s] | torch cpu / this |",
        "|---|---|---|---|---|---|---|",
    ]
    for row in rows:
        lines.append(
            f"| {row['problem']} | {row['contestant']} | {row['n_iter']} "
            f"| {row['objective']:.10g} | {row['median_cpu_s']:.3g} "
            f"| {row['median_wall_s']:.3g} | {row['torch_over_this']:.2f} |"
        )
    lines += ["", "Goal: torch cpu / numpy <= 1.3.", ""]
    for row in rows:
        if row["contestant"] == "numpy":
            verdict = "met" if row["torch_over_this"] <= 1.3 else "NOT met"
            lines.append(
                f"- {row['problem']}: torch cpu / numpy = "
                f"{row['torch_over_this']:.2f} ({verdict})"
            )
    return "\n".join(lines) + "\n"


def parse_args(argv=None):
    """Command-line options."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n-samples", type=int, default=DEFAULT_N_SAMPLES)
    parser.add_argument("--n-features", type=int, default=DEFAULT_N_FEATURES)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--network-iterations", type=int, default=5)
    parser.add_argument(
        "--problems", default="logistic,network", help="among logistic, network"
    )
    parser.add_argument("--output", type=common.Path, default=common.DEFAULT_OUTPUT)
    args = parser.parse_args(argv)
    args.problems = problem_list(parser, args)
    return args


def main(argv=None):
    """Run the comparison; write ``torch_cpu.json`` and ``torch_cpu.md``."""
    args = parse_args(argv)
    # scikit-learn enables array API dispatch only with SciPy's support on.
    os.environ.setdefault("SCIPY_ARRAY_API", "1")
    import torch

    limit_threads(1)
    torch.set_num_threads(1)
    load_before = os.getloadavg()
    X, y = make_data(args.n_samples, args.n_features)
    # torch.from_numpy shares X's memory: no second copy of X.
    data = (X, y, torch.from_numpy(X), torch.from_numpy(y))
    rows = []
    for problem in args.problems:
        rows += run_problem(problem, data, args)
    report = markdown_report(args, rows, load_before)
    args.output.mkdir(parents=True, exist_ok=True)
    document = {
        "n_samples": args.n_samples,
        "n_features": args.n_features,
        "rounds": args.rounds,
        "versions": {
            "python": sys.version.split()[0],
            "sklearn": sklearn.__version__,
            "torch": torch.__version__,
        },
        "rows": rows,
    }
    (args.output / RESULTS_JSON).write_text(json.dumps(document, indent=1) + "\n")
    (args.output / RESULTS_MD).write_text(report)
    print(report)
    return document


if __name__ == "__main__":
    main()
