"""The Newton direction against L-BFGS and scikit-learn's solvers, to f*(1 + 1e-6).

The protocol of ``bench_logistic.py`` (same objective, f* from very tight
fits, the first ``tol`` of 1e-3, ..., 1e-12 whose fit reaches the target
counts), with the time measured as the **median of interleaved repeats**:
once every candidate's counted ``tol`` is known, ``--repeats`` rounds fit
every candidate once each, in turn, so that a change of the machine's load
touches all of them alike. The report gives the median, the lowest and the
highest time of each candidate, its iterations and products, and the ratio
of medians against the best scikit-learn solver.

Problems: the benchmark's digits, breast-cancer (standardised and raw) and
dense 5,000 x 100 sets, the raw wine data (3 classes), a dense 5,000 x 300
binary set, and an image-like 10-class problem with 784 correlated,
unstandardised features (``image_like_multiclass``): the shapes on which
the rule of ``direction="auto"`` was chosen. On request (``--datasets``),
standardised problems of similar shapes: digits, a dense 20,000 x 300
binary set and a 5-class one (``dense_multiclass``), where L-BFGS needs few
iterations and the truncated Newton direction loses to it.

Run from the repository root::

    python benchmarks/bench_newton.py [--quick] [--datasets a,b]
        [--repeats R] [--output DIR] [--name STEM]

The committed reports: ``newton.md`` (``--repeats 7 --budget 90``: the
seven problems above), ``newton_large.md`` (``--datasets
dense_50k,sparse_100k --repeats 5 --budget 60 --fstar-timeout 120 --name
newton_large``: the two large sets of ``bench_logistic.py``) and
``newton_std.md`` (``--datasets digits_std,dense_20k_300_std,
multiclass_20k_300 --repeats 5 --budget 60 --name newton_std``).
"""

import _common as common
import bench_logistic as logistic
import numpy as np
from sklearn.preprocessing import StandardScaler

from sklearn_so._harness import fits, reports
from sklearn_so._harness.datasets import (
    Dataset,
    bundled,
    dense_binary,
    dense_multiclass,
    image_like_multiclass,
)

SO_CONFIGS = (
    ("ls", "lbfgs"),
    ("ls", "newton"),
    ("lo", "newton"),
    ("ps", "newton"),
    ("ls", "newton-cg"),
    ("ps", "newton-cg"),
)
DATASETS = {
    "breast_cancer_std": logistic.DATASETS["breast_cancer_std"],
    "breast_cancer_raw": logistic.DATASETS["breast_cancer_raw"],
    "digits": logistic.DATASETS["digits"],
    "wine_raw": lambda: logistic.contiguous("wine_raw", *bundled("wine")),
    "dense_5k": logistic.DATASETS["dense_5k"],
    "dense_5k_300": lambda: logistic.contiguous(
        "dense_5k_300", *dense_binary(5_000, 300)
    ),
    "image_5k": lambda: Dataset("image_5k", *image_like_multiclass(5_000)),
    # Standardised features of similar shapes, where L-BFGS needs few
    # iterations (the report newton_std.md).
    "digits_std": lambda: Dataset("digits_std", *bundled("digits", standardise=True)),
    "dense_20k_300_std": lambda: Dataset(
        "dense_20k_300_std", *standardised(*dense_binary(20_000, 300))
    ),
    "multiclass_20k_300": lambda: Dataset(
        "multiclass_20k_300", *dense_multiclass(20_000, 300)
    ),
    "dense_50k": logistic.DATASETS["dense_50k"],
    "sparse_100k": logistic.DATASETS["sparse_100k"],
}
# The two large sets of bench_logistic.py and the standardised ones only on
# request (--datasets).
STANDARDISED = ("digits_std", "dense_20k_300_std", "multiclass_20k_300")
FULL_DATASETS = tuple(
    name for name in DATASETS if name not in ("dense_50k", "sparse_100k", *STANDARDISED)
)
QUICK_DATASETS = ("breast_cancer_std", "breast_cancer_raw", "digits")


def standardised(X, y):
    """X with zero-mean, unit-variance columns, and y."""
    return StandardScaler().fit_transform(X), y


def make_candidates(dataset, args):
    """scikit-learn's three solvers, then the SO configurations.

    The exact Newton direction (ours and newton-cholesky) is left out when
    the Hessian has more than ``--max-hessian`` rows.
    """
    size = (dataset.X.shape[1] + 1) * dataset.n_outputs
    candidates = []
    for solver in logistic.SKLEARN_SOLVERS:
        if solver == "newton-cholesky" and size > args.max_hessian:
            continue
        estimator = logistic.sklearn_estimator(solver)
        candidates.append(fits.Candidate(f"sklearn {solver}", estimator))
    for solver, direction in SO_CONFIGS:
        if direction == "newton" and size > args.max_hessian:
            continue
        estimator = logistic.so_estimator(solver, direction)
        candidates.append(fits.Candidate(fits.config_label(estimator), estimator))
    return candidates


def benchmark_dataset(dataset, args, notes):
    """f*, the counted tol of every candidate, then the interleaved repeats."""
    # newton-cholesky joins the tight fits only where its Hessian is small.
    logistic.FSTAR_CHOLESKY_MAX_FEATURES = args.max_hessian // dataset.n_outputs - 1
    with common.FitWorker(dataset, args.threads) as worker:
        fstar, source, tight = logistic.compute_fstar(
            worker, dataset, args.fstar_timeout
        )
        if fstar is None:
            notes.append(f"{dataset.name} skipped: every tight fit timed out.")
            return None, []
        common.log(f"{dataset.name}: f* = {fstar:.12g} from {source}")
        target = fstar * (1.0 + logistic.TARGET_RTOL)
        counted = []
        rows = []
        for candidate in make_candidates(dataset, args):
            attempts, stop = logistic.run_tol_sequence(
                worker, candidate, dataset, target, args.budget
            )
            row = {
                "dataset": dataset.name,
                "estimator": candidate.label,
                "library": candidate.library,
                "status": "reached" if stop == "reached" else f"not reached ({stop})",
            }
            if attempts:
                last = attempts[-1]
                estimator = last.outcome.estimator
                row.update(
                    n_iter=fits.n_iterations(estimator),
                    tol=last.tol,
                    gap=(last.value - fstar) / abs(fstar),
                )
                if candidate.ours:
                    row["n_products"] = estimator.n_products_
                    row["hessian_passes"] = estimator.product_counts_.get("hessian", 0)
                if stop == "reached":
                    counted.append((candidate, last.tol, row, [last.outcome.seconds]))
            common.log(f"  {candidate.label:<26} {row['status']} {row.get('tol')}")
            rows.append(row)
        for _ in range(args.repeats - 1):
            for candidate, tol, _, seconds in counted:
                outcome = worker.fit(
                    candidate.fresh(tol=tol), timeout=5 * seconds[0] + 10
                )
                if outcome is not None:
                    seconds.append(outcome.seconds)
        for _, _, row, seconds in counted:
            row["time_ms"] = 1e3 * float(np.median(seconds))
            row["min_ms"] = 1e3 * min(seconds)
            row["max_ms"] = 1e3 * max(seconds)
            row["n_times"] = len(seconds)
    best = min(
        (r["time_ms"] for r in rows if r["library"] == "sklearn" and "time_ms" in r),
        default=None,
    )
    for row in rows:
        if best is not None and "time_ms" in row:
            row["vs_best_sklearn"] = best / row["time_ms"]
    info = {
        "dataset": dataset.name,
        "shape": dataset.X.shape,
        "n_classes": dataset.n_classes,
        "f_star": fstar,
        "source": source,
        "tight": tight,
    }
    return info, rows


COLUMNS = (
    ("estimator", "estimator", "s"),
    ("status", "status", "s"),
    ("tol", "tol", ".0e"),
    ("n_iter", "n_iter", "d"),
    ("n_products", "products", "d"),
    ("hessian_passes", "of which Hessian", "d"),
    ("time_ms", "median [ms]", ".3g"),
    ("min_ms", "min [ms]", ".3g"),
    ("max_ms", "max [ms]", ".3g"),
    ("vs_best_sklearn", "vs best sk", ".2f"),
    ("gap", "(f - f*)/f*", ".1e"),
)


def section(info, rows):
    """The Markdown section of one dataset."""
    n, d = info["shape"]
    title = (
        f"### {info['dataset']}: n={n}, d={d}, classes={info['n_classes']}; "
        f"f* = {info['f_star']:.12g} (from {info['source']})"
    )
    table = reports.markdown_table(
        [heading for _, heading, _ in COLUMNS],
        [[reports.fmt(row.get(key), spec) for key, _, spec in COLUMNS] for row in rows],
    )
    return f"{title}\n\n{table}"


CSV_COLUMNS = ("dataset",) + tuple(key for key, _, _ in COLUMNS) + ("n_times",)


def parse_args(argv=None):
    """Command-line options."""
    parser = common.benchmark_parser(
        __doc__.splitlines()[0],
        DATASETS,
        quick_help="the three small datasets",
        budget_help="seconds of fitting per solver and dataset (default 60)",
    )
    parser.add_argument("--repeats", type=int, default=9, help="interleaved rounds")
    parser.add_argument(
        "--name", default="newton", help="stem of the report and CSV (default newton)"
    )
    parser.add_argument("--fstar-timeout", type=float, help="seconds per tight fit")
    parser.add_argument(
        "--max-hessian",
        type=int,
        default=2000,
        help="largest Hessian (rows) of the exact Newton solvers (default 2000)",
    )
    args = parser.parse_args(argv)
    return common.complete_args(
        parser,
        args,
        DATASETS,
        names=(QUICK_DATASETS, FULL_DATASETS),
        defaults={"budget": (10.0, 60.0), "fstar_timeout": (60.0, 300.0)},
    )


def main(argv=None):
    """Run the benchmark; write <name>.csv and <name>.md (newton by default)."""
    args = parse_args(argv)
    infos, rows, notes = common.run_datasets(
        args, lambda name: DATASETS[name](), benchmark_dataset
    )
    protocol = (
        f"Protocol: bench_logistic.py's objective, f* and tol sequence; time = "
        f"median of {args.repeats} interleaved fits at the counted tol (min and "
        f"max beside it); threads: {args.threads}. 'vs best sk': the best "
        "scikit-learn median over this row's median (> 1 = faster)."
    )
    notes.append(common.total_time_note(args))
    common.write_results(
        args.output,
        {f"{args.name}.csv": (rows, CSV_COLUMNS)},
        f"{args.name}.md",
        common.report_document(
            "# Newton direction: time to f*(1 + 1e-6)",
            args.load_before,
            [protocol, *common.dataset_sections(infos, rows, section)],
            notes,
        ),
    )


if __name__ == "__main__":
    main()
