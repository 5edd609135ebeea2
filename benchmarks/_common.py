"""Infrastructure shared by the benchmark scripts.

Fitting in a child process with a timeout (:class:`FitWorker`), the BLAS
thread limit, the time of two bare products with X, the environment lines of
a report, and small Markdown / CSV helpers. Import it from a script run as
``python benchmarks/<script>.py`` (the script's directory is on the path)::

    from _common import FitWorker, environment_lines
"""

import csv
import multiprocessing
import os
import platform
import shlex
import sys
import time
import traceback
import warnings
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import scipy
import sklearn

import sklearn_so

# Seconds allowed on top of a fit's timeout for sending the result back.
IPC_SLACK = 0.2


# --------------------------------------------------------------------------
# Fitting in a child process, so that a fit can be stopped
# --------------------------------------------------------------------------


def limit_threads(threads):
    """Limit BLAS and OpenMP threads of this process (0 or None: leave them)."""
    if not threads:
        return
    from threadpoolctl import threadpool_limits

    threadpool_limits(limits=threads)


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
            with warnings.catch_warnings(record=True) as caught:
                warnings.simplefilter("always")
                start = time.perf_counter()
                estimator.fit(X, y)
                seconds = time.perf_counter() - start
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


def fmt(value, spec):
    """Format a number, or return "" for a missing one."""
    if value is None or value == "":
        return ""
    return format(value, spec)


def markdown_table(header, rows):
    """A Markdown table from a header and rows of strings."""
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(row) + " |" for row in rows]
    return "\n".join(lines)


def write_csv(path, rows, columns):
    """Write every row: the given columns first, then any other keys.

    Parameters
    ----------
    path : path-like
        The CSV file.
    rows : list of dict
        One dict per line; missing keys give empty cells.
    columns : sequence of str
        The leading columns, in order.
    """
    columns = list(columns)
    for row in rows:
        columns += [key for key in row if key not in columns]
    with open(path, "w", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=columns)
        writer.writeheader()
        writer.writerows(rows)


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
