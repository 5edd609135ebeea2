"""Infrastructure of the benchmark scripts, on top of the package's harness.

What the demo shares with the benchmarks (datasets, timed fits, time to a
target, tables and CSV files) is in :mod:`sklearn_so._harness`; this module
holds what only the scripts need: fitting in a child process with a timeout
(:class:`FitWorker`), the time of two bare products with X, the environment
lines of a report, and the command line and driver every script shares.
Import it from a script run as ``python benchmarks/<script>.py`` (the
script's directory is on the path)::

    import _common as common
"""

import argparse
import math
import multiprocessing
import os
import platform
import shlex
import sys
import time
import traceback
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import scipy
import sklearn

import sklearn_so
from sklearn_so._harness.fits import limit_threads, timed_fit
from sklearn_so._harness.reports import bullet_list, group_by, write_csv

# Seconds allowed on top of a fit's timeout for sending the result back.
IPC_SLACK = 0.2
DEFAULT_OUTPUT = Path(__file__).resolve().parent / "results"


# --------------------------------------------------------------------------
# Fitting in a child process, so that a fit can be stopped
# --------------------------------------------------------------------------


@dataclass
class FitOutcome:
    """A finished fit: wall time of ``.fit``, the estimator, its warnings.

    Attributes
    ----------
    seconds : float
        Wall time of ``estimator.fit(X, y)`` in the child process.
    estimator : estimator
        The fitted estimator.
    warnings : list of str
        The warnings the fit raised, as "Category: message".
    extra : dict
        What the worker's hooks collected after the fit (empty without hooks).
    """

    seconds: float
    estimator: object
    warnings: list
    extra: dict = field(default_factory=dict)


def _worker_loop(connection, threads, hooks=None):
    """Child process: receive X, y, then fit estimators until told to stop.

    Parameters
    ----------
    connection : multiprocessing.connection.Connection
        Receives ``(X, y)``, then ``(estimator, options)`` pairs and finally
        None; sends "ready", then one FitOutcome (or a traceback) per fit.
    threads : int or None
        BLAS and OpenMP thread limit.
    hooks : object or None
        If given, ``hooks.install()`` runs once in the child,
        ``hooks.before_fit(options)`` before each fit (outside the timed
        region) and ``hooks.after_fit(estimator)`` after it; the dict the
        latter returns becomes ``FitOutcome.extra``.
    """
    limit_threads(threads)
    if hooks is not None:
        hooks.install()
    X, y = connection.recv()
    connection.send("ready")
    while (message := connection.recv()) is not None:
        estimator, options = message
        try:
            if hooks is not None:
                hooks.before_fit(options)
            seconds, caught = timed_fit(estimator, X, y)
            messages = [f"{w.category.__name__}: {w.message}" for w in caught]
            extra = {} if hooks is None else hooks.after_fit(estimator)
            connection.send(FitOutcome(seconds, estimator, messages, extra))
        except Exception:
            connection.send(traceback.format_exc())


class FitWorker:
    """Fits estimators on one dataset in a child process, with a timeout.

    The child holds its own copy of X; timing is done inside it around
    ``.fit`` only. A fit that exceeds its timeout is killed and the child is
    restarted (not counted in any timeout) before the next fit.

    Parameters
    ----------
    dataset : object
        The data every fit uses: has attributes ``X`` and ``y``.
    threads : int or None
        Limit of BLAS and OpenMP threads in the child; 0 or None for the
        libraries' defaults.
    hooks : object or None
        Picklable object whose ``install``, ``before_fit`` and ``after_fit``
        methods run in the child (see ``_worker_loop``); None for none.
    """

    def __init__(self, dataset, threads=None, hooks=None):
        self.dataset = dataset
        self.threads = threads
        self.hooks = hooks
        self._context = multiprocessing.get_context("spawn")
        self._process = None
        self._connection = None

    def _start(self):
        parent, child = self._context.Pipe()
        self._process = self._context.Process(
            target=_worker_loop, args=(child, self.threads, self.hooks), daemon=True
        )
        self._process.start()
        child.close()
        parent.send((self.dataset.X, self.dataset.y))
        if parent.recv() != "ready":
            raise RuntimeError("the fitting process did not start")
        self._connection = parent

    def fit(self, estimator, timeout, options=None):
        """Fit ``estimator``; return a FitOutcome, or None after ``timeout`` s.

        Parameters
        ----------
        estimator : estimator
            Unfitted estimator, sent to the child.
        timeout : float
            Seconds to wait for the result before killing the child.
        options : object, default=None
            Passed to ``hooks.before_fit`` in the child.

        Raises
        ------
        RuntimeError
            If the fit raised an exception (its traceback is the message).
        """
        if self._process is None:
            self._start()
        self._connection.send((estimator, options))
        if not self._connection.poll(timeout):
            self.close()
            return None
        outcome = self._connection.recv()
        if isinstance(outcome, str):
            raise RuntimeError(outcome)
        return outcome

    def close(self):
        """Stop the child process (killing it if it is busy)."""
        if self._process is None:
            return
        if self._process.is_alive():
            self._process.kill()
        self._process.join()
        self._connection.close()
        self._process = None
        self._connection = None

    def __enter__(self):
        return self

    def __exit__(self, *exc_info):
        self.close()


# --------------------------------------------------------------------------
# Cost reference
# --------------------------------------------------------------------------


@dataclass(frozen=True)
class ShortFits:
    """How often a short fit is timed: one fit of a few milliseconds measures
    the machine's noise more than the solver.

    A fit under ``seconds`` is repeated until the fits add up to about
    ``total`` seconds, at most ``max_fits`` fits; its best time is reported.
    The rule is the same for every solver of a benchmark.
    """

    seconds: float
    total: float
    max_fits: int

    def count(self, first_seconds, repeats=1):
        """Fits in all for a fit that took ``first_seconds`` (at least ``repeats``)."""
        if first_seconds >= self.seconds:
            return repeats
        wanted = math.ceil(self.total / max(first_seconds, 1e-6))
        return max(repeats, min(self.max_fits, wanted))

    def describe(self):
        """The rule in words, for a report's protocol."""
        return (
            f"a fit under {self.seconds:g} s: best of enough fits for about "
            f"{self.total:g} s, at most {self.max_fits}"
        )


def bare_products_time(X, n_outputs, n_runs=5, seed=0):
    """Median time of ``X @ M`` plus ``X.T @ R`` (one forward, one backward).

    Parameters
    ----------
    X : ndarray or sparse matrix of shape (n_samples, n_features)
        The training matrix.
    n_outputs : int
        Columns q of M (n_features, q) and R (n_samples, q).
    n_runs : int
        Timed repetitions.

    Returns
    -------
    seconds : float
    """
    rng = np.random.default_rng(seed)
    M = rng.standard_normal((X.shape[1], n_outputs))
    R = rng.standard_normal((X.shape[0], n_outputs))
    times = []
    for _ in range(n_runs):
        start = time.perf_counter()
        X @ M
        X.T @ R
        times.append(time.perf_counter() - start)
    return float(np.median(times))


# --------------------------------------------------------------------------
# Reporting
# --------------------------------------------------------------------------


def environment_lines(load_before):
    """Versions, BLAS, CPUs, load and the command line, as Markdown bullets.

    Parameters
    ----------
    load_before : tuple of float
        ``os.getloadavg()`` when the benchmark started; a load above the
        benchmark's own (about 1) means other processes competed for the CPUs.
    """
    load_after = os.getloadavg()
    lines = [
        # "python", not the interpreter's path: reports name no machine path.
        f"- command: `{shlex.join(['python', *sys.orig_argv[1:]])}`",
        f"- python {platform.python_version()}, numpy {np.__version__}, "
        f"scipy {scipy.__version__}, scikit-learn {sklearn.__version__}, "
        f"sklearn-so {sklearn_so.__version__}",
        f"- platform: {platform.platform()}; CPUs: {os.cpu_count()}; load "
        f"average (1, 5, 15 min) at start {_fmt_load(load_before)}, at end "
        f"{_fmt_load(load_after)}",
    ]
    # OpenBLAS picks its kernel by CPU unless this variable names one.
    for name in ("OPENBLAS_CORETYPE", "OPENBLAS_L2_SIZE"):
        if os.environ.get(name):
            lines.append(f"- {name}={os.environ[name]} (set in the environment)")
    try:
        from threadpoolctl import threadpool_info
    except ImportError:
        return lines + ["- threadpoolctl not importable: BLAS unknown"]
    for pool in threadpool_info():
        lines.append(
            f"- {pool.get('user_api')}: {pool.get('internal_api')} "
            f"{pool.get('version')}, {pool.get('num_threads')} threads, "
            f"{pool.get('architecture', '')} ({Path(pool['filepath']).name})"
        )
    return lines


def _fmt_load(load):
    """Load averages as "a / b / c"."""
    return " / ".join(f"{value:.2f}" for value in load)


def log(message):
    """Print a progress line to stderr, immediately."""
    print(message, file=sys.stderr, flush=True)


def select_datasets(parser, requested, available, default):
    """Dataset names from a comma-separated ``--datasets`` value.

    Parameters
    ----------
    parser : argparse.ArgumentParser
        Reports an unknown name as a usage error.
    requested : str or None
        The option's value; None selects ``default``.
    available : dict
        Known dataset names.
    default : tuple of str
        Names used when none is requested.

    Returns
    -------
    names : tuple of str
    """
    if not requested:
        return tuple(default)
    names = tuple(name.strip() for name in requested.split(","))
    unknown = [name for name in names if name not in available]
    if unknown:
        parser.error(f"unknown datasets {unknown}; choose among {list(available)}")
    return names


# --------------------------------------------------------------------------
# Command line and driver
# --------------------------------------------------------------------------

THREADS_HELP = (
    "BLAS and OpenMP threads (threadpoolctl); 0 leaves the libraries' "
    "defaults. Default 1: on a small or shared machine, threads that wait "
    "for a busy CPU slow small problems down by 10x and more."
)


def benchmark_parser(description, datasets, quick_help, budget_help):
    """The options every benchmark script has; a script adds its own.

    Parameters
    ----------
    description : str
        The script's one-line description.
    datasets : dict
        Known dataset names, listed in the help of ``--datasets``.
    quick_help, budget_help : str
        Help of ``--quick`` and ``--budget``, which differ by script.

    Returns
    -------
    parser : argparse.ArgumentParser
    """
    parser = argparse.ArgumentParser(description=description)
    parser.add_argument("--quick", action="store_true", help=quick_help)
    parser.add_argument(
        "--datasets", help=f"comma-separated names among {', '.join(datasets)}"
    )
    parser.add_argument(
        "--output", type=Path, default=DEFAULT_OUTPUT, help="directory for results"
    )
    parser.add_argument("--budget", type=float, help=budget_help)
    parser.add_argument("--threads", type=int, default=1, help=THREADS_HELP)
    return parser


def complete_args(parser, args, datasets, names, defaults):
    """Fill the options not given with their quick or full values.

    Parameters
    ----------
    parser : argparse.ArgumentParser
        Reports an unknown dataset name as a usage error.
    args : argparse.Namespace
        The parsed options; completed in place.
    datasets : dict
        Known dataset names.
    names : tuple
        ``(quick, full)``: the datasets run when ``--datasets`` is not given;
        sets ``args.names``.
    defaults : dict
        Option -> ``(quick, full)`` values, set where the option is None.

    Returns
    -------
    args : argparse.Namespace
    """
    which = 0 if args.quick else 1
    for key, values in defaults.items():
        if getattr(args, key) is None:
            setattr(args, key, values[which])
    args.names = select_datasets(parser, args.datasets, datasets, names[which])
    return args


def run_datasets(args, build, benchmark_dataset):
    """Limit the threads, then benchmark every dataset of ``args.names``.

    Sets ``args.load_before`` (the load average at the start, for the
    report) and ``args.start`` (``time.perf_counter()`` at the start).

    Parameters
    ----------
    args : argparse.Namespace
        The completed options (:func:`complete_args`).
    build : callable
        ``build(name)`` returns the dataset of that name.
    benchmark_dataset : callable
        ``benchmark_dataset(dataset, args, notes)`` returns the dataset's
        facts (a dict, or None if it was skipped) and its rows, and may
        append to ``notes``.

    Returns
    -------
    infos : list of dict
        The facts of every dataset not skipped.
    rows : list of dict
        Every dataset's rows, in order.
    notes : list of str
        Remarks for the report.
    """
    limit_threads(args.threads)
    args.load_before = os.getloadavg()
    args.start = time.perf_counter()
    notes, infos, rows = [], [], []
    for name in args.names:
        log(f"building {name}")
        info, dataset_rows = benchmark_dataset(build(name), args, notes)
        if info is not None:
            infos.append(info)
        rows += dataset_rows
    return infos, rows, notes


def total_time_note(args):
    """The note giving the time since :func:`run_datasets` started."""
    return f"total benchmark time {time.perf_counter() - args.start:.0f} s"


def dataset_sections(infos, rows, section):
    """One report section per dataset, from its facts and its rows.

    Parameters
    ----------
    infos : list of dict
        Facts of each dataset, with its name under ``"dataset"``.
    rows : list of dict
        Result rows of every dataset.
    section : callable
        ``section(info, dataset_rows)`` returns the section's text.

    Returns
    -------
    sections : list of str
    """
    groups = group_by(rows, "dataset")
    return [section(info, groups.get(info["dataset"], [])) for info in infos]


def report_document(title, load_before, blocks, notes):
    """A whole Markdown report: title, environment, blocks, then notes.

    Parameters
    ----------
    title : str
        The first line (a Markdown heading).
    load_before : tuple of float
        Load averages at the start (:func:`environment_lines`).
    blocks : list of str
        Protocol, sections and anything else, in order.
    notes : list of str
        Remarks, listed at the end under "Notes:" (nothing if empty).

    Returns
    -------
    text : str
    """
    parts = [title, "\n".join(environment_lines(load_before)), *blocks]
    if notes:
        parts.append(bullet_list("Notes:", notes))
    return "\n\n".join(parts) + "\n"


def write_results(output, tables, report_name, report):
    """Write the CSV files and the Markdown report, and print the report.

    Parameters
    ----------
    output : pathlib.Path
        The results folder; created if needed.
    tables : dict
        File name -> ``(rows, columns)`` of a CSV file
        (:func:`sklearn_so._harness.reports.write_csv`).
    report_name : str
        File name of the report.
    report : str
        The report's text.
    """
    output.mkdir(parents=True, exist_ok=True)
    for name, (rows, columns) in tables.items():
        write_csv(output / name, rows, columns)
    (output / report_name).write_text(report)
    print(report)
