"""Property-based tests: every fit returns a sound model or a clear ValueError.

Over random shapes, dtypes and memory layouts, sparse and dense X, column
scales from 1e-8 to 1e8, duplicated and constant columns, sample weights
with zeros, class imbalance (a class with one sample), label types, 1-d and
2-d regression targets, and every solver, direction and estimator, each fit
either

(a) returns a model whose fitted arrays, ``loss_`` and predictions are
    finite (and predicted labels are classes seen in training), and whose
    objective ``loss_`` is not above the objective at the starting point,
    computed here independently of the package; or
(b) raises a plain ValueError with a message, raised by the package's or
    scikit-learn's validation -- not an error from deep inside numpy or
    scipy.

No numpy RuntimeWarning may escape (they are errors here); a
ConvergenceWarning is allowed, the fits being capped at a few iterations.

The examples are drawn as a *recipe* (sizes, scales, a seed for the values)
so that a failing example prints compactly and rebuilds with
:func:`build_data`. The number of examples is set by the hypothesis profile
(``tests/conftest.py``): a fixed, bounded set by default, many more with
``HYPOTHESIS_PROFILE=long``.
"""

import warnings
from contextlib import contextmanager
from dataclasses import dataclass

import numpy as np
import pytest
import scipy.sparse as sp
from hypothesis import event, given
from hypothesis import strategies as st
from scipy.special import log_expit, logsumexp
from sklearn.base import is_classifier
from sklearn.datasets import load_breast_cancer
from sklearn.exceptions import ConvergenceWarning
from sklearn.utils import check_random_state

from sklearn_so import SOLogisticRegression, SOTwoLayerClassifier, SOTwoLayerRegressor

SOLVERS = ["ls", "lo", "ps", "so", "fixed"]
DIRECTIONS = ["lbfgs", "gd", "adam"]
LINEAR_DIRECTIONS = ["newton", "newton-cg", "auto"]
ACTIVATIONS = ["tanh", "logistic", "relu", "identity"]
LAYOUTS = ["C", "F", "csr", "csc"]
LABELS = {
    "int": np.array([-1, 3, 7, 100]),
    "str": np.array(["no", "yes", "maybe", "z"]),
    "bool": np.array([False, True]),
    "integral float": np.array([0.0, 1.0, 2.0, 5.0]),
    "float": np.array([0.5, 1.5, -2.25, 3.0]),
}
# How far loss_ may lie above the independently computed starting objective:
# rounding of the products in X's precision (float32 X multiplies in float32).
RTOL = {"float64": 1e-9, "float32": 1e-4}


@dataclass(frozen=True)
class DataRecipe:
    """How to build one training set; see :func:`build_data`."""

    n_samples: int
    n_features: int
    seed: int
    dtype: str
    layout: str
    density: float
    exponents: tuple
    duplicate: tuple | None
    constant: tuple | None
    weights: str


@st.composite
def data_recipes(draw, min_samples=2, max_samples=25, max_features=5):
    """Draw a :class:`DataRecipe`."""
    n = draw(st.integers(min_samples, max_samples))
    d = draw(st.integers(1, max_features))
    duplicate = constant = None
    if d >= 2 and draw(st.booleans()):
        source, target = draw(st.permutations(range(d)))[:2]
        duplicate = (source, target)
    if draw(st.booleans()):
        value = draw(st.sampled_from([0.0, 1.0, -3e5, 2e-7]))
        constant = (draw(st.integers(0, d - 1)), value)
    return DataRecipe(
        n_samples=n,
        n_features=d,
        seed=draw(st.integers(0, 2**32 - 1)),
        dtype=draw(st.sampled_from(["float64", "float32"])),
        layout=draw(st.sampled_from(LAYOUTS)),
        density=draw(st.sampled_from([1.0, 0.5, 0.1])),
        exponents=tuple(draw(st.lists(st.integers(-8, 8), min_size=d, max_size=d))),
        duplicate=duplicate,
        constant=constant,
        weights=draw(st.sampled_from(["none", "ones", "zeros", "integers"])),
    )


def build_data(recipe):
    """Return ``X`` (in the recipe's dtype and layout), the rng and weights.

    Columns are scaled by ``10 ** exponent``; a duplicated column copies
    another (after scaling), a constant column holds one value; "zeros"
    weights are positive with about a third zero (never all of them).
    """
    rng = np.random.default_rng(recipe.seed)
    n, d = recipe.n_samples, recipe.n_features
    X = rng.standard_normal((n, d))
    X[rng.uniform(size=X.shape) >= recipe.density] = 0.0
    X *= 10.0 ** np.array(recipe.exponents, dtype=float)
    if recipe.duplicate is not None:
        source, target = recipe.duplicate
        X[:, target] = X[:, source]
    if recipe.constant is not None:
        column, value = recipe.constant
        X[:, column] = value
    X = X.astype(recipe.dtype)
    if recipe.layout == "F":
        X = np.asfortranarray(X)
    elif recipe.layout in ("csr", "csc"):
        X = sp.csr_matrix(X) if recipe.layout == "csr" else sp.csc_matrix(X)
    if recipe.weights == "none":
        weights = None
    elif recipe.weights == "ones":
        weights = np.ones(n)
    elif recipe.weights == "integers":
        weights = rng.integers(1, 4, size=n).astype(float)
    else:
        weights = rng.uniform(0.5, 2.0, size=n)
        weights[rng.uniform(size=n) < 1 / 3] = 0.0
        weights[rng.integers(n)] = 1.0  # never all zero
    return X, rng, weights


@st.composite
def label_recipes(draw, n_samples):
    """Draw ``(n_classes, label_type, imbalanced)`` for ``n_samples`` samples."""
    label_type = draw(st.sampled_from(sorted(LABELS)))
    top = min(len(LABELS[label_type]), n_samples)
    n_classes = draw(st.integers(2, top))
    return n_classes, label_type, draw(st.booleans())


def build_labels(rng, n_samples, n_classes, label_type, imbalanced):
    """Labels covering every class; ``imbalanced``: the last class once."""
    common = n_classes - 1 if imbalanced else n_classes
    index = np.concatenate(
        [
            np.arange(n_classes),
            rng.integers(0, common, size=n_samples - n_classes),
        ]
    )
    return LABELS[label_type][rng.permutation(index)]


def solver_parameters():
    """The parameters every estimator shares, with few iterations."""
    return {
        "solver": st.sampled_from(SOLVERS),
        "direction": st.sampled_from(DIRECTIONS),
        "max_iter": st.integers(1, 30),
        "tol": st.sampled_from([1e-4, 0.0]),
        "memory": st.sampled_from([1, 5, "auto"]),
        "memory_directions": st.integers(0, 2),
        "learning_rate": st.sampled_from([1e-3, 0.1, 10.0, 1e4]),
        "momentum": st.sampled_from([0.0, 0.5, 0.9]),
    }


def network_parameters():
    return {
        **solver_parameters(),
        "hidden_units": st.integers(1, 4),
        "activation": st.sampled_from(ACTIVATIONS),
        "alpha": st.sampled_from([0.0, 1e-4, 1.0, 1e3]),
        "random_state": st.integers(0, 2**31 - 1),
    }


def _dense64(X):
    return np.asarray(X.toarray() if sp.issparse(X) else X, dtype=np.float64)


def _assert_clear_value_error(error):
    """A plain ValueError with a message, raised by validation code.

    numpy's LinAlgError is a ValueError too: the exact type is required. The
    innermost frame must be the package's or scikit-learn's, not numpy's or
    scipy's (an error from deep inside).
    """
    assert type(error) is ValueError, repr(error)
    assert str(error).strip(), "a ValueError without a message"
    tb = error.__traceback__
    while tb.tb_next is not None:
        tb = tb.tb_next
    module = tb.tb_frame.f_globals.get("__name__", "")
    assert module.startswith(("sklearn_so", "sklearn.")), (
        f"ValueError raised from {module}: {error}"
    )


def _fit(estimator, X, y, sample_weight):
    """Fit with numpy warnings as errors; None if a clear ValueError."""
    try:
        estimator.fit(X, y, sample_weight=sample_weight)
    except ValueError as error:
        _assert_clear_value_error(error)
        # Reported by --hypothesis-show-statistics: how often each refusal.
        event("ValueError", str(error)[:60])
        return None
    event("outcome", "fitted")
    return estimator


def _assert_not_above(value, start, dtype):
    """``loss_`` is finite and not above ``start`` (to X's rounding)."""
    assert np.isfinite(value), value
    assert value <= start + RTOL[dtype] * abs(start) + 1e-300, (value, start)


def _fit_network(estimator, X, y, sample_weight, dtype):
    """Fit a network; check its weights are finite and ``loss_`` not above start.

    Returns the fitted network, or None after a clear ValueError.
    """
    fitted = _fit(estimator, X, y, sample_weight)
    if fitted is None:
        return None
    for array in [*fitted.coefs_, *fitted.intercepts_]:
        assert np.all(np.isfinite(array))
    task = "classification" if is_classifier(fitted) else "regression"
    start = network_start(fitted, X, y, sample_weight, task)
    _assert_not_above(fitted.loss_, start, dtype)
    return fitted


@contextmanager
def _strict_warnings():
    """numpy's RuntimeWarnings are errors; ConvergenceWarnings are allowed."""
    with warnings.catch_warnings():
        warnings.simplefilter("error", RuntimeWarning)
        warnings.simplefilter("ignore", ConvergenceWarning)
        yield


def _check_classifier_predictions(estimator, X, y):
    labels = estimator.predict(X)
    assert labels.shape == (X.shape[0],)
    assert np.all(np.isin(labels, np.unique(y)))
    proba = estimator.predict_proba(X)
    assert proba.shape == (X.shape[0], len(np.unique(y)))
    assert np.all(np.isfinite(proba))
    np.testing.assert_allclose(proba.sum(axis=1), 1.0, rtol=1e-5)
    assert np.all(np.isfinite(estimator.decision_function(X)))


# -- the starting objectives, computed from the definitions ------------------


def logistic_start(y, sample_weight, class_weight):
    """``loss_`` at zero coefficients: the weighted mean of log(K).

    Every logit is zero, so each sample's log-loss is ``log(n_classes)``
    and the penalty is zero, whatever the (class-)weights; computed as the
    weighted mean nonetheless, as the definition reads.
    """
    classes, index = np.unique(y, return_inverse=True)
    s = np.ones(len(y)) if sample_weight is None else np.array(sample_weight)
    if class_weight == "balanced":
        per_class = np.bincount(index, weights=s, minlength=len(classes))
        s = s * (s.sum() / (len(classes) * per_class))[index]
    return float(s @ np.full(len(y), np.log(len(classes))) / s.sum())


def glorot_start(rng, n_features, hidden_units, n_outputs, activation):
    """The initial weights as scikit-learn's MLP draws them (Glorot uniform)."""
    factor = 2.0 if activation == "logistic" else 6.0
    layers = []
    for fan_in, fan_out in [(n_features, hidden_units), (hidden_units, n_outputs)]:
        bound = np.sqrt(factor / (fan_in + fan_out))
        coef = rng.uniform(-bound, bound, (fan_in, fan_out))
        layers.append((coef, rng.uniform(-bound, bound, fan_out)))
    return layers


HIDDEN = {
    "identity": lambda z: z,
    "tanh": np.tanh,
    "logistic": lambda z: np.exp(log_expit(z)),
    "relu": lambda z: np.maximum(z, 0.0),
}


def network_start(estimator, X, y, sample_weight, task):
    """MLP's objective at the network's initial weights.

    The weighted mean loss (log-loss, or half the squared error averaged over
    the outputs) plus ``alpha / (2 sum_i s_i) * (||W1||^2 + ||W2||^2)``.
    """
    n = X.shape[0]
    if task == "regression":
        Y = np.asarray(y, dtype=float).reshape(n, -1)
    else:
        classes, index = np.unique(y, return_inverse=True)
        Y = index[:, None] if len(classes) == 2 else np.eye(len(classes))[index]
    rng = check_random_state(estimator.random_state)
    (W1, b1), (W2, b2) = glorot_start(
        rng, X.shape[1], estimator.hidden_units, Y.shape[1], estimator.activation
    )
    with np.errstate(over="ignore", invalid="ignore"):
        out = HIDDEN[estimator.activation](_dense64(X) @ W1 + b1) @ W2 + b2
        if task == "regression":
            losses = 0.5 * np.mean((out - Y) ** 2, axis=1)
        elif Y.shape[1] == 1:
            losses = -(
                Y[:, 0] * log_expit(out[:, 0]) + (1 - Y[:, 0]) * log_expit(-out[:, 0])
            )
        else:
            losses = logsumexp(out, axis=1) - np.sum(out * Y, axis=1)
    s = np.ones(n) if sample_weight is None else np.asarray(sample_weight)
    penalty = estimator.alpha / (2 * s.sum()) * (np.sum(W1**2) + np.sum(W2**2))
    return float(s @ losses / s.sum() + penalty)


# -- the properties ------------------------------------------------------------


@given(data=st.data(), recipe=data_recipes())
def test_logistic_regression_fits_soundly_or_refuses_clearly(data, recipe):
    params = data.draw(
        st.fixed_dictionaries(
            {
                **solver_parameters(),
                # The linear model's own directions besides the shared ones.
                "direction": st.sampled_from([*DIRECTIONS, *LINEAR_DIRECTIONS]),
                "C": st.sampled_from([1e-4, 1.0, 1e4, np.inf]),
                "fit_intercept": st.booleans(),
                "class_weight": st.sampled_from([None, "balanced"]),
            }
        ),
        label="parameters",
    )
    labels = data.draw(label_recipes(recipe.n_samples), label="labels")
    X, rng, sample_weight = build_data(recipe)
    y = build_labels(rng, recipe.n_samples, *labels)
    estimator = SOLogisticRegression(**params)
    with _strict_warnings():
        fitted = _fit(estimator, X, y, sample_weight)
        if fitted is None:
            return
        assert np.all(np.isfinite(fitted.coef_))
        assert np.all(np.isfinite(fitted.intercept_))
        start = logistic_start(y, sample_weight, params["class_weight"])
        _assert_not_above(fitted.loss_, start, recipe.dtype)
        _check_classifier_predictions(fitted, X, y)


@given(data=st.data(), recipe=data_recipes())
def test_network_classifier_fits_soundly_or_refuses_clearly(data, recipe):
    params = data.draw(st.fixed_dictionaries(network_parameters()), label="parameters")
    labels = data.draw(label_recipes(recipe.n_samples), label="labels")
    X, rng, sample_weight = build_data(recipe)
    y = build_labels(rng, recipe.n_samples, *labels)
    estimator = SOTwoLayerClassifier(**params)
    with _strict_warnings():
        fitted = _fit_network(estimator, X, y, sample_weight, recipe.dtype)
        if fitted is not None:
            _check_classifier_predictions(fitted, X, y)


@given(data=st.data(), recipe=data_recipes(min_samples=1))
def test_network_regressor_fits_soundly_or_refuses_clearly(data, recipe):
    params = data.draw(st.fixed_dictionaries(network_parameters()), label="parameters")
    n_outputs = data.draw(st.integers(1, 3), label="n_outputs")
    one_dimensional = n_outputs == 1 and data.draw(st.booleans(), label="1-d y")
    y_exponent = data.draw(st.integers(-8, 8), label="y exponent")
    X, rng, sample_weight = build_data(recipe)
    y = rng.standard_normal((recipe.n_samples, n_outputs)) * 10.0**y_exponent
    y = y[:, 0] if one_dimensional else y
    estimator = SOTwoLayerRegressor(**params)
    with _strict_warnings():
        fitted = _fit_network(estimator, X, y, sample_weight, recipe.dtype)
        if fitted is None:
            return
        prediction = fitted.predict(X)
        assert prediction.shape == y.shape
        assert np.all(np.isfinite(prediction))


# -- defects the properties found, as plain regression tests ------------------


def test_cached_pre_activation_does_not_drift_with_runaway_momentum():
    # Duplicated tiny features: the direction and the momentum are nearly
    # collinear and "so" picks rates of 1e3-1e4 that cancel. Each stored
    # move's image carried its rounding into the next step times the
    # momentum rate, so the cached X W1 drifted geometrically: the fit
    # followed objective values that were not the model's, and the exact
    # loss_ (1.3732) ended above the cached curve's last value (1.3644).
    rng = np.random.default_rng(0)
    x = 1e-4 * rng.standard_normal(11)
    X, y = np.column_stack([x, x]), np.arange(11) % 4
    est = SOTwoLayerClassifier(
        1, solver="so", max_iter=8, tol=0.0, memory=1, memory_directions=0
    )
    with _strict_warnings():
        est.set_params(random_state=0).fit(X, y)
    assert est.loss_ == pytest.approx(est.loss_curve_[-1], rel=1e-12)
    assert est.loss_ <= network_start(est, X, y, None, "classification")


def test_float32_second_layer_beyond_float32_range_is_not_returned():
    # A diverging fixed step grew W2 to 2e39 while the float64 objective
    # stayed finite: returning the network in X's precision (float32)
    # overflowed in the cast. Weights outside X's range now count as a
    # breakdown and the best iterate is kept.
    recipe = DataRecipe(1, 1, 0, "float32", "C", 1.0, (0,), None, None, "none")
    X, rng, _ = build_data(recipe)
    y = rng.standard_normal((1, 1))
    est = SOTwoLayerRegressor(
        2, solver="fixed", direction="gd", learning_rate=10.0, max_iter=28, alpha=0.0
    )
    with _strict_warnings():
        est.set_params(random_state=0).fit(X, y)
        prediction = est.predict(X)
    for array in [*est.coefs_, *est.intercepts_]:
        assert array.dtype == np.float32 and np.all(np.isfinite(array))
    assert np.all(np.isfinite(prediction))
    assert "overflowed X's precision" in est.stop_reason_


def test_float32_product_whose_terms_cancel_is_not_trusted_to_its_size():
    # A constant column of -3e5 beside the intercept: the Newton direction's
    # image cancels terms of 3e5 down to 1e-7, so in float32 it is 30%
    # rounding. Judged by its size (eps * max|X D|) it looked exact and the
    # cached objective fell while the model's rose to 1.034 (start: log 2).
    recipe = DataRecipe(3, 2, 0, "float32", "C", 1.0, (0, 0), None, (0, -3e5), "none")
    X, rng, _ = build_data(recipe)
    y = build_labels(rng, 3, 2, "bool", False)
    est = SOLogisticRegression(
        solver="ps", direction="newton", max_iter=7, C=1e-4, memory=1
    )
    with _strict_warnings():
        est.fit(X, y)
    assert est.loss_ <= np.log(2)
    assert est.loss_ == pytest.approx(est.loss_curve_[-1], rel=1e-5)


def test_fixed_rates_that_climb_keep_the_best_iterate():
    # solver="fixed" with a learning rate too large for raw (unscaled)
    # features oscillates outwards without overflowing: the last iterate's
    # objective was above the starting one (log 2) and was returned.
    X, y = load_breast_cancer(return_X_y=True)
    est = SOLogisticRegression(
        solver="fixed", direction="adam", learning_rate=0.05, max_iter=120
    )
    with pytest.warns(ConvergenceWarning, match="rose above its starting value"):
        est.fit(X, y)
    assert max(est.loss_curve_) > np.log(2)
    # Every iterate was above the start here: the start is the best one.
    best = min(np.log(2), *est.loss_curve_)
    assert est.loss_ == pytest.approx(best, rel=1e-9)


def test_float32_momentum_image_below_rounding_is_not_followed():
    # A constant column of -3e5 beside the intercept, float32 CSR X: the last
    # move's image, built from float32 products, was rounding noise next to
    # what the move really does to X W, and the plane search took a momentum
    # rate of 5.5e15 along it. The cached objective said 0.2807; the model
    # returned had loss_ 17.8, far above the start (log 2).
    X = sp.csr_matrix(
        np.array(
            [[1.8905338, -3e5], [-4.1306353, -3e5], [0.0, -3e5]]
            + [[-3.2542284, -3e5], [2.8121066, -3e5], [0.0, -3e5]],
            dtype=np.float32,
        )
    )
    y = np.array([False, True, True, True, False, True])
    est = SOLogisticRegression(
        solver="ps", direction="adam", max_iter=12, tol=0.0, class_weight="balanced"
    )
    with _strict_warnings():
        est.fit(X, y)
    assert est.loss_ <= np.log(2)
    assert est.loss_ == pytest.approx(est.loss_curve_[-1], rel=1e-6)


@pytest.mark.parametrize(
    "fit_intercept, max_iter, labels",
    [(False, 6, [-1, 3, 7]), (True, 13, ["no", "yes", "maybe"])],
)
def test_drift_is_judged_by_what_it_costs_the_objective(
    fit_intercept, max_iter, labels
):
    # Without a penalty (C=inf) the "so" rates (up to 1e9) drove W to 1e7-1e8
    # on float32 X. Without an intercept, the cached logits drifted by 37
    # while max|Z| grew to 6e8: a drift relative to max|Z| looked harmless,
    # but two samples whose logits tie to within it decide the objective
    # (loss_ 1.158, above the start log 3 = 1.0986). With one, a single step
    # with rates of 7e6 on the moves' images (each within 1e-3 of its size)
    # claimed a decrease whose exact objective was 7.66: such a step is now
    # checked with an exact product.
    X = np.zeros((11, 2), dtype=np.float32)
    X[:, 0] = -3e5
    X[0, 1], X[5, 1] = 0.5641676, 0.9907395
    y = np.array(labels)[[0, 0, 1, 0, 2, 1, 0, 1, 0, 2, 1]]
    est = SOLogisticRegression(
        C=np.inf,
        fit_intercept=fit_intercept,
        solver="so",
        max_iter=max_iter,
        memory=1,
        memory_directions=2,
    )
    with _strict_warnings():
        est.fit(X, y)
    assert est.loss_ <= np.log(3)
