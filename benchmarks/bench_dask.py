"""Time to scikit-learn's objective on a dask cluster: ours, dask-ml, Spark, in memory.

Logistic regression (``C=1``, intercept unpenalised), binary and 10 classes,
on two kinds of synthetic data (8 row chunks each):

- dense, standardised, float32 and float64 (default 2,000,000 x 200);
- sparse and text-like, float64 (default 2,000,000 x 20,000): a dask array of
  scipy.sparse CSR chunks, word counts drawn from Zipf-like word frequencies
  (``1 + Poisson(29)`` words a row, a few dozen nonzeros), turned into
  sublinear tf-idf (scikit-learn's smoothed idf) with rows of unit norm;
  labels from a logistic or softmax model using a fifth of the vocabulary.

The script starts a ``LocalCluster`` of 2 worker processes with 1 thread
each (and 1 BLAS thread: dask's default for its workers). X and y are drawn
chunk by chunk on the workers (one seed per chunk), standardised there with
the column means and deviations of the whole X (dense) or weighted with the
document frequencies of the whole X (sparse), and persisted before anything
is timed.

Protocol, as ``bench_logistic.py`` and ``bench_array_api.py``:

- ``f*`` is the smallest objective of tight in-memory fits (``tol=1e-12``:
  scikit-learn lbfgs, newton-cholesky when its Hessian is small enough, and
  SOLogisticRegression ``so``/``lbfgs``) on the same data gathered to this
  process (one CSR matrix for the sparse X); the target is
  ``f* (1 + 1e-6)``.
- Every objective is recomputed by this script in float64 from the fitted
  coefficients, on the workers, a chunk at a time:
  ``mean_i loss_i + ||W||^2 / (2 C n)``.
- Each contestant is fitted with ``tol`` = 1e-3, 1e-4, ..., 1e-12 until a fit
  reaches the target; that fit's wall time counts. The sequence stops early
  when a fit ended for another reason than its ``tol`` or when the
  contestant's ``--budget`` (seconds of fitting, summed) is spent. Fits on
  the cluster run in a child process, a client of the same cluster that
  reads the persisted X by name, and are killed when they exceed the budget;
  in-memory fits run in this process and the budget is checked between
  them.

Contestants:

- SOLogisticRegression on the dask X: its defaults (``ls``/``lbfgs``) and
  ``solver="so"``. Where it refuses the input (a ValueError naming the
  chunks, as on sparse chunks before it supports them), the row reads
  "not run: <message>", as does any contestant whose first fit raises.
  Their round trips per iteration and time per iteration are reported
  beside the time of two bare dask products on the same X (``X @ M``
  persisted on the workers, then ``X.T @ R`` to the client, ``R``
  persisted; one task per chunk for sparse chunks, which dask's ``@``
  does not multiply).
- In memory (numpy, 1 BLAS thread): SOLogisticRegression (defaults and
  ``so``), scikit-learn's lbfgs, newton-cg and newton-cholesky (the latter
  where its Hessian has at most 1000 rows), and saga on the sparse X.
- dask-ml's ``LogisticRegression`` (dask-glm), binary problems only (it has
  no multinomial loss), with each of its solvers, twice: at its defaults
  (one fit, ``C=1``) and at its best settings (the intercept column appended
  to X and persisted beforehand with ``fit_intercept=False``,
  ``solver_kwargs={"normalize": False}``, a large ``max_iter`` and the
  ``tol`` sequence; ``admm`` takes ``abstol = reltol = tol``). dask-glm
  minimises ``sum_i loss_i + lamduh ||beta||^2 / 2`` with ``lamduh = 1 / C``:
  n times our objective, with the intercept penalised too. A check on a
  small problem (C=0.01, where the penalty matters) compares each solver's
  coefficients with three references (penalised intercept, unpenalised
  intercept, no penalty) and the report says which one it solved: dask-ml
  drops the penalty for ``newton`` and ``gradient_descent``. On the sparse
  X dask-ml is tried too and fails (dask-ml 2025.1: at its defaults it
  appends the intercept column with numpy; dask-glm's products go through
  dask's tensordot, which refuses scipy.sparse chunks against 1-D
  coefficients): its rows say "not run" with the message.
- Spark's ``pyspark.ml`` ``LogisticRegression`` on ``local[2]``
  (``regParam = 1 / (n C)``, ``elasticNetParam=0``, ``standardization``
  off: our objective exactly), where pyspark imports and ``java`` runs. Its
  data are the same X, written by the workers (Parquet for the dense X,
  LIBSVM text read as ``SparseVector`` features for the sparse one) and
  cached in Spark before timing. Spark runs in a process of its own,
  spawned after every other contestant of the problem and ended (session
  stopped, JVM gone) before the next problem, so that no other fit shares a
  process, or the CPU, with the JVM.

Goals (issue 14), checked in the report: ours on dask at least 3x faster
than dask-ml at its defaults, faster than dask-ml at its best and than
Spark, and within 2x of our own in-memory fit.

Results: ``dask.json`` (every row and the facts of each problem) and
``dask.md`` in ``--output``. Needs the ``dask`` extra; dask-ml and pyspark
come with the ``bench-dask`` extra (``pip install -e ".[bench-dask]"``).

Run from the repository root::

    python benchmarks/bench_dask.py
    python benchmarks/bench_dask.py --n-samples 400000 --dtypes float32 \\
        --classes 2 --budget 300 --skip spark
    python benchmarks/bench_dask.py --problems sparse --classes 2

``--problems`` chooses among ``dense`` and ``sparse`` (default both); the
dense problems take ``--dtypes`` and ``--classes``, the sparse ones
``--sparse-dtypes`` (default float64) and ``--classes``, with
``--vocabulary`` columns and ``--words`` words a row on average (both
share ``--n-samples`` and ``--chunks``). ``--skip`` takes a comma-separated
list among ``ours-dask``, ``memory``, ``dask-ml``, ``spark``;
``--ours-solvers`` and ``--dask-ml-solvers`` narrow the contestants. A run
smaller than the default says so in its report's header, followed by
``--remark`` (say why). In the cluster's child process, the
first fit of each contestant is preceded by an untimed warm-up fit of it on
the first 2000 rows (imports, first calls).
"""

import argparse
import json
import multiprocessing
import os
import shutil
import subprocess
import tempfile
import time
import traceback
import warnings

import _common as common
import numpy as np
from bench_array_api import LOSS_RTOL_FLOAT32, sklearn_logistic, so_logistic
from bench_logistic import TARGET_RTOL, TIGHT_TOL, TOLS, C
from scipy.special import expit, logsumexp

from sklearn_so._harness import reports, timing
from sklearn_so._harness.fits import limit_threads, timed_fit

DEFAULT_N_SAMPLES = 2_000_000
DEFAULT_N_FEATURES = 200
DEFAULT_CHUNKS = 8
DEFAULT_DTYPES = ("float32", "float64")
DEFAULT_CLASSES = (2, 10)
DEFAULT_PROBLEMS = ("dense", "sparse")
DEFAULT_SPARSE_DTYPES = ("float64",)
WORKERS = 2
MAX_ITER = 100_000
# newton-cholesky factorises a (d + 1) q square Hessian: beyond this many
# rows a single iteration takes minutes at a million samples.
NEWTON_CHOLESKY_MAX_ROWS = 1000
SKLEARN_SOLVERS = ("lbfgs", "newton-cg", "newton-cholesky")
DASK_ML_SOLVERS = ("admm", "lbfgs", "newton", "proximal_grad", "gradient_descent")
DASK_ML_MAX_ITER = 10_000
# The goals for ours on the cluster.
GOAL_VS_DASK_ML_DEFAULTS = 3.0
GOAL_VS_MEMORY = 2.0
BARE_RUNS = 5
# The small problem that shows which objective each dask-ml solver minimises:
# iterations allowed, and the relative distance under which a solver's
# coefficients count as another fit's.
CHECK_MAX_ITER = 200
CHECK_CLOSE = 1e-2
# ... and how much farther the next reference must be.
CHECK_APART = 10.0
# Seconds allowed for a child's start, connection and warm-up fit, and for
# sending a result back.
WARM_UP_TIMEOUT = 300.0
IPC_SLACK = 5.0
# Seconds for Spark's child to start its session and cache the data, and
# to stop it.
SPARK_START_TIMEOUT = 1800.0
SPARK_STOP_TIMEOUT = 60.0
SKIPPABLE = ("ours-dask", "memory", "dask-ml", "spark")
RESULTS_JSON = "dask.json"
RESULTS_MD = "dask.md"


# --------------------------------------------------------------------------
# Data, drawn and standardised on the workers
# --------------------------------------------------------------------------


def _teacher(n_features, n_classes, seed):
    """The label model's weights (as ``bench_array_api.make_data``)."""
    informative = max(2, n_features // 10)
    rng = np.random.default_rng(seed)
    # Score differences with a standard deviation of 2.5: noisy labels, no
    # separable problem, objectives far from zero.
    return rng.standard_normal((informative, n_classes)) * (
        2.5 / np.sqrt(2 * informative)
    )


def _draw_chunk(seed, index, rows, n_features, teacher):
    """One row chunk of raw X (float64) and its labels, from its own seed.

    One feature in ten is informative, one in twenty redundant (an
    informative one plus noise), the rest noise; labels drawn from a
    logistic (binary) or softmax model of the informative features.
    """
    rng = np.random.default_rng([seed, index])
    informative = teacher.shape[0]
    redundant = n_features // 20
    block = rng.standard_normal((rows, n_features))
    block[:, informative : informative + redundant] += block[:, :redundant]
    return block, _draw_labels(rng, block[:, :informative] @ teacher)


def _draw_labels(rng, scores):
    """Labels drawn from the logistic (2 columns) or softmax model of ``scores``."""
    n_classes = scores.shape[1]
    if n_classes == 2:
        labels = rng.random(scores.shape[0]) < expit(scores[:, 1] - scores[:, 0])
        return labels.astype(np.int64)
    probability = np.exp(scores - logsumexp(scores, axis=1, keepdims=True))
    draw = rng.random((scores.shape[0], 1))
    labels = (draw > np.cumsum(probability, axis=1)).sum(axis=1)
    return np.minimum(labels, n_classes - 1).astype(np.int64)


def make_dask_data(n_samples, n_features, n_classes, dtype, n_chunks, seed=0):
    """Standardised X (``dtype``) and labels y as persisted dask arrays.

    Nothing of X is built on the client: each chunk is drawn by a task, the
    column means and deviations are one reduction over the raw X (float64),
    and the standardised X is persisted on the workers. The data depend on
    ``seed`` and the chunking only; float32 and float64 problems share the
    raw values.

    Returns
    -------
    X : dask.array.Array of shape (n_samples, n_features)
    y : dask.array.Array of shape (n_samples,), int64
    """
    import dask
    import dask.array as da
    from distributed import wait

    teacher = _teacher(n_features, n_classes, seed)
    bounds = np.linspace(0, n_samples, n_chunks + 1).astype(int)

    def draw():
        # Fresh keys on every call: the statistics' pass and the persisted
        # X do not resubmit keys the scheduler has already released.
        blocks, labels = [], []
        for index, (start, stop) in enumerate(
            zip(bounds[:-1], bounds[1:], strict=True)
        ):
            rows = int(stop - start)
            pair = dask.delayed(_draw_chunk, nout=2, pure=False)(
                seed, index, rows, n_features, teacher
            )
            blocks.append(da.from_delayed(pair[0], (rows, n_features), np.float64))
            labels.append(da.from_delayed(pair[1], (rows,), np.int64))
        return da.concatenate(blocks), da.concatenate(labels)

    raw, _ = draw()
    mean, std = dask.compute(raw.mean(axis=0), raw.std(axis=0))
    raw, y = draw()
    X = ((raw - mean) / np.maximum(std, 1e-12)).astype(dtype)
    X, y = dask.persist(X, y)
    wait([X, y])
    return X, y


# The sparse text-like problem: a vocabulary with Zipf-like word frequencies,
# a few dozen words per row (Poisson), sublinear tf-idf, rows of unit norm.
DEFAULT_VOCABULARY = 20_000
DEFAULT_WORDS = 30
# Zipf's law p(rank) ~ 1 / (rank + offset): the offset flattens the head.
ZIPF_OFFSET = 10
# Fraction of the vocabulary the label model uses.
TEACHER_DENSITY = 0.2


def _sparse_teacher(n_features, n_classes, seed):
    """A label model using ``TEACHER_DENSITY`` of the vocabulary."""
    rng = np.random.default_rng([seed, 1])
    weights = rng.standard_normal((n_features, n_classes))
    weights *= rng.random((n_features, 1)) < TEACHER_DENSITY
    # Rows of unit norm: score differences with a standard deviation near
    # 2.5, as the dense problem's.
    return weights * (2.5 / np.sqrt(2 * TEACHER_DENSITY))


def _draw_sparse_chunk(seed, index, rows, n_features, words, teacher):
    """One row chunk of word counts (CSR, float64) and its labels.

    Each row has ``1 + Poisson(words - 1)`` tokens drawn from a Zipf-like
    distribution over the vocabulary (repeated words add up); labels come
    from a logistic (binary) or softmax model of the rows' sublinear term
    frequencies scaled to unit norm, so both passes over the data draw the
    same labels before the inverse document frequencies are known.
    """
    import scipy.sparse as sp

    rng = np.random.default_rng([seed, index, 1])
    lengths = 1 + rng.poisson(words - 1, rows)
    frequency = 1.0 / (np.arange(n_features) + ZIPF_OFFSET)
    tokens = rng.choice(
        n_features, size=int(lengths.sum()), p=frequency / frequency.sum()
    )
    row_ids = np.repeat(np.arange(rows), lengths)
    counts = sp.csr_matrix(
        (np.ones(tokens.size), (row_ids, tokens)), shape=(rows, n_features)
    )
    counts.sum_duplicates()
    counts.sort_indices()
    return counts, _draw_labels(rng, _unit_rows(_sublinear(counts)) @ teacher)


def _sublinear(counts):
    """``1 + log(count)`` on the nonzero entries."""
    tf = counts.copy()
    tf.data = 1.0 + np.log(tf.data)
    return tf


def _unit_rows(matrix):
    """Rows scaled to unit Euclidean norm (every row has a word)."""
    import scipy.sparse as sp

    norms = np.sqrt(np.asarray(matrix.multiply(matrix).sum(axis=1)).ravel())
    return sp.diags(1.0 / norms) @ matrix


def _document_frequency(counts):
    """How many rows of the chunk contain each word."""
    return np.bincount(counts.indices, minlength=counts.shape[1])


def _tfidf(counts, idf, dtype):
    """Sublinear tf times idf, rows of unit norm, as CSR of ``dtype``."""
    import scipy.sparse as sp

    weighted = _unit_rows(_sublinear(counts) @ sp.diags(idf))
    return sp.csr_matrix(weighted, dtype=dtype)


def make_sparse_dask_data(
    n_samples, n_features, n_classes, dtype, n_chunks, words=DEFAULT_WORDS, seed=0
):
    """A text-like X of scipy.sparse CSR chunks and labels y, persisted.

    As :func:`make_dask_data`: each chunk is drawn by a task from its own
    seed; the document frequencies are one reduction over the word counts,
    and X (sublinear tf-idf with scikit-learn's smoothed idf, rows of unit
    norm, nonnegative) is persisted on the workers.

    Returns
    -------
    X : dask.array.Array of shape (n_samples, n_features), CSR chunks
    y : dask.array.Array of shape (n_samples,), int64
    """
    import dask
    import dask.array as da
    import scipy.sparse as sp
    from distributed import wait

    teacher = _sparse_teacher(n_features, n_classes, seed)
    bounds = np.linspace(0, n_samples, n_chunks + 1).astype(int)

    def draw():
        pairs = []
        for index, (start, stop) in enumerate(
            zip(bounds[:-1], bounds[1:], strict=True)
        ):
            pair = dask.delayed(_draw_sparse_chunk, nout=2, pure=False)(
                seed, index, int(stop - start), n_features, words, teacher
            )
            pairs.append((int(stop - start), pair))
        return pairs

    frequencies = [dask.delayed(_document_frequency)(p[0]) for _, p in draw()]
    df = np.sum(dask.compute(*frequencies), axis=0)
    idf = np.log((1.0 + n_samples) / (1.0 + df)) + 1.0
    meta = sp.csr_matrix((0, 0), dtype=dtype)
    blocks, labels = [], []
    for rows, pair in draw():
        block = dask.delayed(_tfidf)(pair[0], idf, np.dtype(dtype))
        blocks.append(
            da.from_delayed(block, (rows, n_features), np.dtype(dtype), meta=meta)
        )
        labels.append(da.from_delayed(pair[1], (rows,), np.int64))
    X, y = dask.persist(da.concatenate(blocks), da.concatenate(labels))
    wait([X, y])
    return X, y


def is_sparse(X):
    """Whether a dask array's chunks are scipy.sparse matrices."""
    import scipy.sparse as sp

    return sp.issparse(X._meta)


def gather(X, y):
    """X and y on the client: numpy, or one CSR matrix for sparse chunks.

    Chunk by chunk, concatenated here: ``X.compute()`` would concatenate
    them on one worker, which keeps the copies it received -- views of the
    messages at unaligned addresses, where products run about 20x slower --
    and so would slow down every later contestant on the cluster. The
    concatenation here is a fresh, aligned array.
    """
    import dask
    import scipy.sparse as sp

    blocks = dask.compute(*X.to_delayed().ravel())
    labels = dask.compute(*y.to_delayed().ravel())
    X_np = sp.vstack(blocks, format="csr") if is_sparse(X) else np.concatenate(blocks)
    return X_np, np.concatenate(labels)


def with_intercept_column(X):
    """X with a column of ones appended (dask-ml's own layout), persisted."""
    from distributed import wait

    chunks = (X.chunks[0], (X.shape[1] + 1,))
    ones = X.map_blocks(
        _append_ones, dtype=X.dtype, chunks=chunks, meta=X._meta
    ).persist()
    wait(ones)
    return ones


def _append_ones(block):
    import scipy.sparse as sp

    ones = np.ones((block.shape[0], 1), block.dtype)
    if sp.issparse(block):
        return sp.hstack([block, ones], format="csr")
    return np.concatenate([block, ones], axis=1)


# --------------------------------------------------------------------------
# The objective, in float64 on the workers
# --------------------------------------------------------------------------


def _chunk_loss(block, labels, coef, intercept):
    """Sum of the log-losses of one chunk, in float64."""
    raw = block.astype(np.float64) @ coef.T + intercept
    if coef.shape[0] == 1:
        z = raw[:, 0]
        return float(np.sum(np.logaddexp(0.0, z) - labels * z))
    rows = np.arange(raw.shape[0])
    return float(np.sum(logsumexp(raw, axis=1) - raw[rows, labels]))


def objective(coef, intercept, X, y, C=C):
    """``mean_i loss_i + ||W||^2 / (2 C n)`` from the coefficients.

    Parameters
    ----------
    coef : array-like of shape (d,), (1, d) or (n_classes, d)
        Binary models have one row (the class-1 score); classes are
        ``0, ..., n_classes - 1``.
    intercept : float or array-like of shape (1,) or (n_classes,)
    X, y : dask.array.Array
        The data, one task per row chunk.

    Returns
    -------
    value : float
    """
    import dask

    coef = np.asarray(coef, dtype=np.float64).reshape(-1, X.shape[1])
    intercept = np.asarray(intercept, dtype=np.float64).ravel()
    parts = [
        dask.delayed(_chunk_loss)(block, labels, coef, intercept)
        for block, labels in zip(
            X.to_delayed().ravel(), y.to_delayed().ravel(), strict=True
        )
    ]
    total = sum(dask.compute(*parts))
    return total / X.shape[0] + float(np.sum(coef**2)) / (2.0 * C * X.shape[0])


# --------------------------------------------------------------------------
# Contestants: what to build, in this process or in the child
# --------------------------------------------------------------------------


def make_estimator(spec, tol):
    """An unfitted estimator from its spec (picklable: built in the child).

    Parameters
    ----------
    spec : dict
        ``kind`` is ``"ours"`` (``solver``, ``preconditioner`` if not the
        default), ``"sklearn"`` (``solver``) or
        ``"dask-ml"`` (``solver``, ``setting`` "defaults" or "best").
    tol : float or None
        None keeps the library's default (dask-ml at its defaults).
    """
    kind = spec["kind"]
    if kind == "ours":
        estimator = so_logistic(tol, solver=spec["solver"])
        if "preconditioner" in spec:
            estimator.set_params(preconditioner=spec["preconditioner"])
        return estimator
    if kind == "sklearn":
        return sklearn_logistic(spec["solver"], tol)
    from dask_ml.linear_model import LogisticRegression as DaskMLLogistic

    if spec["setting"] == "defaults":
        return DaskMLLogistic(C=C, solver=spec["solver"])
    kwargs = {"normalize": False}
    if spec["solver"] == "admm":
        # admm ignores tol: it stops on these two.
        kwargs.update(abstol=tol, reltol=tol)
    return DaskMLLogistic(
        C=C,
        solver=spec["solver"],
        fit_intercept=False,
        tol=tol,
        max_iter=DASK_ML_MAX_ITER,
        solver_kwargs=kwargs,
    )


def fitted_facts(estimator, n_features):
    """Coefficients and counters of a fitted estimator, as plain numpy/dicts."""
    coef = np.asarray(estimator.coef_, dtype=np.float64).reshape(-1, n_features)
    if type(estimator).__module__.startswith("dask_ml") and not (
        estimator.fit_intercept
    ):
        # Best settings: X carried the intercept column, the last weight.
        return {"coef": coef[:, :-1], "intercept": coef[:, -1], "n_iter": None}
    facts = {
        "coef": coef,
        "intercept": np.asarray(estimator.intercept_, dtype=np.float64).ravel(),
        "n_iter": None,
    }
    if hasattr(estimator, "n_iter_"):
        facts["n_iter"] = int(np.max(estimator.n_iter_))
    for name in ("round_trips_", "product_counts_", "stop_reason_", "loss_"):
        value = getattr(estimator, name, None)
        if value is not None:
            facts[name.rstrip("_")] = dict(value) if isinstance(value, dict) else value
    return facts


def stopped_by_tol(facts, spec):
    """Whether a fit ended on its ``tol`` (so a tighter one would go on)."""
    if spec["kind"] == "ours":
        return facts["stop_reason"].startswith("gradient criterion")
    if facts.get("n_iter") is None:
        # dask-ml reports no iterations: go on down the sequence.
        return True
    return facts["n_iter"] < MAX_ITER


# --------------------------------------------------------------------------
# The child process: a client of the cluster that fits on the persisted X
# --------------------------------------------------------------------------


def _child_loop(connection, address, threads):
    """Receive ``(spec, tol, names)``; fit on the published arrays; send facts."""
    limit_threads(threads)
    from distributed import Client

    client = Client(address)
    warmed = set()
    while (message := connection.recv()) is not None:
        spec, tol, names = message
        try:
            X, y = (client.get_dataset(name) for name in names)
            key = tuple(sorted(spec.items()))
            if key not in warmed:
                # Imports and first-call costs, outside the timed fits.
                with warnings.catch_warnings():
                    warnings.simplefilter("ignore")
                    make_estimator(spec, 1e-2).fit(X[:2000], y[:2000])
                warmed.add(key)
            connection.send("warm")
            estimator = make_estimator(spec, tol)
            seconds, caught = timed_fit(estimator, X, y)
            facts = fitted_facts(estimator, X.shape[1])
            facts["seconds"] = seconds
            facts["warnings"] = [f"{w.category.__name__}: {w.message}" for w in caught]
            connection.send(facts)
        except Exception:
            connection.send(traceback.format_exc())
    client.close()


class ClusterFitter(common.FitWorker):
    """Fits on the cluster in a child process, killed after its timeout.

    A :class:`_common.FitWorker` (its ``close`` and context manager) whose
    child is a client of the cluster instead of holding its own X.

    Parameters
    ----------
    address : str
        The scheduler's address.
    threads : int
        BLAS threads of the child (the client side of the fit).
    """

    def __init__(self, address, threads):
        self.address = address
        self.threads = threads
        self._context = multiprocessing.get_context("spawn")
        self._process = None
        self._connection = None

    def fit(self, spec, tol, names, timeout):
        """The fitted facts, or None after ``timeout`` seconds (child killed).

        Raises
        ------
        RuntimeError
            If the fit raised (its traceback is the message).
        """
        if self._process is None:
            parent, child = self._context.Pipe()
            self._process = self._context.Process(
                target=_child_loop,
                args=(child, self.address, self.threads),
                daemon=True,
            )
            self._process.start()
            child.close()
            self._connection = parent
        self._connection.send((spec, tol, names))
        # The warm-up fit (small, untimed) answers first.
        for wait in (WARM_UP_TIMEOUT, timeout + IPC_SLACK):
            if not self._connection.poll(wait):
                self.close()
                return None
            message = self._connection.recv()
            if message != "warm":
                break
        if isinstance(message, str):
            raise RuntimeError(message)
        return message


# --------------------------------------------------------------------------
# Time to target: the tol sequence, wherever the fits run
# --------------------------------------------------------------------------


def sequence_row(base, fit_once, data, fstar, budget, tols=TOLS):
    """Fit with ``tol`` = 1e-3, ..., 1e-12 until the target; the table's row.

    Parameters
    ----------
    base : dict
        The row's labels (``contestant``, ``library``, ``placement``,
        ``spec``).
    fit_once : callable
        ``fit_once(tol, timeout)`` returns a fit's facts
        (:func:`fitted_facts` plus ``seconds`` and ``warnings``), or None if
        it did not finish within ``timeout`` seconds.
    data : tuple
        ``(X, y)`` as dask arrays, for the objective.
    fstar : float
        The target is ``fstar * (1 + TARGET_RTOL)``.
    budget : float
        Seconds of fitting for the whole sequence.
    tols : sequence of float or None
        ``(None,)`` for one fit at the library's default ``tol``.

    Returns
    -------
    row : dict
    """
    target = fstar * (1.0 + TARGET_RTOL)
    row = dict(base)
    attempts, spent, stop = [], 0.0, "tol 1e-12 too loose"
    for tol in tols:
        if spent >= budget:
            stop = "budget"
            break
        try:
            facts = fit_once(tol, budget - spent)
        except Exception as error:
            # One contestant's failure is its row's status, not the run's end.
            lines = str(error).strip().splitlines() or [type(error).__name__]
            row["error"] = lines[-1][:300]
            stop = f"error: {lines[-1][:80]}"
            break
        if facts is None:
            spent = budget
            stop = "budget"
            break
        spent += facts["seconds"]
        facts["objective"] = objective(facts["coef"], facts["intercept"], *data)
        facts["tol"] = tol
        attempts.append(facts)
        if facts["objective"] <= target:
            stop = "reached"
            break
        if tol is None:
            stop = "at its defaults"
            break
        if not stopped_by_tol(facts, base["spec"]):
            stop = "stalled or max_iter"
            break
    row.update(
        status="reached" if stop == "reached" else f"not reached ({stop})",
        n_fits=len(attempts),
        fit_seconds_total=spent,
    )
    if not attempts:
        return row
    best = (
        attempts[-1]
        if stop == "reached"
        else min(attempts, key=lambda a: a["objective"])
    )
    row.update(
        objective=best["objective"],
        gap=timing.relative_gap(best["objective"], fstar),
        n_iter=best["n_iter"],
        tol=best["tol"],
        fit_seconds=best["seconds"],
        warnings=reports.join_warnings(best["warnings"], 160),
    )
    if stop == "reached":
        row["time_s"] = best["seconds"]
    if "loss" in best:
        row["loss_attribute"] = float(best["loss"])
        row["loss_matches_objective"] = bool(
            np.isclose(best["loss"], best["objective"], rtol=LOSS_RTOL_FLOAT32)
        )
    if "round_trips" in best and best["n_iter"]:
        trips = best["round_trips"]
        row["round_trips"] = trips
        row["round_trips_per_iteration"] = trips.get("iterations", 0) / best["n_iter"]
        row["seconds_per_iteration"] = best["seconds"] / best["n_iter"]
    if "product_counts" in best:
        row["products"] = int(sum(best["product_counts"].values()))
    return row


def memory_fitter(X, y):
    """``fit_once`` for fits in this process on numpy X (budget between fits)."""

    def fit_once(spec, tol, timeout):
        estimator = make_estimator(spec, tol)
        seconds, caught = timed_fit(estimator, X, y)
        facts = fitted_facts(estimator, X.shape[1])
        facts["seconds"] = seconds
        facts["warnings"] = [f"{w.category.__name__}: {w.message}" for w in caught]
        return facts

    return fit_once


def memory_rows(X_np, y_np, data, fstar, n_classes, args):
    """Ours and scikit-learn's solvers on the gathered X, in this process."""
    import scipy.sparse as sp

    fit_memory = memory_fitter(X_np, y_np)
    specs = [_ours_spec(entry) for entry in args.ours_solvers]
    # saga: scikit-learn's solver for large sparse data (rows of unit norm).
    solvers = SKLEARN_SOLVERS + (("saga",) if sp.issparse(X_np) else ())
    for solver in solvers:
        if solver != "newton-cholesky" or newton_cholesky_fits(
            X_np.shape[1], n_classes
        ):
            specs.append((f"sklearn {solver}", {"kind": "sklearn", "solver": solver}))
    rows = []
    for label, spec in specs:
        base = {"contestant": label, "library": spec["kind"], "placement": "memory"}
        base["spec"] = spec
        once = _bind(fit_memory, spec)
        rows.append(sequence_row(base, once, data, fstar, args.budget))
        common.log(_row_line(rows[-1]))
    return rows


def _ours_spec(entry):
    """``(label, spec)`` of an ``--ours-solvers`` entry: ``solver[+preconditioner]``."""
    solver, _, preconditioner = entry.partition("+")
    spec = {"kind": "ours", "solver": solver}
    label = f"SO {solver}/lbfgs"
    if preconditioner:
        spec["preconditioner"] = preconditioner
        label += f" {preconditioner}"
    return label, spec


def compute_fstar(X_np, y_np, data, n_classes, tight_max_iter):
    """f*: the smallest objective of the tight in-memory fits.

    Returns
    -------
    fstar : float
    source : str
    tight : dict
        Label -> objective of each tight fit.
    """
    specs = {"sklearn lbfgs": {"kind": "sklearn", "solver": "lbfgs"}}
    if newton_cholesky_fits(X_np.shape[1], n_classes):
        specs["sklearn newton-cholesky"] = {
            "kind": "sklearn",
            "solver": "newton-cholesky",
        }
    specs["SO so/lbfgs"] = {"kind": "ours", "solver": "so"}
    tight = {}
    for label, spec in specs.items():
        estimator = make_estimator(spec, TIGHT_TOL)
        if spec["kind"] == "sklearn":
            estimator.set_params(max_iter=tight_max_iter)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            estimator.fit(X_np, y_np)
        facts = fitted_facts(estimator, X_np.shape[1])
        tight[label] = objective(facts["coef"], facts["intercept"], *data)
        common.log(f"  tight {label}: {tight[label]:.12g}")
    source = min(tight, key=tight.get)
    return tight[source], source, tight


def newton_cholesky_fits(n_features, n_classes):
    """Whether newton-cholesky's Hessian is small enough to be run."""
    q = 1 if n_classes == 2 else n_classes
    return (n_features + 1) * q <= NEWTON_CHOLESKY_MAX_ROWS


# --------------------------------------------------------------------------
# Cost reference: two bare products with X
# --------------------------------------------------------------------------


def bare_dask_products(X, n_outputs, runs=BARE_RUNS, seed=0):
    """Median seconds of ``X @ M`` (persisted) then ``X.T @ R`` (to the client).

    The shape of a fit's two products on the cluster: the forward image
    stays on the workers, the gradient's product comes back. ``R`` is
    persisted with X's row chunks beforehand.
    """
    import dask.array as da
    from distributed import wait

    rng = np.random.default_rng(seed)
    M = rng.standard_normal((X.shape[1], n_outputs)).astype(X.dtype)
    if is_sparse(X):
        return _bare_sparse_products(X, M, runs, seed)
    R = da.random.default_rng(seed).standard_normal(
        (X.shape[0], n_outputs), chunks=(X.chunks[0], n_outputs)
    )
    R = R.astype(X.dtype).persist()
    wait(R)
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        Z = (X @ M).persist()
        wait(Z)
        (X.T @ R).compute()
        times.append(time.perf_counter() - start)
        del Z
    return float(np.median(times))


def _bare_sparse_products(X, M, runs, seed):
    """:func:`bare_dask_products` for CSR chunks, one task per chunk.

    dask's ``@`` does not multiply scipy.sparse chunks, so each product is
    a task per row chunk: ``X_k @ M`` persisted, ``sum_k X_k.T @ R_k`` to
    the client.
    """
    import dask
    import dask.array as da
    from distributed import wait

    chunks = (X.chunks[0], (M.shape[1],))
    R = da.random.default_rng(seed).standard_normal(
        (X.shape[0], M.shape[1]), chunks=chunks
    )
    R = R.astype(X.dtype).persist()
    wait(R)
    pairs = list(zip(X.to_delayed().ravel(), R.to_delayed().ravel(), strict=True))
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        Z = X.map_blocks(_times, M, dtype=X.dtype, chunks=chunks, meta=M[:0]).persist()
        wait(Z)
        parts = dask.compute(*[dask.delayed(_transposed_times)(b, r) for b, r in pairs])
        np.sum(parts, axis=0)
        times.append(time.perf_counter() - start)
        del Z
    return float(np.median(times))


def _times(block, M):
    return np.asarray(block @ M)


def _transposed_times(block, R):
    return np.asarray(block.T @ R)


def bare_numpy_products(X, n_outputs, runs=BARE_RUNS, seed=0):
    """Median seconds of ``X @ M`` plus ``X.T @ R`` in numpy, in X's dtype."""
    rng = np.random.default_rng(seed)
    M = rng.standard_normal((X.shape[1], n_outputs)).astype(X.dtype)
    R = rng.standard_normal((X.shape[0], n_outputs)).astype(X.dtype)
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        X @ M
        X.T @ R
        times.append(time.perf_counter() - start)
    return float(np.median(times))


# --------------------------------------------------------------------------
# dask-ml: which problem each solver solves (a small problem, C = 0.01)
# --------------------------------------------------------------------------


def dask_ml_check(solvers, n_samples=2000, n_features=10, C_check=0.01):
    """Which objective each dask-ml solver minimises, on a small problem.

    Each solver (``normalize=False``, tight tolerances) is compared with
    three scikit-learn fits of the same data: the intercept penalised like
    the weights (``fit_intercept=False`` on X with a column of ones), the
    intercept unpenalised (scikit-learn's and our objective), and no
    penalty at all. At C=0.01 the three minimisers are far apart.

    Parameters
    ----------
    solvers : sequence of str
        dask-ml's solver names.

    Returns
    -------
    rows : list of dict
        Per solver: the relative distance of its coefficients to each
        reference, the closest reference (``"not converged"`` when even
        that one is more than ``CHECK_CLOSE`` away, ``"undecided"`` when the
        next one is not ``CHECK_APART`` times farther), and whether dask-ml
        passes the penalty to dask-glm's solver at all.
    """
    from dask_ml.linear_model import LogisticRegression as DaskMLLogistic
    from sklearn.linear_model import LogisticRegression

    X, y = make_dask_data(n_samples, n_features, 2, np.float64, 2, seed=1)
    X_np, y_np = gather(X, y)
    ones = _append_ones(X_np)

    def stacked(model):
        return np.append(np.ravel(model.coef_), np.ravel(model.intercept_))

    references = {
        "intercept penalised": np.ravel(
            LogisticRegression(C=C_check, fit_intercept=False, tol=1e-12)
            .fit(ones, y_np)
            .coef_
        ),
        "intercept unpenalised": stacked(
            LogisticRegression(C=C_check, tol=1e-12).fit(X_np, y_np)
        ),
        "no penalty": stacked(LogisticRegression(C=np.inf, tol=1e-12).fit(X_np, y_np)),
    }
    rows = []
    for solver in solvers:
        kwargs = {"normalize": False}
        if solver == "admm":
            kwargs.update(abstol=1e-10, reltol=1e-10)
        model = DaskMLLogistic(
            C=C_check,
            solver=solver,
            tol=1e-10,
            max_iter=CHECK_MAX_ITER,
            solver_kwargs=kwargs,
        )
        start = time.perf_counter()
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            model.fit(X, y)
        beta = stacked(model)
        distances = {
            name: float(np.linalg.norm(beta - ref) / np.linalg.norm(ref))
            for name, ref in references.items()
        }
        passed = "lamduh" in model._get_solver_kwargs()
        nearest, second = sorted(distances, key=distances.get)[:2]
        closest = nearest
        if distances[nearest] > CHECK_CLOSE:
            closest = f"not converged (nearest: {nearest})"
        elif distances[second] < CHECK_APART * distances[nearest]:
            closest = f"undecided (nearest: {nearest}, then {second})"
        rows.append(
            {
                "solver": solver,
                "distances": distances,
                "closest": closest,
                "penalty_passed": passed,
                "seconds": time.perf_counter() - start,
            }
        )
        common.log(f"  dask-ml check {solver}: {rows[-1]['closest']} {distances}")
    return rows


# --------------------------------------------------------------------------
# Spark
# --------------------------------------------------------------------------


def spark_unavailable():
    """Why Spark cannot run here, or None."""
    if shutil.which("java") is None:
        return "Spark not run: no java on the PATH."
    try:
        import pyspark  # noqa: F401
    except ImportError as error:
        return f"Spark not run: pyspark does not import ({error})."
    try:
        subprocess.run(["java", "-version"], capture_output=True, check=True)
    except (OSError, subprocess.CalledProcessError) as error:
        return f"Spark not run: java does not start ({error})."
    return None


def spark_session(memory):
    """A ``local[2]`` Spark session, quiet, without its web UI."""
    from pyspark.sql import SparkSession

    spark = (
        SparkSession.builder.master(f"local[{WORKERS}]")
        .appName("bench_dask")
        .config("spark.driver.memory", memory)
        .config("spark.ui.enabled", "false")
        .config("spark.ui.showConsoleProgress", "false")
        .config("spark.sql.shuffle.partitions", str(WORKERS))
        .getOrCreate()
    )
    spark.sparkContext.setLogLevel("ERROR")
    return spark


def write_spark_data(X, y, folder):
    """X and y written by the workers for Spark, one file per row chunk.

    Dense X: Parquet, a column per feature and ``label``. Sparse X: LIBSVM
    text (``label index:value ...``, indices from 1), which Spark reads as
    ``SparseVector`` features.
    """
    import dask
    import dask.array as da
    import dask.dataframe as dd

    if is_sparse(X):
        os.makedirs(folder)
        parts = [
            dask.delayed(_write_libsvm)(block, labels, os.path.join(folder, f"{i}.txt"))
            for i, (block, labels) in enumerate(
                zip(X.to_delayed().ravel(), y.to_delayed().ravel(), strict=True)
            )
        ]
        dask.compute(*parts)
        return
    columns = [f"x{j}" for j in range(X.shape[1])]
    table = da.concatenate([X, y[:, None].astype(X.dtype)], axis=1)
    dd.from_dask_array(table, columns=[*columns, "label"]).to_parquet(
        folder, write_index=False
    )


def _write_libsvm(block, labels, path):
    """One CSR chunk and its labels as LIBSVM lines (exact decimal values)."""
    with open(path, "w") as file:
        for row, label in enumerate(labels):
            lo, hi = block.indptr[row], block.indptr[row + 1]
            pairs = " ".join(
                f"{j + 1}:{v!r}"
                for j, v in zip(
                    block.indices[lo:hi].tolist(),
                    block.data[lo:hi].astype(np.float64).tolist(),
                    strict=True,
                )
            )
            file.write(f"{int(label)} {pairs}\n")


def _spark_frame(spark, folder, sparse, n_features):
    """The written data as a cached Spark frame (features, label), counted."""
    from pyspark.ml.feature import VectorAssembler

    if sparse:
        frame = (
            spark.read.format("libsvm")
            .option("numFeatures", str(n_features))
            .load(folder)
        )
    else:
        frame = spark.read.parquet(folder)
        columns = [f"x{j}" for j in range(n_features)]
        frame = VectorAssembler(inputCols=columns, outputCol="features").transform(
            frame
        )
    frame = frame.select("features", frame["label"].cast("double")).cache()
    frame.count()
    return frame


def _spark_model(tol, max_iter, n_samples, n_classes):
    """Spark's LogisticRegression with our objective exactly."""
    from pyspark.ml.classification import LogisticRegression as SparkLogistic

    return SparkLogistic(
        regParam=1.0 / (n_samples * C),
        elasticNetParam=0.0,
        standardization=False,
        fitIntercept=True,
        maxIter=max_iter,
        tol=tol,
        family="binomial" if n_classes == 2 else "multinomial",
    )


def _spark_child(connection, folder, sparse, shape, n_classes, memory, threads):
    """The Spark contestant's process: session, cached frame, fits, stop.

    Sends "ready" (or a traceback) once the frame is cached and an untimed
    first fit has run; then, per received ``tol``, the fit's facts; on None
    stops the session, so that the JVM exits with this process.
    """
    limit_threads(threads)
    try:
        spark = spark_session(memory)
        frame = _spark_frame(spark, folder, sparse, shape[1])
        # The JVM's first fit (class loading, compilation) is not timed.
        _spark_model(1e-3, 2, shape[0], n_classes).fit(frame.limit(2000))
    except Exception:
        connection.send(traceback.format_exc())
        return
    connection.send("ready")
    while (tol := connection.recv()) is not None:
        try:
            start = time.perf_counter()
            fitted = _spark_model(tol, MAX_ITER, shape[0], n_classes).fit(frame)
            seconds = time.perf_counter() - start
            connection.send(
                {
                    "coef": fitted.coefficientMatrix.toArray(),
                    "intercept": fitted.interceptVector.toArray(),
                    "n_iter": int(fitted.summary.totalIterations),
                    "seconds": seconds,
                    "warnings": [],
                }
            )
        except Exception:
            connection.send(traceback.format_exc())
    frame.unpersist()
    spark.stop()


class SparkFitter(common.FitWorker):
    """The Spark contestant in a child process of its own (spawned).

    Spark's session and JVM live only in the child, which starts after the
    workers have written the data and ends (session stopped, JVM gone)
    before the next problem: no other contestant shares a process, or the
    CPU, with the JVM. A fit beyond its timeout kills the child; the JVM
    then exits as its parent's pipe closes.

    Parameters
    ----------
    folder : str
        The data written by :func:`write_spark_data`.
    sparse : bool
        LIBSVM text (sparse) or Parquet (dense).
    shape : tuple of int
        ``(n_samples, n_features)``.
    n_classes : int
    memory : str
        Spark driver memory, e.g. "8g".
    threads : int
        BLAS threads of the child.
    """

    def __init__(self, folder, sparse, shape, n_classes, memory, threads):
        self.args = (folder, sparse, tuple(shape), n_classes, memory, threads)
        self._context = multiprocessing.get_context("spawn")
        self._process = None
        self._connection = None

    def start(self):
        """Start the child; wait for its cached frame and first fit.

        Raises
        ------
        RuntimeError
            If the session or the frame failed (the traceback is the
            message), or nothing came within ``SPARK_START_TIMEOUT``.
        """
        parent, child = self._context.Pipe()
        self._process = self._context.Process(
            target=_spark_child, args=(child, *self.args), daemon=True
        )
        self._process.start()
        child.close()
        self._connection = parent
        if not parent.poll(SPARK_START_TIMEOUT):
            self.close()
            raise RuntimeError(f"Spark did not start within {SPARK_START_TIMEOUT:g} s")
        message = parent.recv()
        if message != "ready":
            self.close()
            raise RuntimeError(message)

    def fit(self, spec, tol, timeout):
        """The fit's facts, or None after ``timeout`` seconds (child killed)."""
        if self._process is None:
            raise RuntimeError("the Spark process is not running")
        self._connection.send(tol)
        if not self._connection.poll(timeout + IPC_SLACK):
            self.close()
            return None
        message = self._connection.recv()
        if isinstance(message, str):
            raise RuntimeError(message)
        return message

    def stop(self):
        """Stop the session and wait for the child (and its JVM) to end."""
        if self._process is None:
            return
        if self._process.is_alive():
            self._connection.send(None)
            self._process.join(SPARK_STOP_TIMEOUT)
        self.close()


def spark_row(X, y, data, fstar, n_classes, args):
    """The Spark contestant's row: data written, child started, sequence fitted."""
    base = {"contestant": "Spark lbfgs", "library": "spark", "placement": "spark"}
    base["spec"] = {"kind": "spark", "solver": "lbfgs"}
    folder = tempfile.mkdtemp(prefix="bench_dask_spark_")
    path = os.path.join(folder, "data")
    sparse = is_sparse(X)
    fitter = SparkFitter(path, sparse, X.shape, n_classes, args.spark_memory, 1)
    try:
        common.log(f"  Spark: writing {'LIBSVM' if sparse else 'Parquet'}, caching")
        write_spark_data(X, y, path)
        fitter.start()
        return sequence_row(
            base, _bind(fitter.fit, base["spec"]), data, fstar, args.budget
        )
    except RuntimeError as error:
        lines = str(error).strip().splitlines() or ["RuntimeError"]
        return {**base, "status": f"not run: {lines[-1][:200]}", "n_fits": 0}
    finally:
        fitter.stop()
        shutil.rmtree(folder, ignore_errors=True)


# --------------------------------------------------------------------------
# One problem: data, f*, every contestant
# --------------------------------------------------------------------------


def _label(row):
    return f"{row['contestant']} ({row['placement']})"


def _row_line(row):
    """One progress line for stderr."""
    shown = f"{row['time_s']:.3g}s" if "time_s" in row else "-"
    return (
        f"  {_label(row):<44} {row['status']:<30} {shown:>8} "
        f"n_iter={row.get('n_iter', '-')} gap={row.get('gap', float('nan')):.1e}"
    )


def run_problem(client, problem, args, fitter, check, notes):
    """Every contestant on one problem. Returns ``(facts, rows)``.

    ``problem`` is ``(kind, dtype, n_classes)`` with ``kind`` "dense" or
    "sparse". Spark runs last, in its own process (:class:`SparkFitter`).
    """
    kind, dtype, n_classes = problem
    sparse = kind == "sparse"
    labels = "binary" if n_classes == 2 else f"{n_classes} classes"
    name = f"{'sparse ' if sparse else ''}{np.dtype(dtype).name} {labels}"
    n = args.n_samples
    d = args.vocabulary if sparse else args.n_features
    common.log(f"{name}: drawing X ({n} x {d}) on the workers")
    start = time.perf_counter()
    if sparse:
        X, y = make_sparse_dask_data(n, d, n_classes, dtype, args.chunks, args.words)
    else:
        X, y = make_dask_data(n, d, n_classes, dtype, args.chunks)
    facts = {
        "problem": name,
        "kind": kind,
        "dtype": np.dtype(dtype).name,
        "classes": n_classes,
        "n_features": d,
    }
    facts["build_seconds"] = time.perf_counter() - start
    data = (X, y)
    tag = f"{kind}-{facts['dtype']}-{n_classes}"
    names = (f"X-{tag}", f"y-{tag}")
    client.publish_dataset(**dict(zip(names, data, strict=True)))
    q = 1 if n_classes == 2 else n_classes
    rows = []

    def add(row, log=True):
        row["problem"] = name
        rows.append(row)
        if log:
            common.log(_row_line(row))

    # In memory: X gathered once, for f* and the in-memory contestants.
    X_np, y_np = gather(X, y)
    if sparse:
        facts["nonzeros_per_row"] = X_np.nnz / n
    common.log(f"{name}: tight fits for f*")
    fstar, source, tight = compute_fstar(
        X_np, y_np, data, n_classes, args.tight_max_iter
    )
    facts.update(f_star=fstar, f_star_source=source, tight_fits=tight)
    common.log(f"{name}: f* = {fstar:.12g} from {source}")
    if "memory" not in args.skip:
        for row in memory_rows(X_np, y_np, data, fstar, n_classes, args):
            add(row, log=False)
    facts["bare_numpy_seconds"] = bare_numpy_products(X_np, q)
    del X_np, y_np
    facts["bare_dask_seconds"] = bare_dask_products(X, q)
    common.log(
        f"{name}: two bare products: {facts['bare_dask_seconds']:.3g} s on the "
        f"cluster, {facts['bare_numpy_seconds']:.3g} s in numpy"
    )

    if "ours-dask" not in args.skip:
        for entry in args.ours_solvers:
            label, spec = _ours_spec(entry)
            base = {"contestant": label, "library": "ours", "placement": "dask"}
            base["spec"] = spec
            once = _bind(fitter.fit, spec, names=names)
            add(refused(sequence_row(base, once, data, fstar, args.budget)))

    if check is not None and n_classes == 2:
        X1 = with_intercept_column(X)
        ones_names = (f"X-{tag}+1", names[1])
        client.publish_dataset(**{ones_names[0]: X1})
        ignored = {c["solver"] for c in check if c["closest"] == "no penalty"}
        for setting in ("defaults", "best"):
            for solver in args.dask_ml_solvers:
                spec = {"kind": "dask-ml", "solver": solver, "setting": setting}
                label = f"dask-ml {solver} {setting}"
                if solver in ignored:
                    label += " (no penalty)"
                base = {"contestant": label, "library": "dask-ml", "placement": "dask"}
                base.update(spec=spec, setting=setting)
                use = names if setting == "defaults" else ones_names
                once = _bind(fitter.fit, spec, names=use)
                tols = (None,) if setting == "defaults" else TOLS
                budget = args.dask_ml_budget.get(solver, args.budget)
                add(refused(sequence_row(base, once, data, fstar, budget, tols)))
        client.unpublish_dataset(ones_names[0])
        del X1
    elif check is not None:
        notes.append(
            f"{name}: dask-ml not run (its LogisticRegression is binary only)."
        )

    if args.spark:
        add(spark_row(X, y, data, fstar, n_classes, args))

    for key in names:
        client.unpublish_dataset(key)
    floor = fstar * (1.0 - 1e-9)
    for row in rows:
        if row.get("objective", np.inf) < floor:
            notes.append(f"{name}: {_label(row)} went below f*: f* is not the minimum.")
        if row.get("loss_matches_objective") is False:
            notes.append(
                f"{name}: {_label(row)} loss_ {row['loss_attribute']!r} differs from "
                f"the objective of its coefficients {row['objective']!r}."
            )
    return facts, rows


def refused(row):
    """The row as "not run" when its first fit raised.

    A library that cannot take the input (ours on sparse chunks before it
    supports them; dask-ml, whose dask-glm solvers fail on scipy.sparse
    chunks) did not run: the status says so, with the first sentence of
    the library's message (the whole last line is in ``error``).
    """
    error = row.get("error")
    if error and row["n_fits"] == 0:
        row["status"] = f"not run: {error.split('. ')[0][:160]}"
    return row


def _bind(function, spec, **kwargs):
    """``fit_once(tol, timeout)`` for one contestant."""
    return lambda tol, timeout: function(spec, tol, timeout=timeout, **kwargs)


# --------------------------------------------------------------------------
# Ratios and goals
# --------------------------------------------------------------------------


def add_ratios(facts, rows):
    """Ratios against ours on the cluster, and the issue's goals.

    Every reached row gets ``vs_ours_dask`` = its time / the time of the
    faster of ours on the cluster (> 1: ours is faster). Ours on the
    cluster gets ``per_iteration_over_bare`` = its seconds per iteration /
    two bare dask products.

    Returns
    -------
    goals : list of dict
        ``goal``, ``baseline`` (a row label), ``ratio`` (baseline time /
        ours) and ``met`` (None where it cannot be measured), with a
        ``detail`` sentence.
    """
    reached = [r for r in rows if "time_s" in r]
    ours = [r for r in reached if r["library"] == "ours" and r["placement"] == "dask"]
    bare = facts.get("bare_dask_seconds")
    for row in rows:
        if row["library"] == "ours" and row["placement"] == "dask" and bare:
            if "seconds_per_iteration" in row:
                row["per_iteration_over_bare"] = row["seconds_per_iteration"] / bare
    tried = [r for r in rows if r["library"] == "ours" and r["placement"] == "dask"]
    if tried and all(r["status"].startswith("not run") for r in tried):
        return [
            {
                "goal": "ours on dask reaches the target",
                "met": None,
                "detail": tried[0]["status"],
            }
        ]
    if not ours:
        return [
            {
                "goal": "ours on dask reaches the target",
                "met": False,
                "detail": "no fit of ours on the cluster reached the target "
                "within its budget; the others' times are in the table",
            }
        ]
    best = min(ours, key=lambda r: r["time_s"])
    for row in reached:
        row["vs_ours_dask"] = row["time_s"] / best["time_s"]
    goals = []

    def goal(text, candidates, factor, absent):
        done = [r for r in candidates if "time_s" in r]
        if not candidates:
            goals.append({"goal": text, "met": None, "detail": absent})
            return
        if not done:
            goals.append(
                {
                    "goal": text,
                    "met": True,
                    "detail": "no contestant "
                    "of this group reached the target (time to target "
                    "undefined); ours did",
                }
            )
            return
        other = min(done, key=lambda r: r["time_s"])
        ratio = other["time_s"] / best["time_s"]
        goals.append(
            {
                "goal": text,
                "baseline": _label(other),
                "ratio": ratio,
                "met": ratio >= factor,
                "detail": f"{_label(other)} {other['time_s']:.3g} s / "
                f"{_label(best)} {best['time_s']:.3g} s = {ratio:.2f}",
            }
        )

    dask_ml = [r for r in rows if r["library"] == "dask-ml"]
    goal(
        f">= {GOAL_VS_DASK_ML_DEFAULTS:g}x faster than dask-ml at its defaults",
        [r for r in dask_ml if r["setting"] == "defaults"],
        GOAL_VS_DASK_ML_DEFAULTS,
        "dask-ml not run",
    )
    goal(
        "faster than dask-ml at its best",
        [r for r in dask_ml if r["setting"] == "best"],
        1.0,
        "dask-ml not run",
    )
    goal(
        "faster than Spark",
        [r for r in rows if r["library"] == "spark"],
        1.0,
        "Spark not run",
    )
    memory = [
        r for r in reached if r["library"] == "ours" and r["placement"] == "memory"
    ]
    if memory:
        fastest = min(memory, key=lambda r: r["time_s"])
        ratio = best["time_s"] / fastest["time_s"]
        goals.append(
            {
                "goal": f"within {GOAL_VS_MEMORY:g}x of ours in memory",
                "baseline": _label(fastest),
                "ratio": ratio,
                "met": ratio <= GOAL_VS_MEMORY,
                "detail": f"{_label(best)} {best['time_s']:.3g} s / {_label(fastest)} "
                f"{fastest['time_s']:.3g} s = {ratio:.2f}",
            }
        )
    else:
        goals.append(
            {
                "goal": f"within {GOAL_VS_MEMORY:g}x of ours in memory",
                "met": None,
                "detail": "ours in memory not run or not reached",
            }
        )
    return goals


# --------------------------------------------------------------------------
# Report
# --------------------------------------------------------------------------

COLUMNS = (
    ("status", "status", "s"),
    ("time_s", "time [s]", ".3g"),
    ("vs_ours_dask", "time / ours on dask", ".2f"),
    ("n_iter", "n_iter", "d"),
    ("tol", "tol", ".0e"),
    ("fit_seconds_total", "fitting [s]", ".3g"),
    ("gap", "gap to f*", ".1e"),
)


def table(rows):
    """The Markdown table of one problem's rows."""
    return reports.contestant_table(rows, COLUMNS)


def ours_lines(facts, rows):
    """Round trips and time per iteration of ours on the cluster."""
    lines = [
        f"two bare products (X @ M persisted, X.T @ R to the client, "
        f"q={facts['q']}): {facts['bare_dask_seconds']:.3g} s on the cluster, "
        f"{facts['bare_numpy_seconds']:.3g} s in numpy (1 thread)"
    ]
    for row in rows:
        if row["library"] != "ours" or row["placement"] != "dask":
            continue
        if "round_trips" not in row:
            lines.append(f"{_label(row)}: {row['status']}")
            continue
        trips = row["round_trips"]
        lines.append(
            f"{_label(row)}: {row['n_iter']} iterations, round trips "
            f"{trips} ({row['round_trips_per_iteration']:.2f} per iteration), "
            f"{row['seconds_per_iteration']:.3g} s per iteration = "
            f"{row['per_iteration_over_bare']:.2f} x two bare dask products"
        )
    return lines


def goal_line(goal):
    verdict = {True: "met", False: "MISSED", None: "not measured"}[goal["met"]]
    return f"{goal['goal']}: {verdict} ({goal['detail']})"


def check_table(check):
    """dask-ml's solvers against the three references."""
    header = [
        "solver",
        "penalty passed by dask-ml",
        "solves",
        "distance to the nearest",
        "to intercept unpenalised",
    ]
    cells = [
        [
            c["solver"],
            "yes" if c["penalty_passed"] else "no",
            c["closest"],
            f"{min(c['distances'].values()):.1e}",
            f"{c['distances']['intercept unpenalised']:.1e}",
        ]
        for c in check
    ]
    return reports.markdown_table(header, cells)


def scale_line(args):
    """Whether this run is the full benchmark or a smaller one, and why."""
    full = (
        args.n_samples == DEFAULT_N_SAMPLES
        and args.n_features == DEFAULT_N_FEATURES
        and set(args.dtypes) == set(DEFAULT_DTYPES)
        and set(args.classes) == set(DEFAULT_CLASSES)
        and set(args.problems) == set(DEFAULT_PROBLEMS)
        and set(args.sparse_dtypes) == set(DEFAULT_SPARSE_DTYPES)
        and args.vocabulary == DEFAULT_VOCABULARY
        and args.words == DEFAULT_WORDS
    )
    if full:
        text = "**Full size**: the script's default problems."
    else:
        chosen = []
        if "dense" in args.problems:
            chosen.append(
                f"dense {args.n_samples:,} x {args.n_features}, "
                f"{', '.join(args.dtypes)}"
            )
        if "sparse" in args.problems:
            chosen.append(
                f"sparse {args.n_samples:,} x {args.vocabulary:,} "
                f"({args.words} words a row), {', '.join(args.sparse_dtypes)}"
            )
        text = (
            f"**Scaled down**: {'; '.join(chosen)}; classes "
            f"{', '.join(map(str, args.classes))} (the script's default: dense "
            f"{DEFAULT_N_SAMPLES:,} x {DEFAULT_N_FEATURES}, "
            f"{', '.join(DEFAULT_DTYPES)}; sparse {DEFAULT_N_SAMPLES:,} x "
            f"{DEFAULT_VOCABULARY:,} ({DEFAULT_WORDS} words a row), "
            f"{', '.join(DEFAULT_SPARSE_DTYPES)}; classes "
            f"{', '.join(map(str, DEFAULT_CLASSES))})."
        )
    return f"{text} {args.remark}".strip()


def _budget_exceptions(args):
    if not args.dask_ml_budget:
        return ""
    items = ", ".join(f"{k} {v:g} s" for k, v in sorted(args.dask_ml_budget.items()))
    return f" (dask-ml {items})"


def _sparse_fact(facts):
    if "nonzeros_per_row" not in facts:
        return ""
    return (
        f"; {facts['n_features']:,} columns, "
        f"{facts['nonzeros_per_row']:.1f} nonzeros a row"
    )


def markdown_report(args, problems, check, notes):
    """The whole Markdown report."""
    protocol = (
        f"Dense X: {args.n_samples} x {args.n_features}, standardised, "
        f"synthetic. Sparse X: {args.n_samples} x {args.vocabulary}, "
        f"text-like (Zipf word frequencies, 1 + Poisson({args.words - 1}) "
        "words a row, sublinear tf-idf, rows of unit norm), scipy.sparse CSR "
        f"chunks. {args.chunks} row chunks persisted on a LocalCluster of "
        f"{WORKERS} worker processes x 1 thread (benchmarks/bench_dask.py, "
        "seed 0). "
        f"Logistic regression, C={C:g}, intercept unpenalised; target "
        f"f*(1 + {TARGET_RTOL:g}), f* from tight in-memory fits (tol="
        f"{TIGHT_TOL:g}); tol 1e-3, ..., 1e-12 until a fit reaches the target, "
        "whose wall time counts (dask-ml at its defaults: one fit); budget "
        f"{args.budget:g} s of fitting per contestant{_budget_exceptions(args)}. "
        "Every objective "
        "recomputed in float64 from the coefficients. In-memory fits: numpy, "
        "1 BLAS thread, in the driver process; fits on the cluster: a client "
        "process of the cluster; Spark: a process of its own, started after "
        "every other contestant of the problem and ended before the next. "
        "'time / ours on dask' = contestant's time / "
        "the faster of ours on the cluster (> 1: ours faster)."
    )
    blocks = [scale_line(args), protocol]
    for facts, rows, goals in problems:
        text = (
            f"### {facts['problem']}\n\nf* = {facts['f_star']:.12g} from "
            f"{facts['f_star_source']}; X drawn and persisted in "
            f"{facts['build_seconds']:.1f} s{_sparse_fact(facts)}."
            f"\n\n{table(rows)}"
        )
        blocks.append(text)
        blocks.append(
            reports.bullet_list("Ours on the cluster:", ours_lines(facts, rows))
        )
        blocks.append(
            reports.bullet_list("Goals (issue 14):", [goal_line(g) for g in goals])
        )
    if check:
        blocks.append(
            "### Which problem dask-ml's solvers solve\n\n"
            "2000 x 10 standardised binary problem, C=0.01, "
            "`solver_kwargs={'normalize': False}`, tight tolerances, "
            f"max_iter={CHECK_MAX_ITER}; "
            "relative distance of (coef, intercept) to scikit-learn fits with "
            "the intercept penalised, unpenalised, and without penalty.\n\n"
            + check_table(check)
        )
    return common.report_document(
        "# dask: time to scikit-learn's objective on a cluster",
        args.load_before,
        blocks,
        notes,
    )


# --------------------------------------------------------------------------
# Command line and driver
# --------------------------------------------------------------------------


def parse_args(argv=None):
    """Command-line options."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n-samples", type=int, default=DEFAULT_N_SAMPLES)
    parser.add_argument("--n-features", type=int, default=DEFAULT_N_FEATURES)
    parser.add_argument(
        "--chunks",
        type=int,
        default=DEFAULT_CHUNKS,
        help=f"row chunks of X (default {DEFAULT_CHUNKS})",
    )
    parser.add_argument(
        "--dtypes",
        default=",".join(DEFAULT_DTYPES),
        help="comma-separated among float32, float64",
    )
    parser.add_argument(
        "--classes",
        default=",".join(map(str, DEFAULT_CLASSES)),
        help="comma-separated class counts (default 2,10)",
    )
    parser.add_argument(
        "--problems",
        default=",".join(DEFAULT_PROBLEMS),
        help="comma-separated among dense, sparse (default both): the dense "
        "problems take --dtypes and --classes, the sparse ones "
        "--sparse-dtypes and --classes",
    )
    parser.add_argument(
        "--sparse-dtypes",
        default=",".join(DEFAULT_SPARSE_DTYPES),
        help="comma-separated dtypes of the sparse problem (default "
        f"{','.join(DEFAULT_SPARSE_DTYPES)})",
    )
    parser.add_argument(
        "--vocabulary",
        type=int,
        default=DEFAULT_VOCABULARY,
        help=f"columns of the sparse X (default {DEFAULT_VOCABULARY})",
    )
    parser.add_argument(
        "--words",
        type=int,
        default=DEFAULT_WORDS,
        help=f"mean words per row of the sparse X (default {DEFAULT_WORDS})",
    )
    parser.add_argument(
        "--budget",
        type=float,
        default=600.0,
        help="seconds of fitting per contestant and problem (default 600)",
    )
    parser.add_argument(
        "--dask-ml-budget",
        default="",
        help="comma-separated solver=seconds: a smaller budget for some of "
        "dask-ml's solvers (e.g. admm=60,proximal_grad=60); the others get "
        "--budget",
    )
    parser.add_argument(
        "--tight-max-iter",
        type=int,
        default=10_000,
        help="max_iter of the tight fits for f* (default 10000)",
    )
    parser.add_argument(
        "--ours-solvers",
        default="ls,so",
        help="SOLogisticRegression solvers, direction lbfgs (default ls,so); "
        "ls+diagonal: with preconditioner='diagonal' (the default before "
        "'centred'; the dense reports were made with it), ls+centred: "
        "'centred'",
    )
    parser.add_argument(
        "--dask-ml-solvers",
        default=",".join(DASK_ML_SOLVERS),
        help=f"dask-ml solvers (default {','.join(DASK_ML_SOLVERS)})",
    )
    parser.add_argument(
        "--skip", default="", help=f"comma-separated among {', '.join(SKIPPABLE)}"
    )
    parser.add_argument(
        "--spark-memory", default="8g", help="Spark driver memory (default 8g)"
    )
    parser.add_argument(
        "--remark",
        default="",
        help="a sentence for the report's header (why a run was scaled down)",
    )
    parser.add_argument("--output", type=common.Path, default=common.DEFAULT_OUTPUT)
    parser.add_argument("--threads", type=int, default=1, help=common.THREADS_HELP)
    args = parser.parse_args(argv)
    args.dtypes = [s.strip() for s in args.dtypes.split(",") if s.strip()]
    args.sparse_dtypes = [s.strip() for s in args.sparse_dtypes.split(",") if s.strip()]
    args.problems = [s.strip() for s in args.problems.split(",") if s.strip()]
    if not args.problems or set(args.problems) - set(DEFAULT_PROBLEMS):
        parser.error("--problems: dense and/or sparse")
    if set(args.sparse_dtypes) - {"float32", "float64"}:
        parser.error("--sparse-dtypes: float32 and/or float64")
    if not 1 <= args.words <= args.vocabulary:
        parser.error("--words: between 1 and --vocabulary")
    args.classes = [int(s) for s in args.classes.split(",") if s.strip()]
    args.skip = {s.strip() for s in args.skip.split(",") if s.strip()}
    args.ours_solvers = [s.strip() for s in args.ours_solvers.split(",") if s.strip()]
    args.dask_ml_solvers = [
        s.strip() for s in args.dask_ml_solvers.split(",") if s.strip()
    ]
    try:
        args.dask_ml_budget = {
            solver.strip(): float(seconds)
            for solver, seconds in (
                item.split("=") for item in args.dask_ml_budget.split(",") if item
            )
        }
    except ValueError:
        parser.error("--dask-ml-budget: solver=seconds, comma-separated")
    if set(args.dask_ml_budget) - set(DASK_ML_SOLVERS):
        parser.error(f"--dask-ml-budget: solvers among {', '.join(DASK_ML_SOLVERS)}")
    if set(args.dask_ml_solvers) - set(DASK_ML_SOLVERS):
        parser.error(f"--dask-ml-solvers: among {', '.join(DASK_ML_SOLVERS)}")
    solvers = {entry.partition("+")[0] for entry in args.ours_solvers}
    preconditioners = {entry.partition("+")[2] for entry in args.ours_solvers}
    if solvers - {"ls", "lo", "ps", "so", "fixed"} or preconditioners - {
        "",
        "centred",
        "diagonal",
    }:
        parser.error(
            "--ours-solvers: among ls, lo, ps, so, fixed, each optionally with "
            "+centred or +diagonal (the preconditioner)"
        )
    if set(args.dtypes) - {"float32", "float64"}:
        parser.error("--dtypes: float32 and/or float64")
    if args.skip - set(SKIPPABLE):
        parser.error(f"--skip: among {', '.join(SKIPPABLE)}")
    if min(args.classes, default=0) < 2 or args.n_features < 20:
        parser.error("--classes: 2 or more each; --n-features >= 20")
    if args.n_samples < 4000:
        # The untimed warm-up fits use the first 2000 rows.
        parser.error("--n-samples: at least 4000")
    return args


def problem_list(args):
    """The problems to run, as ``(kind, dtype, n_classes)``, dense first."""
    dtypes = {"dense": args.dtypes, "sparse": args.sparse_dtypes}
    return [
        (kind, dtype, n_classes)
        for kind in DEFAULT_PROBLEMS
        if kind in args.problems
        for dtype in dtypes[kind]
        for n_classes in args.classes
    ]


def main(argv=None):
    """Run the benchmark; write ``dask.json`` and ``dask.md``."""
    args = parse_args(argv)
    from distributed import Client, LocalCluster

    limit_threads(args.threads)
    args.load_before = os.getloadavg()
    start = time.perf_counter()
    notes = []
    cluster = LocalCluster(
        n_workers=WORKERS, threads_per_worker=1, processes=True, dashboard_address=":0"
    )
    client = Client(cluster)
    fitter = ClusterFitter(cluster.scheduler_address, args.threads)
    check, problems = None, []
    args.spark = False
    try:
        if "dask-ml" not in args.skip:
            try:
                import dask_ml  # noqa: F401
            except ImportError as error:
                notes.append(f"dask-ml not run: it does not import ({error}).")
            else:
                common.log("dask-ml: which problem each solver solves")
                check = dask_ml_check(args.dask_ml_solvers)
        if "spark" not in args.skip:
            reason = spark_unavailable()
            args.spark = reason is None
            if reason is not None:
                notes.append(reason)
        for problem in problem_list(args):
            facts, rows = run_problem(client, problem, args, fitter, check, notes)
            facts["q"] = 1 if problem[2] == 2 else problem[2]
            goals = add_ratios(facts, rows)
            problems.append((facts, rows, goals))
    finally:
        fitter.close()
        client.close()
        cluster.close()
    notes.append(f"total benchmark time {time.perf_counter() - start:.0f} s")
    report = markdown_report(args, problems, check, notes)
    document = {
        "n_samples": args.n_samples,
        "n_features": args.n_features,
        "chunks": args.chunks,
        "workers": WORKERS,
        "budget_s": args.budget,
        "dask_ml_budget_s": args.dask_ml_budget,
        "threads": args.threads,
        "load_average_start": list(args.load_before),
        "load_average_end": list(os.getloadavg()),
        "problems": [
            {"facts": facts, "rows": rows, "goals": goals}
            for facts, rows, goals in problems
        ],
        "dask_ml_check": check,
        "notes": notes,
    }
    args.output.mkdir(parents=True, exist_ok=True)
    (args.output / RESULTS_JSON).write_text(
        json.dumps(document, indent=1, default=_json_value) + "\n"
    )
    (args.output / RESULTS_MD).write_text(report)
    print(report)
    return document


def _json_value(value):
    """numpy scalars and arrays as plain JSON values."""
    if isinstance(value, np.generic | np.ndarray):
        return value.tolist()
    raise TypeError(f"not JSON serialisable: {type(value).__name__}")


if __name__ == "__main__":
    main()
