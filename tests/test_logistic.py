"""SOLogisticRegression: cost, monotonicity, inputs, and scikit-learn workflows."""

import warnings

import numpy as np
import pytest
import scipy.sparse as sp
from sklearn.datasets import load_breast_cancer
from sklearn.exceptions import ConvergenceWarning
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import GridSearchCV
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

import sklearn_so._base
from sklearn_so import SOLogisticRegression
from sklearn_so._base import resolve_memory
from sklearn_so._engine import ProductEngine
from sklearn_so._optimizer import REFRESH_EVERY
from sklearn_so._preconditioner import PRECONDITION_EVERY

from ._data import make_classification_data

SOLVERS = ["ls", "lo", "ps", "so", "fixed"]
SEARCHING_SOLVERS = ["ls", "lo", "ps", "so"]
DIRECTIONS = ["gd", "lbfgs", "adam", "newton", "newton-cg"]


def objective(estimator, X, y, sample_weight=None):
    """LogisticRegression's objective divided by C * sum(s), from scratch."""
    s = np.ones(len(y)) if sample_weight is None else np.asarray(sample_weight)
    Z = np.asarray(X @ estimator.coef_.T) + estimator.intercept_
    classes = estimator.classes_
    if len(classes) == 2:
        z = Z[:, 0]
        t = (y == classes[1]).astype(float)
        losses = np.logaddexp(0.0, z) - t * z
    else:
        top = Z.max(axis=1, keepdims=True)
        log_norm = top[:, 0] + np.log(np.exp(Z - top).sum(axis=1))
        losses = log_norm - Z[np.arange(len(y)), np.searchsorted(classes, y)]
    penalty = 0.5 * np.sum(estimator.coef_**2) / estimator.C
    return (s @ losses + penalty) / s.sum()


class CountingEngine(ProductEngine):
    """Counts the products itself, independently of the engine's counter."""

    calls = 0

    def forward(self, M, purpose):
        CountingEngine.calls += 1
        return super().forward(M, purpose)

    def backward(self, R, purpose):
        CountingEngine.calls += 1
        return super().backward(R, purpose)

    def squared_backward(self, H, purpose, chunk_bytes=2**20):
        CountingEngine.calls += 1
        CountingEngine.squared_calls += 1
        return super().squared_backward(H, purpose, chunk_bytes)

    def weighted_grams(self, H, purpose, intercept=False, **chunking):
        CountingEngine.calls += 1
        CountingEngine.gram_calls += 1
        return super().weighted_grams(H, purpose, intercept, **chunking)


@pytest.fixture
def counting_engine(monkeypatch):
    CountingEngine.calls = 0
    CountingEngine.squared_calls = 0
    CountingEngine.gram_calls = 0
    monkeypatch.setattr(sklearn_so._base, "make_engine", CountingEngine)
    return CountingEngine


def check_preconditioner_passes(counts, n_iter, direction, engine):
    """The "gd" and "lbfgs" preconditioner: estimated once at setup, then at
    most every PRECONDITION_EVERY iterations, at least once after that many.
    Each estimate (the default, centred) takes two passes: the Hessian
    diagonal's (X squared) and the curvature-weighted means'."""
    passes = counts["preconditioner"]
    if direction == "newton-cg":
        # Its diagonal passes are part of each direction ("hessian").
        assert passes == 0
        return
    if direction not in ("gd", "lbfgs"):
        assert passes == engine.squared_calls == 0
        return
    estimates = engine.squared_calls - 1
    assert passes == 2 * estimates
    assert (
        min(1, n_iter // PRECONDITION_EVERY)
        <= estimates
        <= n_iter // PRECONDITION_EVERY
    )


def expected_refreshes(n_iter):
    """Every REFRESH_EVERY iterations, plus one at the end unless just done."""
    periodic = n_iter // REFRESH_EVERY
    return periodic + (0 if n_iter > 0 and n_iter % REFRESH_EVERY == 0 else 1)


@pytest.mark.parametrize("n_classes", [2, 3])
@pytest.mark.parametrize("direction", DIRECTIONS)
@pytest.mark.parametrize("solver", SOLVERS)
def test_two_products_per_iteration(counting_engine, solver, direction, n_classes):
    X, y = make_classification_data(n_classes)
    est = SOLogisticRegression(
        solver=solver, direction=direction, max_iter=130, tol=1e-8, learning_rate=0.05
    )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        est.fit(X, y)
    n_iter = int(est.n_iter_[0])
    assert n_iter > 0
    # Setup: the starting gradient, plus the preconditioner's two passes.
    setup = 1 + 2 * (direction in ("gd", "lbfgs"))
    counts = est.product_counts_
    assert counts["setup"] == setup
    assert counts["iterations"] == 2 * n_iter
    assert counts["refresh"] == expected_refreshes(n_iter)
    check_preconditioner_passes(counts, n_iter, direction, counting_engine)
    # The Newton direction's Hessian: one pass per direction it computed
    # (none for the steepest-descent retry after a failed step).
    hessian = counts.get("hessian", 0)
    if direction == "newton":
        assert hessian == counting_engine.gram_calls
        assert n_iter <= hessian <= n_iter + counts["unused"]
    elif direction == "newton-cg":
        # A diagonal pass and two products per CG iteration, per direction.
        assert counting_engine.gram_calls == 0
        assert counting_engine.squared_calls >= n_iter
        assert hessian >= 3 * n_iter
    else:
        assert hessian == 0
    assert est.n_products_ == sum(counts.values())
    assert est.n_products_ == (
        setup
        + 2 * n_iter
        + expected_refreshes(n_iter)
        + counts["preconditioner"]
        + counts["unused"]
        + hessian
    )
    # The engine's count agrees with products counted where they happen.
    assert counting_engine.calls == est.n_products_


def fixed_step_fit(learning_rate, max_iter, **params):
    """A binary fit of exactly max_iter constant gradient steps (tol=0)."""
    X, y = make_classification_data(2)
    est = SOLogisticRegression(
        solver="fixed",
        direction="gd",
        learning_rate=learning_rate,
        momentum=0.0,
        max_iter=max_iter,
        tol=0.0,
        **params,
    )
    with pytest.warns(ConvergenceWarning, match="max_iter"):
        est.fit(X, y)
    assert est.n_iter_[0] == max_iter
    return est


@pytest.mark.parametrize("max_iter", [REFRESH_EVERY, 2 * REFRESH_EVERY + 7])
def test_periodic_refreshes_are_counted(counting_engine, max_iter):
    est = fixed_step_fit(1e-4, max_iter)
    assert est.product_counts_["refresh"] == expected_refreshes(max_iter)
    check_preconditioner_passes(est.product_counts_, max_iter, "gd", counting_engine)
    assert counting_engine.calls == (
        3
        + 2 * max_iter
        + expected_refreshes(max_iter)
        + est.product_counts_["preconditioner"]
    )


def test_preconditioner_keeps_its_period_while_the_diagonal_changes(counting_engine):
    # Fixed steps on a weakly penalised problem: the logits grow and the
    # curvature moves (by factors e^0.56, e^0.34, e^0.15 between the passes
    # at 20, 40, 60 and 80 iterations, then e^0.07: settled). Passes at 20,
    # 40, 60 and 80, then the period doubles to 40: none at 100. Two passes
    # each (centred).
    est = fixed_step_fit(0.1, 100, C=1e6)
    assert est.product_counts_["preconditioner"] == 2 * 4
    assert counting_engine.squared_calls == 5


def test_preconditioner_period_doubles_once_the_diagonal_settles(counting_engine):
    # Steps of 1e-12 leave the Hessian's diagonal unchanged, so every
    # re-estimate finds it settled: passes after 20, 20 + 40, 60 + 80 and
    # 140 + 160 iterations, none more in 320.
    est = fixed_step_fit(1e-12, 320)
    assert PRECONDITION_EVERY == 20
    assert est.product_counts_["preconditioner"] == 2 * 4
    assert counting_engine.squared_calls == 5


@pytest.mark.parametrize("n_classes", [2, 3])
@pytest.mark.parametrize("direction", DIRECTIONS)
@pytest.mark.parametrize("solver", SEARCHING_SOLVERS)
def test_loss_curve_decreases_and_loss_is_the_objective(solver, direction, n_classes):
    X, y = make_classification_data(n_classes, seed=5)
    sample_weight = np.random.default_rng(0).uniform(0.5, 2.0, size=len(y))
    est = SOLogisticRegression(C=3.0, solver=solver, direction=direction, tol=1e-7)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        est.fit(X, y, sample_weight=sample_weight)
    curve = np.array(est.loss_curve_)
    assert len(curve) == est.n_iter_[0]
    # Monotone up to the rounding of the objective's value.
    assert np.all(np.diff(curve) <= 1e-13 * np.abs(curve[1:]))
    assert est.loss_ == pytest.approx(objective(est, X, y, sample_weight), rel=1e-12)
    assert est.loss_ == pytest.approx(curve[-1], rel=1e-12)
    # Recorded rates: one row per iteration, one column per block.
    assert est.learning_rates_.shape == (len(curve), 1)
    assert est.momentum_rates_.shape == (len(curve), 1)
    assert np.all(est.learning_rates_ >= 0)
    if solver in ("ls", "lo"):
        np.testing.assert_array_equal(est.momentum_rates_, 0.0)


def test_fixed_rates_are_recorded_as_given(binary_data):
    X, y = binary_data
    est = SOLogisticRegression(
        solver="fixed", direction="gd", learning_rate=0.05, momentum=0.5, max_iter=20
    )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        est.fit(X, y)
    np.testing.assert_array_equal(est.learning_rates_, 0.05)
    # No momentum on the first iteration: there is no previous move yet.
    np.testing.assert_array_equal(est.momentum_rates_[1:], 0.5)
    assert est.momentum_rates_[0, 0] == 0.0


@pytest.mark.parametrize("n_classes", [2, 3])
def test_probabilities_match_logistic_regression(n_classes):
    X, y = make_classification_data(n_classes)
    ours = SOLogisticRegression(tol=1e-10).fit(X, y)
    ref = LogisticRegression(tol=1e-10, max_iter=10_000).fit(X, y)
    np.testing.assert_allclose(ours.predict_proba(X), ref.predict_proba(X), atol=1e-7)
    np.testing.assert_allclose(
        ours.predict_log_proba(X), np.log(ours.predict_proba(X)), rtol=1e-12
    )
    np.testing.assert_allclose(
        ours.decision_function(X), ref.decision_function(X), atol=1e-6
    )
    np.testing.assert_array_equal(ours.predict(X), ref.predict(X))
    assert ours.score(X, y) == ref.score(X, y)
    assert ours.coef_.shape == ref.coef_.shape
    assert ours.intercept_.shape == ref.intercept_.shape


@pytest.mark.parametrize("n_classes", [2, 3])
def test_class_weight_matches_logistic_regression(n_classes):
    X, y = make_classification_data(n_classes, n_samples=120, seed=11)
    y = np.where(np.arange(len(y)) % 4 == 0, y, 0)  # make class 0 frequent
    for class_weight in ["balanced", {0: 0.3, 1: 2.0, 2: 1.5}]:
        if n_classes == 2 and isinstance(class_weight, dict):
            class_weight = {0: 0.3, 1: 2.0}
        ours = SOLogisticRegression(class_weight=class_weight, tol=1e-10).fit(X, y)
        ref = LogisticRegression(
            class_weight=class_weight, tol=1e-10, max_iter=10_000
        ).fit(X, y)
        scale = np.abs(ref.coef_).max()
        np.testing.assert_allclose(ours.coef_, ref.coef_, atol=1e-5 * scale)


def _badly_scaled_problem():
    # Unscaled features spanning 1e-3 to 1e3: the problem is badly
    # conditioned, yet the fit must still reach the optimum.
    X, y = make_classification_data(2, n_samples=150, n_features=7, seed=2)
    X = X * np.logspace(-3, 3, X.shape[1])
    ref = LogisticRegression(solver="newton-cholesky", tol=1e-12, max_iter=1000)
    return X, y, ref.fit(X, y)


@pytest.mark.parametrize("direction", ["gd", "lbfgs"])
@pytest.mark.parametrize("solver", SEARCHING_SOLVERS)
def test_extreme_feature_scales_reach_the_oracle(solver, direction):
    X, y, ref = _badly_scaled_problem()
    est = SOLogisticRegression(
        solver=solver, direction=direction, tol=1e-9, max_iter=50_000
    )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        est.fit(X, y)
    np.testing.assert_allclose(est.coef_, ref.coef_, rtol=1e-4)
    np.testing.assert_allclose(est.intercept_, ref.intercept_, rtol=1e-4)


@pytest.mark.parametrize("solver", ["lo", "ps", "so"])
def test_extreme_feature_scales_with_adam_reach_the_optimal_objective(solver):
    # Adam's second moments remember the early, large gradients, so on
    # badly scaled features its direction is poor near the optimum: the
    # searched rates still reach the optimal objective to about 1e-9 (then
    # no decrease is left), the coefficients to about 1e-3 relative (the
    # smallest, of the feature scaled by 1e3, lies along a flat direction).
    # (With "ls", Adam does not get there in 50,000 iterations; the docstring
    # says so.)
    X, y, ref = _badly_scaled_problem()
    est = SOLogisticRegression(
        solver=solver, direction="adam", tol=1e-9, max_iter=50_000
    )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        est.fit(X, y)
    assert est.loss_ == pytest.approx(objective(ref, X, y), rel=2e-9)
    np.testing.assert_allclose(est.coef_, ref.coef_, rtol=2e-3)


def test_float32_is_used_without_conversion(monkeypatch, binary_data):
    seen = []

    def recording_engine(X):
        seen.append(X)
        return ProductEngine(X)

    monkeypatch.setattr(sklearn_so._base, "make_engine", recording_engine)
    X, y = binary_data
    X32 = np.asarray(X, dtype=np.float32)
    est32 = SOLogisticRegression(tol=1e-6).fit(X32, y)
    assert seen[-1] is X32
    est64 = SOLogisticRegression(tol=1e-6).fit(X, y)
    np.testing.assert_allclose(est32.coef_, est64.coef_, rtol=1e-4, atol=1e-5)
    # The fitted model keeps X's precision, as LogisticRegression does.
    reference = LogisticRegression().fit(X32, y)
    for ours, theirs in [
        (est32.coef_, reference.coef_),
        (est32.intercept_, reference.intercept_),
        (est32.decision_function(X32), reference.decision_function(X32)),
        (est32.predict_proba(X32), reference.predict_proba(X32)),
    ]:
        assert ours.dtype == theirs.dtype == np.float32
    assert est64.coef_.dtype == est64.predict_proba(X).dtype == np.float64


@pytest.mark.parametrize(
    "make_X",
    [
        lambda X: np.ascontiguousarray(X),
        lambda X: np.asfortranarray(X),
        lambda X: sp.csr_matrix(X),
        lambda X: sp.csc_matrix(X),
        lambda X: sp.csr_array(X),
    ],
    ids=["C", "F", "csr", "csc", "csr_array"],
)
def test_training_matrix_is_never_copied(monkeypatch, binary_data, make_X):
    seen = []

    def recording_engine(X):
        seen.append(X)
        return ProductEngine(X)

    monkeypatch.setattr(sklearn_so._base, "make_engine", recording_engine)
    X, y = binary_data
    X_in = make_X(X)
    SOLogisticRegression().fit(X_in, y)
    assert seen[-1] is X_in


def test_warm_start_continues_from_the_previous_fit(binary_data):
    X, y = binary_data
    est = SOLogisticRegression(direction="lbfgs", warm_start=True, tol=1e-8).fit(X, y)
    first = est.coef_.copy()
    est.fit(X, y)
    # Already optimal: at most a couple of iterations, same solution, and
    # the starting X W costs one more setup product (beside the gradient's
    # and the centred preconditioner's two).
    assert est.n_iter_[0] <= 2
    assert est.product_counts_["setup"] == 4
    np.testing.assert_allclose(est.coef_, first, rtol=1e-6, atol=1e-8)
    cold = SOLogisticRegression(direction="lbfgs", warm_start=False, tol=1e-8).fit(X, y)
    assert cold.n_iter_[0] > 5


def test_float32_warm_start_restarts_from_the_float64_optimum():
    X, y = load_breast_cancer(return_X_y=True)
    X32 = X.astype(np.float32)  # unscaled: rounding coef_ costs a lot here
    est = SOLogisticRegression(warm_start=True, tol=1e-6)
    with warnings.catch_warnings():
        # float32 X resolves the objective to max|g| ~1.1e-6 only: the first
        # fit ends with "no further decrease", just short of tol.
        warnings.simplefilter("ignore", ConvergenceWarning)
        est.fit(X32, y)
        assert est.coef_.dtype == np.float32
        est.fit(X32, y)
    # Not from coef_ rounded to float32, whose gradient is far above tol
    # (measured: 5 iterations from the optimum, 57 from the rounding).
    assert est.n_iter_[0] <= 10
    # A coef_ the user changed is where the refit starts.
    est.coef_ = np.zeros_like(est.coef_)
    est.intercept_ = np.zeros_like(est.intercept_)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        est.set_params(max_iter=1).fit(X32, y)
    cold = SOLogisticRegression(max_iter=1)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        cold.fit(X32, y)
    np.testing.assert_array_equal(est.coef_, cold.coef_)


def test_max_iter_warning_names_the_reason(binary_data):
    X, y = binary_data
    with pytest.warns(ConvergenceWarning, match=r"max_iter=3 iterations reached"):
        est = SOLogisticRegression(max_iter=3).fit(X, y)
    assert est.n_iter_[0] == 3
    assert "max_iter" in est.stop_reason_


def test_converged_fit_does_not_warn(binary_data):
    X, y = binary_data
    with warnings.catch_warnings():
        warnings.simplefilter("error", ConvergenceWarning)
        est = SOLogisticRegression().fit(X, y)
    assert "gradient criterion" in est.stop_reason_


def test_divergence_stops_with_a_warning_and_keeps_the_best_iterate(binary_data):
    X, y = binary_data
    # The log-loss grows only linearly, so a step must overflow the
    # coefficients themselves to make the objective non-finite.
    est = SOLogisticRegression(
        solver="fixed", direction="gd", learning_rate=1e50, momentum=0.9
    )
    with pytest.warns(ConvergenceWarning, match="non-finite.*best finite iterate"):
        est.fit(X, y)
    assert len(est.loss_curve_) == est.n_iter_[0] >= 2  # some finite steps first
    assert np.all(np.isfinite(est.coef_)) and np.all(np.isfinite(est.intercept_))
    assert np.isfinite(est.loss_)
    finite_curve = [v for v in est.loss_curve_ if np.isfinite(v)]
    assert est.loss_ == pytest.approx(min(finite_curve + [np.log(2)]), rel=1e-10)
    assert est.loss_ == pytest.approx(objective(est, X, y), rel=1e-10)


def test_verbose_prints_progress_and_silence_by_default(binary_data, capsys):
    X, y = binary_data
    SOLogisticRegression().fit(X, y)
    assert capsys.readouterr().out == ""
    SOLogisticRegression(verbose=100).fit(X, y)
    out = capsys.readouterr().out
    assert "objective" in out and "products" in out and "stopped after" in out


def test_pipeline_and_grid_search_over_solver_and_direction():
    X, y = make_classification_data(3, n_samples=150, seed=4)
    X = X * np.array([1, 10, 100, 0.1, 1, 5])
    pipe = make_pipeline(StandardScaler(), SOLogisticRegression(tol=1e-7))
    grid = GridSearchCV(
        pipe,
        {
            "sologisticregression__solver": ["ls", "so"],
            "sologisticregression__direction": ["gd", "lbfgs"],
        },
        cv=3,
    )
    grid.fit(X, y)
    scores = grid.cv_results_["mean_test_score"]
    assert len(scores) == 4 and np.all(np.isfinite(scores))
    # Every configuration solves the same convex problem: same CV scores.
    np.testing.assert_allclose(scores, scores[0])
    ref = make_pipeline(StandardScaler(), LogisticRegression(tol=1e-10)).fit(X, y)
    np.testing.assert_array_equal(grid.predict(X), ref.predict(X))


@pytest.mark.parametrize("solver", SEARCHING_SOLVERS)
def test_products_add_up_when_no_decrease_is_possible(counting_engine, solver):
    # tol=0 can only end when no decrease is possible, here at the optimum
    # to rounding (converged: no warning); the images of the directions not
    # taken must be counted too.
    X, y = make_classification_data(2)
    est = SOLogisticRegression(solver=solver, tol=0.0, max_iter=5000)
    with warnings.catch_warnings():
        warnings.simplefilter("error", ConvergenceWarning)
        est.fit(X, y)
    assert "floating-point precision" in est.stop_reason_
    assert est.product_counts_["unused"] >= 2  # the last two, maybe earlier ones
    assert est.n_products_ == sum(est.product_counts_.values())
    assert counting_engine.calls == est.n_products_


def test_auto_memory_keeps_100_pairs_within_the_budget():
    X, y = make_classification_data(3)
    est = SOLogisticRegression(max_iter=5)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        est.fit(X, y)
    assert est.memory == "auto"
    assert est.memory_ == 100
    assert SOLogisticRegression(memory=7, max_iter=5).fit(X, y).memory_ == 7
    # 100 pairs of 2 x 10^6 parameters would take 3.2 GB: "auto" keeps what
    # fits in the larger of X / 4 and 32 MiB, but never fewer than 10.
    small = np.zeros((10, 2))
    assert resolve_memory("auto", small, 2_000_000) == 10
    assert resolve_memory("auto", small, 40_000) == 2**25 // (16 * 40_000)
    # A 512 MiB X (a broadcast view: nothing allocated): a quarter of it.
    big = np.broadcast_to(np.zeros((1, 1)), (2**16, 2**10))
    assert big.nbytes == 2**29
    assert resolve_memory("auto", big, 100_000) == 2**27 // (16 * 100_000) == 83
    sparse = sp.random(1000, 100, density=0.1, format="csr", random_state=0)
    assert resolve_memory("auto", sparse, 101) == 100
