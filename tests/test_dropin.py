"""Drop-in behaviour: conventions, errors and attributes of the replaced estimators.

scikit-learn's LogisticRegression, MLPClassifier and MLPRegressor are the
yardstick: where a test can, it runs them beside ours.
"""

import inspect
import itertools
import pickle
import warnings

import numpy as np
import pytest
import scipy.sparse as sp
from sklearn.base import clone
from sklearn.exceptions import ConvergenceWarning
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import cross_val_score, train_test_split
from sklearn.neural_network import MLPClassifier, MLPRegressor
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from sklearn_so import SOLogisticRegression, SOTwoLayerClassifier, SOTwoLayerRegressor
from sklearn_so._losses import MultilabelLogLoss, Targets
from sklearn_so._models import TwoLayerNetwork
from sklearn_so.neural_network import _glorot_uniform

from ._data import make_classification_data

SOLVERS = ["ls", "lo", "ps", "so", "fixed"]
DIRECTIONS = ["gd", "lbfgs", "adam"]
NETWORKS = [SOTwoLayerClassifier, SOTwoLayerRegressor]


def quietly(fit, *args, **kwargs):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        return fit(*args, **kwargs)


def regression_data(n_outputs=1, n_samples=60, seed=0):
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((n_samples, 4))
    y = np.tanh(X @ rng.standard_normal((4, n_outputs)))
    return X, (y[:, 0] if n_outputs == 1 else y)


def multilabel_data(n_samples=80, n_labels=3, seed=0):
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((n_samples, 5))
    logits = X @ rng.standard_normal((5, n_labels)) + rng.logistic(
        size=(n_samples, n_labels)
    )
    return X, (logits > 0).astype(int)


def data_for(Estimator, seed=0):
    if Estimator is SOTwoLayerRegressor:
        return regression_data(seed=seed)
    return make_classification_data(3, n_samples=60, seed=seed)


# 4. Warm start with other targets; early stopping that stops at iteration 0.


def test_network_warm_start_with_other_classes_raises_as_mlp():
    X, y = make_classification_data(2)
    mlp = MLPClassifier(hidden_layer_sizes=(4,), warm_start=True, max_iter=5)
    quietly(mlp.fit, X, y)
    with pytest.raises(ValueError, match="warm_start can only be used where `y`"):
        mlp.fit(X, y + 1)
    ours = SOTwoLayerClassifier(4, warm_start=True, max_iter=5, random_state=0)
    quietly(ours.fit, X, y)
    first_loss = ours.loss_
    before = ours.predict_proba(X)
    with pytest.raises(ValueError, match="warm_start can only be used where `y`"):
        ours.fit(X, y + 1)
    # Multilabel targets with as many labels are other targets too.
    with pytest.raises(ValueError, match="multilabel-indicator"):
        ours.fit(X, np.column_stack([y, 1 - y]))
    np.testing.assert_array_equal(ours.predict_proba(X), before)
    np.testing.assert_array_equal(ours.classes_, [0, 1])
    # The same classes continue from the previous weights.
    quietly(ours.fit, X, y)
    assert ours.loss_curve_[0] <= first_loss


@pytest.mark.parametrize("Network", NETWORKS)
def test_network_warm_start_with_other_shapes_raises(Network):
    X, y = data_for(Network)
    est = quietly(Network(4, warm_start=True, max_iter=3, random_state=0).fit, X, y)
    before = est.predict(X)
    n_features = X.shape[1]
    with pytest.raises(ValueError, match=f"expecting {n_features} features"):
        est.fit(X[:, :3], y)
    with pytest.raises(ValueError, match="hidden_units=5"):
        est.set_params(hidden_units=5).fit(X, y)
    if Network is SOTwoLayerRegressor:
        with pytest.raises(ValueError, match="2 outputs"):
            est.set_params(hidden_units=4).fit(X, np.column_stack([y, y]))
    np.testing.assert_array_equal(est.predict(X), before)
    assert est.n_features_in_ == n_features


def test_logistic_warm_start_follows_logistic_regression():
    X, y = make_classification_data(2)
    X3, y3 = make_classification_data(3)
    for Estimator in (LogisticRegression, SOLogisticRegression):
        est = Estimator(warm_start=True).fit(X, y)
        # Other labels, same number of classes: the coefficients are reused.
        est.fit(X, y + 1)
        np.testing.assert_array_equal(est.classes_, [1, 2])
        # Another number of classes: a ValueError, and the model is kept.
        with pytest.raises(ValueError, match="shape|classes"):
            est.fit(X3, y3)
    assert est.coef_.shape == (1, X.shape[1])
    # Ours says why.
    with pytest.raises(ValueError, match=r"2 classes \[1 2\], but y has 3 classes"):
        est.fit(X3, y3)
    # Reusing the coefficients of other labels starts from them: a warm fit
    # of the same problem is at the optimum at once.
    warm = SOLogisticRegression(warm_start=True, tol=1e-8).fit(X, y)
    warm.fit(X, y + 1)
    assert warm.n_iter_[0] <= 2


@pytest.mark.parametrize("Network", NETWORKS)
@pytest.mark.parametrize("how", ["tol", "max_iter=0"])
def test_early_stopping_without_iterations_scores_the_start(Network, how):
    X, y = data_for(Network)
    params = {"tol": 1e3} if how == "tol" else {"max_iter": 0}
    est = Network(4, early_stopping=True, random_state=0, **params)
    quietly(est.fit, X, y)
    assert est.n_iter_ == 0
    assert len(est.validation_scores_) == 1
    assert np.isfinite(est.best_validation_score_)
    assert est.best_validation_score_ == est.validation_scores_[0]
    assert est.product_counts_["validation"] == 1
    # It is the score of the returned (starting) network on the held-out set.
    rng = np.random.RandomState(0)
    _glorot_uniform(rng, X.shape[1], 4, "tanh")
    _glorot_uniform(rng, 4, 3 if Network is SOTwoLayerClassifier else 1, "tanh")
    stratify = y if Network is SOTwoLayerClassifier else None
    _, X_val, _, y_val = train_test_split(
        X, y, test_size=0.1, random_state=rng, stratify=stratify
    )
    assert est.score(X_val, y_val) == pytest.approx(est.best_validation_score_)


# 5. Networks keep float32.


@pytest.mark.parametrize("Network", NETWORKS)
def test_networks_keep_float32_as_mlp(Network):
    X, y = data_for(Network)
    X32 = X.astype(np.float32)
    ours = quietly(Network(4, max_iter=20, random_state=0).fit, X32, y)
    # MLP's stochastic solvers keep X's dtype (its lbfgs returns float64
    # weights from scipy; the dtype of X is the convention to follow).
    MLP = MLPClassifier if Network is SOTwoLayerClassifier else MLPRegressor
    mlp = MLP(hidden_layer_sizes=(4,), solver="adam", max_iter=5, random_state=0)
    quietly(mlp.fit, X32, y)
    for theirs, mine in zip(
        mlp.coefs_ + mlp.intercepts_, ours.coefs_ + ours.intercepts_, strict=True
    ):
        assert theirs.dtype == mine.dtype == np.float32
    outputs = ["predict_proba"] if Network is SOTwoLayerClassifier else ["predict"]
    for method in outputs:
        assert getattr(ours, method)(X32).dtype == np.float32
        assert getattr(mlp, method)(X32).dtype == np.float32
        # float64 X gives float64 outputs, as MLP.
        assert getattr(ours, method)(X).dtype == getattr(mlp, method)(X).dtype
    if Network is SOTwoLayerClassifier:
        assert ours.predict_log_proba(X32).dtype == np.float32
        assert ours.decision_function(X32).dtype == np.float32
    # float64 fits are unchanged.
    ours64 = quietly(Network(4, max_iter=20, random_state=0).fit, X, y)
    assert all(c.dtype == np.float64 for c in ours64.coefs_ + ours64.intercepts_)
    np.testing.assert_allclose(ours.coefs_[0], ours64.coefs_[0], rtol=1e-3, atol=1e-4)


def test_float32_network_warm_start_restarts_from_float64_weights():
    X, y = make_classification_data(3, n_samples=60)
    X32 = X.astype(np.float32)
    est = SOTwoLayerClassifier(4, warm_start=True, max_iter=15, random_state=0)
    quietly(est.fit, X32, y)
    kept = [part.copy() for part in est._full_precision]
    quietly(est.set_params(max_iter=0).fit, X32, y)
    # No iteration: the weights are the float64 ones the first fit reached,
    # rounded once, not a float32 rounding fed back into the fit.
    np.testing.assert_array_equal(est._full_precision[0], kept[0])
    # A changed coefs_ is where the refit starts.
    est.coefs_[0][:] = 0
    quietly(est.fit, X32, y)
    assert not np.any(est.coefs_[0])


# 6. Warnings point at the caller's line.


def _convergence_warnings(fit):
    with warnings.catch_warnings(record=True) as record:
        warnings.simplefilter("always")
        fit()
    return [w for w in record if issubclass(w.category, ConvergenceWarning)]


@pytest.mark.parametrize(
    "Estimator", [SOLogisticRegression, *NETWORKS], ids=lambda E: E.__name__
)
def test_warnings_point_at_the_callers_line(Estimator):
    X, y = data_for(Estimator)
    est = Estimator(max_iter=2)
    record = _convergence_warnings(lambda: est.fit(X, y))
    assert len(record) == 1
    assert record[0].filename == __file__
    # Through a Pipeline: the caller is still the line that called fit (the
    # frames of scikit-learn's pipeline are skipped, as ours).
    pipe = make_pipeline(StandardScaler(), Estimator(max_iter=2))
    record = _convergence_warnings(lambda: pipe.fit(X, y))
    assert len(record) == 1
    assert record[0].filename == __file__
    # Through cross-validation (joblib's frames are skipped too).
    record = _convergence_warnings(
        lambda: cross_val_score(Estimator(max_iter=2), X, y, cv=2)
    )
    assert len(record) == 2
    assert {w.filename for w in record} == {__file__}


def test_stuck_network_and_penalty_warnings_point_at_the_caller():
    from sklearn.datasets import load_breast_cancer

    X, y = load_breast_cancer(return_X_y=True)
    pipe = make_pipeline(SOTwoLayerClassifier(10, random_state=0))
    record = _convergence_warnings(lambda: pipe.fit(X, y))
    assert [w.filename for w in record] == [__file__]
    assert "saturated" in str(record[0].message)
    X, y = make_classification_data(2)
    with pytest.warns(FutureWarning, match="penalty") as record:
        SOLogisticRegression(penalty="l2").fit(X, y)
    assert record[0].filename == __file__


# 7. Multilabel classification.


def test_multilabel_loss_derivatives_by_finite_differences():
    rng = np.random.default_rng(0)
    n, L, k = 30, 3, 2
    raw = 2 * rng.standard_normal((n, L))
    Y = (rng.uniform(size=(n, L)) < 0.4).astype(float)
    w = rng.uniform(0.5, 2.0, n)
    w /= w.sum()
    J = rng.standard_normal((k, n, L))
    loss, targets = MultilabelLogLoss(), Targets(Y, w)
    value, R, hess = loss.evaluate(raw, targets, J)
    # The sum over labels of weighted-mean binary log-losses.
    expected = w @ (np.logaddexp(0, raw) - Y * raw).sum(axis=1)
    assert value == pytest.approx(expected, rel=1e-14)
    assert loss.value(raw, targets) == pytest.approx(value, rel=1e-14)
    h = 1e-6
    grad_fd = np.zeros_like(raw)
    for i, j in itertools.product(range(n), range(L)):
        step = np.zeros_like(raw)
        step[i, j] = h
        grad_fd[i, j] = (
            loss.value(raw + step, targets) - loss.value(raw - step, targets)
        ) / (2 * h)
    np.testing.assert_allclose(R, grad_fd, rtol=1e-6, atol=1e-10)

    # The raw prediction is affine in the rates a: raw + sum_j a_j J_j, so
    # the subspace Hessian is exact; check it against differences of the
    # subspace gradient, J . R.
    def subspace_gradient(a):
        _, R_a, _ = loss.evaluate(raw + np.tensordot(a, J, axes=1), targets)
        return J.reshape(k, -1) @ R_a.ravel()

    hess_fd = np.column_stack(
        [
            (subspace_gradient(h * e) - subspace_gradient(-h * e)) / (2 * h)
            for e in np.eye(k)
        ]
    )
    np.testing.assert_allclose(hess, hess_fd, rtol=1e-6)
    diagonal = loss.hessian_diagonal(raw, targets)
    p = 1 / (1 + np.exp(-raw))
    np.testing.assert_allclose(diagonal, w[:, None] * p * (1 - p), rtol=1e-12)


def _our_objective_at(weights, X, Y, alpha, activation="tanh"):
    """Our multilabel network objective at given MLP-layout weights."""
    (W1, W2), (b1, b2) = weights
    n = len(X)
    model = TwoLayerNetwork(
        X.shape[1],
        W1.shape[1],
        Y.shape[1],
        activation,
        MultilabelLogLoss(),
        Y.astype(float),
        np.full(n, 1.0 / n),
        alpha / n,
    )
    theta = np.concatenate([W1.ravel(), b1, W2.ravel(), b2])
    return model.objective(theta, model.point(theta, X @ W1 + b1))


@pytest.mark.parametrize("alpha", [1e-2, 0.1, 1.0])
def test_multilabel_objective_is_mlps_and_the_fit_reaches_its_level(alpha):
    X, Y = multilabel_data()
    params = dict(activation="tanh", alpha=alpha, random_state=0)
    mlp = quietly(MLPClassifier((8,), solver="lbfgs", max_iter=300, **params).fit, X, Y)
    assert mlp.out_activation_ == "logistic"
    # Our objective at MLP's weights is MLP's loss_.
    mine = _our_objective_at((mlp.coefs_, mlp.intercepts_), X, Y, alpha)
    assert mine == pytest.approx(mlp.loss_, rel=1e-10)
    ours = quietly(SOTwoLayerClassifier(8, max_iter=300, **params).fit, X, Y)
    assert ours.loss_ == pytest.approx(
        _our_objective_at((ours.coefs_, ours.intercepts_), X, Y, alpha), rel=1e-10
    )
    # And the reported loss_ is MLP's formula at our weights.
    from sklearn.neural_network._base import binary_log_loss

    mlp_at_ours = clone(mlp)
    mlp_at_ours.__dict__.update(mlp.__dict__)
    mlp_at_ours.coefs_, mlp_at_ours.intercepts_ = ours.coefs_, ours.intercepts_
    proba = mlp_at_ours.predict_proba(X)
    penalty = alpha / (2 * len(X)) * sum(np.sum(W**2) for W in ours.coefs_)
    assert ours.loss_ == pytest.approx(binary_log_loss(Y, proba) + penalty, rel=1e-9)
    # Same architecture, same start: the default fit gets at least as low
    # (to 1e-6), where both reach the same minimum. With alpha=1e-2 the
    # problem is less regularised and the two fits end in different local
    # minima (measured: ours 0.1038, MLP's 0.0940, solver="so" 0.0931).
    if alpha >= 0.1:
        assert ours.loss_ <= mlp.loss_ * (1 + 1e-6)


def test_multilabel_predictions_are_shaped_as_mlps():
    X, Y = multilabel_data()
    mlp = quietly(MLPClassifier((6,), max_iter=50, random_state=0).fit, X, Y)
    ours = quietly(SOTwoLayerClassifier(6, random_state=0).fit, X, Y)
    np.testing.assert_array_equal(ours.classes_, mlp.classes_)
    assert ours.n_outputs_ == mlp.n_outputs_ == 3
    assert ours.out_activation_ == mlp.out_activation_ == "logistic"
    for method in ("predict", "predict_proba"):
        theirs, mine = getattr(mlp, method)(X), getattr(ours, method)(X)
        assert mine.shape == theirs.shape == Y.shape
        assert mine.dtype == theirs.dtype
    proba = ours.predict_proba(X)
    np.testing.assert_array_equal(ours.predict(X), (proba > 0.5).astype(int))
    np.testing.assert_allclose(
        proba, 1 / (1 + np.exp(-ours.decision_function(X))), rtol=1e-12
    )
    np.testing.assert_allclose(np.exp(ours.predict_log_proba(X)), proba, rtol=1e-12)
    # score is the subset accuracy, as for every scikit-learn classifier.
    assert ours.score(X, Y) == np.mean(np.all(ours.predict(X) == Y, axis=1))
    assert ours.score(X, Y) > 0.6
    # A sparse or boolean indicator matrix is the same target.
    same = quietly(SOTwoLayerClassifier(6, random_state=0).fit, X, sp.csr_matrix(Y))
    np.testing.assert_array_equal(same.coefs_[1], ours.coefs_[1])
    same = quietly(SOTwoLayerClassifier(6, random_state=0).fit, X, Y == 1)
    np.testing.assert_array_equal(same.coefs_[1], ours.coefs_[1])


def test_multilabel_early_stopping_scores_subset_accuracy():
    X, Y = multilabel_data(n_samples=200)
    est = SOTwoLayerClassifier(
        8, early_stopping=True, n_iter_no_change=3, random_state=0
    )
    quietly(est.fit, X, Y)
    assert len(est.validation_scores_) == est.n_iter_
    assert 0 <= est.best_validation_score_ <= 1
    assert est.best_loss_ is None


# 8. A classifier fitted on one class.


def test_one_class_network_predicts_it_as_mlp_and_logistic_raises():
    X, _ = make_classification_data(2, n_samples=40)
    y = np.array(["only"] * len(X))
    mlp = quietly(MLPClassifier((4,), solver="lbfgs", random_state=0).fit, X, y)
    ours = quietly(SOTwoLayerClassifier(4, random_state=0).fit, X, y)
    np.testing.assert_array_equal(ours.classes_, mlp.classes_)
    np.testing.assert_array_equal(ours.predict(X), mlp.predict(X))
    assert ours.score(X, y) == 1.0
    # Probabilities: one column, of ones, for the one class in classes_
    # (MLPClassifier returns two columns there, 1 - p and p).
    np.testing.assert_array_equal(ours.predict_proba(X), np.ones((len(X), 1)))
    assert mlp.predict_proba(X).shape == (len(X), 2)
    assert ours.predict_log_proba(X).shape == (len(X), 1)
    assert ours.n_outputs_ == mlp.n_outputs_ == 1
    # The objective is MLPClassifier's: "another class" is given a vanishing
    # probability, from the same start to about the same loss.
    assert ours.loss_ < 1e-3 and mlp.loss_ < 1e-3
    # Even an untrained network predicts the class.
    start = quietly(SOTwoLayerClassifier(4, max_iter=0, random_state=0).fit, X, y)
    np.testing.assert_array_equal(start.predict(X), y)
    for Estimator in (LogisticRegression, SOLogisticRegression):
        with pytest.raises(ValueError, match="only one class"):
            Estimator().fit(X, y)


# 9. max_iter=0, sparsify/densify, best_loss_ and t_.


def test_logistic_max_iter_zero_warns_as_logistic_regression():
    X, y = make_classification_data(3)
    for Estimator in (LogisticRegression, SOLogisticRegression):
        with pytest.warns(ConvergenceWarning, match="max_iter=0"):
            est = Estimator(max_iter=0).fit(X, y)
        assert est.n_iter_.tolist() == [0]
    # Ours is the starting point itself (LogisticRegression's lbfgs returns
    # after its first line search).
    assert not np.any(est.coef_) and not np.any(est.intercept_)
    assert est.loss_ == pytest.approx(np.log(3))
    assert est.loss_curve_ == [] and est.learning_rates_.shape == (0, 1)


@pytest.mark.parametrize("Network", NETWORKS)
def test_network_max_iter_zero_is_the_starting_network(Network):
    X, y = data_for(Network)
    with pytest.warns(ConvergenceWarning, match="max_iter=0"):
        est = Network(4, max_iter=0, random_state=3).fit(X, y)
    rng = np.random.RandomState(3)
    W1, b1 = _glorot_uniform(rng, X.shape[1], 4, "tanh")
    np.testing.assert_array_equal(est.coefs_[0], W1)
    np.testing.assert_array_equal(est.intercepts_[0], b1)
    assert est.n_iter_ == 0 and est.t_ == 0
    assert est.best_loss_ == est.loss_


def test_sparsify_and_densify_as_logistic_regression():
    X, y = make_classification_data(3)
    ref = LogisticRegression().fit(X, y)
    est = SOLogisticRegression().fit(X, y)
    proba = est.predict_proba(X)
    assert est.sparsify() is est
    assert sp.issparse(est.coef_) and sp.issparse(ref.sparsify().coef_)
    np.testing.assert_allclose(est.predict_proba(X), proba, rtol=1e-14)
    np.testing.assert_array_equal(est.predict(X), np.asarray(ref.predict(X)))
    # A sparsified model pickles and warm-starts (the refit is dense again).
    est = pickle.loads(pickle.dumps(est))
    np.testing.assert_allclose(est.predict_proba(X), proba, rtol=1e-14)
    est.set_params(warm_start=True).fit(X, y)
    assert isinstance(est.coef_, np.ndarray) and est.n_iter_[0] <= 2
    assert est.densify() is est and isinstance(est.coef_, np.ndarray)
    np.testing.assert_allclose(est.predict_proba(X), proba, rtol=1e-6)


@pytest.mark.parametrize("Network", NETWORKS)
def test_best_loss_and_t_follow_mlps_stochastic_solvers(Network):
    X, y = data_for(Network)
    MLP = MLPClassifier if Network is SOTwoLayerClassifier else MLPRegressor
    for early_stopping in (False, True):
        mlp = MLP(
            hidden_layer_sizes=(4,),
            solver="adam",
            max_iter=7,
            early_stopping=early_stopping,
        )
        quietly(mlp.fit, X, y)
        ours = Network(4, max_iter=7, early_stopping=early_stopping, random_state=0)
        quietly(ours.fit, X, y)
        n_train = len(X) - (int(np.ceil(0.1 * len(X))) if early_stopping else 0)
        # t_: the training samples seen, one pass per iteration.
        assert mlp.t_ == mlp.n_iter_ * n_train
        assert ours.t_ == ours.n_iter_ * n_train
        if early_stopping:
            assert mlp.best_loss_ is None and ours.best_loss_ is None
        else:
            # The lowest objective reached.
            assert mlp.best_loss_ == min(mlp.loss_curve_)
            assert ours.best_loss_ == min(ours.loss_curve_ + [ours.loss_])
            assert ours.best_loss_ == pytest.approx(ours.loss_, rel=1e-12)


def test_best_loss_is_the_lowest_objective_of_a_non_monotone_fixed_step():
    X, y = regression_data()
    # Heavy-ball momentum overshoots and comes back (a learning rate that
    # makes the objective climb above its start returns the best iterate:
    # tests/test_properties.py).
    est = SOTwoLayerRegressor(
        4, solver="fixed", direction="gd", learning_rate=0.5, momentum=0.9, max_iter=30
    )
    quietly(est.set_params(random_state=0).fit, X, y)
    assert np.any(np.diff(est.loss_curve_) > 0)  # a fixed step can go up
    assert est.best_loss_ == min(est.loss_curve_ + [est.loss_])
    assert est.best_loss_ < est.loss_


# 10. Constructor compatibility.


def test_logistic_penalty_and_random_state_as_logistic_regression():
    X, y = make_classification_data(3)
    default = SOLogisticRegression(tol=1e-8).fit(X, y)
    # random_state is accepted and unused.
    seeded = SOLogisticRegression(tol=1e-8, random_state=42).fit(X, y)
    np.testing.assert_array_equal(seeded.coef_, default.coef_)
    # penalty is deprecated in LogisticRegression; both warn the same way.
    for Estimator in (LogisticRegression, SOLogisticRegression):
        with pytest.warns(FutureWarning, match="'penalty' was deprecated"):
            Estimator(penalty="l2").fit(X, y)
    with pytest.warns(FutureWarning):
        l2 = SOLogisticRegression(penalty="l2", tol=1e-8).fit(X, y)
    np.testing.assert_array_equal(l2.coef_, default.coef_)
    unpenalised = SOLogisticRegression(C=np.inf, tol=1e-8).fit(X, y)
    with pytest.warns(FutureWarning):
        none = SOLogisticRegression(penalty=None, tol=1e-8).fit(X, y)
    np.testing.assert_array_equal(none.coef_, unpenalised.coef_)
    # penalty=None ignores C, with a warning, as LogisticRegression.
    for Estimator in (LogisticRegression, SOLogisticRegression):
        with (
            pytest.warns(FutureWarning, match="'penalty' was deprecated"),
            pytest.warns(UserWarning, match="penalty=None will ignore the C"),
        ):
            Estimator(penalty=None, C=0.1).fit(X, y)
    with pytest.warns(FutureWarning), pytest.warns(UserWarning):
        none = SOLogisticRegression(penalty=None, C=0.1, tol=1e-8).fit(X, y)
    np.testing.assert_array_equal(none.coef_, unpenalised.coef_)
    # Only the L2 penalty.
    for params in ({"penalty": "l1"}, {"penalty": "elasticnet"}, {"l1_ratio": 0.5}):
        with pytest.raises(ValueError, match="supports only the L2 penalty"):
            SOLogisticRegression(**params).fit(X, y)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        zero = SOLogisticRegression(l1_ratio=0.0, tol=1e-8).fit(X, y)
    np.testing.assert_array_equal(zero.coef_, default.coef_)


def test_hidden_units_as_a_one_element_tuple():
    X, y = make_classification_data(3, n_samples=60)
    as_int = quietly(SOTwoLayerClassifier(5, max_iter=10, random_state=0).fit, X, y)
    # MLP's first positional parameter is hidden_layer_sizes: (5,) means 5.
    for units in [(5,), [5]]:
        est = quietly(
            SOTwoLayerClassifier(units, max_iter=10, random_state=0).fit, X, y
        )
        np.testing.assert_array_equal(est.coefs_[0], as_int.coefs_[0])
        assert clone(est).get_params()["hidden_units"] == units
    for units in [(5, 3), (), (0,), (2.5,)]:
        with pytest.raises(ValueError, match="hidden_units"):
            SOTwoLayerClassifier(units).fit(X, y)


@pytest.mark.parametrize(
    "ours, theirs",
    [
        (SOTwoLayerClassifier, MLPClassifier),
        (SOTwoLayerRegressor, MLPRegressor),
        (SOLogisticRegression, LogisticRegression),
    ],
    ids=["classifier", "regressor", "logistic"],
)
def test_keywords_without_counterpart_name_the_equivalent(ours, theirs):
    ours_params = inspect.signature(ours).parameters
    foreign = [p for p in inspect.signature(theirs).parameters if p not in ours_params]
    assert foreign  # what the replaced estimator has and we do not
    for name in foreign:
        with pytest.raises(TypeError, match=f"{theirs.__name__}'s keyword.*'{name}'"):
            ours(**{name: inspect.signature(theirs).parameters[name].default})
    if theirs is not LogisticRegression:
        with pytest.raises(TypeError, match="chosen on every iteration"):
            ours(learning_rate_init=1e-3)
        with pytest.raises(TypeError, match=r"use hidden_units=r \(or"):
            ours(hidden_layer_sizes=(10,))
    # The parameters are ours alone: get_params and clone are unaffected.
    assert set(ours().get_params()) == set(ours_params)


@pytest.mark.parametrize(
    "Estimator, params, hint",
    [
        (SOTwoLayerClassifier, {"solver": "adam"}, "direction='adam'"),
        (SOTwoLayerRegressor, {"solver": "sgd"}, "direction='gd'"),
        (SOTwoLayerRegressor, {"solver": "lbfgs"}, "direction='lbfgs'"),
        (SOTwoLayerClassifier, {"learning_rate": "adaptive"}, "chosen on every"),
        (SOLogisticRegression, {"solver": "saga"}, "direction='lbfgs'"),
        (SOLogisticRegression, {"solver": "newton-cg"}, "direction='newton-cg'"),
        (SOLogisticRegression, {"solver": "newton-cholesky"}, "direction='newton'"),
        (SOTwoLayerClassifier, {"solver": "newton-cg"}, "direction='lbfgs'"),
    ],
)
def test_solver_names_of_the_replaced_estimators_get_a_hint(Estimator, params, hint):
    X, y = data_for(Estimator)
    name = next(iter(params))
    with pytest.raises(ValueError, match=f"The '{name}' parameter.*{hint}"):
        Estimator(**params).fit(X, y)


# 12. Pickling and clone keep predictions, in every configuration.


def _outputs(est, X):
    methods = ["predict", "predict_proba", "decision_function"]
    return [getattr(est, m)(X) for m in methods if hasattr(est, m)]


@pytest.mark.parametrize("direction", DIRECTIONS)
@pytest.mark.parametrize("solver", SOLVERS)
@pytest.mark.parametrize(
    "Estimator", [SOLogisticRegression, *NETWORKS], ids=lambda E: E.__name__
)
def test_pickle_and_clone_keep_predictions(Estimator, solver, direction):
    X, y = data_for(Estimator, seed=4)
    params = dict(solver=solver, direction=direction, max_iter=15)
    if Estimator is not SOLogisticRegression:
        params.update(hidden_units=4, random_state=0)
    unfitted = Estimator(**params)
    fitted = quietly(clone(unfitted).fit, X, y)
    expected = _outputs(fitted, X)
    candidates = [
        pickle.loads(pickle.dumps(fitted)),
        quietly(clone(fitted).fit, X, y),
        quietly(clone(unfitted).fit, X, y),
        quietly(pickle.loads(pickle.dumps(unfitted)).fit, X, y),
    ]
    for other in candidates:
        for got, want in zip(_outputs(other, X), expected, strict=True):
            np.testing.assert_array_equal(got, want)
    assert clone(fitted).get_params() == unfitted.get_params()
    # A pickled model refits by warm start from where it stopped, as the
    # original would.
    again = pickle.loads(pickle.dumps(fitted)).set_params(warm_start=True)
    fitted.set_params(warm_start=True)
    for est in (again, fitted):
        quietly(est.fit, X, y)
    for got, want in zip(_outputs(again, X), _outputs(fitted, X), strict=True):
        np.testing.assert_array_equal(got, want)
