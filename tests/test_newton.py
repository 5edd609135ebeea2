"""The Newton direction: its Hessian and direction against scikit-learn's
``LinearModelLoss``, its fits against LogisticRegression, its product counts
and its contracts."""

import warnings

import numpy as np
import pytest
import scipy.sparse as sp
from sklearn._loss.loss import HalfBinomialLoss, HalfMultinomialLoss
from sklearn.exceptions import ConvergenceWarning
from sklearn.linear_model import LogisticRegression
from sklearn.linear_model._linear_loss import LinearModelLoss

from sklearn_so import SOLogisticRegression, SOTwoLayerClassifier
from sklearn_so._contracts import (
    CurvatureDirection,
    CurvatureLoss,
    CurvatureModel,
    check_solver_parts,
)
from sklearn_so._directions import (
    AUTO_NEWTON_OPERATIONS,
    NewtonDirection,
    TruncatedNewtonDirection,
    conjugate_gradient,
    make_direction,
    newton_operations,
    resolve_direction,
    solve_positive,
)
from sklearn_so._engine import ProductEngine
from sklearn_so._losses import (
    BinaryLogLoss,
    HalfSquaredLoss,
    MultilabelLogLoss,
    MultinomialLogLoss,
)
from sklearn_so._models import LinearModel, TwoLayerNetwork
from sklearn_so._objectives import logistic_objective
from sklearn_so._optimizer import Curvature
from sklearn_so._strategies import make_strategy

from ._data import make_classification_data

SEARCHING_SOLVERS = ["ls", "lo", "ps", "so"]


def _model_at_random_point(n_classes, fit_intercept, sparse=False, seed=0):
    """A LinearModel on weighted data, a random point and its forward state."""
    X, y = make_classification_data(n_classes, n_samples=60, n_features=4, seed=seed)
    rng = np.random.default_rng(seed)
    s = rng.uniform(0.2, 3.0, size=len(y))
    q = 1 if n_classes == 2 else n_classes
    loss = BinaryLogLoss() if q == 1 else MultinomialLogLoss()
    Y = y[:, None].astype(float) if q == 1 else np.eye(n_classes)[y]
    l2 = 0.3 / s.sum()
    model = LinearModel(4, q, loss, Y, s / s.sum(), l2, fit_intercept)
    # A point where the fits are: for the softmax, every feature's
    # coefficients sum to zero over the classes (the subspace of the
    # minimiser, where the gradient has no part along the shifts).
    theta = model.restrict_direction(rng.standard_normal(model.n_params))
    engine = ProductEngine(sp.csr_matrix(X) if sparse else X)
    W, b = model.unpack(theta)
    point = model.point(theta, engine.pre_activation(W, b, "setup"))
    return X, y, s, l2, model, theta, engine, point


def _sklearn_gradient_hessian(X, y, s, l2, theta, n_classes, fit_intercept):
    """scikit-learn's gradient and Hessian of the same objective at ``theta``.

    Its coefficient layout (classes contiguous per feature, the intercept as
    the last feature) is the flat layout of ``LinearModel``.
    """
    base = HalfBinomialLoss() if n_classes == 2 else HalfMultinomialLoss(n_classes)
    oracle = LinearModelLoss(base_loss=base, fit_intercept=fit_intercept)
    grad, hess, _ = oracle.gradient_hessian(
        theta.copy(), X, y.astype(float), sample_weight=s, l2_reg_strength=l2
    )
    return grad.ravel(order="F"), hess


def _shift_projector(model):
    """Projector onto the softmax's shift directions (one per feature row)."""
    q, rows = model.q, model.n_params // model.q
    return np.kron(np.eye(rows), np.full((q, q), 1.0 / q))


@pytest.mark.parametrize("sparse", [False, True])
@pytest.mark.parametrize("fit_intercept", [False, True])
@pytest.mark.parametrize("n_classes", [2, 3])
def test_hessian_is_scikit_learns(n_classes, fit_intercept, sparse):
    X, y, s, l2, model, theta, engine, point = _model_at_random_point(
        n_classes, fit_intercept, sparse
    )
    H = model.hessian(engine, point, "hessian")
    assert engine.counts["hessian"] == 1
    _, reference = _sklearn_gradient_hessian(
        X, y, s, l2, theta, n_classes, fit_intercept
    )
    np.testing.assert_allclose(H, H.T, rtol=0, atol=1e-14)
    if n_classes == 2:
        np.testing.assert_allclose(H, reference, rtol=1e-12, atol=1e-14)
        return
    # Softmax: the same matrix off the shift directions, and positive
    # curvature along them (where scikit-learn's has l2, or 0 for the
    # intercepts).
    P = _shift_projector(model)
    Q = np.eye(len(P)) - P
    np.testing.assert_allclose(Q @ H @ Q, Q @ reference @ Q, rtol=1e-12, atol=1e-14)
    np.testing.assert_allclose(Q @ H @ P, 0.0, atol=1e-14)
    assert np.linalg.eigvalsh(H).min() > 0


@pytest.mark.parametrize("fit_intercept", [False, True])
@pytest.mark.parametrize("n_classes", [2, 3])
def test_direction_is_minus_the_inverse_hessian_times_the_gradient(
    n_classes, fit_intercept
):
    X, y, s, l2, model, theta, engine, point = _model_at_random_point(
        n_classes, fit_intercept
    )
    _, R, grad = model.objective_and_gradient(theta, point)
    W_grad, _ = model.unpack(grad)
    W_grad += engine.backward(R, "setup")
    ref_grad, ref_hess = _sklearn_gradient_hessian(
        X, y, s, l2, theta, n_classes, fit_intercept
    )
    np.testing.assert_allclose(grad, ref_grad, rtol=1e-12, atol=1e-15)
    direction = NewtonDirection()
    direction.set_curvature(Curvature(model, engine, point))
    D = model.restrict_direction(direction(theta, grad))
    # The minimum-norm solution of H D = -g: scikit-learn's Hessian is
    # singular along the intercepts' common shift, which the objective
    # does not see.
    expected = -np.linalg.lstsq(ref_hess, ref_grad, rcond=1e-12)[0]
    np.testing.assert_allclose(D, expected, rtol=1e-9, atol=1e-12)


@pytest.mark.parametrize("fit_intercept", [False, True])
@pytest.mark.parametrize("n_classes", [2, 3])
def test_hessian_product_is_the_hessian_times_the_vector(n_classes, fit_intercept):
    _, _, _, _, model, theta, engine, point = _model_at_random_point(
        n_classes, fit_intercept, seed=1
    )
    H = model.hessian(engine, point, "hessian")
    product = model.hessian_product(engine, point, "product")
    v = np.random.default_rng(2).standard_normal(len(H))
    if n_classes > 2:
        # Off the shift directions, where the Hessian adds nothing.
        v -= _shift_projector(model) @ v
    np.testing.assert_allclose(product(v), H @ v, rtol=1e-12, atol=1e-14)
    assert engine.counts["product"] == 2


def test_conjugate_gradient_solves_to_its_forcing_term():
    rng = np.random.default_rng(0)
    A = rng.standard_normal((40, 40))
    H = A @ A.T + 0.1 * np.diag(rng.uniform(1, 100, 40))
    g = rng.standard_normal(40)
    calls = []

    def product(v):
        calls.append(1)
        return H @ v

    for scale in (1.0, 1e-6):
        for scaling in (None, 1.0 / np.diag(H)):
            x = conjugate_gradient(product, scale * g, scaling=scaling, max_iter=500)
            # ||H x + g||_1 <= min(0.5, sqrt(||g||_1)) ||g||_1.
            norm = np.abs(scale * g).sum()
            forcing = min(0.5, np.sqrt(norm))
            assert np.abs(H @ x + scale * g).sum() <= forcing * norm
            assert g @ x < 0
    calls.clear()
    conjugate_gradient(product, g, max_iter=3)
    assert len(calls) == 3


def test_truncated_newton_direction_is_the_newton_direction_when_solved_exactly():
    _, _, _, _, model, theta, engine, point = _model_at_random_point(3, True, seed=3)
    _, R, grad = model.objective_and_gradient(theta, point)
    W_grad, _ = model.unpack(grad)
    W_grad += engine.backward(R, "setup")
    small = 1e-15 * grad  # a tiny gradient: the forcing term asks for accuracy
    direction = TruncatedNewtonDirection()
    direction.set_curvature(Curvature(model, engine, point))
    exact = NewtonDirection()
    exact.set_curvature(Curvature(model, engine, point))
    # Up to a common shift of the intercepts, which the objective does not
    # see (the diagonal preconditioner moves the conjugate gradients along it).
    got = model.restrict_direction(direction(theta, small))
    want = model.restrict_direction(exact(theta, small))
    for D in (got, want):
        D[model.n_weights :] -= D[model.n_weights :].mean()
    np.testing.assert_allclose(got, want, rtol=1e-5, atol=1e-5 * np.abs(want).max())


def test_after_a_reset_the_next_direction_is_steepest_descent_without_a_hessian():
    class Formed:
        def __init__(self, H):
            self.H, self.count = H, 0

        def matrix(self):
            self.count += 1
            return self.H

    direction = NewtonDirection()
    curvature = Formed(np.eye(2) * 4.0)
    direction.set_curvature(curvature)
    g = np.array([1.0, -2.0])
    np.testing.assert_allclose(direction(None, g), -g / 4.0)
    direction.reset()
    direction.set_curvature(curvature)
    np.testing.assert_allclose(direction(None, g), -g)
    assert curvature.count == 1


def test_a_singular_hessian_gives_the_minimum_norm_solution():
    rng = np.random.default_rng(0)
    A = rng.standard_normal((5, 3))
    H = A @ A.T  # rank 3 in 5 dimensions: Cholesky fails
    g = H @ rng.standard_normal(5)
    x = solve_positive(H.copy(), g)
    np.testing.assert_allclose(x, np.linalg.pinv(H) @ g, rtol=1e-8)


def _objective(est, X, y, s, C):
    # logistic_objective is LogisticRegression's objective over C * n; with
    # weights, the benchmarks' helper is not weighted: repeat rows instead.
    return logistic_objective(est, np.repeat(X, s, axis=0), np.repeat(y, s), C)


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("weighted", [False, True])
@pytest.mark.parametrize("fit_intercept", [False, True])
@pytest.mark.parametrize("n_classes", [2, 4])
@pytest.mark.parametrize("solver", SEARCHING_SOLVERS)
@pytest.mark.parametrize("direction", ["newton", "newton-cg"])
def test_fit_reaches_newton_cholesky_objective(
    direction, solver, n_classes, fit_intercept, weighted, dtype
):
    X, y = make_classification_data(n_classes, n_samples=120, n_features=5, seed=3)
    X = (X * [1.0, 10.0, 0.1, 1.0, 3.0]).astype(dtype)
    s = np.random.default_rng(1).integers(1, 4, size=len(y)) if weighted else None
    C = 2.0
    # The reference in float64 on the same values: ours computes in float64.
    reference = LogisticRegression(
        C=C, fit_intercept=fit_intercept, solver="newton-cholesky", tol=1e-12
    ).fit(X.astype(np.float64), y, sample_weight=s)
    # float32 X gives float32 products: a gradient below about 1e-7 is
    # rounding noise, and the truncated Newton direction's large, noisy
    # steps there make the cached products drift (see the user guide).
    tol = 1e-7 if (dtype == np.float32 and direction == "newton-cg") else 1e-10
    est = SOLogisticRegression(
        C=C, fit_intercept=fit_intercept, solver=solver, direction=direction, tol=tol
    ).fit(X, y, sample_weight=s)
    weights = np.ones(len(y), dtype=int) if s is None else s
    X64 = X.astype(np.float64)
    ours = _objective(est, X64, y, weights, C)
    theirs = _objective(reference, X64, y, weights, C)
    assert ours <= theirs * (1 + 1e-8)
    assert est.coef_.dtype == dtype
    # Newton converges in a handful of iterations, truncated Newton in a few
    # more.
    assert est.n_iter_[0] <= (15 if direction == "newton" else 40)


@pytest.mark.parametrize("n_classes", [2, 3])
def test_truncated_newton_product_counts_add_up(n_classes):
    X, y = make_classification_data(n_classes, seed=2)
    est = SOLogisticRegression(direction="newton-cg", tol=1e-10).fit(X, y)
    counts = est.product_counts_
    n_iter = int(est.n_iter_[0])
    assert est.n_products_ == sum(counts.values())
    assert counts["setup"] == 1 and counts["preconditioner"] == 0
    assert counts["iterations"] == 2 * n_iter
    # Per direction: one diagonal pass and two products per CG iteration
    # (at least one).
    assert counts["hessian"] >= 3 * n_iter


@pytest.mark.parametrize("n_classes", [2, 3])
def test_product_counts_add_up(n_classes):
    X, y = make_classification_data(n_classes, seed=2)
    est = SOLogisticRegression(direction="newton", tol=1e-10).fit(X, y)
    counts = est.product_counts_
    n_iter = int(est.n_iter_[0])
    assert est.n_products_ == sum(counts.values())
    # No preconditioner; one Hessian pass per iteration.
    assert counts["setup"] == 1
    assert counts["preconditioner"] == 0
    assert counts["iterations"] == 2 * n_iter
    assert counts["hessian"] == n_iter
    # Other directions do not report the purpose.
    assert (
        "hessian"
        not in SOLogisticRegression(direction="lbfgs").fit(X, y).product_counts_
    )


def test_sparse_and_dense_fits_agree():
    X, y = make_classification_data(3, seed=4)
    X[np.abs(X) < 0.7] = 0.0
    dense = SOLogisticRegression(direction="newton", tol=1e-10).fit(X, y)
    sparse = SOLogisticRegression(direction="newton", tol=1e-10).fit(
        sp.csr_matrix(X), y
    )
    np.testing.assert_allclose(sparse.coef_, dense.coef_, rtol=1e-8, atol=1e-10)
    assert sparse.n_iter_[0] == dense.n_iter_[0]


def test_unpenalised_multinomial_with_collinear_features():
    # C=inf and a duplicated column: the Hessian is singular beyond the
    # shift directions, and the direction falls back to the pseudo-inverse.
    X, y = make_classification_data(3, n_samples=200, seed=6)
    X = np.column_stack([X, X[:, 0]])
    est = SOLogisticRegression(C=np.inf, direction="newton", tol=1e-8)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        est.fit(X, y)
    reference = LogisticRegression(C=np.inf, tol=1e-12, max_iter=10_000).fit(X, y)
    assert logistic_objective(est, X, y, np.inf) <= logistic_objective(
        reference, X, y, np.inf
    ) * (1 + 1e-8)


def test_the_losses_and_the_linear_model_offer_the_curvature():
    for loss in (BinaryLogLoss(), MultinomialLogLoss(), MultilabelLogLoss()):
        assert isinstance(loss, CurvatureLoss)
    assert isinstance(HalfSquaredLoss(), CurvatureLoss)
    model = _model_at_random_point(2, True)[4]
    assert isinstance(model, CurvatureModel)
    assert isinstance(make_direction("newton", 5), CurvatureDirection)
    assert not isinstance(make_direction("lbfgs", 5), CurvatureDirection)


def test_a_network_cannot_take_the_newton_direction():
    network = TwoLayerNetwork(
        3, 4, 1, "tanh", HalfSquaredLoss(), np.zeros((20, 1)), np.full(20, 0.05), 0.0
    )
    strategy = make_strategy(
        "ls", "newton", memory_directions=1, learning_rate=0.1, momentum=0.0
    )
    with pytest.raises(TypeError, match="lacks .*hessian, hessian_product"):
        check_solver_parts(
            network, ProductEngine(np.ones((20, 3))), NewtonDirection(), strategy
        )
    X, y = make_classification_data(2)
    with pytest.raises(ValueError, match="direction"):
        SOTwoLayerClassifier(direction="newton").fit(X, y)


class _NoFactorsLoss:
    """The binary log-loss without ``hessian_factors``."""

    def __init__(self):
        loss = BinaryLogLoss()
        self.terms, self.value = loss.terms, loss.value
        self.evaluate, self.hessian_diagonal = loss.evaluate, loss.hessian_diagonal


def test_a_loss_without_hessian_factors_is_refused():
    model = _model_at_random_point(2, True)[4]
    model.loss = _NoFactorsLoss()
    strategy = make_strategy(
        "ls", "newton", memory_directions=1, learning_rate=0.1, momentum=0.0
    )
    with pytest.raises(TypeError, match="hessian_factors"):
        check_solver_parts(
            model, ProductEngine(np.ones((60, 4))), NewtonDirection(), strategy
        )


def test_auto_is_the_default_and_takes_newton_on_small_models_only():
    small = make_classification_data(2, n_samples=500, n_features=30)
    large = make_classification_data(10, n_samples=2000, n_features=60)
    wide = make_classification_data(2, n_samples=2000, n_features=150)
    cases = [
        (small, "newton"),
        ((sp.csr_matrix(small[0]), small[1]), "newton"),
        (large, "lbfgs"),
        (wide, "lbfgs"),
        ((sp.csr_matrix(large[0]), large[1]), "lbfgs"),
    ]
    for (X, y), expected in cases:
        for est in (SOLogisticRegression(direction="auto"), SOLogisticRegression()):
            est.fit(X, y)
            assert est.direction_ == expected
            assert ("hessian" in est.product_counts_) == (expected == "newton")
    # The default is "auto"; an explicit direction is kept.
    assert SOLogisticRegression().direction == "auto"
    est = SOLogisticRegression(direction="lbfgs").fit(*small)
    assert est.direction_ == "lbfgs" and "hessian" not in est.product_counts_
    # The operation count the rule compares with its bound: the Hessian
    # pass and the Cholesky factorisation.
    assert newton_operations(500, 30, 1, True) == 500 * 31**2 + 31**3 / 3
    assert newton_operations(100, 4, 3, False) == 100 * 16 * 6 + 12**3 / 3
    assert resolve_direction("gd", 10**9, 10**6, 100, True) == "gd"
    bound = AUTO_NEWTON_OPERATIONS
    assert newton_operations(569, 30, 1, True) < bound  # breast cancer
    assert newton_operations(1797, 64, 10, True) > bound  # digits
