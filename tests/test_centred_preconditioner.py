"""``preconditioner="centred"``: the diagonal preconditioner without the intercepts.

Oracles: the operator against the explicit matrix ``A S A^T``; its diagonal
against the Schur complements of the explicit Hessian's (feature,
intercept) blocks; the fitted model against scikit-learn's on the same
objective; the count of products; and the iterations it saves on
uncentred features (raw digits), where each weight is coupled with its
intercept.
"""

import numpy as np
import pytest
import scipy.sparse as sp
from sklearn.datasets import load_digits
from sklearn.exceptions import ConvergenceWarning
from sklearn.linear_model import LogisticRegression

from sklearn_so import SOLogisticRegression
from sklearn_so._engine import ProductEngine
from sklearn_so._losses import MultinomialLogLoss
from sklearn_so._models import LinearModel
from sklearn_so._preconditioner import CentredScaling, apply_scaling


def _change_of_coordinates(means):
    """The matrix A: weights unchanged, intercept k minus sum_j mu_jk w_jk."""
    d, q = means.shape
    n = d * q
    A = np.eye(n + q)
    for j in range(d):
        for k in range(q):
            A[n + k, j * q + k] = -means[j, k]
    return A


def test_the_operator_is_A_S_A_transposed():
    rng = np.random.default_rng(0)
    d, q = 4, 3
    diagonal = rng.uniform(0.5, 2.0, d * q + q)
    means = rng.standard_normal((d, q))
    scaling = CentredScaling(diagonal, means)
    A = _change_of_coordinates(means)
    expected = A @ np.diag(diagonal) @ A.T
    v = rng.standard_normal(d * q + q)
    np.testing.assert_allclose(scaling(v), expected @ v, rtol=1e-13)
    rows = rng.standard_normal((5, d * q + q))
    np.testing.assert_allclose(scaling(rows), rows @ expected, rtol=1e-13)
    np.testing.assert_allclose(apply_scaling(scaling, v), expected @ v, rtol=1e-13)
    # Symmetric positive definite: a preconditioner L-BFGS may start from.
    assert np.all(np.linalg.eigvalsh(expected) > 0)


def test_its_diagonal_is_the_schur_complement_of_each_intercept_block():
    rng = np.random.default_rng(1)
    n, d, q = 200, 3, 3
    X = rng.standard_normal((n, d)) + rng.uniform(-4, 4, d)
    Y = np.eye(q)[rng.integers(0, q, n)]
    weights = np.full(n, 1.0 / n)
    l2 = 0.01
    model = LinearModel(d, q, MultinomialLogLoss(), Y, weights, l2, True)
    theta = rng.standard_normal(model.n_params) * 0.1
    W, b = model.unpack(theta)
    point = model.point(theta, X @ W + b)
    engine = ProductEngine(X)
    scaling = model.centred_scaling(engine, point, "preconditioner")
    assert engine.counts == {"preconditioner": 2}
    # The curvature h_ik (the diagonal of each sample's loss Hessian).
    Z = X @ W + b
    P = np.exp(Z - Z.max(axis=1, keepdims=True))
    P /= P.sum(axis=1, keepdims=True)
    h = weights[:, None] * P * (1 - P)
    means = (X.T @ h) / h.sum(axis=0)
    np.testing.assert_allclose(scaling.means, means, rtol=1e-12)
    for j in range(d):
        for k in range(q):
            # The 2 x 2 block of weight (j, k) and intercept k.
            ww = h[:, k] @ X[:, j] ** 2 + l2
            wb = h[:, k] @ X[:, j]
            bb = h[:, k].sum()
            schur = ww - wb**2 / bb
            assert scaling.diagonal[j * q + k] == pytest.approx(1 / schur, rel=1e-10)
    np.testing.assert_allclose(scaling.diagonal[d * q :], 1 / h.sum(axis=0))


@pytest.fixture(scope="module")
def raw_digits():
    X, y = load_digits(return_X_y=True)
    return X[:600], y[:600]


def _fit(X, y, **params):
    params = {"direction": "lbfgs", "tol": 1e-6, **params}
    return SOLogisticRegression(**params).fit(X, y)


@pytest.mark.parametrize("X_format", ["dense", "csr"])
def test_the_fit_reaches_scikit_learns_optimum(raw_digits, X_format):
    X, y = raw_digits
    X = sp.csr_matrix(X) if X_format == "csr" else X
    ours = _fit(X, y, preconditioner="centred", tol=1e-9)
    theirs = LogisticRegression(tol=1e-12, max_iter=100_000).fit(X, y)
    np.testing.assert_allclose(
        ours.predict_proba(X), theirs.predict_proba(X), atol=2e-5
    )
    ours_plain = _fit(X, y, tol=1e-9, preconditioner="diagonal")
    assert ours.loss_ == pytest.approx(ours_plain.loss_, rel=1e-9)


def test_raw_features_take_fewer_iterations(raw_digits):
    # Measured on these 600 samples: about a third of the iterations.
    X, y = raw_digits
    plain = _fit(X, y, preconditioner="diagonal")
    centred = _fit(X, y, preconditioner="centred")
    assert centred.n_iter_[0] < 0.6 * plain.n_iter_[0]
    gd_plain = _fit_warned(
        X, y, direction="gd", max_iter=300, preconditioner="diagonal"
    )
    gd_centred = _fit_warned(
        X, y, direction="gd", max_iter=300, preconditioner="centred"
    )
    assert gd_centred.loss_ < gd_plain.loss_


def _fit_warned(X, y, **params):
    with pytest.warns(ConvergenceWarning):
        return SOLogisticRegression(tol=1e-10, **params).fit(X, y)


def test_each_estimate_costs_one_more_product(raw_digits):
    X, y = raw_digits
    plain = _fit(X, y, max_iter=30, preconditioner="diagonal")
    centred = _fit(X, y, max_iter=30, preconditioner="centred")
    assert centred.product_counts_["setup"] == plain.product_counts_["setup"] + 1
    # The schedule's estimates (at the start, after 20 iterations): two
    # passes each instead of one.
    assert centred.product_counts_["preconditioner"] == 2
    assert plain.product_counts_["preconditioner"] == 1


@pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")
@pytest.mark.parametrize(
    "params",
    [{"fit_intercept": False}, {"direction": "newton"}, {"direction": "adam"}],
    ids=["no-intercept", "newton", "adam"],
)
def test_without_intercept_or_diagonal_it_is_the_diagonal(raw_digits, params):
    X, y = raw_digits
    X, y = X[:200], y[:200]
    params = {"tol": 1e-5, "max_iter": 40, **params}
    plain = SOLogisticRegression(preconditioner="diagonal", **params).fit(X, y)
    centred = SOLogisticRegression(preconditioner="centred", **params).fit(X, y)
    assert centred.n_iter_[0] == plain.n_iter_[0]
    np.testing.assert_array_equal(centred.coef_, plain.coef_)
    assert centred.product_counts_ == plain.product_counts_


def test_an_unknown_value_is_refused(raw_digits):
    X, y = raw_digits
    with pytest.raises(ValueError, match="preconditioner"):
        SOLogisticRegression(preconditioner="centered-ish").fit(X, y)


def test_a_feature_far_from_zero_does_not_break_it(raw_digits):
    # A column whose mean dwarfs its spread: its Schur complement loses
    # digits to cancellation (clipped at zero, l2 its floor); the fit
    # still reaches the optimum.
    X, y = raw_digits
    X = X.copy()
    X[:, 5] += 1e4
    plain = _fit(X, y, tol=1e-8, preconditioner="diagonal")
    centred = _fit(X, y, tol=1e-8, preconditioner="centred")
    assert centred.loss_ == pytest.approx(plain.loss_, rel=1e-8)
    assert centred.n_iter_[0] < plain.n_iter_[0]
