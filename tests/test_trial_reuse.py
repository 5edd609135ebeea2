"""The accepted trial point's work is reused, and reuse changes no result.

The outer loop takes the accepted trial's pre-activation as the new ``Z``,
and the losses and the network keep what they computed for their last few
inputs (``_recent.RecentResults``). Disabling every cache must give the same
fit (bit for bit where the step has one rate, to rounding otherwise) and one
more pass of exponentials per iteration.
"""

import numpy as np
import pytest
from sklearn.datasets import load_digits

from sklearn_so import SOLogisticRegression, SOTwoLayerClassifier
from sklearn_so._losses import MultinomialLogLoss
from sklearn_so._optimizer import REFRESH_EVERY
from sklearn_so._recent import RecentResults

# Short fits (max_iter) are enough to compare; their warnings are expected.
pytestmark = pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")


@pytest.fixture(scope="module")
def digits():
    X, y = load_digits(return_X_y=True)
    return X[:400] / 16.0, y[:400]


def _without_reuse(monkeypatch):
    """Make every cache miss: phi.pre_activation, losses and network outputs."""
    monkeypatch.setattr(RecentResults, "find", lambda self, matches: None)


def test_recent_results_keeps_the_newest_pairs():
    recent = RecentResults(size=2)
    recent.put("a", 1)
    recent.put("b", 2)
    recent.put("a", 3)
    assert recent.find(lambda key: key == "a") == 3
    assert recent.find(lambda key: key == "b") == 2
    recent.put("c", 4)  # evicts ("b", 2), the oldest
    assert recent.find(lambda key: key == "b") is None


def test_by_identity_computes_once_per_object():
    recent, calls = RecentResults(), []

    def compute(array):
        calls.append(array)
        return array.sum()

    first = np.arange(3.0)
    assert recent.by_identity(first, compute) == 3.0
    assert recent.by_identity(first, compute) == 3.0
    # An equal array that is another object is computed anew.
    assert recent.by_identity(first.copy(), compute) == 3.0
    assert len(calls) == 2


@pytest.mark.parametrize(
    "make",
    [
        lambda s: SOLogisticRegression(solver=s, tol=1e-8, max_iter=300),
        lambda s: SOTwoLayerClassifier(10, solver=s, max_iter=40, random_state=0),
    ],
    ids=["logistic", "network"],
)
@pytest.mark.parametrize("solver", ["ls", "lo", "fixed"])
def test_one_rate_steps_are_bit_identical_without_reuse(
    digits, monkeypatch, make, solver
):
    X, y = digits
    reused = make(solver).fit(X, y)
    _without_reuse(monkeypatch)
    plain = make(solver).fit(X, y)
    assert reused.n_iter_ == plain.n_iter_
    assert reused.loss_curve_ == plain.loss_curve_
    for got, expected in zip(_weights(reused), _weights(plain), strict=True):
        np.testing.assert_array_equal(got, expected)


@pytest.mark.parametrize("solver", ["ps", "so"])
def test_two_rate_steps_reach_the_same_optimum_without_reuse(
    digits, monkeypatch, solver
):
    # With two rates the trial's Z + (a1 V1 + a2 V2) and the move's image sum
    # in another order: the iterates differ by rounding, the optimum does not.
    X, y = digits
    reused = SOLogisticRegression(solver=solver, tol=1e-9, max_iter=3000).fit(X, y)
    _without_reuse(monkeypatch)
    plain = SOLogisticRegression(solver=solver, tol=1e-9, max_iter=3000).fit(X, y)
    assert reused.loss_ == pytest.approx(plain.loss_, rel=1e-12)
    np.testing.assert_allclose(reused.coef_, plain.coef_, rtol=1e-5, atol=1e-7)


def test_reuse_saves_one_softmax_per_iteration(digits, monkeypatch):
    X, y = digits
    computed = []
    original = MultinomialLogLoss._compute_terms

    def counting(raw, y):
        computed.append(raw.shape)
        return original(raw, y)

    monkeypatch.setattr(MultinomialLogLoss, "_compute_terms", staticmethod(counting))
    reused = SOLogisticRegression(tol=1e-6, max_iter=500).fit(X, y)
    with_reuse = len(computed)
    computed.clear()
    _without_reuse(monkeypatch)
    plain = SOLogisticRegression(tol=1e-6, max_iter=500).fit(X, y)
    n_iter = int(plain.n_iter_[0])
    assert int(reused.n_iter_[0]) == n_iter
    # Every iteration's gradient reuses its accepted trial, except after the
    # periodic exact refresh of Z (a new array, every 50 iterations); the
    # preconditioner's Hessian diagonal (at the start and at each of its
    # passes) reuses the softmax of the point it is taken at.
    passes = plain.product_counts_["preconditioner"]
    assert passes == reused.product_counts_["preconditioner"] >= 1
    saved = n_iter - n_iter // REFRESH_EVERY + 1 + passes
    assert len(computed) - with_reuse == saved


def _weights(estimator):
    if hasattr(estimator, "coef_"):
        return [estimator.coef_, estimator.intercept_]
    return [*estimator.coefs_, *estimator.intercepts_]
