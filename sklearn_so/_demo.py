"""The demo: our estimators and scikit-learn's on the same objectives.

Three problems, all built on this machine without a download: logistic
regression on the raw digits (badly scaled, 10 classes), logistic regression
on a sparse text-like synthetic set, and a two-layer network on the
standardised digits. On each, scikit-learn's estimator and ours are fitted
on the same training split; the objective of every fit is recomputed from
its coefficients by one function (``_objectives.py``), so the numbers
compare. The reference fit of a problem (LogisticRegression or
MLPClassifier with lbfgs, run to its own default tolerance) sets the target
objective; the speed-up of a fit is the reference's fit time over the time
that fit took to reach the target, read from the per-iteration timestamps
our estimators record (``loss_times_``) plus all of the fit's time outside
its iterations (so our times to a target are upper bounds). The data, the
timed fits, the times to a target and the tables come from
:mod:`sklearn_so._harness`, as the benchmark scripts' do.
"""

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from sklearn.exceptions import ConvergenceWarning
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import train_test_split
from sklearn.neural_network import MLPClassifier
from sklearn.preprocessing import StandardScaler

from ._harness import figures, reports
from ._harness.datasets import bundled, sparse_text_like
from ._harness.fits import Candidate, limit_threads, n_iterations, timed_fit
from ._harness.timing import fit_stamps, relative_gap, time_to_target
from ._objectives import logistic_objective, network_objective
from .linear_model import SOLogisticRegression
from .neural_network import SOTwoLayerClassifier

# Our solvers shown in the demo: the default and the main alternatives.
SOLVERS = ("ls", "ps", "so")
# The solver whose chosen rates the plot shows (every rate it picks).
PLOTTED_SOLVER = "so"
CSV_NAME = "demo.csv"
PLOT_NAME = "demo.png"


class DemoError(Exception):
    """A problem the user can fix, reported as one line (no traceback)."""


@dataclass
class Problem:
    """A training/test split, the candidates and what they are compared on.

    Attributes
    ----------
    title : str
        One-line description printed above the table.
    X_train, y_train, X_test, y_test : arrays
        The split.
    objective : callable
        ``objective(estimator, X, y)``, the common objective.
    candidates : list of Candidate
        The estimators, scikit-learn's first.
    targets : list of str
        Labels of the candidates whose final objective is a target; the
        first sets the table's speed-up column, the others get a line of
        their own under the table.
    tight : estimator or None
        A very tight fit whose objective is taken as the optimum f*
        (convex problems only), for the gap column and the plot.
    """

    title: str
    X_train: object
    y_train: object
    X_test: object
    y_test: object
    objective: object
    candidates: list
    targets: list
    tight: object = None


@dataclass
class FitRecord:
    """What one fit produced, ready to print, plot and write to CSV.

    Attributes
    ----------
    problem, label : str
        Where the fit belongs.
    ours : bool
        An sklearn-so estimator.
    seconds : float
        Wall time of ``fit``.
    n_iter : int
        Iterations (epochs for MLP adam).
    n_products : int or None
        Products with X (sklearn-so estimators count them).
    objective : float
        The common objective of the fitted coefficients.
    accuracy : float
        Accuracy on the test split.
    warning : str
        "ConvergenceWarning" if the fit raised one, else "".
    curve, stamps : ndarray or None
        Objective after every iteration and an upper bound of the time since
        ``fit`` began at which it was reached: the iteration's timestamp plus
        all of the fit's time outside the loop (sklearn-so estimators only).
    learning_rates, momentum_rates : ndarray or None
        The rates chosen on every iteration, one column per layer.
    time_to_target : dict
        Target label -> seconds to reach that target's objective, or None.
    """

    problem: str
    label: str
    ours: bool
    seconds: float
    n_iter: int
    n_products: int | None
    objective: float
    accuracy: float
    warning: str
    curve: np.ndarray | None = None
    stamps: np.ndarray | None = None
    learning_rates: np.ndarray | None = None
    momentum_rates: np.ndarray | None = None
    time_to_target: dict = field(default_factory=dict)


# --------------------------------------------------------------------------
# Data
# --------------------------------------------------------------------------


def build_problems(quick, seed):
    """The demo's three problems.

    Parameters
    ----------
    quick : bool
        Small data and networks (a few seconds in all).
    seed : int
        Seed of the splits, the synthetic data and the networks'
        initialisation.

    Returns
    -------
    problems : list of Problem
    """
    X, y = bundled("digits")
    if quick:
        X, y = X[:500], y[:500]
    split = train_test_split(X, y, test_size=0.25, random_state=seed, stratify=y)
    digits_logistic = _logistic_problem(
        f"Logistic regression, digits raw pixels 0-16 "
        f"({split[0].shape[0]} x 64, 10 classes), C=1",
        split,
    )
    n, d, words = (3_000, 1_000, 20) if quick else (40_000, 10_000, 40)
    X_text, y_text = sparse_text_like(n, d, words, seed)
    text_split = train_test_split(X_text, y_text, test_size=0.25, random_state=seed)
    text_logistic = _logistic_problem(
        f"Logistic regression, sparse text-like synthetic "
        f"({text_split[0].shape[0]} x {d}, density {X_text.nnz / (n * d):.2%}), C=1",
        text_split,
    )

    scaler = StandardScaler().fit(split[0])
    hidden, epochs = (20, 100) if quick else (100, 400)
    n_train = split[0].shape[0]
    mlp = [
        Candidate(
            "MLPClassifier(lbfgs)",
            MLPClassifier(
                (hidden,), solver="lbfgs", max_iter=epochs, random_state=seed
            ),
        ),
        Candidate(
            f"MLPClassifier(adam, full batch, {epochs} epochs)",
            MLPClassifier(
                (hidden,),
                solver="adam",
                batch_size=n_train,
                max_iter=epochs,
                tol=0.0,
                n_iter_no_change=epochs,
                shuffle=False,
                random_state=seed,
            ),
        ),
    ]
    ours_network = [
        Candidate(
            f"SOTwoLayerClassifier(solver={solver!r})"
            + (" (default)" if solver == "ls" else ""),
            SOTwoLayerClassifier(hidden, solver=solver, random_state=seed),
        )
        for solver in SOLVERS
    ]
    digits_network = Problem(
        title=f"Two-layer network, {hidden} tanh units, alpha=1e-4, digits "
        f"standardised ({n_train} x 64, 10 classes)",
        X_train=scaler.transform(split[0]),
        y_train=split[2],
        X_test=scaler.transform(split[1]),
        y_test=split[3],
        objective=network_objective,
        candidates=mlp + ours_network,
        targets=[mlp[0].label, mlp[1].label],
    )
    return [digits_logistic, text_logistic, digits_network]


def _logistic_problem(title, split):
    """LogisticRegression (default and converged) and ours on one split.

    The converged LogisticRegression sets the target; a Newton-CG fit to a
    gradient of 1e-10 gives the optimum f*, to plotting accuracy.
    """
    sklearn = [
        Candidate("LogisticRegression(lbfgs)", LogisticRegression()),
        Candidate(
            "LogisticRegression(lbfgs, max_iter=10000)",
            LogisticRegression(max_iter=10_000),
        ),
    ]
    ours = [
        Candidate(
            f"SOLogisticRegression(solver={solver!r})"
            + (" (default)" if solver == "ls" else ""),
            SOLogisticRegression(solver=solver),
        )
        for solver in SOLVERS
    ]
    X_train, X_test, y_train, y_test = split
    return Problem(
        title=title,
        X_train=X_train,
        y_train=y_train,
        X_test=X_test,
        y_test=y_test,
        objective=logistic_objective,
        candidates=sklearn + ours,
        targets=[sklearn[1].label],
        tight=LogisticRegression(solver="newton-cg", tol=1e-10, max_iter=1_000),
    )


# --------------------------------------------------------------------------
# Fitting
# --------------------------------------------------------------------------


def fit_candidate(problem, candidate):
    """Fit one candidate and measure it.

    Parameters
    ----------
    problem : Problem
    candidate : Candidate

    Returns
    -------
    record : FitRecord
    """
    estimator = candidate.estimator
    # Convergence is reported in the table; any other warning is the user's.
    seconds, caught = timed_fit(
        estimator, problem.X_train, problem.y_train, record=ConvergenceWarning
    )
    record = FitRecord(
        problem=problem.title,
        label=candidate.label,
        ours=candidate.ours,
        seconds=seconds,
        n_iter=n_iterations(estimator),
        n_products=getattr(estimator, "n_products_", None),
        objective=problem.objective(estimator, problem.X_train, problem.y_train),
        accuracy=float(estimator.score(problem.X_test, problem.y_test)),
        warning="ConvergenceWarning" if caught else "",
    )
    if candidate.ours:
        record.curve = np.asarray(estimator.loss_curve_, dtype=np.float64)
        # All time outside the loop is charged to every iteration: an upper
        # bound, never in our favour.
        record.stamps, _ = fit_stamps(estimator.loss_times_, seconds)
        record.learning_rates = np.asarray(estimator.learning_rates_)
        record.momentum_rates = np.asarray(estimator.momentum_rates_)
    return record


def run_problem(problem, index, total, log):
    """Fit every candidate of a problem, then the times to its targets.

    Also sets ``problem.optimum`` (f* from the tight fit, or None).

    Parameters
    ----------
    problem : Problem
    index, total : int
        Position of the problem, for the progress lines.
    log : callable
        Prints a progress line.

    Returns
    -------
    records : list of FitRecord
    """
    records = []
    log(f"[{index}/{total}] {problem.title}")
    for candidate in problem.candidates:
        log(f"    fitting {candidate.label} ...")
        record = fit_candidate(problem, candidate)
        log(
            f"        {record.seconds:.3f} s, {record.n_iter} iterations, "
            f"objective {record.objective:.8g}"
            + (f" ({record.warning})" if record.warning else "")
        )
        records.append(record)
    problem.optimum = None
    if problem.tight is not None:
        log("    computing f* with a tight newton-cg fit (not timed) ...")
        problem.tight.fit(problem.X_train, problem.y_train)
        optimum = problem.objective(problem.tight, problem.X_train, problem.y_train)
        # A tight fit can only be as good as the best objective seen.
        problem.optimum = min([optimum] + [r.objective for r in records])
    by_label = {record.label: record for record in records}
    for label in problem.targets:
        target = by_label[label].objective
        for record in records:
            record.time_to_target[label] = time_to_target(
                target, record.seconds, record.objective, record.curve, record.stamps
            )
    return records


# --------------------------------------------------------------------------
# Reporting
# --------------------------------------------------------------------------

COLUMNS = (
    "estimator",
    "time [s]",
    "iterations",
    "products with X",
    "training objective",
    "(f - f*)/f*",
    "test accuracy",
    "time to target [s]",
    "speed-up",
    "note",
)


def _speedup(reference, seconds):
    if seconds is None:
        return "not reached"
    return f"{reference / seconds:.2f}x" if seconds > 0 else "inf"


def table_rows(problem, records):
    """The printed table of one problem, as rows of strings.

    The speed-up is the first target's fit time over each fit's time to
    that target's objective.
    """
    target = problem.targets[0]
    reference = next(r for r in records if r.label == target).seconds
    rows = []
    for record in records:
        seconds = record.time_to_target[target]
        rows.append(
            [
                record.label,
                f"{record.seconds:.3f}",
                str(record.n_iter),
                "" if record.n_products is None else str(record.n_products),
                f"{record.objective:.8g}",
                _relative_gap(record.objective, problem.optimum),
                f"{record.accuracy:.4f}",
                "" if seconds is None else f"{seconds:.3f}",
                _speedup(reference, seconds),
                record.warning,
            ]
        )
    return rows


def _relative_gap(value, optimum):
    if optimum is None:
        return "n/a"
    return f"{relative_gap(value, optimum):.1e}"


def other_target_lines(problem, records):
    """One line per extra target: each of our fits against that reference."""
    lines = []
    for label in problem.targets[1:]:
        reference = next(r for r in records if r.label == label)
        lines.append(
            f"  to the objective of {label} ({reference.objective:.8g}, "
            f"reached in {reference.seconds:.3f} s):"
        )
        for record in records:
            if record.ours:
                seconds = record.time_to_target[label]
                shown = "not reached" if seconds is None else f"{seconds:.3f} s"
                speedup = _speedup(reference.seconds, seconds)
                lines.append(f"    {record.label}: {shown} ({speedup})")
    return lines


def report(problems, all_records):
    """The text the demo prints at the end."""
    blocks = []
    for problem, records in zip(problems, all_records, strict=True):
        target = next(r for r in records if r.label == problem.targets[0])
        blocks.append(
            "\n".join(
                [
                    problem.title,
                    f"target: the objective of {target.label}, "
                    f"{target.objective:.8g}"
                    + (
                        ""
                        if problem.optimum is None
                        else f"; f* = {problem.optimum:.8g}"
                    ),
                    reports.text_table(COLUMNS, table_rows(problem, records)),
                    *other_target_lines(problem, records),
                ]
            )
        )
    blocks.append(
        "speed-up = the target fit's time / the time a fit took to reach the "
        "target objective (sklearn-so: first iteration at or below it, from "
        "its per-iteration timestamps plus its time outside the iterations).\n"
        "Objectives are recomputed from the fitted coefficients by the same "
        "function for every estimator; f* is the objective of a very tight "
        "newton-cg fit (convex problems; n/a for the network, which is not "
        "convex). Times are wall times of one fit on this machine: expect "
        "some noise."
    )
    return "\n\n".join(blocks)


CSV_COLUMNS = (
    "problem",
    "estimator",
    "seconds",
    "n_iter",
    "n_products",
    "objective",
    "test_accuracy",
    "convergence_warning",
)


def write_csv(path, all_records):
    """One row per fit, every measured number.

    The columns are ``CSV_COLUMNS``, then the time to each target of any
    problem, ``time_to[label]``, labels in alphabetical order.
    """
    records = [record for records in all_records for record in records]
    targets = sorted({label for r in records for label in r.time_to_target})
    rows = [
        {
            "problem": r.problem,
            "estimator": r.label,
            "seconds": r.seconds,
            "n_iter": r.n_iter,
            "n_products": r.n_products,
            "objective": r.objective,
            "test_accuracy": r.accuracy,
            "convergence_warning": bool(r.warning),
            **{f"time_to[{label}]": r.time_to_target.get(label) for label in targets},
        }
        for r in records
    ]
    reports.write_csv(path, rows, CSV_COLUMNS)


def plot(path, problems, all_records):
    """Objective gap against time, and the rates ``so`` chose, per problem.

    Returns
    -------
    written : bool
        False if matplotlib is not installed (nothing is written).
    """
    try:
        plt = figures.pyplot()
    except ImportError:
        return False
    figure, axes = plt.subplots(
        len(problems), 2, figsize=(13, 3.6 * len(problems)), squeeze=False
    )
    for (gap_ax, rate_ax), problem, records in zip(
        axes, problems, all_records, strict=True
    ):
        _plot_gaps(gap_ax, problem, records)
        _plot_rates(rate_ax, problem, records)
    figures.save(figure, path, dpi=110)
    return True


def _plot_gaps(ax, problem, records):
    # Convex problems: relative gap to f*; the network: the objective itself.
    from matplotlib.ticker import FormatStrFormatter, LogLocator, NullFormatter

    optimum = problem.optimum
    if optimum is None:
        values, label = (lambda v: np.asarray(v)), "training objective"
    else:
        label = "(objective - f*) / f*"

        def values(v):
            # Floored so that iterates at f* (to rounding) stay on a log axis.
            return np.maximum((np.asarray(v) - optimum) / abs(optimum), 1e-12)

    for record in records:
        if record.curve is not None:
            ax.plot(record.stamps, values(record.curve), label=record.label)
        else:
            ax.plot(
                record.seconds, values(record.objective), "o", ms=7, label=record.label
            )
    ax.set_xscale("log")
    # Plain numbers at 1, 2 and 5 per decade: matplotlib's default labels
    # the minor ticks too when a range spans less than a decade, and they
    # overlap.
    ax.xaxis.set_major_locator(LogLocator(subs=(1.0, 2.0, 5.0)))
    ax.xaxis.set_major_formatter(FormatStrFormatter("%g"))
    ax.xaxis.set_minor_formatter(NullFormatter())
    ax.set_yscale("log")
    ax.set_xlabel("seconds since fit began")
    ax.set_ylabel(label)
    ax.set_title(problem.title, fontsize=9)
    ax.legend(fontsize=7)


def _plot_rates(ax, problem, records):
    record = next(r for r in records if r.ours and f"'{PLOTTED_SOLVER}'" in r.label)
    iterations = np.arange(1, record.learning_rates.shape[0] + 1)
    layers = record.learning_rates.shape[1]
    for layer in range(layers):
        name = f" layer {layer + 1}" if layers > 1 else ""
        ax.plot(iterations, record.learning_rates[:, layer], label=f"learning{name}")
        ax.plot(
            iterations,
            record.momentum_rates[:, layer],
            "--",
            label=f"momentum{name}",
        )
    ax.set_yscale("symlog", linthresh=1e-3)
    ax.set_xlabel("iteration")
    ax.set_ylabel("rate chosen")
    ax.set_title(f"rates chosen by {record.label}", fontsize=9)
    ax.legend(fontsize=7)


# --------------------------------------------------------------------------
# Entry point
# --------------------------------------------------------------------------


def prepare_output(output):
    """Create the output folder and check it is writable.

    Raises
    ------
    DemoError
        If the folder cannot be created or written to.
    """
    output = Path(output)
    probe = output / ".sklearn-so-write-test"
    try:
        output.mkdir(parents=True, exist_ok=True)
        probe.write_text("")
        probe.unlink()
    except OSError as exc:
        reason = exc.strerror or str(exc)
        raise DemoError(
            f"cannot write to the output folder {output}: {reason}"
        ) from None
    return output


def run_demo(quick=False, output="sklearn-so-demo", seed=0, threads=1, log=print):
    """Fit, compare, print the table and write the CSV and the plot.

    Parameters
    ----------
    quick : bool, default=False
        Small data (a few seconds) instead of the full demo (under a minute).
    output : str or Path, default="sklearn-so-demo"
        Folder for ``demo.csv`` and ``demo.png``.
    seed : int, default=0
        Seed of the data splits, the synthetic data and the networks.
    threads : int, default=1
        BLAS and OpenMP threads of every fit, ours and scikit-learn's alike
        (threadpoolctl); 0 leaves the libraries' defaults. One thread by
        default because on small problems threaded BLAS can be an order of
        magnitude slower on a small machine (a LogisticRegression fit on
        digits ran 12-13 times slower with 2 OpenBLAS threads than with 1 on
        a 2-core machine), which would decide the comparison instead of the
        solvers.
    log : callable, default=print
        Receives the progress lines and the final report.

    Returns
    -------
    all_records : list of list of FitRecord
        The fits of each problem.
    """
    output = prepare_output(output)
    problems = build_problems(quick, seed)
    log(
        f"threads: {threads} BLAS/OpenMP thread(s) per fit"
        if threads
        else "threads: the libraries' defaults"
    )
    with limit_threads(threads):
        all_records = [
            run_problem(problem, index, len(problems), log)
            for index, problem in enumerate(problems, start=1)
        ]
    log("")
    log(report(problems, all_records))
    write_csv(output / CSV_NAME, all_records)
    log(f"\nwrote {output / CSV_NAME}")
    if plot(output / PLOT_NAME, problems, all_records):
        log(f"wrote {output / PLOT_NAME}")
    else:
        log(
            "matplotlib is not installed, so no plot was written; "
            "install it with: pip install 'sklearn-so[plot]'"
        )
    return all_records
