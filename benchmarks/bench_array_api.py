"""Time to scikit-learn's objectives on numpy, PyTorch (CPU, CUDA) and cuML.

One dense float32 X (default 1,000,000 x 500, standardised, synthetic) and
two problems on it, each against the contestants that exist for it:

- logistic regression (``C=1``, intercept unpenalised), target
  ``f* (1 + 1e-6)`` with ``f*`` and the time to target exactly as in
  ``bench_logistic.py``: ``f*`` is the smallest objective of very tight
  fits (``tol=1e-12``: scikit-learn newton-cg, lbfgs and newton-cholesky and
  SOLogisticRegression ``so``/``lbfgs``, on numpy); each contestant is
  fitted with ``tol`` = 1e-3, 1e-4, ... until a fit's objective reaches
  the target, and that fit's wall time counts. Contestants: scikit-learn's
  lbfgs, newton-cg and newton-cholesky on numpy; scikit-learn's array API
  path (``LogisticRegression(solver="lbfgs")`` under
  ``array_api_dispatch``: the only solver scikit-learn 1.9 supports there)
  on torch tensors; SOLogisticRegression (default ``ls``/``lbfgs``) on
  numpy and on torch tensors; cuML's ``LogisticRegression`` on the GPU when
  cuML imports and a GPU is present.
- a two-layer network (50 tanh units, ``alpha=1e-4``, ``random_state=0``),
  target the final objective of ``MLPClassifier(solver="lbfgs",
  max_iter=400)`` on numpy, exactly as ``bench_two_layer.py`` defines
  ``T_lbfgs``: MLP's time is its whole fit; SOTwoLayerClassifier (default
  ``ls``/``lbfgs``) is fitted once with ``tol=0`` and stopped once it
  reaches the target, and its time is that of the first iteration at or
  below the target plus all its time outside the loop. scikit-learn's MLP
  has no array API path and cuML no such network, so the network's
  contestants are MLP lbfgs on numpy and ours on numpy and on torch.

torch runs on the CPU, and on CUDA too when ``torch.cuda.is_available()``.
Every objective is computed in float64 from the fitted coefficients, X read
in row blocks (no float64 copy of X). Every fit has 1 BLAS thread
(threadpoolctl) and torch 1 thread (``torch.set_num_threads``), so that
numpy and torch on the CPU compare one core against one core.

Fits run in this process (not in a child process with a timeout, as in the
other benchmarks: a child would need its own copy of X, 2 GB at the
default size), so ``--budget`` is checked between the fits of a ``tol``
sequence, not during one. Results: ``array_api.json`` (every row and the
facts of the run) and ``array_api.md`` in ``--output``.

Run from the repository root::

    python benchmarks/bench_array_api.py [--n-samples N] [--n-features D]
        [--classes K] [--budget S] [--output DIR]
"""

import argparse
import json
import os
import sys
import time
import warnings
from dataclasses import dataclass, field

import _common as common
import numpy as np
import sklearn
from bench_logistic import TARGET_RTOL, TIGHT_TOL, TOLS, C
from bench_two_layer import (
    ACTIVATION,
    ALPHA,
    MLP_MAX_ITER,
    RANDOM_STATE,
    STOP_BY_TARGETS,
    LoopRecorder,
    StopOptions,
)
from scipy.special import expit, logsumexp
from sklearn.linear_model import LogisticRegression
from sklearn.neural_network import MLPClassifier

import sklearn_so._namespace as ns
from sklearn_so import SOLogisticRegression, SOTwoLayerClassifier
from sklearn_so._harness import reports, timing
from sklearn_so._harness.fits import limit_threads, timed_fit

DEFAULT_N_SAMPLES = 1_000_000
DEFAULT_N_FEATURES = 500
HIDDEN = 50
SKLEARN_SOLVERS = ("lbfgs", "newton-cg", "newton-cholesky")
MAX_ITER = 100_000
SO_MAX_ITER = 100_000
# Rows of X converted to float64 at a time when an objective is evaluated.
OBJECTIVE_BLOCK_ROWS = 20_000
# How far ours' own loss may be from the float64 objective of its
# coefficients: the products run in X's float32 (~1e-7 relative each) and on
# torch the sums over a million rows too.
LOSS_RTOL_FLOAT32 = 1e-4
# The goal for ours on torch (CPU) against ours on numpy.
TORCH_CPU_GOAL = 1.3
RESULTS_JSON = "array_api.json"
RESULTS_MD = "array_api.md"


# --------------------------------------------------------------------------
# Data
# --------------------------------------------------------------------------


def make_data(n_samples, n_features, n_classes=2, seed=0, block_rows=50_000):
    """Standardised float32 X and labels, generated block by block.

    As ``make_classification`` in ``sklearn_so._harness.datasets``, one
    feature in ten is informative and one in twenty redundant (an
    informative one plus noise), the rest noise; the labels are drawn from
    a logistic (binary) or softmax model of the informative features. X is
    built in float32 in place, a block of rows at a time, then every column
    is standardised in place: at 1,000,000 x 500 the peak memory is X's
    2 GB, not the 12 GB of ``make_classification`` followed by a scaler and
    a cast.

    Parameters
    ----------
    n_samples, n_features : int
        Shape of X; ``n_features`` at least 20.
    n_classes : int, default=2
        Number of classes.
    seed : int, default=0
        Random seed; the data depend on it and on ``block_rows`` only.
    block_rows : int, default=50_000
        Rows drawn at a time.

    Returns
    -------
    X : ndarray of shape (n_samples, n_features), float32, C order
    y : ndarray of shape (n_samples,), int64, labels 0 to n_classes - 1
    """
    rng = np.random.default_rng(seed)
    informative = max(2, n_features // 10)
    redundant = n_features // 20
    # Differences of scores with a standard deviation of 2.5: noisy labels
    # (about one in six against the model's most likely class), so neither
    # problem is separable and the objectives stay far from zero.
    teacher = rng.standard_normal((informative, n_classes)) * (
        2.5 / np.sqrt(2 * informative)
    )
    X = np.empty((n_samples, n_features), dtype=np.float32)
    y = np.empty(n_samples, dtype=np.int64)
    for start in range(0, n_samples, block_rows):
        stop = min(start + block_rows, n_samples)
        block = rng.standard_normal((stop - start, n_features), dtype=np.float32)
        block[:, informative : informative + redundant] += block[:, :redundant]
        scores = block[:, :informative].astype(np.float64) @ teacher
        if n_classes == 2:
            y[start:stop] = rng.random(stop - start) < expit(
                scores[:, 1] - scores[:, 0]
            )
        else:
            probability = np.exp(scores - logsumexp(scores, axis=1, keepdims=True))
            cumulative = np.cumsum(probability, axis=1)
            draw = rng.random((stop - start, 1))
            y[start:stop] = np.minimum((draw > cumulative).sum(axis=1), n_classes - 1)
        X[start:stop] = block
    total = np.zeros(n_features)
    squares = np.zeros(n_features)
    for start in range(0, n_samples, block_rows):
        block = X[start : start + block_rows].astype(np.float64)
        total += block.sum(axis=0)
        squares += np.square(block).sum(axis=0)
    mean = total / n_samples
    scale = np.sqrt(np.maximum(squares / n_samples - mean**2, 1e-12))
    for start in range(0, n_samples, block_rows):
        block = X[start : start + block_rows]
        block -= mean.astype(np.float32)
        block /= scale.astype(np.float32)
    return X, y


# --------------------------------------------------------------------------
# Objectives, in float64 from the coefficients, X read in blocks
# --------------------------------------------------------------------------


def host(array):
    """A fitted array of any library as a float64 numpy array."""
    if hasattr(array, "to_output"):  # a cuML array
        array = array.to_output("numpy")
    if type(array).__module__.startswith("cupy"):
        array = array.get()
    return ns.to_host(array) if not isinstance(array, np.ndarray) else array


def logistic_objective(estimator, X, y, C=C):
    """``mean_i loss_i + ||W||^2 / (2 C n)`` (as ``bench_logistic.objective``).

    Parameters
    ----------
    estimator : fitted linear classifier
        ``coef_`` of shape (1, d) or (n_classes, d), ``intercept_``; the
        classes are ``0, ..., n_classes - 1``, as ``make_data`` draws them.
    X : ndarray of shape (n_samples, n_features)
        The training matrix (float32: converted a block of rows at a time).
    y : ndarray of shape (n_samples,)
        Labels.

    Returns
    -------
    value : float
    """
    coef = host(estimator.coef_).astype(np.float64).reshape(-1, X.shape[1])
    intercept = host(estimator.intercept_).astype(np.float64).ravel()
    n, total = X.shape[0], 0.0
    for start in range(0, n, OBJECTIVE_BLOCK_ROWS):
        block = X[start : start + OBJECTIVE_BLOCK_ROWS].astype(np.float64)
        labels = y[start : start + OBJECTIVE_BLOCK_ROWS]
        raw = block @ coef.T + intercept
        if coef.shape[0] == 1:
            z = raw[:, 0]
            total += float(np.sum(np.logaddexp(0.0, z) - labels * z))
        else:
            rows = np.arange(raw.shape[0])
            total += float(np.sum(logsumexp(raw, axis=1) - raw[rows, labels]))
    return total / n + float(np.sum(coef**2)) / (2.0 * C * n)


def network_objective(estimator, X, y):
    """MLPClassifier's objective of a tanh network, from its weights.

    ``log_loss(y, predict_proba(X)) + alpha / (2 n) sum ||W||^2``, as
    ``sklearn_so._objectives.network_objective``, with the hidden layer and
    the outputs computed in float64.
    """
    W1, W2 = (host(w).astype(np.float64) for w in estimator.coefs_)
    b1, b2 = (host(b).astype(np.float64) for b in estimator.intercepts_)
    n, total = X.shape[0], 0.0
    for start in range(0, n, OBJECTIVE_BLOCK_ROWS):
        block = X[start : start + OBJECTIVE_BLOCK_ROWS].astype(np.float64)
        labels = y[start : start + OBJECTIVE_BLOCK_ROWS]
        out = np.tanh(block @ W1 + b1) @ W2 + b2
        if out.shape[1] == 1:
            z = out[:, 0]
            total += float(np.sum(np.logaddexp(0.0, z) - labels * z))
        else:
            rows = np.arange(out.shape[0])
            total += float(np.sum(logsumexp(out, axis=1) - out[rows, labels]))
    penalty = float(np.sum(W1**2) + np.sum(W2**2)) * estimator.alpha / (2.0 * n)
    return total / n + penalty


# --------------------------------------------------------------------------
# Where a contestant's data live, and one timed fit there
# --------------------------------------------------------------------------


@dataclass
class Placement:
    """X and y in one library, on one device, and how to fit there.

    Attributes
    ----------
    name : str
        ``"numpy"``, ``"torch cpu"``, ``"torch cuda"`` or ``"cuml"``.
    X, y : arrays
        The training data in that library (torch on the CPU shares numpy's
        memory).
    dispatch : bool
        Whether fits run under ``array_api_dispatch=True``.
    """

    name: str
    X: object
    y: object
    dispatch: bool = False
    synchronise: object = field(default=None, repr=False)

    def fit(self, estimator):
        """Fit ``estimator`` here; return ``(seconds, estimator, warnings)``."""
        if self.synchronise is not None:
            self.synchronise()
        with sklearn.config_context(array_api_dispatch=self.dispatch):
            seconds, caught = timed_fit(estimator, self.X, self.y)
            if self.synchronise is not None:
                # Asynchronous devices: the fit is over once the device is.
                self.synchronise()
        messages = [f"{w.category.__name__}: {w.message}" for w in caught]
        return seconds, estimator, messages


def torch_placements(X, y):
    """``torch cpu``, and ``torch cuda`` when a CUDA device is available.

    Returns
    -------
    placements : list of Placement
    note : str or None
        Why there is no torch or no CUDA placement.
    """
    try:
        import torch
    except ImportError:
        return [], "torch is not installed: no torch contestants."
    torch.set_num_threads(1)
    placements = [
        Placement("torch cpu", torch.from_numpy(X), torch.from_numpy(y), True)
    ]
    if not torch.cuda.is_available():
        return placements, "no CUDA device (torch.cuda.is_available() is False)."
    placements.append(
        Placement(
            "torch cuda",
            torch.from_numpy(X).to("cuda"),
            torch.from_numpy(y).to("cuda"),
            True,
            torch.cuda.synchronize,
        )
    )
    return placements, None


def cuml_placement(placements):
    """cuML on the CUDA copy of X, or the reason there is none.

    Returns
    -------
    placement : Placement or None
    reason : str or None
    """
    cuda = next((p for p in placements if p.name == "torch cuda"), None)
    if cuda is None:
        return None, "cuML not run: no CUDA device."
    try:
        import cuml  # noqa: F401
        import cupy
    except ImportError as error:
        return None, f"cuML not run: it does not import ({error})."
    # The torch CUDA tensors, shared through DLPack: no second copy of X.
    X, y = cupy.from_dlpack(cuda.X), cupy.from_dlpack(cuda.y)
    return Placement("cuml", X, y, False, cuda.synchronise), None


def n_iterations(estimator):
    """The largest entry of ``n_iter_``, of any library."""
    n_iter = estimator.n_iter_
    if isinstance(n_iter, int | np.integer):
        return int(n_iter)
    return int(np.max(host(n_iter)))


def warm_up(placement, estimator):
    """One small fit, so that a device's start-up is not timed."""
    n = min(2_000, placement.X.shape[0])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        with sklearn.config_context(array_api_dispatch=placement.dispatch):
            estimator.fit(placement.X[:n], placement.y[:n])


# --------------------------------------------------------------------------
# Logistic regression: f* and the tol sequence (bench_logistic.py's protocol)
# --------------------------------------------------------------------------


def sklearn_logistic(solver, tol, max_iter=MAX_ITER):
    """LogisticRegression with the common objective."""
    return LogisticRegression(C=C, solver=solver, tol=tol, max_iter=max_iter)


def so_logistic(tol, solver="ls", direction="lbfgs"):
    """SOLogisticRegression with the common objective (default: ls/lbfgs)."""
    return SOLogisticRegression(
        C=C, solver=solver, direction=direction, tol=tol, max_iter=MAX_ITER
    )


def cuml_logistic(tol):
    """cuML's LogisticRegression with the common objective (l2, C=1)."""
    from cuml.linear_model import LogisticRegression as CumlLogisticRegression

    return CumlLogisticRegression(
        penalty="l2", C=C, tol=tol, max_iter=MAX_ITER, fit_intercept=True
    )


def compute_fstar(numpy_placement, tight_max_iter):
    """f*: the smallest objective of the tight fits on numpy.

    Returns
    -------
    fstar : float
    source : str
    tight : dict
        Label -> objective of each tight fit.
    """
    estimators = {
        f"sklearn {s}": sklearn_logistic(s, TIGHT_TOL, tight_max_iter)
        for s in SKLEARN_SOLVERS
    }
    estimators["SO so/lbfgs"] = so_logistic(TIGHT_TOL, solver="so")
    tight = {}
    X, y = numpy_placement.X, numpy_placement.y
    for label, estimator in estimators.items():
        numpy_placement.fit(estimator)
        tight[label] = logistic_objective(estimator, X, y)
        common.log(f"  tight {label}: {tight[label]:.12g}")
    source = min(tight, key=tight.get)
    return tight[source], source, tight


def stopped_by_tol(estimator, max_iter):
    """Whether a fit ended on its ``tol`` (so a tighter one would go on)."""
    if isinstance(estimator, SOLogisticRegression):
        return estimator.stop_reason_.startswith("gradient criterion")
    return n_iterations(estimator) < max_iter


def logistic_row(label, library, placement, make, data, fstar, budget):
    """Fit with tol 1e-3, ..., 1e-12 until the target; the row of the table.

    Parameters
    ----------
    label, library : str
        Contestant and its library, for the table.
    placement : Placement
        Where it fits.
    make : callable
        ``make(tol)`` returns an unfitted estimator.
    data : tuple
        ``(X, y)`` on numpy, for the objective.
    fstar : float
        The target is ``fstar * (1 + TARGET_RTOL)``.
    budget : float
        Seconds of fitting for the sequence (checked between fits).

    Returns
    -------
    row : dict
    """
    target = fstar * (1.0 + TARGET_RTOL)
    row = {"problem": "logistic", "contestant": label, "library": library}
    row["placement"] = placement.name
    attempts, spent, stop = [], 0.0, "tol 1e-12 too loose"
    for tol in TOLS:
        if spent >= budget:
            stop = "budget"
            break
        seconds, estimator, messages = placement.fit(make(tol))
        spent += seconds
        value = logistic_objective(estimator, *data)
        _check_own_loss(estimator, value, label)
        attempts.append((tol, seconds, estimator, value, messages))
        if value <= target:
            stop = "reached"
            break
        if not stopped_by_tol(estimator, getattr(estimator, "max_iter", MAX_ITER)):
            stop = "stalled or max_iter"
            break
    row.update(status=_status(stop), n_fits=len(attempts), fit_seconds_total=spent)
    if not attempts:
        return row
    tol, seconds, estimator, value, messages = (
        attempts[-1] if stop == "reached" else min(attempts, key=lambda a: a[3])
    )
    row.update(
        objective=value,
        gap=timing.relative_gap(value, fstar),
        n_iter=n_iterations(estimator),
        tol=tol,
        warnings=reports.join_warnings(messages, 160),
    )
    if stop == "reached":
        row["time_s"] = seconds
    return row


def _status(stop):
    return "reached" if stop == "reached" else f"not reached ({stop})"


def _check_own_loss(estimator, value, label):
    """Stop if one of ours reports another objective than the benchmark's."""
    loss = getattr(estimator, "loss_", None)
    if not type(estimator).__module__.startswith("sklearn_so") or loss is None:
        return
    if not np.isclose(float(loss), value, rtol=LOSS_RTOL_FLOAT32, atol=0.0):
        raise SystemExit(
            f"{label}: loss_ = {float(loss)!r} but the benchmark's objective is "
            f"{value!r}: it would measure something else."
        )


def run_logistic(numpy_placement, placements, cuml, args, notes):
    """f*, then every logistic contestant. Returns (facts, rows)."""
    data = (numpy_placement.X, numpy_placement.y)
    common.log("logistic: tight fits for f*")
    fstar, source, tight = compute_fstar(numpy_placement, args.tight_max_iter)
    common.log(f"logistic: f* = {fstar:.12g} from {source}")
    contestants = [
        (f"sklearn {s}", "sklearn", numpy_placement, _sklearn_maker(s))
        for s in SKLEARN_SOLVERS
    ]
    contestants.append(("SO ls/lbfgs", "sklearn_so", numpy_placement, so_logistic))
    for placement in placements:
        warm_up(placement, so_logistic(1e-3))
        contestants += [
            ("sklearn lbfgs", "sklearn", placement, _sklearn_maker("lbfgs")),
            ("SO ls/lbfgs", "sklearn_so", placement, so_logistic),
        ]
    if cuml is not None:
        warm_up(cuml, cuml_logistic(1e-3))
        contestants.append(("cuML lbfgs", "cuml", cuml, cuml_logistic))
    rows = []
    for label, library, placement, make in contestants:
        row = logistic_row(label, library, placement, make, data, fstar, args.budget)
        common.log(_row_line(row))
        rows.append(row)
    floor = fstar * (1.0 - 1e-9)
    for row in rows:
        if row.get("objective", np.inf) < floor:
            notes.append(f"logistic: {_name(row)} went below f*: f* is not the min.")
    facts = {"f_star": fstar, "f_star_source": source, "tight_fits": tight}
    return facts, rows


def _sklearn_maker(solver):
    return lambda tol: sklearn_logistic(solver, tol)


# --------------------------------------------------------------------------
# The network: time to MLP lbfgs's objective (bench_two_layer.py's T_lbfgs)
# --------------------------------------------------------------------------


def mlp_network():
    """MLPClassifier(solver="lbfgs") with the common network."""
    return MLPClassifier(
        hidden_layer_sizes=(HIDDEN,),
        activation=ACTIVATION,
        alpha=ALPHA,
        solver="lbfgs",
        max_iter=MLP_MAX_ITER,
        random_state=RANDOM_STATE,
    )


def so_network(max_iter=SO_MAX_ITER):
    """SOTwoLayerClassifier (default ls/lbfgs), ``tol=0``, same network."""
    return SOTwoLayerClassifier(
        hidden_units=HIDDEN,
        activation=ACTIVATION,
        alpha=ALPHA,
        tol=0.0,
        max_iter=max_iter,
        random_state=RANDOM_STATE,
    )


def network_row(placement, recorder, data, target, budget):
    """One fit of ours, stopped at the target; time of the first iteration there.

    Returns
    -------
    row : dict
    """
    row = {"problem": "network", "contestant": "SO ls/lbfgs"}
    row.update(library="sklearn_so", placement=placement.name)
    recorder.before_fit(StopOptions(target, budget))
    seconds, estimator, messages = placement.fit(so_network())
    extra = recorder.after_fit(estimator)
    recorder.before_fit(None)
    value = network_objective(estimator, *data)
    _check_own_loss(estimator, value, f"network {placement.name}")
    stamps, _ = timing.fit_stamps(extra["times"], seconds)
    curve = extra["loss_curve"]
    index = timing.first_reaching(curve, target)
    row.update(
        objective=value,
        n_fits=1,
        fit_seconds_total=seconds,
        stop_reason=estimator.stop_reason_,
        warnings=reports.join_warnings(messages, 160),
    )
    if index is None:
        end = "budget" if estimator.stop_reason_ != STOP_BY_TARGETS else "stopped"
        row.update(status=f"not reached ({end})", n_iter=len(curve))
        row["gap"] = timing.relative_gap(min([value, *curve]), target)
    else:
        row.update(status="reached", time_s=float(stamps[index]), n_iter=index + 1)
        row["gap"] = timing.relative_gap(value, target)
    return row


def run_network(numpy_placement, placements, args):
    """MLP lbfgs (the target), then ours on every placement. (facts, rows)."""
    data = (numpy_placement.X, numpy_placement.y)
    common.log("network: MLP lbfgs for the target")
    seconds, mlp, messages = numpy_placement.fit(mlp_network())
    target = network_objective(mlp, *data)
    rows = [
        {
            "problem": "network",
            "contestant": "MLP lbfgs",
            "library": "sklearn",
            "placement": "numpy",
            "status": "reached",
            "time_s": seconds,
            "n_iter": int(mlp.n_iter_),
            "objective": target,
            "gap": 0.0,
            "n_fits": 1,
            "fit_seconds_total": seconds,
            "warnings": reports.join_warnings(messages, 160),
        }
    ]
    common.log(_row_line(rows[0]))
    recorder = LoopRecorder()
    recorder.install()
    for placement in [numpy_placement, *placements]:
        if placement.dispatch:
            warm_up(placement, so_network(max_iter=3))
        rows.append(network_row(placement, recorder, data, target, args.budget))
        common.log(_row_line(rows[-1]))
    return {"target": target, "hidden": HIDDEN}, rows


# --------------------------------------------------------------------------
# Ratios, report and files
# --------------------------------------------------------------------------


def _name(row):
    """``"contestant (placement)"``."""
    return f"{row['contestant']} ({row['placement']})"


def add_ratios(rows):
    """Speed-ups against the baselines (> 1 = faster than the baseline).

    Per problem: ``vs best sklearn numpy`` (the fastest scikit-learn solver
    on numpy to the target), ``vs sklearn array API`` (scikit-learn's lbfgs
    on the same placement), ``vs cuML``.

    Returns
    -------
    summary : dict
        Problem -> ``ours torch cpu / ours numpy`` time ratio (the issue's
        goal: at most 1.3), where both reached the target.
    """
    summary = {}
    for problem, group in reports.group_by(rows, "problem").items():
        reached = [r for r in group if "time_s" in r]
        sk_numpy = [
            r["time_s"]
            for r in reached
            if r["library"] == "sklearn" and r["placement"] == "numpy"
        ]
        best = min(sk_numpy, default=None)
        cuml = next((r["time_s"] for r in reached if r["library"] == "cuml"), None)
        for row in reached:
            if best is not None:
                row["speedup_vs_best_sklearn_numpy"] = best / row["time_s"]
            same = [
                r["time_s"]
                for r in reached
                if r["library"] == "sklearn"
                and r["placement"] == row["placement"] != "numpy"
            ]
            if same:
                row["speedup_vs_sklearn_array_api"] = same[0] / row["time_s"]
            if cuml is not None:
                row["speedup_vs_cuml"] = cuml / row["time_s"]
        ours = {
            r["placement"]: r["time_s"] for r in reached if r["library"] == "sklearn_so"
        }
        if "numpy" in ours and "torch cpu" in ours:
            summary[problem] = ours["torch cpu"] / ours["numpy"]
    return summary


COLUMNS = (
    ("status", "status", "s"),
    ("time_s", "time [s]", ".3g"),
    ("n_iter", "n_iter", "d"),
    ("tol", "tol", ".0e"),
    ("speedup_vs_best_sklearn_numpy", "vs best sklearn numpy", ".2f"),
    ("speedup_vs_sklearn_array_api", "vs sklearn array API", ".2f"),
    ("speedup_vs_cuml", "vs cuML", ".2f"),
    ("gap", "gap to target", ".1e"),
)


def table(rows):
    """The Markdown table of one problem's rows."""
    return reports.contestant_table(rows, COLUMNS)


def torch_cpu_line(summary, problem):
    """Ours on torch (CPU) against ours on numpy, against the goal."""
    ratio = summary.get(problem)
    if ratio is None:
        return f"{problem}: ours torch cpu / ours numpy: not measured."
    verdict = "met" if ratio <= TORCH_CPU_GOAL else "MISSED"
    return (
        f"{problem}: ours torch cpu / ours numpy = {ratio:.2f} "
        f"(goal <= {TORCH_CPU_GOAL:g}: {verdict})"
    )


def markdown_report(args, facts, rows, summary, notes):
    """The whole Markdown report."""
    n, d = args.n_samples, args.n_features
    groups = reports.group_by(rows, "problem")
    protocol = (
        f"X: {n} x {d} float32, standardised, {args.classes} classes "
        "(benchmarks/bench_array_api.py: make_data, seed 0). Logistic: "
        f"C={C:g}; target f*(1 + {TARGET_RTOL:g}), f* = "
        f"{reports.fmt(facts['logistic']['f_star'], '.12g')} from "
        f"{facts['logistic']['f_star_source']} (tight fits, tol={TIGHT_TOL:g}); "
        "tol 1e-3, ..., 1e-12 until a fit reaches the target, whose wall time "
        f"counts; budget {args.budget:g} s per contestant. Network: {HIDDEN} "
        f"{ACTIVATION} units, alpha={ALPHA:g}; target = MLP lbfgs's final "
        f"objective {reports.fmt(facts['network']['target'], '.10g')} "
        f"(max_iter={MLP_MAX_ITER}); "
        "ours: one fit with tol=0 stopped at the target, time of the first "
        "iteration at or below it plus the time outside the loop. Every "
        "objective in float64 from the coefficients. 1 BLAS thread, torch "
        "1 thread; CUDA fits end with torch.cuda.synchronize(). Ratios: "
        "baseline time / contestant time (> 1 = faster)."
    )
    blocks = [
        protocol,
        "### Logistic regression\n\n" + table(groups.get("logistic", [])),
        "### Two-layer network\n\n" + table(groups.get("network", [])),
        reports.bullet_list(
            "Ours on torch (CPU) against ours on numpy:",
            [torch_cpu_line(summary, p) for p in ("logistic", "network")],
        ),
    ]
    return common.report_document(
        "# Array API libraries: time to scikit-learn's objectives",
        args.load_before,
        blocks,
        notes,
    )


def parse_args(argv=None):
    """Command-line options."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n-samples", type=int, default=DEFAULT_N_SAMPLES)
    parser.add_argument("--n-features", type=int, default=DEFAULT_N_FEATURES)
    parser.add_argument(
        "--classes", type=int, default=2, help="classes of y (default 2: binary)"
    )
    parser.add_argument(
        "--budget",
        type=float,
        default=600.0,
        help="seconds of fitting per contestant and problem (default 600)",
    )
    parser.add_argument(
        "--tight-max-iter",
        type=int,
        default=10_000,
        help="max_iter of scikit-learn's tight fits for f* (default 10000)",
    )
    parser.add_argument(
        "--problems",
        default="logistic,network",
        help="comma-separated among logistic, network",
    )
    parser.add_argument("--output", type=common.Path, default=common.DEFAULT_OUTPUT)
    parser.add_argument("--threads", type=int, default=1, help=common.THREADS_HELP)
    args = parser.parse_args(argv)
    args.problems = problem_list(parser, args)
    return args


def problem_list(parser, args):
    """``--problems`` as a list, checked with ``--n-features`` (see make_data)."""
    problems = [p.strip() for p in args.problems.split(",")]
    if set(problems) - {"logistic", "network"} or args.n_features < 20:
        parser.error("--problems: logistic and/or network; --n-features >= 20")
    return problems


def main(argv=None):
    """Run the benchmark; write ``array_api.json`` and ``array_api.md``."""
    args = parse_args(argv)
    # scikit-learn enables array API dispatch only with SciPy's support on.
    os.environ.setdefault("SCIPY_ARRAY_API", "1")
    limit_threads(args.threads)
    args.load_before = os.getloadavg()
    start = time.perf_counter()
    common.log(f"building X: {args.n_samples} x {args.n_features} float32")
    X, y = make_data(args.n_samples, args.n_features, args.classes)
    numpy_placement = Placement("numpy", X, y)
    placements, torch_note = torch_placements(X, y)
    cuml, cuml_note = cuml_placement(placements)
    notes = [note for note in (torch_note, cuml_note) if note]
    # None (JSON null) for a problem not run.
    facts, rows = {"logistic": {"f_star": None, "f_star_source": None}}, []
    facts["network"] = {"target": None}
    if "logistic" in args.problems:
        facts["logistic"], logistic = run_logistic(
            numpy_placement, placements, cuml, args, notes
        )
        rows += logistic
    if "network" in args.problems:
        facts["network"], network = run_network(numpy_placement, placements, args)
        rows += network
    summary = add_ratios(rows)
    notes.append(f"total benchmark time {time.perf_counter() - start:.0f} s")
    report = markdown_report(args, facts, rows, summary, notes)
    args.output.mkdir(parents=True, exist_ok=True)
    document = {
        "n_samples": args.n_samples,
        "n_features": args.n_features,
        "classes": args.classes,
        "budget_s": args.budget,
        "threads": args.threads,
        "versions": {"python": sys.version.split()[0], "sklearn": sklearn.__version__},
        "facts": facts,
        "torch_cpu_over_numpy": summary,
        "rows": rows,
        "notes": notes,
    }
    (args.output / RESULTS_JSON).write_text(json.dumps(document, indent=1) + "\n")
    (args.output / RESULTS_MD).write_text(report)
    print(report)
    return document


def _row_line(row):
    """One progress line for stderr."""
    time_s = row.get("time_s")
    shown = f"{time_s:.3g}s" if time_s is not None else "-"
    return (
        f"  {row['problem']:<8} {_name(row):<32} {row['status']:<28} {shown:>8} "
        f"n_iter={row.get('n_iter', '-')} gap={row.get('gap', float('nan')):.1e}"
    )


if __name__ == "__main__":
    main()
