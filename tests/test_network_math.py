"""Finite-difference checks of the two-layer network's gradient and subspace."""

import itertools

import numpy as np
import pytest

from sklearn_so._activations import ACTIVATIONS
from sklearn_so._engine import ProductEngine
from sklearn_so._losses import BinaryLogLoss, HalfSquaredLoss, MultinomialLogLoss
from sklearn_so._models import TwoLayerNetwork
from sklearn_so._strategies import Basis, build_basis

OUTPUTS = ["binary", "multiclass", "regression", "multi-output regression"]


def _network(activation, output, weighted, seed=0):
    rng = np.random.default_rng(seed)
    n, d, r = 30, 4, 5
    X = rng.standard_normal((n, d))
    if output == "binary":
        loss, c = BinaryLogLoss(), 1
        Y = rng.integers(0, 2, size=(n, 1)).astype(float)
    elif output == "multiclass":
        loss, c = MultinomialLogLoss(), 3
        Y = np.eye(c)[rng.integers(0, c, size=n)]
    else:
        loss, c = HalfSquaredLoss(), 1 if output == "regression" else 3
        Y = rng.standard_normal((n, c))
    s = rng.uniform(0.2, 2.0, size=n) if weighted else np.ones(n)
    model = TwoLayerNetwork(d, r, c, activation, loss, Y, s / s.sum(), 0.1)
    theta = rng.standard_normal(model.n_params)
    return X, model, theta, rng


def _Z(X, model, theta):
    W1, b1 = model.first_layer(theta)
    return X @ W1 + b1


def _point(X, model, theta):
    return model.point(theta, _Z(X, model, theta))


def _objective(X, model, theta):
    return model.objective(theta, _point(X, model, theta))


CASES = list(itertools.product(sorted(ACTIVATIONS), OUTPUTS, [False, True]))


@pytest.mark.parametrize("activation, output, weighted", CASES)
def test_gradient_matches_finite_differences(activation, output, weighted):
    X, model, theta, _ = _network(activation, output, weighted)
    if activation == "relu":
        theta[model._b1] += 0.05  # keep away from the kink at 0
    value, R, grad = model.objective_and_gradient(theta, _point(X, model, theta))
    model.first_layer(grad)[0][...] += ProductEngine(X).backward(R, "iterations")
    assert value == pytest.approx(_objective(X, model, theta), rel=1e-13)
    eps = 1e-6
    numeric = np.array(
        [
            (
                _objective(X, model, theta + eps * e)
                - _objective(X, model, theta - eps * e)
            )
            / (2 * eps)
            for e in np.eye(model.n_params)
        ]
    )
    np.testing.assert_allclose(grad, numeric, rtol=1e-5, atol=1e-7)


@pytest.mark.parametrize("per_block", [False, True])
@pytest.mark.parametrize("activation, output, weighted", CASES)
def test_subspace_value_gradient_and_gauss_newton(
    activation, output, weighted, per_block
):
    X, model, theta, rng = _network(activation, output, weighted)
    D = rng.standard_normal(model.n_params)
    move = rng.standard_normal(model.n_params)

    def image(p):
        W1, b1 = model.first_layer(p)
        return X @ W1 + b1

    basis = build_basis(D, image(D), [(move, image(move))], model, per_block)
    assert len(basis.V) == (4 if per_block else 2)
    phi = model.subspace(theta, _point(X, model, theta), basis)
    k = len(basis.V)
    a = 0.2 * rng.standard_normal(k)

    trial = phi(a)
    value, grad, hess = trial.value, trial.gradient, trial.hessian
    assert value == pytest.approx(_objective(X, model, theta + a @ basis.P), rel=1e-12)
    # The trial's point is the forward state at theta + a P.
    expected = _point(X, model, theta + a @ basis.P)
    for name in ("pre_activation", "hidden", "output"):
        np.testing.assert_allclose(
            getattr(trial.point, name), getattr(expected, name), rtol=1e-12, atol=1e-12
        )
    # It keeps its step's image, summed as the loop's Basis.image sums it
    # (the move's image if accepted), and Z plus it is its pre-activation.
    step_image = basis.image(a, trial.point.pre_activation.shape)
    np.testing.assert_array_equal(trial.point.step_image, step_image)
    Z = _point(X, model, theta).pre_activation
    np.testing.assert_array_equal(trial.point.pre_activation, Z + step_image)
    eps = 1e-6
    numeric = np.array(
        [
            (phi(a + eps * e, False).value - phi(a - eps * e, False).value) / (2 * eps)
            for e in np.eye(k)
        ]
    )
    np.testing.assert_allclose(grad, numeric, rtol=1e-5, atol=1e-8)

    # Gauss-Newton: J' H_loss J with J the output's Jacobian in the rates
    # (here by finite differences), plus the penalty's Hessian.
    def output_at(b):
        t = theta + b @ basis.P
        return model.output(t, _Z(X, model, t))[1]

    J = np.stack(
        [
            (output_at(a + eps * e) - output_at(a - eps * e)) / (2 * eps)
            for e in np.eye(k)
        ]
    )
    _, _, loss_curvature = model.loss.evaluate(output_at(a), model.targets, J)
    mask = model._weight_mask
    expected = loss_curvature + model.l2 * basis.P[:, mask] @ basis.P[:, mask].T
    np.testing.assert_allclose(hess, expected, rtol=1e-5, atol=1e-8)
    assert np.linalg.eigvalsh(hess).min() >= -1e-10


def test_blocks_are_the_layers():
    _, model, _, _ = _network("tanh", "multiclass", False)
    W1_stop = model.d * model.r
    assert model.blocks[0] == slice(0, W1_stop + model.r)
    assert model.blocks[1] == slice(W1_stop + model.r, model.n_params)
    basis = Basis(np.eye(model.n_params)[:1], [None], ["lr"], [1])
    assert basis.rates(np.array([0.5]), 2)[0].tolist() == [0.0, 0.5]


@pytest.mark.parametrize("activation", sorted(ACTIVATIONS))
def test_gradient_at_a_trial_reuses_its_activation_slope(activation):
    # A trial evaluated with derivatives keeps act'(Z(a)); the gradient at
    # that trial's own pre-activation takes it instead of a second pass, and
    # equals the gradient computed from a fresh copy (to rounding: the trial's
    # second layer is W2 + sum_j a_j P_j, not read from theta + a P).
    X, model, theta, rng = _network(activation, "multiclass", True)
    D = rng.standard_normal(model.n_params)
    W1_D, b1_D = model.first_layer(D)
    basis = build_basis(D, X @ W1_D + b1_D, [], model, per_block=True)
    phi = model.subspace(theta, _point(X, model, theta), basis)
    a = 0.1 * rng.standard_normal(len(basis.V))
    trial = phi(a)
    trial_theta = theta + a @ basis.P
    assert trial.point.slope is not None

    calls = []
    original = model.act_prime

    def counting(z, activations):
        calls.append(z)
        return original(z, activations)

    model.act_prime = counting
    reused = model.objective_and_gradient(trial_theta, trial.point)
    assert calls == []
    fresh_point = model.point(trial_theta, trial.point.pre_activation.copy())
    fresh = model.objective_and_gradient(trial_theta, fresh_point)
    assert len(calls) == 1
    assert reused[0] == pytest.approx(fresh[0], rel=1e-14)
    np.testing.assert_allclose(reused[1], fresh[1], rtol=1e-13, atol=1e-15)
    np.testing.assert_allclose(reused[2], fresh[2], rtol=1e-13, atol=1e-15)
