"""Finite-difference checks of the linear model's gradient and subspace oracle."""

import numpy as np
import pytest
from scipy.special import logsumexp

from sklearn_so._engine import ProductEngine
from sklearn_so._losses import (
    BinaryLogLoss,
    HalfSquaredLoss,
    MultinomialLogLoss,
    Targets,
)
from sklearn_so._models import LinearModel
from sklearn_so._strategies import Basis


def _problem(loss_name, fit_intercept, seed=0):
    rng = np.random.default_rng(seed)
    n, d = 40, 5
    X = rng.standard_normal((n, d))
    if loss_name == "binary":
        loss, q = BinaryLogLoss(), 1
        Y = rng.integers(0, 2, size=(n, 1)).astype(float)
    elif loss_name == "multinomial":
        loss, q = MultinomialLogLoss(), 4
        Y = np.eye(q)[rng.integers(0, q, size=n)]
    else:
        loss, q = HalfSquaredLoss(), 3
        Y = rng.standard_normal((n, q))
    weights = rng.uniform(0.2, 2.0, size=n)
    model = LinearModel(d, q, loss, Y, weights / weights.sum(), 0.3, fit_intercept)
    theta = rng.standard_normal(model.n_params)
    return X, model, theta, rng


def _preactivation(X, model, theta):
    W, b = model.first_layer(theta)
    return X @ W + (0.0 if b is None else b)


def _point(X, model, theta):
    return model.point(theta, _preactivation(X, model, theta))


def _full_objective(X, model, theta):
    return model.objective(theta, _point(X, model, theta))


@pytest.mark.parametrize("loss_name", ["binary", "multinomial", "squared"])
@pytest.mark.parametrize("fit_intercept", [True, False])
def test_gradient_matches_finite_differences(loss_name, fit_intercept):
    X, model, theta, _ = _problem(loss_name, fit_intercept)
    engine = ProductEngine(X)
    value, R, grad = model.objective_and_gradient(theta, _point(X, model, theta))
    model.first_layer(grad)[0][...] += engine.backward(R, "iterations")
    assert value == pytest.approx(_full_objective(X, model, theta), rel=1e-13)
    eps = 1e-6
    numeric = np.array(
        [
            (
                _full_objective(X, model, theta + eps * e)
                - _full_objective(X, model, theta - eps * e)
            )
            / (2 * eps)
            for e in np.eye(model.n_params)
        ]
    )
    np.testing.assert_allclose(grad, numeric, rtol=1e-6, atol=1e-8)


@pytest.mark.parametrize("loss_name", ["binary", "multinomial", "squared"])
@pytest.mark.parametrize("fit_intercept", [True, False])
def test_subspace_oracle_matches_direct_evaluation(loss_name, fit_intercept):
    X, model, theta, rng = _problem(loss_name, fit_intercept)
    k = 3
    P = rng.standard_normal((k, model.n_params))
    V = [
        X @ model.first_layer(p)[0] + (0.0 if not fit_intercept else p[-model.q :])
        for p in P
    ]
    basis = Basis(P, V, ["lr", "momentum", "memory"], [None] * k)
    phi = model.subspace(theta, _point(X, model, theta), basis)
    a = 0.3 * rng.standard_normal(k)

    # The value is the outer objective at theta + a P, with no product taken.
    trial = phi(a)
    value, grad, hess = trial.value, trial.gradient, trial.hessian
    assert value == pytest.approx(_full_objective(X, model, theta + a @ P), rel=1e-12)
    assert phi(a, derivatives=False).value == pytest.approx(value, rel=1e-14)
    # The trial's point is the forward state at theta + a P.
    np.testing.assert_allclose(
        trial.point.pre_activation,
        _preactivation(X, model, theta + a @ P),
        rtol=1e-12,
        atol=1e-12,
    )
    np.testing.assert_array_equal(trial.rates, a)

    eps = 1e-6
    numeric_grad = np.array(
        [
            (phi(a + eps * e, False).value - phi(a - eps * e, False).value) / (2 * eps)
            for e in np.eye(k)
        ]
    )
    np.testing.assert_allclose(grad, numeric_grad, rtol=1e-6, atol=1e-9)
    # The raw prediction is affine in a, so the Hessian is exact.
    numeric_hess = np.array(
        [
            (phi(a + eps * e).gradient - phi(a - eps * e).gradient) / (2 * eps)
            for e in np.eye(k)
        ]
    )
    np.testing.assert_allclose(hess, numeric_hess, rtol=1e-5, atol=1e-8)
    np.testing.assert_allclose(hess, hess.T, rtol=1e-12)


@pytest.mark.parametrize("fit_intercept", [True, False])
@pytest.mark.parametrize("loss_name", ["binary", "multinomial", "squared"])
def test_diagonal_scaling_is_the_inverse_hessian_diagonal(loss_name, fit_intercept):
    X, model, theta, _ = _problem(loss_name, fit_intercept)
    engine = ProductEngine(X)
    scaling = model.diagonal_scaling(engine, _point(X, model, theta), "setup")
    assert engine.counts == {"setup": 1}

    # Exact Hessian diagonal at theta, by finite differences of the gradient.
    def gradient(t):
        _, R, g = model.objective_and_gradient(t, _point(X, model, t))
        model.first_layer(g)[0][...] += X.T @ R
        return g

    eps = 1e-6
    diagonal = np.array(
        [
            (gradient(theta + eps * e) - gradient(theta - eps * e))[i] / (2 * eps)
            for i, e in enumerate(np.eye(model.n_params))
        ]
    )
    np.testing.assert_allclose(1.0 / scaling, diagonal, rtol=1e-6)


@pytest.mark.parametrize("spread", [3.0, 2000.0])
def test_multinomial_loss_matches_logsumexp(spread):
    # Moderate logits take the shift by the target's logit; a logit more than
    # 500 above the target's takes the shift by each row's maximum. Both must
    # give logsumexp(z) - z_y and the softmax, to rounding.
    rng = np.random.default_rng(3)
    raw = spread * rng.standard_normal((30, 4))
    Y = np.eye(4)[rng.integers(0, 4, size=30)]
    w = rng.uniform(0.1, 1.0, size=30)
    w /= w.sum()
    loss, targets = MultinomialLogLoss(), Targets(Y, w)
    per_sample = logsumexp(raw, axis=1) - (raw * Y).sum(axis=1)
    value, R, _ = loss.evaluate(raw, targets)
    assert value == pytest.approx(w @ per_sample, rel=1e-13)
    assert loss.value(raw, targets) == pytest.approx(w @ per_sample, rel=1e-13)
    softmax = np.exp(raw - logsumexp(raw, axis=1, keepdims=True))
    # p - 1 and 1 - p cancel for a confident target: compare to rounding of 1.
    np.testing.assert_allclose(R, w[:, None] * (softmax - Y), rtol=1e-12, atol=1e-15)
    np.testing.assert_allclose(
        loss.hessian_diagonal(raw, targets),
        w[:, None] * softmax * (1 - softmax),
        rtol=1e-12,
        atol=1e-15,
    )
