"""ConvergenceDisplay and the per-iteration timestamps it plots over."""

import sys
import warnings

import numpy as np
import pytest
from numpy.testing import assert_array_equal
from sklearn.exceptions import ConvergenceWarning, NotFittedError
from sklearn.neural_network import MLPClassifier
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from sklearn_so import (
    ConvergenceDisplay,
    SOLogisticRegression,
    SOTwoLayerClassifier,
    SOTwoLayerRegressor,
)

from ._data import make_classification_data

matplotlib = pytest.importorskip("matplotlib")
matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402


@pytest.fixture(autouse=True)
def close_figures():
    yield
    plt.close("all")


def fitted(kind, **params):
    """A fitted estimator of each kind and its data."""
    if kind == "logistic":
        X, y = make_classification_data(3)
        est = SOLogisticRegression(solver="so", direction="lbfgs", **params)
    elif kind == "classifier":
        X, y = make_classification_data(3)
        est = SOTwoLayerClassifier(
            hidden_units=5, solver="so", max_iter=40, random_state=0, **params
        )
    else:
        X, _ = make_classification_data(2)
        y = np.sin(X[:, 0]) + X[:, 1]
        est = SOTwoLayerRegressor(
            hidden_units=5, solver="ps", max_iter=40, random_state=0, **params
        )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        return est.fit(X, y), X, y


def n_iter(est):
    return int(np.ravel(est.n_iter_)[0])


@pytest.mark.parametrize("kind", ["logistic", "classifier", "regressor"])
def test_loss_times_one_per_iteration(kind):
    est, _, _ = fitted(kind)
    times = np.asarray(est.loss_times_)
    assert n_iter(est) > 5
    assert times.shape == (n_iter(est),) == (len(est.loss_curve_),)
    assert times[0] > 0 and np.all(np.diff(times) >= 0)


@pytest.mark.parametrize(
    "kind, n_layers", [("logistic", 1), ("classifier", 2), ("regressor", 2)]
)
def test_lines_hold_the_recorded_values(kind, n_layers):
    est, _, _ = fitted(kind)
    display = ConvergenceDisplay.from_estimator(est)
    n = n_iter(est)
    iterations = np.arange(1, n + 1)

    assert display.axes_.shape == (2,)
    ax_objective, ax_rates = display.axes_
    assert display.figure_ is ax_objective.figure is ax_rates.figure
    assert ax_objective.get_lines() == [display.objective_line_]
    assert_array_equal(display.objective_line_.get_xdata(), iterations)
    assert_array_equal(display.objective_line_.get_ydata(), est.loss_curve_)
    assert display.objective_line_.get_label() == type(est).__name__
    assert ax_objective.get_legend().get_texts()[0].get_text() == type(est).__name__
    assert ax_objective.get_yscale() == "linear"
    assert ax_objective.get_xlabel() == "iteration"
    assert ax_objective.get_ylabel() == "objective"

    assert len(display.learning_rate_lines_) == n_layers
    assert len(display.momentum_rate_lines_) == n_layers
    assert len(ax_rates.get_lines()) == 2 * n_layers
    for layer in range(n_layers):
        learning = display.learning_rate_lines_[layer]
        momentum = display.momentum_rate_lines_[layer]
        assert_array_equal(learning.get_xdata(), iterations)
        assert_array_equal(learning.get_ydata(), est.learning_rates_[:, layer])
        assert_array_equal(momentum.get_ydata(), est.momentum_rates_[:, layer])
        # One colour per layer; learning solid, momentum dashed.
        assert learning.get_color() == momentum.get_color()
        assert learning.get_linestyle() == "-" and momentum.get_linestyle() == "--"
    labels = [line.get_label() for line in ax_rates.get_lines()]
    if n_layers == 1:
        assert labels == ["learning rate", "momentum rate"]
    else:
        assert labels == [
            "learning rate, layer 1",
            "momentum rate, layer 1",
            "learning rate, layer 2",
            "momentum rate, layer 2",
        ]
        colors = {line.get_color() for line in display.learning_rate_lines_}
        assert len(colors) == 2
    legend = [text.get_text() for text in ax_rates.get_legend().get_texts()]
    assert legend == labels


@pytest.mark.parametrize("kind", ["logistic", "classifier"])
def test_time_axis_uses_the_timestamps(kind):
    est, _, _ = fitted(kind)
    display = ConvergenceDisplay.from_estimator(est, x="time")
    for line in [
        display.objective_line_,
        *display.learning_rate_lines_,
        *display.momentum_rate_lines_,
    ]:
        assert_array_equal(line.get_xdata(), est.loss_times_)
    assert_array_equal(display.objective_line_.get_ydata(), est.loss_curve_)
    assert "time" in display.axes_[0].get_xlabel()
    assert "time" in display.axes_[1].get_xlabel()


def test_suboptimality_is_the_gap_to_the_best_objective():
    est, _, _ = fitted("logistic")
    display = ConvergenceDisplay.from_estimator(est, y="suboptimality")
    loss = np.asarray(est.loss_curve_)
    gap = display.objective_line_.get_ydata()
    best = np.argmin(loss)
    assert np.isnan(gap[best])
    others = np.arange(len(loss)) != best
    assert_array_equal(gap[others], loss[others] - loss.min())
    assert np.all(gap[others] > 0)
    assert display.axes_[0].get_yscale() == "log"


def test_draws_on_given_axes():
    est, _, _ = fitted("classifier")
    fig, axes = plt.subplots(2, 1)
    display = ConvergenceDisplay.from_estimator(est, ax=axes)
    assert display.figure_ is fig
    assert display.axes_[0] is axes[0] and display.axes_[1] is axes[1]
    assert len(axes[1].get_lines()) == 4
    # A plain list of two axes works too, and plot returns the display.
    _, (left, right) = plt.subplots(1, 2)
    assert display.plot(ax=[left, right]) is display
    assert display.axes_[1] is right and len(right.get_lines()) == 4
    with pytest.raises(ValueError, match="ax must hold 2 axes"):
        display.plot(ax=plt.subplots()[1])


def test_pipeline_whose_last_step_is_ours():
    X, y = make_classification_data(3)
    pipe = make_pipeline(StandardScaler(), SOLogisticRegression()).fit(X, y)
    display = ConvergenceDisplay.from_estimator(pipe)
    assert_array_equal(display.objective_line_.get_ydata(), pipe[-1].loss_curve_)
    assert display.objective_line_.get_label() == "SOLogisticRegression"


def test_not_fitted_raises():
    with pytest.raises(NotFittedError):
        ConvergenceDisplay.from_estimator(SOTwoLayerClassifier())
    with pytest.raises(NotFittedError):
        ConvergenceDisplay.from_estimator(
            make_pipeline(StandardScaler(), SOLogisticRegression())
        )


def test_other_estimators_are_refused():
    X, y = make_classification_data(2)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        mlp = MLPClassifier(hidden_layer_sizes=(3,), max_iter=5).fit(X, y)
    with pytest.raises(ValueError, match="learning_rates_"):
        ConvergenceDisplay.from_estimator(mlp)


def test_unknown_options_raise():
    est, _, _ = fitted("logistic")
    with pytest.raises(ValueError, match=r"x must be one of \('iteration', 'time'\)"):
        ConvergenceDisplay.from_estimator(est, x="epoch")
    with pytest.raises(ValueError, match="y must be one of"):
        ConvergenceDisplay.from_estimator(est, y="loss")
    display = ConvergenceDisplay(
        loss_curve=[2.0, 1.0], learning_rates=[1.0, 0.5], momentum_rates=[0.0, 0.1]
    )
    with pytest.raises(ValueError, match="x='time' needs the per-iteration"):
        display.plot(x="time")
    # One-dimensional rates are one layer.
    display.plot()
    assert len(display.learning_rate_lines_) == 1
    assert_array_equal(display.momentum_rate_lines_[0].get_ydata(), [0.0, 0.1])
    assert display.axes_[0].get_legend() is None


def test_fit_without_iterations():
    # A warm start from a converged fit runs no iteration: empty lines.
    est, X, y = fitted("logistic", warm_start=True)
    est.fit(X, y)
    assert n_iter(est) == 0 and est.loss_times_ == []
    display = ConvergenceDisplay.from_estimator(est, x="time")
    assert len(display.objective_line_.get_xdata()) == 0
    assert len(display.learning_rate_lines_) == 1


def test_without_matplotlib(monkeypatch):
    est, _, _ = fitted("logistic")
    display = ConvergenceDisplay(
        loss_curve=est.loss_curve_,
        learning_rates=est.learning_rates_,
        momentum_rates=est.momentum_rates_,
    )
    # A None entry in sys.modules makes ``import matplotlib`` fail.
    monkeypatch.setitem(sys.modules, "matplotlib", None)
    with pytest.raises(
        ImportError, match=r"from_estimator requires matplotlib.*sklearn-so\[plot\]"
    ):
        ConvergenceDisplay.from_estimator(est)
    with pytest.raises(
        ImportError, match="ConvergenceDisplay.plot requires matplotlib"
    ):
        display.plot()
