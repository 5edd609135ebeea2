"""The outer loop on a stub model whose answers are known in closed form.

The stub is a ridge-regression quadratic written here against the ``Model``
protocol only (not one of the package's models):
``f(theta) = 1/2 ||X theta - y||^2 + l2/2 ||theta||^2``, with Hessian
``H = X'X + l2 I``. On it, every strategy's first step and the fixed-rate,
plane-search (conjugate gradients) and subspace iterations have closed
forms, and the loop's product count is exact.
"""

from types import SimpleNamespace

import numpy as np
import pytest

from sklearn_so._contracts import Model, check_solver_parts
from sklearn_so._directions import make_direction
from sklearn_so._engine import ProductEngine
from sklearn_so._optimizer import SubspaceSolver
from sklearn_so._strategies import make_strategy
from sklearn_so._subspace import ARMIJO_C1
from sklearn_so._trial import Trial

L2 = 0.5


class QuadraticStub:
    """A quadratic whose first ``d`` parameters meet X, the other ``m`` not.

    ``f(w, c) = 1/2 ||X w - y||^2 + 1/2 ||c - t||^2 + l2/2 (||w||^2 + ||c||^2)``:
    ``w`` plays a first layer (``Z = X w`` is the cached pre-activation),
    ``c`` a layer that never meets X. Its Hessian is
    ``blockdiag(X'X + l2 I, (1 + l2) I)``.
    """

    first_block = 0
    inner_options = {"rtol": 1e-14, "max_iter": 50}
    loss = None
    required_loss_methods = ()

    def __init__(self, X, y, t=(), per_layer=False):
        self.X, self.y, self.t = X, y, np.asarray(t, dtype=float)
        self.d, self.m = X.shape[1], len(self.t)
        self.n_params = self.d + self.m
        self.blocks = (
            [slice(0, self.d), slice(self.d, self.n_params)]
            if per_layer
            else [slice(0, self.n_params)]
        )
        self.H = np.zeros((self.n_params, self.n_params))
        self.H[: self.d, : self.d] = X.T @ X
        self.H[self.d :, self.d :] = np.eye(self.m)
        self.H += L2 * np.eye(self.n_params)

    def first_layer(self, theta):
        return theta[: self.d].reshape(-1, 1), None

    def point(self, theta, Z):
        return SimpleNamespace(pre_activation=Z)

    def restrict_direction(self, D):
        return D

    def _value(self, theta, Z):
        r = Z[:, 0] - self.y
        s = theta[self.d :] - self.t
        return 0.5 * (r @ r + s @ s + L2 * theta @ theta)

    def objective(self, theta, point):
        return self._value(theta, point.pre_activation)

    def objective_and_gradient(self, theta, point):
        Z = point.pre_activation
        grad = L2 * theta
        grad[self.d :] += theta[self.d :] - self.t
        return self._value(theta, Z), Z - self.y[:, None], grad

    def subspace(self, theta, point, basis):
        Z = point.pre_activation[:, 0]
        k = len(basis.V)
        V = np.zeros((k, len(Z)))
        for j, image in enumerate(basis.V):
            if image is not None:  # None: the direction does not meet X
                V[j] = image[:, 0]
        P, Pc = basis.P, basis.P[:, self.d :]

        def phi(a, derivatives=True):
            Za = Z + a @ V
            ta = theta + a @ P
            value = self._value(ta, Za[:, None])
            trial_point = SimpleNamespace(pre_activation=Za[:, None])
            if not derivatives:
                return Trial(a.copy(), value, point=trial_point)
            grad = V @ (Za - self.y) + Pc @ (ta[self.d :] - self.t) + L2 * P @ ta
            hess = V @ V.T + Pc @ Pc.T + L2 * P @ P.T
            return Trial(a.copy(), value, grad, hess, trial_point)

        return phi

    def step_limits(self, theta):
        return None

    def gradient(self, theta):
        b = np.concatenate([self.X.T @ self.y, self.t])
        return self.H @ theta - b

    def minimiser(self):
        b = np.concatenate([self.X.T @ self.y, self.t])
        return np.linalg.solve(self.H, b)


class NoDecreaseStub(QuadraticStub):
    """A search that never finds a decrease although one exists.

    The subspace objective's values rise away from ``a = 0`` while its
    derivatives are the quadratic's: the model promises a decrease that no
    trial shows, as a broken search would.
    """

    def subspace(self, theta, point, basis):
        f0 = self.objective(theta, point)
        exact = super().subspace(theta, point, basis)

        def phi(a, derivatives=True):
            trial = exact(a, derivatives)
            trial.value = f0 + a @ a
            return trial

        return phi


@pytest.fixture
def problem():
    rng = np.random.default_rng(0)
    X = rng.standard_normal((40, 6)) * np.array([1, 2, 3, 0.5, 1.5, 4])
    y = rng.standard_normal(40)
    return X, y


def run(model, X, solver, direction="gd", max_iter=20, tol=0.0, **rates):
    engine = ProductEngine(X)
    strategy = make_strategy(
        solver,
        direction,
        memory_directions=rates.pop("memory_directions", 1),
        learning_rate=rates.pop("learning_rate", 0.01),
        momentum=rates.pop("momentum", 0.0),
        inner_options=model.inner_options,
    )
    solver = SubspaceSolver(
        model,
        engine,
        strategy,
        make_direction(direction, 10),
        max_iter=max_iter,
        tol=tol,
    )
    return solver.solve(np.zeros(model.n_params)), engine


def test_the_stub_satisfies_the_model_contract(problem):
    model = QuadraticStub(*problem)
    assert isinstance(model, Model)
    assert not check_solver_parts(
        model,
        ProductEngine(problem[0]),
        make_direction("gd", 10),
        make_strategy("ls", "gd", memory_directions=1, learning_rate=0.1, momentum=0.0),
    )  # no diagonal_scaling: the direction is not preconditioned


def test_line_optimisation_takes_the_exact_step(problem):
    X, y = problem
    model = QuadraticStub(X, y)
    result, _ = run(model, X, "lo", max_iter=1)
    g = model.gradient(np.zeros(6))
    exact = (g @ g) / (g @ model.H @ g)
    assert result.learning_rates[0][0] == pytest.approx(exact, rel=1e-10)
    np.testing.assert_allclose(result.theta, -exact * g, rtol=1e-10)


def test_armijo_backtracks_from_the_inverse_gradient_norm(problem):
    X, y = problem
    model = QuadraticStub(X, y)
    result, _ = run(model, X, "ls", max_iter=1)
    g = model.gradient(np.zeros(6))
    f0 = model._value(np.zeros(6), np.zeros((40, 1)))
    step = 1.0 / np.linalg.norm(g)
    while True:  # the first halving of 1/|g| that satisfies Armijo's condition
        theta = -step * g
        if model._value(theta, X @ theta[:, None]) <= f0 - ARMIJO_C1 * step * (g @ g):
            break
        step /= 2
    assert result.learning_rates[0][0] == step
    np.testing.assert_allclose(result.theta, -step * g, rtol=1e-12)


def test_fixed_rates_are_the_heavy_ball_iteration(problem):
    X, y = problem
    model = QuadraticStub(X, y)
    result, _ = run(model, X, "fixed", max_iter=7, learning_rate=0.004, momentum=0.5)
    theta, previous = np.zeros(6), np.zeros(6)
    for _ in range(7):
        theta, previous = (
            theta - 0.004 * model.gradient(theta) + 0.5 * (theta - previous),
            theta,
        )
    np.testing.assert_allclose(result.theta, theta, rtol=1e-10)
    assert [lr[0] for lr in result.learning_rates] == [0.004] * 7
    # The first iteration has no move yet: no momentum rate.
    assert [m[0] for m in result.momentum_rates] == [0.0] + [0.5] * 6


def test_plane_search_with_gradients_is_conjugate_gradients(problem):
    # Minimising exactly over span{-g, last move} on a quadratic generates
    # the conjugate-gradient iterates: the minimiser within d iterations.
    X, y = problem
    model = QuadraticStub(X, y)
    result, engine = run(model, X, "ps", max_iter=6)
    np.testing.assert_allclose(result.theta, model.minimiser(), rtol=1e-8)
    # And the loop's products: one backward at setup (theta0 = 0 needs no
    # forward), two per iteration, one final exact refresh.
    assert result.product_counts == {
        "setup": 1,
        "iterations": 12,
        "refresh": 1,
        "preconditioner": 0,
        "unused": 0,
    }
    assert engine.n_products == 14


def test_subspace_optimisation_rates_per_block(problem):
    # Two blocks, the second not meeting X: the first iteration minimises
    # over the gradient restricted to each block, a 2-D problem solved in
    # closed form, and the second iteration over 4 directions (the gradient
    # and the move, per block).
    X, y = problem
    model = QuadraticStub(X, y, t=[1.0, -2.0, 0.5], per_layer=True)
    result, _ = run(model, X, "so", max_iter=1)
    g = model.gradient(np.zeros(9))
    P = np.zeros((2, 9))
    for j, block in enumerate(model.blocks):
        P[j, block] = -g[block]
    a = np.linalg.solve(P @ model.H @ P.T, -(P @ g))
    np.testing.assert_allclose(result.learning_rates[0], a, rtol=1e-9)
    np.testing.assert_allclose(result.theta, a @ P, rtol=1e-9)


def test_the_loop_stops_at_the_gradient_criterion(problem):
    X, y = problem
    model = QuadraticStub(X, y)
    result, _ = run(model, X, "ps", max_iter=100, tol=1e-9)
    assert result.converged
    assert "gradient criterion" in result.stop_reason
    assert np.max(np.abs(model.gradient(result.theta))) <= 1e-9
    assert result.n_iter <= 8


def test_no_decrease_retries_once_then_stops(problem):
    # No rate decreases the objective: the direction's memory is forgotten,
    # the iteration retried once, then the loop stops; both images are
    # written off as unused.
    X, y = problem
    model = NoDecreaseStub(X, y)
    engine = ProductEngine(X)
    solver = SubspaceSolver(
        model,
        engine,
        make_strategy("lo", "gd", memory_directions=1, learning_rate=0.1, momentum=0),
        make_direction("gd", 10),
        max_iter=5,
        tol=0.0,
    )
    result = solver.solve(np.ones(model.n_params))
    assert result.n_iter == 0
    assert result.stop_reason == "no further decrease of the objective was possible"
    assert result.product_counts["unused"] == 2
    assert result.product_counts["setup"] == 2  # Z0 = X theta0 and the gradient


@pytest.mark.parametrize("solver", ["lo", "ps", "so"])
def test_strategies_on_their_own_minimise_the_subspace_quadratic(problem, solver):
    X, y = problem
    model = QuadraticStub(X, y, t=[1.0, 2.0], per_layer=True)
    rng = np.random.default_rng(1)
    theta = rng.standard_normal(8)
    move = 0.1 * rng.standard_normal(8)
    Z = X @ theta[:6, None]
    g = model.gradient(theta)
    strategy = make_strategy(
        solver,
        "gd",
        memory_directions=0,
        learning_rate=0.1,
        momentum=0.0,
        inner_options=model.inner_options,
    )
    step = strategy.step(
        model,
        lambda basis: model.subspace(theta, model.point(theta, Z), basis),
        model._value(theta, Z),
        g,
        -g,
        X @ -g[:6, None],
        [(move, X @ move[:6, None])],
    )
    P = step.basis.P
    expected = np.linalg.solve(P @ model.H @ P.T, -(P @ g))
    np.testing.assert_allclose(step.a, expected, rtol=1e-8, atol=1e-12)
    assert len(expected) == {"lo": 1, "ps": 2, "so": 4}[solver]
    new = theta + step.a @ P
    assert step.value == pytest.approx(model._value(new, X @ new[:6, None]), rel=1e-12)
    np.testing.assert_allclose(
        step.trial.point.pre_activation, X @ new[:6, None], rtol=1e-12, atol=1e-12
    )
