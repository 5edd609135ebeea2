"""The written contracts: every part satisfies its protocol, and a part that
lacks what another needs is refused before the fit starts."""

import numpy as np
import pytest

from sklearn_so import SOLogisticRegression
from sklearn_so._contracts import (
    Direction,
    Engine,
    LazyModel,
    Loss,
    Model,
    PreconditionedLoss,
    PreconditionedModel,
    Strategy,
    check_solver_parts,
    protocol_members,
)
from sklearn_so._directions import DIRECTIONS, make_direction
from sklearn_so._engine import ProductEngine
from sklearn_so._losses import (
    BinaryLogLoss,
    HalfSquaredLoss,
    MultilabelLogLoss,
    MultinomialLogLoss,
)
from sklearn_so._models import LinearModel, TwoLayerNetwork
from sklearn_so._optimizer import SubspaceSolver
from sklearn_so._strategies import SOLVERS, make_strategy


def _strategy(solver="ls", direction="lbfgs"):
    return make_strategy(
        solver, direction, memory_directions=1, learning_rate=0.1, momentum=0.0
    )


def _linear(loss, q=1):
    n = 20
    y = np.eye(q)[np.arange(n) % q] if q > 1 else (np.arange(n) % 2)[:, None] * 1.0
    return LinearModel(3, q, loss, y, np.full(n, 1 / n), 0.1, True)


def test_the_package_parts_satisfy_their_protocols():
    losses = (BinaryLogLoss(), MultinomialLogLoss(), MultilabelLogLoss())
    for loss in (*losses, HalfSquaredLoss()):
        assert isinstance(loss, PreconditionedLoss)
    y = np.zeros((20, 1))
    network = TwoLayerNetwork(3, 4, 1, "tanh", HalfSquaredLoss(), y, np.ones(20), 0)
    assert isinstance(network, Model)
    assert not isinstance(network, PreconditionedModel)
    assert isinstance(_linear(BinaryLogLoss()), PreconditionedModel)
    assert isinstance(ProductEngine(np.eye(3)), Engine)
    for name in DIRECTIONS:
        assert isinstance(make_direction(name, 5), Direction)
    for solver in SOLVERS:
        assert isinstance(_strategy(solver), Strategy)


def test_a_model_of_a_dask_X_must_gather_its_gradient():
    """A dask X's engine is lazy: the loop needs ``gather_gradient``."""
    assert protocol_members(LazyModel)[-1] == "gather_gradient"
    y = np.zeros((20, 1))
    network = TwoLayerNetwork(3, 4, 1, "tanh", HalfSquaredLoss(), y, np.ones(20), 0)
    assert isinstance(network, LazyModel)
    engine = ProductEngine(np.eye(20, 3))
    engine.lazy = True
    direction = make_direction("lbfgs", 5)
    with pytest.raises(TypeError, match="model of a dask X.*gather_gradient"):
        check_solver_parts(_linear(BinaryLogLoss()), engine, direction, _strategy())
    check_solver_parts(network, engine, direction, _strategy())


def test_protocol_members_are_the_written_contract():
    assert protocol_members(Loss) == ["terms", "value", "evaluate"]
    assert protocol_members(PreconditionedLoss)[-1] == "hessian_diagonal"
    assert "subspace" in protocol_members(Model)
    assert protocol_members(Direction) == [
        "uses_scaling",
        "__call__",
        "reset",
        "set_scaling",
    ]


class _ValueOnlyLoss:
    """A loss without ``hessian_diagonal``."""

    def __init__(self):
        self._loss = HalfSquaredLoss()

    def terms(self, raw, targets):
        return None

    def value(self, raw, targets, terms=None):
        return self._loss.value(raw, targets)

    def evaluate(self, raw, targets, J=None, terms=None):
        return self._loss.evaluate(raw, targets, J)


class _CountingEngine(ProductEngine):
    def forward(self, M, purpose):
        raise AssertionError("no product before the parts are checked")

    backward = squared_backward = forward


def test_a_loss_lacking_what_the_model_needs_is_refused_before_any_product():
    model = _linear(_ValueOnlyLoss())
    solver = SubspaceSolver(
        model,
        _CountingEngine(np.ones((20, 3))),
        _strategy(),
        make_direction("lbfgs", 5),
        max_iter=5,
        tol=0.0,
    )
    with pytest.raises(TypeError, match="LinearModel calls hessian_diagonal"):
        solver.solve(np.zeros(model.n_params))


@pytest.mark.parametrize(
    "part, role", [("engine", "product engine"), ("direction", "search direction")]
)
def test_a_part_lacking_a_protocol_member_is_named(part, role):
    model = _linear(BinaryLogLoss())
    parts = {
        "engine": ProductEngine(np.ones((20, 3))),
        "direction": make_direction("gd", 5),
    }
    parts[part] = object()
    with pytest.raises(TypeError, match=f"object cannot serve as the {role}"):
        check_solver_parts(model, parts["engine"], parts["direction"], _strategy())


def test_a_linear_model_with_the_squared_loss_is_ridge_regression():
    # HalfSquaredLoss now has the Hessian diagonal the preconditioned
    # directions ask for: the linear model with it is ridge regression, and
    # the loop finds the closed-form minimiser.
    rng = np.random.default_rng(0)
    X = rng.standard_normal((50, 4)) * [1.0, 10.0, 0.1, 3.0]
    Y = rng.standard_normal((50, 2))
    w = np.full(50, 1 / 50)
    l2 = 0.05
    model = LinearModel(4, 2, HalfSquaredLoss(), Y, w, l2, fit_intercept=False)
    for solver in ("ls", "lo", "ps", "so"):
        result = SubspaceSolver(
            model,
            ProductEngine(X),
            _strategy(solver),
            make_direction("lbfgs", 10),
            max_iter=500,
            tol=1e-8,
        ).solve(np.zeros(model.n_params))
        assert result.converged
        # Objective: mean over samples and outputs of half the squared error,
        # so the normal equations are (X'X / (n q) + l2 I) W = X'Y / (n q).
        exact = np.linalg.solve(X.T @ X / 100 + l2 * np.eye(4), X.T @ Y / 100)
        W, _ = model.unpack(result.theta)
        np.testing.assert_allclose(W, exact, rtol=1e-6, atol=1e-8)
        assert result.product_counts["preconditioner"] >= 0
        assert result.product_counts["setup"] == 2  # gradient and the diagonal


def test_estimators_still_fit_with_the_checked_parts():
    rng = np.random.default_rng(0)
    X = rng.standard_normal((30, 3))
    y = (X[:, 0] > 0).astype(int)
    est = SOLogisticRegression().fit(X, y)
    assert est.score(X, y) > 0.9
