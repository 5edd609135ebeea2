"""scikit-learn callbacks: one subtask per iteration, intermediate models, stops."""

import pickle
import warnings

import numpy as np
import pytest
from numpy.testing import assert_allclose
from sklearn.base import clone
from sklearn.callback import FitCallback, ProgressBar, ScoringMonitor
from sklearn.exceptions import ConvergenceWarning
from sklearn.metrics import get_scorer

from sklearn_so import SOLogisticRegression, SOTwoLayerClassifier, SOTwoLayerRegressor
from sklearn_so._callbacks import CALLBACK_STOP_REASON

from ._data import make_classification_data

KINDS = ["logistic-binary", "logistic-multiclass", "classifier", "regressor"]
PAIRS = [
    ("ls", "lbfgs"),
    ("lo", "lbfgs"),
    ("ps", "adam"),
    ("so", "gd"),
    ("so", "lbfgs"),
    ("fixed", "gd"),
]


class RecordingCallback(FitCallback):
    """Keeps every hook call with its context and fitted estimator."""

    def __init__(self):
        self.record = []

    def setup(self, estimator, context):
        self.record.append(("setup", context, None))

    def on_fit_task_begin(self, estimator, context, *, fitted_estimator=None):
        self.record.append(("begin", context, fitted_estimator))

    def on_fit_task_end(self, estimator, context, *, fitted_estimator=None):
        self.record.append(("end", context, fitted_estimator))

    def teardown(self, estimator, context):
        self.record.append(("teardown", context, None))

    def hooks(self, name, level):
        """Calls of hook ``name`` on the fit task (level 0) or iterations (1)."""
        return [
            (context, fitted)
            for hook, context, fitted in self.record
            if hook == name and (context.parent is not None) == bool(level)
        ]


class StopAtIteration(RecordingCallback):
    """Asks to stop at the end of iteration ``stop_at`` (counted from 1)."""

    def __init__(self, stop_at):
        super().__init__()
        self.stop_at = stop_at

    def on_fit_task_end(self, estimator, context, *, fitted_estimator=None):
        super().on_fit_task_end(estimator, context, fitted_estimator=fitted_estimator)
        return context.parent is not None and context.task_id + 1 == self.stop_at


def make_problem(kind, solver="ls", direction="lbfgs", **params):
    """A small deterministic estimator and its data."""
    if kind.startswith("logistic"):
        X, y = make_classification_data(2 if kind == "logistic-binary" else 3)
        est = SOLogisticRegression(solver=solver, direction=direction, **params)
        return est, X, y
    if kind == "classifier":
        X, y = make_classification_data(3)
        Estimator = SOTwoLayerClassifier
    else:
        X, _ = make_classification_data(2)
        y = np.sin(X[:, 0]) + X[:, 1] * X[:, 2]
        Estimator = SOTwoLayerRegressor
    params = {"max_iter": 60, **params}
    est = Estimator(
        hidden_units=5, solver=solver, direction=direction, random_state=0, **params
    )
    return est, X, y


def fit_quietly(est, X, y, **kwargs):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        return est.fit(X, y, **kwargs)


def n_iter(est):
    return int(np.ravel(est.n_iter_)[0])


def parameters(est):
    """The fitted parameters as a flat list of arrays."""
    if isinstance(est, SOLogisticRegression):
        return [est.coef_, est.intercept_]
    return [*est.coefs_, *est.intercepts_]


def assert_same_parameters(actual, expected, rtol=1e-12):
    for a, e in zip(parameters(actual), parameters(expected), strict=True):
        assert a.shape == e.shape
        assert_allclose(a, e, rtol=rtol, atol=0)


@pytest.mark.parametrize("solver, direction", PAIRS)
@pytest.mark.parametrize("kind", KINDS)
def test_one_subtask_per_iteration(kind, solver, direction):
    est, X, y = make_problem(kind, solver, direction)
    plain = fit_quietly(clone(est), X, y)
    cb = RecordingCallback()
    fit_quietly(est.set_callbacks(cb), X, y)

    assert [hook for hook, _, _ in cb.record].count("setup") == 1
    assert [hook for hook, _, _ in cb.record].count("teardown") == 1
    assert len(cb.hooks("begin", 0)) == len(cb.hooks("end", 0)) == 1
    n = n_iter(est)
    assert n > 3
    # Begin and end alternate, iteration by iteration, inside the fit task.
    hooks = [(hook, ctx.parent is None) for hook, ctx, _ in cb.record[1:-1]]
    assert hooks == [("begin", True), *[("begin", False), ("end", False)] * n] + [
        ("end", True)
    ]
    ends = cb.hooks("end", 1)
    assert [ctx.task_id for ctx, _ in ends] == list(range(n))
    assert {ctx.task_name for ctx, _ in ends} == {"iteration"}
    assert all(fitted is not None for _, fitted in ends)
    # The fit-level end sees the fitted estimator itself.
    assert_same_parameters(cb.hooks("end", 0)[0][1], est)
    # Reporting to callbacks does not change the fit.
    assert n_iter(plain) == n
    assert est.product_counts_ == plain.product_counts_
    assert_same_parameters(est, plain, rtol=0)


@pytest.mark.parametrize("solver, direction", PAIRS)
@pytest.mark.parametrize("kind", KINDS)
def test_intermediate_models_equal_shorter_fits(kind, solver, direction):
    est, X, y = make_problem(kind, solver, direction, max_iter=6)
    cb = RecordingCallback()
    fit_quietly(est.set_callbacks(cb), X, y)
    n = n_iter(est)
    assert n >= 4
    begins, ends = cb.hooks("begin", 1), cb.hooks("end", 1)
    assert len(begins) == len(ends) == n
    for k in range(1, n + 1):
        shorter, _, _ = make_problem(kind, solver, direction, max_iter=k)
        fit_quietly(shorter, X, y)
        at_end = ends[k - 1][1]
        assert_same_parameters(at_end, shorter)
        assert_allclose(at_end.predict(X), shorter.predict(X), rtol=1e-12)
        if k < n:
            # Iteration k + 1 starts where iteration k ended.
            assert_same_parameters(begins[k][1], shorter)
        if kind == "logistic-multiclass":
            assert_allclose(at_end.intercept_.sum(), 0, atol=1e-12)
            assert at_end.coef_.flags.c_contiguous
    # Iteration 1 starts from the initial parameters.
    first = begins[0][1]
    if kind.startswith("logistic"):
        assert not np.any(first.coef_) and not np.any(first.intercept_)
    else:
        assert not np.allclose(first.coefs_[0], est.coefs_[0])


@pytest.mark.parametrize("kind", KINDS)
def test_scoring_monitor_scores_every_iteration(kind):
    est, X, y = make_problem(kind)
    # The first is each estimator's own score; the second varies smoothly.
    if kind == "regressor":
        scoring = ["r2", "neg_mean_squared_error"]
    else:
        scoring = ["accuracy", "neg_log_loss"]
    monitor = ScoringMonitor(scoring=scoring)
    fit_quietly(est.set_callbacks(monitor), X, y)
    rows = monitor.get_logs().data
    iterations = [row for row in rows if len(row["task_id_path"]) == 2]
    fit_rows = [row for row in rows if len(row["task_id_path"]) == 1]
    assert len(iterations) == n_iter(est)
    assert [row["task_id"] for row in iterations] == list(range(n_iter(est)))
    assert len(fit_rows) == 1
    own, smooth = scoring
    for row in (iterations[-1], fit_rows[0]):
        assert row[own] == pytest.approx(est.score(X, y), rel=1e-12)
        assert row[smooth] == pytest.approx(get_scorer(smooth)(est, X, y), rel=1e-12)
    # Each row scores its own iterate: training improves the smooth score.
    assert iterations[0][smooth] < iterations[-1][smooth]


def test_scoring_monitor_gets_the_sample_weights():
    est, X, y = make_problem("logistic-multiclass")
    weights = np.random.default_rng(0).uniform(0.1, 3, len(y))
    monitor = ScoringMonitor(scoring="neg_log_loss")
    est.set_callbacks(monitor).fit(X, y, sample_weight=weights)
    rows = [r for r in monitor.get_logs().data if len(r["task_id_path"]) == 2]
    assert len(rows) == n_iter(est)
    expected = -_weighted_log_loss(est, X, y, weights)
    assert rows[-1]["neg_log_loss"] == pytest.approx(expected, rel=1e-12)
    assert rows[-1]["neg_log_loss"] != pytest.approx(
        -_weighted_log_loss(est, X, y, None), rel=1e-6
    )


def _weighted_log_loss(est, X, y, weights):
    proba = est.predict_proba(X)[np.arange(len(y)), np.searchsorted(est.classes_, y)]
    return np.average(-np.log(proba), weights=weights)


@pytest.mark.parametrize("solver, direction", PAIRS)
@pytest.mark.parametrize("kind", KINDS)
def test_callback_stops_the_fit(kind, solver, direction):
    est, X, y = make_problem(kind, solver, direction)
    cb = StopAtIteration(3)
    with warnings.catch_warnings():
        warnings.simplefilter("error", ConvergenceWarning)
        est.set_callbacks(cb).fit(X, y)
    assert n_iter(est) == 3
    assert len(est.loss_curve_) == 3
    assert est.stop_reason_ == CALLBACK_STOP_REASON
    assert len(cb.hooks("begin", 1)) == len(cb.hooks("end", 1)) == 3
    assert len(cb.hooks("end", 0)) == 1
    shorter, _, _ = make_problem(kind, solver, direction, max_iter=3)
    assert_same_parameters(est, fit_quietly(shorter, X, y))


@pytest.mark.parametrize("kind", ["classifier", "regressor"])
def test_callbacks_compose_with_early_stopping(kind):
    params = {"early_stopping": True, "max_iter": 300, "n_iter_no_change": 3}
    est, X, y = make_problem(kind, **params)
    plain = clone(est).fit(X, y)
    assert plain.stop_reason_.startswith("early stopping")
    cb = RecordingCallback()
    est.set_callbacks(cb).fit(X, y)
    assert est.stop_reason_ == plain.stop_reason_
    assert n_iter(est) == n_iter(plain) == len(est.validation_scores_)
    assert len(cb.hooks("end", 1)) == n_iter(est)
    assert_same_parameters(est, plain, rtol=0)

    # Either can stop: here the callback, before early stopping would.
    est, X, y = make_problem(kind, **params)
    with warnings.catch_warnings():
        warnings.simplefilter("error", ConvergenceWarning)
        est.set_callbacks(StopAtIteration(2)).fit(X, y)
    assert n_iter(est) == 2
    assert len(est.validation_scores_) == 2
    assert est.stop_reason_ == CALLBACK_STOP_REASON


def test_iteration_without_decrease_ends_as_an_empty_subtask():
    # At tol=0 the fit ends when rounding leaves no decrease to take: that
    # last iteration starts (its subtask opens) but is not taken.
    est, X, y = make_problem("logistic-binary", tol=0.0)
    cb = RecordingCallback()
    fit_quietly(est.set_callbacks(cb), X, y)
    assert est.stop_reason_.startswith("the objective is at its minimum")
    n = n_iter(est)
    begins, ends = cb.hooks("begin", 1), cb.hooks("end", 1)
    assert len(begins) == len(ends) == n + 1
    assert [ctx.task_id for ctx, _ in ends] == list(range(n + 1))
    assert all(fitted is not None for _, fitted in ends[:n])
    assert ends[n][1] is None
    assert len(cb.hooks("end", 0)) == 1


def test_diverging_iteration_ends_as_an_empty_subtask():
    est, X, y = make_problem(
        "logistic-binary", solver="fixed", direction="gd", learning_rate=1e30
    )
    cb = RecordingCallback()
    with np.errstate(over="ignore", invalid="ignore"):
        fit_quietly(est.set_callbacks(cb), X, y)
    assert est.stop_reason_.startswith("the objective became non-finite")
    n = n_iter(est)
    ends = cb.hooks("end", 1)
    assert len(cb.hooks("begin", 1)) == len(ends) == n + 1
    assert ends[n][1] is None and all(f is not None for _, f in ends[:n])


def test_converged_before_any_iteration_has_no_subtask():
    est, X, y = make_problem("logistic-binary")
    fit_quietly(est, X, y)
    cb = RecordingCallback()
    est.set_params(warm_start=True).set_callbacks(cb).fit(X, y)
    assert n_iter(est) == 0
    assert cb.hooks("begin", 1) == []
    assert len(cb.hooks("begin", 0)) == len(cb.hooks("end", 0)) == 1


@pytest.mark.parametrize("kind", KINDS)
def test_warm_start_with_callbacks(kind):
    # tol=0: the second fit runs its 4 iterations (near the optimum).
    est, X, y = make_problem(kind, max_iter=4, warm_start=True, tol=0.0)
    cb = RecordingCallback()
    fit_quietly(est.set_callbacks(cb), X, y)
    first = [np.copy(p) for p in parameters(est)]
    cb.record.clear()
    fit_quietly(est, X, y)
    assert n_iter(est) == 4
    begins = cb.hooks("begin", 1)
    assert len(begins) == len(cb.hooks("end", 1)) == 4
    # The second fit starts where the first ended.
    for p, q in zip(parameters(begins[0][1]), first, strict=True):
        assert_allclose(p, q, rtol=1e-12, atol=0)


@pytest.mark.parametrize("kind", KINDS)
def test_progress_bar(kind, capsys):
    pytest.importorskip("rich")
    est, X, y = make_problem(kind)
    fit_quietly(est.set_callbacks(ProgressBar()), X, y)
    out = capsys.readouterr().out
    assert f"{type(est).__name__} - fit" in out
    assert "100%" in out


def test_clone_keeps_callbacks_by_reference():
    cb = RecordingCallback()
    est = SOLogisticRegression(C=0.5).set_callbacks(cb)
    copy = clone(est)
    # scikit-learn shares callback instances between clones (ensembles and
    # cross-validation fit clones of the estimator the callbacks were set on).
    assert copy._skl_callbacks == [cb] and copy._skl_callbacks[0] is cb
    assert copy.get_params() == est.get_params()
    X, y = make_classification_data(2)
    copy.fit(X, y)
    assert len(cb.hooks("end", 0)) == 1
    assert len(cb.hooks("end", 1)) == n_iter(copy)
    # Removing the callbacks and cloning gives an estimator without any.
    assert not hasattr(clone(est.set_callbacks()), "_skl_callbacks")
    # A fitted estimator with callbacks still pickles.
    assert_same_parameters(pickle.loads(pickle.dumps(copy)), copy, rtol=0)


def test_set_callbacks_rejects_non_callbacks():
    with pytest.raises(TypeError, match="FitCallback protocol"):
        SOTwoLayerClassifier().set_callbacks(object())
    with pytest.raises(TypeError, match="FitCallback protocol"):
        SOTwoLayerRegressor().set_callbacks(RecordingCallback)
