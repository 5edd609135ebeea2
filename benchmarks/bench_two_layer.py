"""Time to MLP's objectives: SOTwoLayer* against MLPClassifier / MLPRegressor.

Every estimator trains the same network (one hidden layer of ``hidden``
units, tanh, ``alpha=1e-4``) on the same objective, from the same Glorot
initialisation (``random_state=0`` everywhere)::

    classification: log_loss(y, predict_proba(X)) + alpha / (2 n) sum ||W||^2
    regression:     0.5 * mean((predict(X) - y)^2) + alpha / (2 n) sum ||W||^2

One function, :func:`objective`, evaluates it from ``coefs_`` and
``intercepts_`` for every fitted estimator; the benchmark stops if an
SOTwoLayer*'s ``loss_`` differs from it by more than 1e-9 (relative).

Protocol, per dataset:

1. Targets. ``T_lbfgs`` is the final objective of
   ``MLP*(solver="lbfgs", max_iter=400)``; ``T_adam`` that of full-batch
   ``MLP*(solver="adam", batch_size=n, max_iter=400, tol=0,
   n_iter_no_change=400, shuffle=False)`` (all 400 epochs, the default
   ``learning_rate_init=1e-3``; shuffling a single batch changes nothing but
   costs a copy of X per epoch, so it is off). Both fits are timed.
2. Each SOTwoLayer* solver/direction is fitted once with ``tol=0`` and a large
   ``max_iter``. In the child process that fits it, the solver class
   ``sklearn_so._base.SubspaceSolver`` is wrapped: the wrapper keeps the
   optimiser's result, whose ``times`` are
   ``time.perf_counter()`` stamps (seconds since the loop started) taken
   after every iteration, aligned with ``loss_curve``; it also passes the
   loop a stop rule that ends the fit once both targets are reached or after
   ``--budget`` seconds of loop time (it only truncates the trajectory after
   what is measured). The fit's wall time minus the last stamp is the
   overhead outside the loop (validation, setup products, final exact
   refresh, copies); the time to a target is that overhead plus the stamp of
   the first iteration whose objective is at most the target.
3. Short fits (``SHORT_FITS``: under 0.5 s, the digits set) are repeated,
   MLP's and ours alike, until about 2 s of fitting (at most 30 fits); the
   fastest is reported, its iterates checked identical to the first's.

Run from the repository root::

    python benchmarks/bench_two_layer.py [--quick] [--datasets a,b]
        [--budget S] [--threads T] [--output DIR]
"""

import sys
import time
import warnings
from dataclasses import dataclass, field

import _common as common
import numpy as np
from sklearn.base import clone
from sklearn.neural_network import MLPClassifier, MLPRegressor

from sklearn_so import SOTwoLayerClassifier, SOTwoLayerRegressor
from sklearn_so._harness import fits, reports, timing
from sklearn_so._harness.datasets import (
    Dataset,
    bundled,
    dense_multiclass,
    nonlinear_regression,
)
from sklearn_so._objectives import network_objective

ALPHA = 1e-4
ACTIVATION = "tanh"
RANDOM_STATE = 0
MLP_MAX_ITER = 400
SO_MAX_ITER = 2000
SO_SOLVERS = ("ls", "lo", "ps", "so")
SO_DIRECTIONS = ("gd", "lbfgs", "adam")
TARGETS = ("lbfgs", "adam")
# The goals for the default configuration: speed-up over the MLP
# solver that defines each target.
SPEEDUP_GOALS = {"lbfgs": 2.0, "adam": 5.0}
# Per-layer rates' cost goal: an iteration of solver="so" at most this many
# times one of "ls" (same direction) where the inputs are at least
# SO_FRIENDLY_RATIO times the hidden units.
SO_COST_GOAL = 1.5
SO_FRIENDLY_RATIO = 5
# Fits under 0.5 s (digits) are repeated to about 2 s of fitting, at most 30
# fits, MLP's and ours alike; the fastest is reported (the iterates of the
# repeats are identical, checked).
SHORT_FITS = common.ShortFits(seconds=0.5, total=2.0, max_fits=30)
STOP_BY_TARGETS = "benchmark stop rule: both targets reached"
STOP_BY_BUDGET = "benchmark stop rule: loop budget spent"


# --------------------------------------------------------------------------
# Datasets
# --------------------------------------------------------------------------


@dataclass
class NetworkDataset(Dataset):
    """A training set and the width of every network fitted on it.

    Attributes
    ----------
    hidden : int
        Hidden units of every network fitted on it (the other attributes
        are :class:`sklearn_so._harness.datasets.Dataset`'s).
    """

    hidden: int = field(kw_only=True)

    def describe(self):
        """Shape, classes and width in words."""
        n, d = self.X.shape
        kind = (
            f"classes={self.n_classes}"
            if self.is_classification
            else "regression, 1 output"
        )
        return f"n={n}, d={d}, {kind}, hidden={self.hidden}"


def _width(quick):
    """Hidden units of the networks: 50 with ``--quick``, else 100."""
    return 50 if quick else 100


# Standardised digits: 1797 x 64, 10 classes; synthetic sets: seed 0 (see
# sklearn_so._harness.datasets), 3,000 samples with --quick.
DATASETS = {
    "digits": lambda quick: NetworkDataset(
        "digits", *bundled("digits", standardise=True), hidden=_width(quick)
    ),
    "synthetic_clf": lambda quick: NetworkDataset(
        "synthetic_clf",
        *dense_multiclass(*((3_000, 100) if quick else (20_000, 500))),
        hidden=_width(quick),
    ),
    "synthetic_reg": lambda quick: NetworkDataset(
        "synthetic_reg",
        *nonlinear_regression(*((3_000, 100) if quick else (20_000, 100))),
        task="regression",
        hidden=_width(quick),
    ),
}


# --------------------------------------------------------------------------
# The objective
# --------------------------------------------------------------------------


def objective(estimator, dataset):
    """The common MLP objective of a fitted network, from its weights.

    ``log_loss(y, predict_proba(X))`` (classification) or half the mean
    squared error over samples and outputs (regression), plus
    ``alpha / (2 n) * sum ||W||^2``:
    :func:`sklearn_so._objectives.network_objective`, which the demo uses
    too.
    """
    return network_objective(estimator, dataset.X, dataset.y)


# --------------------------------------------------------------------------
# Estimators
# --------------------------------------------------------------------------


def mlp_estimator(dataset, solver, **params):
    """MLPClassifier or MLPRegressor with the common network and objective.

    Parameters
    ----------
    dataset : NetworkDataset
        Decides the task and the width.
    solver : {"lbfgs", "adam", "sgd"}
        MLP solver; "adam" is full batch, 400 epochs, ``tol=0``, no shuffle.
    **params
        Overrides.
    """
    cls = MLPClassifier if dataset.is_classification else MLPRegressor
    settings = dict(
        hidden_layer_sizes=(dataset.hidden,),
        activation=ACTIVATION,
        alpha=ALPHA,
        solver=solver,
        max_iter=MLP_MAX_ITER,
        random_state=RANDOM_STATE,
    )
    if solver == "adam":
        settings.update(
            batch_size=dataset.X.shape[0],
            tol=0.0,
            n_iter_no_change=MLP_MAX_ITER,
            shuffle=False,
        )
    return cls(**{**settings, **params})


def so_estimator(dataset, solver, direction, max_iter=SO_MAX_ITER, **params):
    """SOTwoLayerClassifier or SOTwoLayerRegressor, ``tol=0``.

    Parameters
    ----------
    dataset : NetworkDataset
        Decides the task and the width.
    solver, direction : str
        The configuration.
    max_iter : int
        Iteration cap.
    **params
        Overrides.
    """
    cls = SOTwoLayerClassifier if dataset.is_classification else SOTwoLayerRegressor
    settings = dict(
        hidden_units=dataset.hidden,
        activation=ACTIVATION,
        alpha=ALPHA,
        solver=solver,
        direction=direction,
        tol=0.0,
        max_iter=max_iter,
        random_state=RANDOM_STATE,
    )
    return cls(**{**settings, **params})


def same_initial_weights(dataset):
    """Whether SOTwoLayer* and MLP start from the same weights.

    Both are fitted for one iteration with a step of 1e-300 (MLP: full-batch
    sgd without momentum; ours: ``solver="fixed"``, no momentum), which
    leaves the initial weights unchanged in floating point; their weights
    are then compared.

    Returns
    -------
    same : bool
    """
    n = dataset.X.shape[0]
    mlp = mlp_estimator(
        dataset,
        "sgd",
        learning_rate_init=1e-300,
        momentum=0.0,
        batch_size=n,
        max_iter=1,
        shuffle=False,
    )
    ours = so_estimator(
        dataset, "fixed", "gd", max_iter=1, learning_rate=1e-300, momentum=0.0
    )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        mlp.fit(dataset.X, dataset.y)
        ours.fit(dataset.X, dataset.y)
    pairs = zip(
        mlp.coefs_ + mlp.intercepts_, ours.coefs_ + ours.intercepts_, strict=True
    )
    return all(
        a.shape == b.shape and np.allclose(a, b, rtol=1e-12, atol=1e-250)
        for a, b in pairs
    )


# --------------------------------------------------------------------------
# Per-iteration timestamps, recorded in the fitting process
# --------------------------------------------------------------------------


class _StopRule:
    """Ends the loop when the objective reaches a value or time runs out.

    Called by the optimiser after every iteration as ``rule(iteration,
    theta, value)``; returning True stops it with ``rule.reason``.
    """

    def __init__(self, stop_value, loop_budget):
        self.stop_value = stop_value
        self.loop_budget = loop_budget
        self.start = time.perf_counter()
        self.reason = ""

    def __call__(self, iteration, theta, value):
        if value <= self.stop_value:
            self.reason = STOP_BY_TARGETS
        elif time.perf_counter() - self.start > self.loop_budget:
            self.reason = STOP_BY_BUDGET
        return bool(self.reason)


@dataclass
class StopOptions:
    """What the child's stop rule needs for one fit."""

    stop_value: float
    loop_budget: float


class LoopRecorder:
    """Worker hooks: wrap ``sklearn_so._base.SubspaceSolver`` in the child.

    The wrapper passes the result through unchanged and keeps its per-
    iteration ``times`` and ``loss_curve``; with :class:`StopOptions` and no
    callback of the estimator's own, it gives the loop a :class:`_StopRule`.
    """

    def __init__(self):
        self._options = None
        self._result = None

    def install(self):
        """Replace ``SubspaceSolver`` in ``sklearn_so._base`` by the wrapper."""
        import sklearn_so._base as base

        recorder = self

        class RecordingSolver(base.SubspaceSolver):
            def __init__(self, *args, **kwargs):
                options = recorder._options
                if options is not None and kwargs.get("on_iteration") is None:
                    kwargs["on_iteration"] = _StopRule(
                        options.stop_value, options.loop_budget
                    )
                super().__init__(*args, **kwargs)

            def solve(self, theta0):
                recorder._result = super().solve(theta0)
                return recorder._result

        base.SubspaceSolver = RecordingSolver

    def before_fit(self, options):
        """Remember the stop options of the next fit (None for none)."""
        self._options = options
        self._result = None

    def after_fit(self, estimator):
        """The recorded timestamps and objectives (empty if no loop ran)."""
        if self._result is None:
            return {}
        return {
            "times": list(self._result.times),
            "loss_curve": list(self._result.loss_curve),
        }


# --------------------------------------------------------------------------
# Fits
# --------------------------------------------------------------------------


def run_reference(worker, dataset, solver, timeout):
    """Fit and time the MLP solver that defines one target.

    Returns
    -------
    row : dict or None
        The table row, with ``objective`` the target; None on timeout.
    """
    estimator = mlp_estimator(dataset, solver)
    outcome = worker.fit(estimator, timeout)
    if outcome is None:
        return None
    fitted = outcome.estimator
    value = objective(fitted, dataset)
    n_fits = SHORT_FITS.count(outcome.seconds)
    seconds = outcome.seconds
    for _ in range(n_fits - 1):
        again = worker.fit(mlp_estimator(dataset, solver), timeout)
        if again is not None:
            if objective(again.estimator, dataset) != value:
                raise SystemExit(f"MLP {solver}: a repeated fit differs.")
            seconds = min(seconds, again.seconds)
    return {
        "dataset": dataset.name,
        "estimator": f"MLP {solver}",
        "library": "sklearn",
        "fit_s": seconds,
        "timed_fits": n_fits,
        "n_iter": int(fitted.n_iter_),
        "end": _mlp_end(fitted, solver),
        "objective": value,
        "reported_loss": float(fitted.loss_),
        f"{solver}_time_s": seconds,
        f"{solver}_iter": int(fitted.n_iter_),
        "warnings": reports.join_warnings(outcome.warnings, 200),
    }


def _mlp_end(estimator, solver):
    """Why an MLP fit ended, in a word or two."""
    if estimator.n_iter_ >= MLP_MAX_ITER:
        return "max_iter"
    return "gtol" if solver == "lbfgs" else "no improvement"


def run_so(worker, dataset, solver, direction, targets, args):
    """Fit one SOTwoLayer* configuration once and read its times to targets.

    Parameters
    ----------
    worker : FitWorker
        Fits on ``dataset`` with :class:`LoopRecorder` hooks.
    dataset : NetworkDataset
        The problem.
    solver, direction : str
        The configuration.
    targets : dict
        ``"lbfgs"`` / ``"adam"`` -> target objective.
    args : argparse.Namespace
        ``budget`` (loop seconds) and ``max_iter``.

    Returns
    -------
    row : dict
    """
    estimator = so_estimator(dataset, solver, direction, max_iter=args.max_iter)
    label = fits.config_label(estimator)
    row = {"dataset": dataset.name, "estimator": label, "library": "sklearn_so"}
    options = StopOptions(min(targets.values()), args.budget)
    timeout = 2.0 * args.budget + 10.0 + common.IPC_SLACK
    try:
        outcome = worker.fit(estimator, timeout, options)
    except RuntimeError as error:
        common.log(f"{dataset.name} {label} raised:\n{error}")
        last = str(error).strip().splitlines()[-1]
        return {**row, "end": "error", "error": last}
    if outcome is None:
        return {**row, "end": f"killed after {timeout:.0f} s"}
    fitted = outcome.estimator
    value = objective(fitted, dataset)
    fits.check_loss_attribute(fitted, value, f"{dataset.name} {label}")
    times, curve = outcome.extra["times"], outcome.extra["loss_curve"]
    if curve != list(fitted.loss_curve_):
        raise SystemExit(f"{label}: the recorded loss curve is not loss_curve_.")
    # A short fit: the fastest of its repeats, whose iterates are the same.
    n_fits = SHORT_FITS.count(outcome.seconds)
    for _ in range(n_fits - 1):
        again = worker.fit(clone(estimator), timeout, options)
        if again is None:
            continue
        if again.extra["loss_curve"] != curve:
            raise SystemExit(f"{label}: a repeated fit took other iterates.")
        if again.seconds < outcome.seconds:
            outcome, times = again, again.extra["times"]
    # Time outside the loop is charged to every iteration: an upper bound.
    stamps, overhead = timing.fit_stamps(times, outcome.seconds)
    row.update(
        timed_fits=n_fits,
        fit_s=outcome.seconds,
        loop_s=timing.loop_seconds(times),
        overhead_s=overhead,
        n_iter=int(fitted.n_iter_),
        end=_so_end(fitted.stop_reason_),
        stop_reason=fitted.stop_reason_,
        objective=value,
        n_products=fitted.n_products_,
        product_counts=fitted.product_counts_,
        warnings=reports.join_warnings(outcome.warnings, 200),
    )
    # The whole trajectory, for the convergence plot (two_layer_curves.csv).
    row["_curve"] = [
        {
            "dataset": dataset.name,
            "estimator": label,
            "iteration": index + 1,
            "seconds": stamp,
            "objective": objective_value,
        }
        for index, (stamp, objective_value) in enumerate(
            zip(stamps.tolist(), curve, strict=True)
        )
    ]
    best = min([value, *curve])
    for name, target in targets.items():
        row.update(_crossing(name, target, curve, stamps, best))
    return row


def _crossing(name, target, curve, stamps, best):
    """Time and iterations to the first objective at most ``target``."""
    index = timing.first_reaching(curve, target)
    if index is None:
        return {f"{name}_gap": timing.relative_gap(best, target)}
    return {f"{name}_time_s": float(stamps[index]), f"{name}_iter": index + 1}


def _so_end(stop_reason):
    """Why an SOTwoLayer* fit ended, in a word or two."""
    if stop_reason == STOP_BY_TARGETS:
        return "targets reached"
    if stop_reason == STOP_BY_BUDGET:
        return "budget"
    for key, word in (
        ("max_iter", "max_iter"),
        ("no further decrease", "stalled"),
        ("non-finite", "diverged"),
        ("gradient criterion", "converged"),
    ):
        if key in stop_reason:
            return word
    return stop_reason


# --------------------------------------------------------------------------
# Derived columns
# --------------------------------------------------------------------------


def add_derived(rows, bare_seconds):
    """Add speed-ups against the MLP references and the per-iteration cost.

    ``vs MLP lbfgs`` is MLP lbfgs's fit time over the row's time to
    ``T_lbfgs`` (``vs MLP adam`` likewise); above 1 means faster. A fit
    stopped by the budget before a target gets the upper bound
    ``MLP time / its fit time`` (``*_speedup_below``).
    ``t_iter / 2 products`` is loop time per iteration (SO) or fit time per
    iteration (MLP) over the time of two bare products.
    """
    reference = {
        name: next((r["fit_s"] for r in rows if r["estimator"] == f"MLP {name}"), None)
        for name in TARGETS
    }
    for row in rows:
        for name in TARGETS:
            seconds = row.get(f"{name}_time_s")
            if seconds and reference[name]:
                row[f"{name}_speedup"] = reference[name] / seconds
            elif f"{name}_gap" in row and row["end"] == "budget" and reference[name]:
                row[f"{name}_speedup_below"] = reference[name] / row["fit_s"]
        per_iter = row.get("loop_s", row.get("fit_s"))
        if per_iter is not None and row.get("n_iter"):
            row["t_iter_over_2_products"] = per_iter / row["n_iter"] / bare_seconds


# --------------------------------------------------------------------------
# Reporting
# --------------------------------------------------------------------------


def _target_cells(row, name):
    """Time, iterations and speed-up cells of one target."""
    if f"{name}_time_s" in row:
        return [
            reports.fmt(row[f"{name}_time_s"], ".3g"),
            reports.fmt(row.get(f"{name}_iter"), "d"),
            reports.fmt(row.get(f"{name}_speedup"), ".2f"),
        ]
    if f"{name}_gap" in row:
        bound = row.get(f"{name}_speedup_below")
        return [
            f"not reached (gap {row[f'{name}_gap']:+.1e})",
            "",
            "" if bound is None else f"< {bound:.2f}",
        ]
    return ["", "", ""]


TABLE_HEADER = (
    "estimator",
    "end",
    "iters",
    "objective",
    "t_iter / 2 products",
    "T_lbfgs: time [s]",
    "iters",
    "vs MLP lbfgs",
    "T_adam: time [s]",
    "iters",
    "vs MLP adam",
)


def table_row(row):
    """The Markdown cells of one result row."""
    return [
        row["estimator"],
        row.get("end", ""),
        reports.fmt(row.get("n_iter"), "d"),
        reports.fmt(row.get("objective"), ".8g"),
        reports.fmt(row.get("t_iter_over_2_products"), ".1f"),
        *_target_cells(row, "lbfgs"),
        *_target_cells(row, "adam"),
    ]


def results_section(info, rows):
    """The Markdown section of one dataset."""
    title = f"### {info['dataset']}: {info['description']}"
    summary = (
        f"T_lbfgs = {info['target_lbfgs']:.10g}, T_adam = "
        f"{info['target_adam']:.10g}. Two bare products (r = {info['hidden']}): "
        f"{1e3 * info['bare_products_s']:.3g} ms. Same initial weights as MLP: "
        f"{'yes' if info['same_init'] else 'NO'}."
    )
    table = reports.markdown_table(TABLE_HEADER, [table_row(row) for row in rows])
    return "\n\n".join([title, summary, table])


def goal_line(info, rows):
    """Whether the default met each goal, and the fastest configuration.

    The default is read from ``SOTwoLayerClassifier()`` (the regressor
    shares its defaults), so the goals always judge the package's actual
    default.
    """
    label = fits.config_label(SOTwoLayerClassifier())
    default = next((r for r in rows if r["estimator"] == label), {})
    parts = []
    for name in TARGETS:
        goal = SPEEDUP_GOALS[name]
        speedup = default.get(f"{name}_speedup")
        if speedup is None:
            verdict = "not reached: goal missed"
        else:
            met = "met" if speedup >= goal else "MISSED"
            verdict = f"{speedup:.2f}x (goal >= {goal:g}x: {met})"
        parts.append(f"T_{name} {verdict}")
    for name in TARGETS:
        ours = [r for r in rows if r["library"] == "sklearn_so"]
        reached = [r for r in ours if f"{name}_time_s" in r]
        if reached:
            best = min(reached, key=lambda r: r[f"{name}_time_s"])
            parts.append(
                f"fastest to T_{name}: {best['estimator']} "
                f"({best[f'{name}_time_s']:.3g} s, "
                f"{best.get(f'{name}_speedup', float('nan')):.2f}x)"
            )
        else:
            parts.append(f"fastest to T_{name}: none reached it")
    parts.append(_so_cost(info, rows, label))
    return f"{info['dataset']}: default {label}: " + "; ".join(parts) + "."


def _so_cost(info, rows, label):
    """Per-iteration time of ``so`` over that of ``ls``, with the default's direction.

    Both from ``t_iter / 2 products`` (loop time per iteration over the same
    two bare products), judged against ``SO_COST_GOAL`` on SO-friendly shapes.
    """
    direction = label.rsplit("/", 1)[1]
    per_iteration = {r["estimator"]: r.get("t_iter_over_2_products") for r in rows}
    ls, so = (per_iteration.get(f"SO {s}/{direction}") for s in ("ls", "so"))
    if not (ls and so):
        return f"so/{direction} over ls/{direction} per iteration: not measured"
    ratio = so / ls
    if info["n_features"] >= SO_FRIENDLY_RATIO * info["hidden"]:
        met = "met" if ratio <= SO_COST_GOAL else "MISSED"
        shape = f"SO-friendly, goal <= {SO_COST_GOAL:g}: {met}"
    else:
        shape = f"inputs < {SO_FRIENDLY_RATIO} x hidden units: no goal"
    return f"so/{direction} over ls/{direction} per iteration {ratio:.2f} ({shape})"


def protocol_text(args):
    """The paragraph that says how every number was obtained."""
    return (
        f"Protocol: one hidden layer, activation {ACTIVATION}, alpha={ALPHA:g}, "
        f"random_state={RANDOM_STATE} for every estimator (same Glorot "
        "initialisation, checked per dataset). Objective: log_loss(y, "
        "predict_proba) or half the mean squared error, plus alpha/(2n) "
        "sum ||W||^2, computed from each fitted estimator's weights; "
        f"SOTwoLayer*.loss_ checked equal to it at rtol {fits.LOSS_RTOL:g}. "
        f"T_lbfgs: final objective of MLP lbfgs (max_iter={MLP_MAX_ITER}, "
        "default tol=1e-4 as gtol); T_adam: final objective of full-batch MLP "
        f"adam ({MLP_MAX_ITER} epochs, learning_rate_init=1e-3, tol=0, "
        "shuffle=False). MLP times: wall time of the fit. SO configurations: "
        f"tol=0, max_iter={args.max_iter}. Each configuration is fitted once "
        f"({SHORT_FITS.describe()}, MLP and SO alike: the fastest of them, "
        "their iterates checked identical). In the fitting "
        "process sklearn_so._base.SubspaceSolver is wrapped to read the optimiser's "
        "per-iteration time.perf_counter() stamps (taken after each iteration, "
        "since the loop started) and its loss curve; the loop is stopped once "
        f"both targets are reached or after {args.budget:g} s of loop time "
        "(--budget). Time to a target = (fit wall time - last stamp, i.e. "
        "validation, setup products, final exact refresh) + stamp of the "
        "first iteration whose objective is <= the target; iters = that "
        "iteration's number. Not reached: gap = (best objective - target) / "
        "target. 'vs MLP ...': MLP's fit time over the time to its target "
        "(> 1 = faster); '< x' for a fit the budget stopped first: MLP's time "
        "over that fit's time. t_iter / 2 products: loop time per iteration (SO) or "
        "fit time per iteration (MLP) over the median time of X @ M plus "
        "X.T @ R (M: d x r, R: n x r, r = hidden units). 'end': why the fit "
        "stopped. Threads: "
        f"{args.threads or 'default'} (BLAS/OpenMP, threadpoolctl)."
    )


def markdown_report(args, infos, rows, notes):
    """The whole Markdown report."""
    goals = ", ".join(f"T_{k} >= {v:g}x" for k, v in SPEEDUP_GOALS.items())
    return common.report_document(
        "# Two-layer networks: time to MLP's lbfgs and adam objectives",
        args.load_before,
        [
            protocol_text(args),
            *common.dataset_sections(infos, rows, results_section),
            reports.bullet_list(
                f"Goals of the default ({goals} faster):",
                common.dataset_sections(infos, rows, goal_line),
            ),
        ],
        notes,
    )


CSV_COLUMNS = (
    "dataset",
    "n_samples",
    "n_features",
    "hidden",
    "task",
    "target_lbfgs",
    "target_adam",
    "bare_products_s",
    "same_init",
    "estimator",
    "library",
    "end",
    "n_iter",
    "objective",
    "fit_s",
    "timed_fits",
    "loop_s",
    "overhead_s",
    "t_iter_over_2_products",
    "lbfgs_time_s",
    "lbfgs_iter",
    "lbfgs_speedup",
    "lbfgs_gap",
    "adam_time_s",
    "adam_iter",
    "adam_speedup",
    "adam_gap",
    "lbfgs_speedup_below",
    "adam_speedup_below",
    "n_products",
    "product_counts",
    "stop_reason",
    "reported_loss",
    "warnings",
    "error",
)


# --------------------------------------------------------------------------
# Driver
# --------------------------------------------------------------------------


def so_configurations():
    """Every (solver, direction) pair, solvers outermost."""
    return [(s, d) for s in SO_SOLVERS for d in SO_DIRECTIONS]


def benchmark_dataset(dataset, args, notes):
    """Time the MLP references and every SO configuration on one dataset.

    Parameters
    ----------
    dataset : NetworkDataset
        The problem.
    args : argparse.Namespace
        The command-line options.
    notes : list of str
        Remarks for the report; appended to.

    Returns
    -------
    info : dict or None
        Dataset-level facts (shape, targets, cost of two bare products);
        None if an MLP reference timed out.
    rows : list of dict
        MLP lbfgs, MLP adam, then one row per SO configuration, with the
        dataset facts merged in.
    """
    bare = common.bare_products_time(dataset.X, dataset.hidden)
    same_init = same_initial_weights(dataset)
    if not same_init:
        notes.append(f"{dataset.name}: SO and MLP initial weights DIFFER.")
    rows = []
    with common.FitWorker(dataset, args.threads, LoopRecorder()) as worker:
        for solver in TARGETS:
            row = run_reference(worker, dataset, solver, args.mlp_timeout)
            if row is None:
                notes.append(f"{dataset.name} skipped: MLP {solver} timed out.")
                return None, []
            _check_reported_loss(row, notes)
            common.log(_row_summary(row))
            rows.append(row)
        targets = {name: rows[i]["objective"] for i, name in enumerate(TARGETS)}
        common.log(f"{dataset.name}: targets {targets}")
        for solver, direction in so_configurations():
            row = run_so(worker, dataset, solver, direction, targets, args)
            _check_products(row, notes)
            _note_failure(row, notes)
            common.log(_row_summary(row))
            rows.append(row)
    add_derived(rows, bare)
    info = {
        "dataset": dataset.name,
        "description": dataset.describe(),
        "n_samples": dataset.X.shape[0],
        "n_features": dataset.X.shape[1],
        "hidden": dataset.hidden,
        "task": dataset.task,
        "target_lbfgs": targets["lbfgs"],
        "target_adam": targets["adam"],
        "bare_products_s": bare,
        "same_init": same_init,
    }
    facts = {k: v for k, v in info.items() if k not in ("dataset", "description")}
    return info, [{**row, **facts} for row in rows]


def _check_reported_loss(row, notes):
    """Note an MLP whose own ``loss_`` differs from :func:`objective`.

    MLP lbfgs reports the objective at its final weights; MLP adam reports
    the objective *before* its last update, so only lbfgs is compared.
    """
    if row["estimator"] != "MLP lbfgs":
        return
    reported, value = row["reported_loss"], row["objective"]
    if not np.isclose(reported, value, rtol=fits.LOSS_RTOL, atol=0.0):
        notes.append(
            f"{row['dataset']}: MLP lbfgs loss_ = {reported:.15g} but the "
            f"benchmark's objective is {value:.15g}."
        )


def _check_products(row, notes):
    """Note a fit whose product count breaks the two-per-iteration rule."""
    counts = row.get("product_counts")
    if not counts:
        return
    training = sum(v for k, v in counts.items() if k != "validation")
    if counts.get("iterations") != 2 * row["n_iter"] or training != row["n_products"]:
        notes.append(
            f"{row['dataset']} {row['estimator']}: products {counts} do not add "
            f"up (n_iter {row['n_iter']}, n_products {row['n_products']})."
        )


def _note_failure(row, notes):
    """Note a fit that raised or was killed."""
    if row["end"] == "error":
        notes.append(f"{row['dataset']} {row['estimator']} raised: {row['error']}")
    elif row["end"].startswith("killed"):
        notes.append(f"{row['dataset']} {row['estimator']}: fit {row['end']}.")


def _row_summary(row):
    """One progress line for stderr."""
    cells = []
    for name in TARGETS:
        if f"{name}_time_s" in row:
            cells.append(f"T_{name} {row[f'{name}_time_s']:.3g}s")
        elif f"{name}_gap" in row:
            cells.append(f"T_{name} gap {row[f'{name}_gap']:+.1e}")
    fit_s = row.get("fit_s")
    return (
        f"  {row['estimator']:<16} {row.get('end', ''):<16} "
        f"fit {fit_s if fit_s is None else round(fit_s, 3)}s "
        f"n_iter={row.get('n_iter', '-')} f={row.get('objective', float('nan')):.8g} "
        + " ".join(cells)
    )


def parse_args(argv=None):
    """Command-line options."""
    parser = common.benchmark_parser(
        __doc__.splitlines()[0],
        DATASETS,
        quick_help="3000 x 100 synthetic sets, 50 hidden units, small budgets (~2 min)",
        budget_help="seconds of loop time per SO configuration and dataset "
        "(default 30, quick 2)",
    )
    parser.add_argument(
        "--mlp-timeout",
        type=float,
        help="seconds allowed to each MLP reference fit (default 900, quick 60)",
    )
    parser.add_argument(
        "--max-iter",
        type=int,
        default=SO_MAX_ITER,
        help=f"max_iter of the SO fits (default {SO_MAX_ITER})",
    )
    return common.complete_args(
        parser,
        parser.parse_args(argv),
        DATASETS,
        names=(tuple(DATASETS), tuple(DATASETS)),
        defaults={"budget": (2.0, 30.0), "mlp_timeout": (60.0, 900.0)},
    )


def main(argv=None):
    """Run the benchmark and write the CSV and Markdown results."""
    args = parse_args(argv)
    infos, rows, notes = common.run_datasets(
        args, lambda name: DATASETS[name](args.quick), benchmark_dataset
    )
    notes.append(common.total_time_note(args))
    curves = [point for row in rows for point in row.pop("_curve", [])]
    common.write_results(
        args.output,
        {
            "two_layer.csv": (rows, CSV_COLUMNS),
            "two_layer_curves.csv": (
                curves,
                ("dataset", "estimator", "iteration", "seconds", "objective"),
            ),
        },
        "two_layer.md",
        markdown_report(args, infos, rows, notes),
    )


if __name__ == "__main__":
    sys.exit(main())
