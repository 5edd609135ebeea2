"""Time to a common target: SOLogisticRegression against LogisticRegression.

Every estimator minimises the same objective (``C=1``, an unpenalised
intercept)::

    f(W, b) = mean_i loss_i + ||W||^2 / (2 C n)

which is LogisticRegression's objective divided by ``C n`` and equals
``SOLogisticRegression.loss_``. One function, :func:`objective`, evaluates it
from ``coef_`` and ``intercept_`` for every fitted estimator.

Protocol, identical for every solver:

1. ``f*`` is the smallest objective reached by very tight fits (sklearn
   newton-cg and lbfgs, newton-cholesky for dense data with at most 1000
   features, and SOLogisticRegression, all with ``tol=1e-12``); the target is
   ``f* (1 + 1e-6)``.
2. Each solver is fitted with ``tol`` = 1e-3, 1e-4, ..., 1e-12 in turn (a
   large ``max_iter``); the first fit whose objective is at most the target
   counts, with its wall time (best of ``--repeats``; a fit under 0.1 s is
   repeated to about 1 s of fitting, at most 50 fits: ``SHORT_FITS``),
   ``n_iter_`` and ``tol``.
3. A tighter ``tol`` only continues the same deterministic trajectory, so the
   sequence also stops when a fit ended for another reason than its ``tol``
   (``max_iter``, or SOLogisticRegression found no further decrease), when a
   fit exceeded the solver's time budget on the dataset (``--budget`` seconds
   of fitting, summed over the sequence; the fit runs in a child process,
   which is killed), or when the budget is spent.

Run from the repository root::

    python benchmarks/bench_logistic.py [--quick] [--datasets a,b]
        [--repeats R] [--output DIR]
"""

import tracemalloc
import warnings
from dataclasses import dataclass

import _common as common
import numpy as np
import scipy.sparse as sp
from sklearn.linear_model import LogisticRegression

from sklearn_so import SOLogisticRegression
from sklearn_so._harness import fits, reports, timing
from sklearn_so._harness.datasets import (
    Dataset,
    bundled,
    dense_binary,
    sparse_binary,
)
from sklearn_so._objectives import logistic_objective

C = 1.0
TOLS = tuple(10.0**-k for k in range(3, 13))
TIGHT_TOL = 1e-12
TARGET_RTOL = 1e-6
MAX_ITER = {"lbfgs": 100_000, "newton": 10_000}
SO_SOLVERS = ("ls", "lo", "ps", "so")
SO_DIRECTIONS = ("gd", "lbfgs", "adam")
SKLEARN_SOLVERS = ("lbfgs", "newton-cg", "newton-cholesky")
# newton-cholesky forms and factorises a dense (d q) x (d q) Hessian: beyond
# this many features a single iteration takes minutes and gigabytes.
NEWTON_CHOLESKY_MAX_FEATURES = 5000
FSTAR_CHOLESKY_MAX_FEATURES = 1000
MEMORY_DATASET = "dense_50k"


# --------------------------------------------------------------------------
# Datasets
# --------------------------------------------------------------------------


def contiguous(name, X, y):
    """A dataset whose X is a C-contiguous float64 array (copied if needed).

    Every solver then reads X in the same, row-major layout (``load_digits``
    gives a non-contiguous view).
    """
    return Dataset(name, np.ascontiguousarray(X, dtype=np.float64), y)


# Raw digits: pixel values 0-16, 1797 x 64, 10 classes; breast cancer:
# 569 x 30, binary; synthetic sets: binary, seed 0.
DATASETS = {
    "digits": lambda: contiguous("digits", *bundled("digits")),
    "breast_cancer_std": lambda: Dataset(
        "breast_cancer_std", *bundled("breast_cancer", standardise=True)
    ),
    "breast_cancer_raw": lambda: contiguous(
        "breast_cancer_raw", *bundled("breast_cancer")
    ),
    "dense_50k": lambda: contiguous("dense_50k", *dense_binary(50_000, 500)),
    "sparse_100k": lambda: Dataset("sparse_100k", *sparse_binary(100_000, 20_000)),
    "dense_5k": lambda: contiguous("dense_5k", *dense_binary(5_000, 100)),
    "sparse_10k": lambda: Dataset("sparse_10k", *sparse_binary(10_000, 2_000)),
}
FULL_DATASETS = ("digits", "breast_cancer_std", "breast_cancer_raw")
FULL_DATASETS += ("dense_50k", "sparse_100k")
QUICK_DATASETS = FULL_DATASETS[:3] + ("dense_5k", "sparse_10k")


# --------------------------------------------------------------------------
# The objective
# --------------------------------------------------------------------------


def objective(estimator, dataset, C=C):
    """The common objective of a fitted estimator, from its coefficients.

    ``mean_i loss_i + ||W||^2 / (2 C n)`` with the binary loss
    ``log(1 + exp(z)) - y z`` or the multinomial ``logsumexp(z) - z_y``:
    :func:`sklearn_so._objectives.logistic_objective`, which the demo uses
    too.
    """
    return logistic_objective(estimator, dataset.X, dataset.y, C)


# --------------------------------------------------------------------------
# Candidates
# --------------------------------------------------------------------------


def sklearn_estimator(solver, tol=1e-4):
    """LogisticRegression with the common objective and a large ``max_iter``."""
    max_iter = MAX_ITER["lbfgs"] if solver == "lbfgs" else MAX_ITER["newton"]
    return LogisticRegression(
        C=C, fit_intercept=True, solver=solver, tol=tol, max_iter=max_iter
    )


def so_estimator(solver="so", direction="lbfgs", tol=1e-4):
    """SOLogisticRegression with the common objective and a large ``max_iter``."""
    return SOLogisticRegression(
        C=C,
        fit_intercept=True,
        solver=solver,
        direction=direction,
        tol=tol,
        max_iter=MAX_ITER["lbfgs"],
    )


def make_candidates(dataset):
    """The sklearn solvers, then every SOLogisticRegression solver/direction.

    Parameters
    ----------
    dataset : Dataset
        The problem; newton-cholesky is left out when it has more than
        ``NEWTON_CHOLESKY_MAX_FEATURES`` features.

    Returns
    -------
    candidates : list of Candidate
    """
    candidates = []
    for solver in SKLEARN_SOLVERS:
        too_wide = dataset.X.shape[1] > NEWTON_CHOLESKY_MAX_FEATURES
        if solver == "newton-cholesky" and too_wide:
            continue
        candidates.append(
            fits.Candidate(f"sklearn {solver}", sklearn_estimator(solver))
        )
    # Every solver with every direction, then the default (direction
    # "auto": "newton" on the small problems, else "lbfgs").
    configs = [
        (solver, direction) for solver in SO_SOLVERS for direction in SO_DIRECTIONS
    ]
    configs.append(("ls", "auto"))
    for solver, direction in configs:
        estimator = so_estimator(solver, direction)
        candidates.append(fits.Candidate(fits.config_label(estimator), estimator))
    return candidates


# --------------------------------------------------------------------------
# f* and time to target
# --------------------------------------------------------------------------


def tight_estimators(dataset):
    """The very tight fits whose best objective defines f*.

    Parameters
    ----------
    dataset : Dataset
        The problem; newton-cholesky joins for dense data with at most
        ``FSTAR_CHOLESKY_MAX_FEATURES`` features.

    Returns
    -------
    estimators : dict
        Label -> unfitted estimator with ``tol=TIGHT_TOL``.
    """
    fits = {
        "sklearn newton-cg": sklearn_estimator("newton-cg", TIGHT_TOL),
        "sklearn lbfgs": sklearn_estimator("lbfgs", TIGHT_TOL),
    }
    dense = not sp.issparse(dataset.X)
    if dense and dataset.X.shape[1] <= FSTAR_CHOLESKY_MAX_FEATURES:
        fits["sklearn newton-cholesky"] = sklearn_estimator(
            "newton-cholesky", TIGHT_TOL
        )
    fits["SO so/lbfgs"] = so_estimator(tol=TIGHT_TOL)
    return fits


def compute_fstar(worker, dataset, timeout):
    """Return f*, the fit that reached it, and a note per tight fit.

    Parameters
    ----------
    worker : FitWorker
        Fits on ``dataset``.
    dataset : Dataset
        The problem.
    timeout : float
        Seconds allowed to each tight fit; one that exceeds it is left out.

    Returns
    -------
    fstar : float or None
        None if every tight fit timed out.
    source : str or None
    notes : dict
        Label -> objective (float) or "timeout".
    """
    notes = {}
    for label, estimator in tight_estimators(dataset).items():
        outcome = worker.fit(estimator, timeout)
        if outcome is None:
            notes[label] = "timeout"
            continue
        value = objective(outcome.estimator, dataset)
        fits.check_loss_attribute(outcome.estimator, value, f"tight fit {label}")
        notes[label] = value
    values = {k: v for k, v in notes.items() if not isinstance(v, str)}
    if not values:
        return None, None, notes
    source = min(values, key=values.get)
    return values[source], source, notes


def stopped_by_tol(estimator, max_iter):
    """Whether a fit ended on its ``tol`` (so a tighter one would go on)."""
    if isinstance(estimator, SOLogisticRegression):
        return estimator.stop_reason_.startswith("gradient criterion")
    return fits.n_iterations(estimator) < max_iter


@dataclass
class Attempt:
    """One fit of the tol sequence."""

    tol: float
    outcome: common.FitOutcome
    value: float


def run_tol_sequence(worker, candidate, dataset, target, budget):
    """Fit with tol 1e-3, ..., 1e-12 until the target (or a stop rule).

    Parameters
    ----------
    worker : FitWorker
        Fits on ``dataset``.
    candidate : Candidate
        The solver configuration.
    dataset : Dataset
        The problem.
    target : float
        Objective value to reach.
    budget : float
        Seconds of fitting allowed, summed over the sequence; the fit that
        would exceed it is killed.

    Returns
    -------
    attempts : list of Attempt
        The fits made, loosest first; the last reached the target if any did.
    stop : str
        ``"reached"`` or why the sequence stopped before reaching it.
    """
    attempts, spent = [], 0.0
    for tol in TOLS:
        remaining = budget - spent
        if remaining <= 0:
            return attempts, "budget"
        estimator = candidate.fresh(tol=tol)
        outcome = worker.fit(estimator, timeout=remaining + common.IPC_SLACK)
        if outcome is None:
            return attempts, "timeout"
        spent += outcome.seconds
        value = objective(outcome.estimator, dataset)
        fits.check_loss_attribute(outcome.estimator, value, candidate.label)
        attempts.append(Attempt(tol, outcome, value))
        if value <= target:
            return attempts, "reached"
        if not stopped_by_tol(outcome.estimator, estimator.max_iter):
            return attempts, _early_stop_reason(outcome.estimator)
    return attempts, "tol 1e-12 too loose"


def _early_stop_reason(estimator):
    """Short reason for a fit that ended before meeting its ``tol``."""
    if fits.n_iterations(estimator) >= estimator.max_iter:
        return "max_iter"
    return "stalled"


# Fits shorter than 0.1 s are repeated to about 1 s of fitting (at most 50
# fits), whatever --repeats says, for every solver alike.
SHORT_FITS = common.ShortFits(seconds=0.1, total=1.0, max_fits=50)


def best_repeat_time(worker, candidate, tol, first_seconds, repeats):
    """Best wall time of the fits at ``tol`` (see ``SHORT_FITS``).

    Parameters
    ----------
    worker : FitWorker
        Fits on the dataset.
    candidate : Candidate
        The solver configuration.
    tol : float
        The tolerance that reached the target.
    first_seconds : float
        Time of the fit already made at ``tol``; it counts as one repeat.
    repeats : int
        Total number of fits asked for (``--repeats``).

    Returns
    -------
    seconds : float
    """
    best = first_seconds
    for _ in range(SHORT_FITS.count(first_seconds, repeats) - 1):
        outcome = worker.fit(candidate.fresh(tol=tol), timeout=3 * first_seconds + 10)
        if outcome is not None:
            best = min(best, outcome.seconds)
    return best


def time_to_target(worker, candidate, dataset, fstar, budget, repeats):
    """Apply the protocol to one candidate.

    Parameters
    ----------
    worker : FitWorker
        Fits on ``dataset``.
    candidate : Candidate
        The solver configuration.
    dataset : Dataset
        The problem.
    fstar : float
        The reference minimum; the target is ``fstar * (1 + TARGET_RTOL)``.
    budget : float
        Seconds of fitting allowed for the tol sequence.
    repeats : int
        Fits at the counted tol; the best time is reported.

    Returns
    -------
    row : dict
        The row of the results table (status, time, iterations, tol,
        products, gap to f*, ...).
    """
    target = fstar * (1.0 + TARGET_RTOL)
    attempts, stop = run_tol_sequence(worker, candidate, dataset, target, budget)
    row = {
        "dataset": dataset.name,
        "estimator": candidate.label,
        "library": candidate.library,
        "status": "reached" if stop == "reached" else f"not reached ({stop})",
        "n_fits": len(attempts),
        "fit_seconds_total": sum(a.outcome.seconds for a in attempts),
    }
    # Every fit of the sequence, for the convergence plot (logistic_trace.csv).
    row["_trace"] = [
        {
            "dataset": dataset.name,
            "estimator": candidate.label,
            "tol": a.tol,
            "seconds": a.outcome.seconds,
            "n_iter": fits.n_iterations(a.outcome.estimator),
            "objective": a.value,
            "gap": timing.relative_gap(a.value, fstar),
        }
        for a in attempts
    ]
    if not attempts:
        return row
    best = min(attempts, key=lambda a: a.value)
    counted = attempts[-1] if stop == "reached" else best
    estimator = counted.outcome.estimator
    row.update(
        objective=counted.value,
        gap=timing.relative_gap(counted.value, fstar),
        n_iter=fits.n_iterations(estimator),
        tol=counted.tol,
        warnings=reports.join_warnings(counted.outcome.warnings, 160),
    )
    if candidate.ours:
        row["n_products"] = estimator.n_products_
        row["stop_reason"] = estimator.stop_reason_
    if stop == "reached":
        row["time_s"] = best_repeat_time(
            worker, candidate, counted.tol, counted.outcome.seconds, repeats
        )
    return row


# --------------------------------------------------------------------------
# Cost reference: memory
# --------------------------------------------------------------------------


def peak_memory(dataset):
    """Peak memory traced during one default SOLogisticRegression().fit.

    tracemalloc sees numpy's allocations; X itself is allocated before
    tracing starts, so the peak is the fit's extra memory.

    Returns
    -------
    peak_bytes : int
    """
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        tracemalloc.start()
        try:
            SOLogisticRegression().fit(dataset.X, dataset.y)
            _, peak_bytes = tracemalloc.get_traced_memory()
        finally:
            tracemalloc.stop()
    return peak_bytes


# --------------------------------------------------------------------------
# Reporting
# --------------------------------------------------------------------------


def add_speedups(rows):
    """Add the time ratios against sklearn lbfgs and the best sklearn solver.

    A ratio above 1 means the row's solver reached the target faster.
    """
    for group in reports.group_by(rows, "dataset").values():
        sklearn_times = {
            r["estimator"]: r["time_s"]
            for r in group
            if r["library"] == "sklearn" and "time_s" in r
        }
        lbfgs = sklearn_times.get("sklearn lbfgs")
        best = min(sklearn_times.values(), default=None)
        for row in group:
            if "time_s" not in row:
                continue
            if lbfgs is not None:
                row["speedup_vs_sklearn_lbfgs"] = lbfgs / row["time_s"]
            if best is not None:
                row["speedup_vs_best_sklearn"] = best / row["time_s"]


def add_product_ratio(row, bare_seconds):
    """Wall time per iteration over the time of two bare products."""
    if row["library"] == "sklearn_so" and "time_s" in row and row.get("n_iter"):
        row["time_per_iter_over_2_products"] = (
            row["time_s"] / row["n_iter"] / bare_seconds
        )


TRACE_COLUMNS = ("dataset", "estimator", "tol", "seconds", "n_iter", "objective", "gap")

RESULT_COLUMNS = (
    ("estimator", "estimator", "s"),
    ("status", "status", "s"),
    ("time_s", "time [s]", ".3g"),
    ("n_iter", "n_iter", "d"),
    ("tol", "tol", ".0e"),
    ("n_products", "products", "d"),
    ("time_per_iter_over_2_products", "t_iter / 2 products", ".1f"),
    ("speedup_vs_sklearn_lbfgs", "vs sk lbfgs", ".2f"),
    ("speedup_vs_best_sklearn", "vs best sk", ".2f"),
    ("gap", "(f - f*)/f*", ".1e"),
)


def results_section(dataset_row, rows):
    """The Markdown section of one dataset."""
    title = (
        f"### {dataset_row['dataset']}: n={dataset_row['n_samples']}, "
        f"d={dataset_row['n_features']}, classes={dataset_row['n_classes']}, "
        f"density={dataset_row['density']:.3g}"
    )
    summary = (
        f"f* = {dataset_row['f_star']:.12g} (from {dataset_row['f_star_source']}); "
        f"target f*(1 + {TARGET_RTOL:g}); two bare products "
        f"{1e3 * dataset_row['bare_products_s']:.3g} ms. Tight fits: "
        + ", ".join(
            f"{k} {v if isinstance(v, str) else format(v, '.12g')}"
            for k, v in dataset_row["tight_fits"].items()
        )
    )
    table = reports.markdown_table(
        [heading for _, heading, _ in RESULT_COLUMNS],
        [
            [reports.fmt(row.get(key), spec) for key, _, spec in RESULT_COLUMNS]
            for row in rows
        ],
    )
    return "\n\n".join([title, summary, table])


def markdown_report(args, datasets_info, rows, memory_line, notes):
    """The whole Markdown report."""
    protocol = (
        f"Protocol: C={C}, fit_intercept=True; tol 1e-3, ..., 1e-12 until the "
        f"objective is within {TARGET_RTOL:g} of f*; time = best of "
        f"{args.repeats} fit(s) at the first tol that reaches it "
        f"({SHORT_FITS.describe()}). Fitting "
        f"budget per solver and dataset: {args.budget:g} s; tight fits for f*: "
        f"{args.fstar_timeout:g} s each; threads: {args.threads or 'default'}. "
        "'vs ...' columns: time ratio (> 1 = "
        "faster than sklearn). t_iter / 2 products: wall time per iteration "
        "over the time of X @ M plus X.T @ R. Not reached: 'timeout' = a fit "
        "exceeded the rest of the budget and was killed, 'budget' = the budget "
        "was spent, 'max_iter' / 'stalled' = the fit ended before meeting its "
        "tol (max_iter, or no further decrease). (f - f*)/f*: of the counted "
        "fit, or of the best fit if the target was not reached."
    )
    blocks = [protocol, *common.dataset_sections(datasets_info, rows, results_section)]
    return common.report_document(
        "# Logistic regression: time to f*(1 + 1e-6)",
        args.load_before,
        blocks + ([memory_line] if memory_line else []),
        notes,
    )


CSV_COLUMNS = (
    "dataset",
    "n_samples",
    "n_features",
    "n_classes",
    "density",
    "f_star",
    "f_star_source",
    "bare_products_s",
    "estimator",
    "library",
    "status",
    "time_s",
    "n_iter",
    "tol",
    "n_products",
    "time_per_iter_over_2_products",
    "speedup_vs_sklearn_lbfgs",
    "speedup_vs_best_sklearn",
    "objective",
    "gap",
    "n_fits",
    "fit_seconds_total",
    "stop_reason",
    "warnings",
)


# --------------------------------------------------------------------------
# Driver
# --------------------------------------------------------------------------


def benchmark_dataset(dataset, args, notes):
    """Compute f* and run every candidate on one dataset.

    Parameters
    ----------
    dataset : Dataset
        The problem.
    args : argparse.Namespace
        The command-line options.
    notes : list of str
        Remarks for the report; appended to.

    Returns
    -------
    info : dict or None
        Dataset-level facts (shape, f*, cost of two bare products); None if
        no f* could be computed.
    rows : list of dict
        One row per candidate, with the dataset facts merged in.
    """
    bare = common.bare_products_time(dataset.X, dataset.n_outputs)
    with common.FitWorker(dataset, args.threads) as worker:
        fstar, source, tight = compute_fstar(worker, dataset, args.fstar_timeout)
        if fstar is None:
            notes.append(f"{dataset.name} skipped: every tight fit timed out.")
            return None, []
        info = {
            "dataset": dataset.name,
            "n_samples": dataset.X.shape[0],
            "n_features": dataset.X.shape[1],
            "n_classes": dataset.n_classes,
            "density": dataset.density,
            "f_star": fstar,
            "f_star_source": source,
            "bare_products_s": bare,
            "tight_fits": tight,
        }
        common.log(
            f"{dataset.name}: f* = {fstar:.12g} from {source}; tight fits {tight}"
        )
        rows = []
        if dataset.X.shape[1] > NEWTON_CHOLESKY_MAX_FEATURES:
            notes.append(
                f"{dataset.name}: sklearn newton-cholesky not run (more than "
                f"{NEWTON_CHOLESKY_MAX_FEATURES} features: a dense Hessian)."
            )
        for candidate in make_candidates(dataset):
            row = time_to_target(
                worker, candidate, dataset, fstar, args.budget, args.repeats
            )
            add_product_ratio(row, bare)
            common.log(_row_summary(row))
            rows.append(row)
    _check_fstar(info, rows, notes)
    facts = {k: v for k, v in info.items() if k not in ("dataset", "tight_fits")}
    return info, [{**row, **facts} for row in rows]


def _check_fstar(info, rows, notes):
    """Note any fit whose objective is below f* by more than rounding."""
    floor = info["f_star"] * (1.0 - 1e-9)
    for row in rows:
        value = row.get("objective")
        if value is not None and value < floor:
            notes.append(
                f"{info['dataset']}: {row['estimator']} reached {value:.15g} < "
                f"f* = {info['f_star']:.15g}: f* is not the minimum."
            )


def _row_summary(row):
    """One progress line for stderr."""
    time_s = row.get("time_s")
    shown = f"{time_s:.3g}s" if time_s is not None else "-"
    return (
        f"  {row['estimator']:<24} {row['status']:<28} {shown:>8} "
        f"n_iter={row.get('n_iter', '-')} tol={row.get('tol', '-')} "
        f"fits={row['n_fits']} gap={row.get('gap', float('nan')):.1e}"
    )


def memory_report():
    """Peak extra memory of a default fit on ``MEMORY_DATASET``, in words."""
    dataset = DATASETS[MEMORY_DATASET]()
    peak = peak_memory(dataset)
    return (
        f"Memory: one default SOLogisticRegression().fit on {MEMORY_DATASET} "
        f"({dataset.X.shape[0]} x {dataset.X.shape[1]}, X = "
        f"{dataset.nbytes / 2**20:.1f} MiB): tracemalloc peak "
        f"{peak / 2**20:.1f} MiB = {peak / dataset.nbytes:.2f} x X.nbytes."
    )


def parse_args(argv=None):
    """Command-line options."""
    parser = common.benchmark_parser(
        __doc__.splitlines()[0],
        DATASETS,
        quick_help="small datasets and budgets (~2 min)",
        budget_help="seconds of fitting per solver and dataset (default 30, quick 2)",
    )
    parser.add_argument("--repeats", type=int, default=1, help="best of R fits")
    parser.add_argument(
        "--fstar-timeout",
        type=float,
        help="seconds per tight fit for f* (default 600, quick 10)",
    )
    parser.add_argument(
        "--skip-memory", action="store_true", help="skip the tracemalloc measure"
    )
    args = parser.parse_args(argv)
    if args.repeats < 1:
        parser.error("--repeats must be at least 1")
    return common.complete_args(
        parser,
        args,
        DATASETS,
        names=(QUICK_DATASETS, FULL_DATASETS),
        defaults={"budget": (2.0, 30.0), "fstar_timeout": (10.0, 600.0)},
    )


def main(argv=None):
    """Run the benchmark and write the CSV and Markdown results."""
    args = parse_args(argv)
    infos, rows, notes = common.run_datasets(
        args, lambda name: DATASETS[name](), benchmark_dataset
    )
    add_speedups(rows)
    trace = [fit for row in rows for fit in row.pop("_trace", [])]
    memory_line = None if args.skip_memory else memory_report()
    notes.append(common.total_time_note(args))
    common.write_results(
        args.output,
        {
            "logistic.csv": (rows, CSV_COLUMNS),
            "logistic_trace.csv": (trace, TRACE_COLUMNS),
        },
        "logistic.md",
        markdown_report(args, infos, rows, memory_line, notes),
    )


if __name__ == "__main__":
    main()
