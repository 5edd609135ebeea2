"""The accepted trial point's work is reused, and reuse changes no result.

The strategy returns the accepted :class:`~sklearn_so._trial.Trial`, whose
point holds the trial's pre-activation, the network's activations and
output and the loss's exponentials; the outer loop evaluates the gradient
at that very point. Rebuilding the point from the trial's pre-activation
instead must give the same fit (bit for bit where the step has one rate, to
rounding otherwise) and cost one more pass of exponentials per iteration.
"""

import numpy as np
import pytest
from sklearn.datasets import load_digits

from sklearn_so import SOLogisticRegression, SOTwoLayerClassifier
from sklearn_so._losses import MultinomialLogLoss
from sklearn_so._optimizer import REFRESH_EVERY, SubspaceSolver

# Short fits (max_iter) are enough to compare; their warnings are expected.
pytestmark = pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")


@pytest.fixture(scope="module")
def digits():
    X, y = load_digits(return_X_y=True)
    return X[:400] / 16.0, y[:400]


def _without_reuse(monkeypatch):
    """Make the loop rebuild the accepted point from its pre-activation."""
    accept = SubspaceSolver.accept

    def accept_fresh(self, step):
        moved = accept(self, step)
        if moved:
            Z = self.point.pre_activation.copy()
            self.point = self.model.point(self.theta, Z)
        return moved

    monkeypatch.setattr(SubspaceSolver, "accept", accept_fresh)


def _logistic(solver):
    return SOLogisticRegression(solver=solver, tol=1e-8, max_iter=300)


def _network(solver, max_iter=40):
    return SOTwoLayerClassifier(10, solver=solver, max_iter=max_iter, random_state=0)


@pytest.mark.parametrize(
    "make, solver",
    [(_logistic, s) for s in ("ls", "lo", "ps", "so", "fixed")]
    + [(_network, s) for s in ("ls", "lo", "fixed")],
)
def test_fits_are_bit_identical_without_reuse(digits, monkeypatch, make, solver):
    # The linear model's point is its pre-activation and the loss's terms,
    # recomputed identically; a one-rate network step gives the same second
    # layer either way (W2 + a P2 is one product per entry).
    X, y = digits
    reused = make(solver).fit(X, y)
    _without_reuse(monkeypatch)
    plain = make(solver).fit(X, y)
    assert reused.n_iter_ == plain.n_iter_
    assert reused.loss_curve_ == plain.loss_curve_
    for got, expected in zip(_weights(reused), _weights(plain), strict=True):
        np.testing.assert_array_equal(got, expected)


@pytest.mark.parametrize("solver", ["ps", "so"])
def test_two_rate_network_steps_agree_to_rounding_without_reuse(
    digits, monkeypatch, solver
):
    # With two rates the trial's output uses W2 + (a1 P1 + a2 P2), the
    # rebuilt point the W2 of theta + a P, summed in another order: the
    # first iterates agree to rounding (a non-convex fit then drifts apart).
    X, y = digits
    reused = _network(solver, max_iter=5).fit(X, y)
    _without_reuse(monkeypatch)
    plain = _network(solver, max_iter=5).fit(X, y)
    np.testing.assert_allclose(reused.loss_curve_, plain.loss_curve_, rtol=1e-9)


def test_reuse_saves_one_softmax_per_iteration(digits, monkeypatch):
    X, y = digits
    computed = []
    original = MultinomialLogLoss.terms

    def counting(self, raw, targets):
        computed.append(raw.shape)
        return original(self, raw, targets)

    monkeypatch.setattr(MultinomialLogLoss, "terms", counting)
    reused = SOLogisticRegression(tol=1e-6, max_iter=500).fit(X, y)
    with_reuse = len(computed)
    computed.clear()
    _without_reuse(monkeypatch)
    plain = SOLogisticRegression(tol=1e-6, max_iter=500).fit(X, y)
    n_iter = int(plain.n_iter_[0])
    assert int(reused.n_iter_[0]) == n_iter
    # Every iteration's gradient reuses its accepted trial, except after the
    # periodic exact refresh of Z (a fresh point, every 50 iterations).
    saved = n_iter - n_iter // REFRESH_EVERY
    assert len(computed) - with_reuse == saved
    # The gradient, the preconditioner's Hessian diagonal at the same point
    # and the final objective share one softmax: setup (1), trials, the
    # refreshes and the final exact Z.
    assert reused.product_counts_["preconditioner"] >= 1


def _weights(estimator):
    if hasattr(estimator, "coef_"):
        return [estimator.coef_, estimator.intercept_]
    return [*estimator.coefs_, *estimator.intercepts_]
