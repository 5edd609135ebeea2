"""Fits that meet floating-point limits: overflow, rounding, invariances.

A fit whose objective or products are not finite from the start raises a
ValueError that says what to do, with no numpy RuntimeWarning; a fit that
stops because the objective cannot decrease by more than its rounding has
converged (no ConvergenceWarning); the multinomial model returns the
minimum-norm (column-centred) coefficients, as LogisticRegression does.
"""

import warnings

import numpy as np
import pytest
from sklearn.datasets import load_iris
from sklearn.exceptions import ConvergenceWarning
from sklearn.linear_model import LogisticRegression
from sklearn.preprocessing import scale

from sklearn_so import SOLogisticRegression, SOTwoLayerClassifier, SOTwoLayerRegressor
from sklearn_so._objectives import logistic_objective

SOLVERS = ["ls", "lo", "ps", "so", "fixed"]
DIRECTIONS = ["lbfgs", "gd", "adam", "newton", "newton-cg"]


@pytest.fixture(scope="module")
def iris():
    X, y = load_iris(return_X_y=True)
    return scale(X), y


def _huge_data(seed=0):
    rng = np.random.default_rng(seed)
    X = np.finfo(float).max * rng.uniform(size=(10, 2))
    return X, rng.standard_normal(10), np.arange(10) % 2


@pytest.mark.parametrize(
    "estimator, target",
    [
        (SOTwoLayerRegressor(activation="relu", random_state=0), "continuous"),
        *[
            (SOLogisticRegression(solver=s, direction=d), "binary")
            for s in SOLVERS
            for d in DIRECTIONS
        ],
    ],
    ids=lambda v: v if isinstance(v, str) else repr(v),
)
def test_overflowing_data_raise_a_value_error_without_numpy_warnings(estimator, target):
    X, y_continuous, y_binary = _huge_data()
    y = y_continuous if target == "continuous" else y_binary
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # any RuntimeWarning fails the test
        with pytest.raises(ValueError, match="[Ss]cale the data"):
            estimator.fit(X, y)


def test_a_saturated_but_finite_network_fits_without_numpy_warnings():
    # tanh(+-inf) is finite: the objective is finite from the start, so the
    # network fits (a stuck fit, which its own warning reports), and no
    # RuntimeWarning escapes.
    X, _, y = _huge_data()
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            est = SOTwoLayerClassifier(random_state=0).fit(X, y)
        except ValueError as error:
            assert "Scale the data" in str(error)
        else:
            assert np.isfinite(est.loss_)
    assert not [w for w in caught if issubclass(w.category, RuntimeWarning)]


def test_a_diverging_first_step_of_fixed_rates_raises():
    X, y = load_iris(return_X_y=True)
    est = SOLogisticRegression(solver="fixed", direction="gd", learning_rate=1e300)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        with pytest.raises(ValueError, match="lower learning_rate"):
            est.fit(X, y)


@pytest.mark.parametrize("direction", DIRECTIONS)
@pytest.mark.parametrize("fit_intercept", [False, True])
def test_multinomial_coefficients_are_centred(iris, direction, fit_intercept):
    # The softmax is unchanged by adding a vector to every class's
    # coefficients, so the penalty alone fixes their sum: the minimiser's
    # columns sum to zero, exactly, whatever the direction's scaling.
    X, y = iris
    est = SOLogisticRegression(
        C=150, fit_intercept=fit_intercept, direction=direction, max_iter=5000, tol=1e-9
    ).fit(X, y)
    scale_ = np.abs(est.coef_).max()
    np.testing.assert_allclose(est.coef_.sum(axis=0), 0.0, atol=1e-13 * scale_)
    reference = LogisticRegression(
        C=150, fit_intercept=fit_intercept, tol=1e-10, max_iter=10_000
    ).fit(X, y)
    np.testing.assert_allclose(reference.coef_.sum(axis=0), 0.0, atol=1e-10)
    assert logistic_objective(est, X, y, C=150) <= logistic_objective(
        reference, X, y, C=150
    ) * (1 + 1e-6)


def test_binary_and_network_directions_are_not_restricted(iris):
    X, y = iris
    binary = (y == 1).astype(int)
    est = SOLogisticRegression()
    est.fit(X, binary)
    model_D = np.arange(5.0)
    from sklearn_so._losses import BinaryLogLoss
    from sklearn_so._models import LinearModel

    model = LinearModel(4, 1, BinaryLogLoss(), np.zeros((3, 1)), np.ones(3), 1.0, True)
    assert model.restrict_direction(model_D) is model_D


def test_optimum_at_rounding_level_is_convergence_not_a_warning(iris):
    # The objective equals scikit-learn's to rounding, but no trial can show
    # a decrease: the gradient criterion tol=1e-12 is below what the
    # objective's value resolves. That is convergence.
    X, y = iris
    with warnings.catch_warnings():
        warnings.simplefilter("error", ConvergenceWarning)
        est = SOLogisticRegression(C=1e-2, tol=1e-12, max_iter=500).fit(X, y)
    assert "floating-point precision" in est.stop_reason_
    reference = LogisticRegression(C=1e-2, tol=1e-12, max_iter=10_000).fit(X, y)
    ours = logistic_objective(est, X, y, C=1e-2)
    assert ours == pytest.approx(logistic_objective(reference, X, y, C=1e-2), rel=1e-13)


def test_no_decrease_far_from_the_optimum_still_warns(iris, monkeypatch):
    # A search that finds nothing while the quadratic model still promises a
    # real decrease is not convergence: the fit warns.
    from sklearn_so._strategies import LineSearch

    monkeypatch.setattr(
        LineSearch, "solve", lambda self, phi, basis, f0, grad, fits: (None, 1)
    )
    X, y = iris
    with pytest.warns(ConvergenceWarning, match="no further decrease"):
        est = SOLogisticRegression().fit(X, y)
    assert est.n_iter_[0] == 0
    assert est.product_counts_["unused"] == 2


def test_float32_first_layer_beyond_float32_range_is_not_returned():
    # A diverging fixed step on float32 X grows W1 to about 1e42: the cached
    # pre-activation (float64) stays finite and tanh keeps the objective
    # finite, but X @ W1 in X's precision overflows, so the returned network
    # had infinite coefs_ and predicted NaN. The fit keeps the best iterate.
    X = np.array([[0.12573022, -0.13210486]], dtype=np.float32)
    y = np.array([[0.64042265, 0.10490012]])
    est = SOTwoLayerRegressor(
        1,
        solver="fixed",
        learning_rate=1e4,
        max_iter=11,
        memory=1,
        alpha=0.0,
        random_state=0,
    )
    with warnings.catch_warnings():
        warnings.simplefilter("error", RuntimeWarning)
        with pytest.warns(ConvergenceWarning, match="overflowed"):
            est.fit(X, y)
        prediction = est.predict(X)
    assert all(np.all(np.isfinite(W)) for W in est.coefs_ + est.intercepts_)
    assert np.all(np.isfinite(prediction))
    assert np.isfinite(est.loss_)


def test_balanced_class_weight_with_an_unweighted_class_warns_nothing():
    # compute_class_weight divides by the class's total weight (zero here):
    # numpy warned before the package's ValueError said the same.
    X, y = np.array([[0.0, 1.0], [1.0, 0.0], [1.0, 1.0]]), np.array([0, 1, 1])
    est = SOLogisticRegression(class_weight="balanced")
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        with pytest.raises(ValueError, match="these classes have none"):
            est.fit(X, y, sample_weight=[0.0, 1.0, 1.0])
