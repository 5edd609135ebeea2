"""The fused pass over a large dense X: both products of an iteration at once.

``ProductEngine.forward_backward_blocks`` forms the direction's image and
``X.T R`` from one read of X in row blocks; ``LinearModel.first_trial``
evaluates the line search's unit step with it. The oracle is the loop
without it: the same iterates (the image and every loss number are the
same per row; ``X.T R`` is summed by blocks, so the coefficients agree to
rounding), the same products counted per iteration.
"""

import numpy as np
import pytest
import scipy.sparse as sp
from sklearn.datasets import make_classification
from threadpoolctl import ThreadpoolController, threadpool_limits

import sklearn_so._engine as engine_module
from sklearn_so import SOLogisticRegression
from sklearn_so._engine import FUSED_MIN_ROWS, ProductEngine


@pytest.fixture(autouse=True)
def one_blas_thread():
    """The rule fuses only where BLAS runs one thread."""
    with threadpool_limits(1):
        yield


@pytest.fixture
def fuse_everything(monkeypatch):
    """Fuse on any dense C-ordered X, in blocks of the fewest rows."""
    monkeypatch.setattr(engine_module, "FUSED_MIN_BYTES", 0)
    monkeypatch.setattr(engine_module, "FUSED_BLOCK_BYTES", 1)


@pytest.fixture
def fused_calls(monkeypatch):
    """Count the calls of the fused pass."""
    calls = []
    original = ProductEngine.forward_backward_blocks

    def counted(self, *args, **kwargs):
        calls.append(self.X.shape)
        return original(self, *args, **kwargs)

    monkeypatch.setattr(ProductEngine, "forward_backward_blocks", counted)
    return calls


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("with_intercept", [False, True])
def test_the_pass_gives_both_products(fuse_everything, dtype, with_intercept):
    rng = np.random.default_rng(0)
    n, d, q = 1000, 7, 3
    X = rng.standard_normal((n, d)).astype(dtype)
    W = rng.standard_normal((d, q))
    b = rng.standard_normal(q) if with_intercept else None
    weights = rng.uniform(size=(n, 1))
    seen = []

    def residual(start, stop, image_rows):
        seen.append((start, stop, image_rows.copy()))
        return np.tanh(image_rows) * weights[start:stop]

    engine = ProductEngine(X)
    rows = engine.fused_block_rows(q)
    assert rows == FUSED_MIN_ROWS
    engine.counts.clear()
    image, XtR = engine.forward_backward_blocks(W, b, residual, "iterations")
    assert engine.counts == {"iterations": 2}
    # The blocks cover the rows in order, each handed its rows of the image.
    assert [s for s, _, _ in seen] == list(range(0, n, rows))
    assert seen[-1][1] == n
    for start, stop, image_rows in seen:
        np.testing.assert_array_equal(image_rows, image[start:stop])
    expected_image = ProductEngine(X).pre_activation(W, b, "check")
    np.testing.assert_array_equal(image, expected_image)
    assert image.dtype == XtR.dtype == np.float64
    R = np.tanh(expected_image) * weights
    expected = ProductEngine(X).backward(R, "check")
    rtol = 1e-12 if dtype == np.float64 else 1e-5
    np.testing.assert_allclose(XtR, expected, rtol=rtol, atol=rtol * n)


def test_the_pass_is_for_large_c_ordered_dense_X_with_several_outputs():
    big = np.zeros((engine_module.FUSED_MIN_BYTES // (8 * 100) + 1, 100))
    rows = engine_module.FUSED_BLOCK_BYTES // (8 * 100)
    assert ProductEngine(big).fused_block_rows(2) == max(FUSED_MIN_ROWS, rows)
    # Blocks of about the same bytes in float32.
    float32 = ProductEngine(np.zeros((2 * len(big), 100), dtype=np.float32))
    assert float32.fused_block_rows(2) == max(FUSED_MIN_ROWS, 2 * rows)
    # One output: BLAS's threaded matrix-vector product wins (measured).
    assert ProductEngine(big).fused_block_rows(1) is None
    assert ProductEngine(np.asfortranarray(big)).fused_block_rows(2) is None
    assert ProductEngine(big[:100]).fused_block_rows(2) is None
    assert ProductEngine(sp.csr_matrix(big[:10])).fused_block_rows(2) is None


def test_the_pass_is_for_one_blas_thread():
    # A block's products are too small for BLAS to share among threads.
    big = np.zeros((engine_module.FUSED_MIN_BYTES // (8 * 100) + 1, 100))
    with threadpool_limits(2, user_api="blas"):
        pools = ThreadpoolController().select(user_api="blas").lib_controllers
        if not any(pool.num_threads > 1 for pool in pools):
            pytest.skip("BLAS cannot run two threads here")
        assert ProductEngine(big).fused_block_rows(2) is None
    assert ProductEngine(big).fused_block_rows(2) is not None


@pytest.fixture(scope="module")
def multiclass():
    X, y = make_classification(
        600, 12, n_informative=8, n_classes=4, n_clusters_per_class=1, random_state=0
    )
    return X, y


def _fit(X, y, **params):
    params = {"tol": 1e-8, "max_iter": 500, **params}
    return SOLogisticRegression(**params).fit(X, y)


@pytest.mark.parametrize(
    "params",
    [
        {"direction": "lbfgs"},
        {"direction": "newton"},
        {"direction": "newton-cg"},
        {"solver": "ps", "direction": "newton-cg"},
        {"direction": "lbfgs", "fit_intercept": False},
        {"direction": "lbfgs", "C": 0.01},
    ],
    ids=["lbfgs", "newton", "newton-cg", "ps-newton-cg", "no-intercept", "penalty"],
)
def test_fits_take_the_same_iterates_with_the_pass(
    multiclass, monkeypatch, fused_calls, params
):
    X, y = multiclass
    weights = np.random.default_rng(1).uniform(0.5, 2.0, len(y))
    monkeypatch.setattr(engine_module, "FUSED_MIN_BYTES", np.inf)
    plain = SOLogisticRegression(tol=1e-8, max_iter=500, **params)
    plain.fit(X, y, sample_weight=weights)
    assert fused_calls == []
    monkeypatch.setattr(engine_module, "FUSED_MIN_BYTES", 0)
    monkeypatch.setattr(engine_module, "FUSED_BLOCK_BYTES", 1)
    fused = SOLogisticRegression(tol=1e-8, max_iter=500, **params)
    fused.fit(X, y, sample_weight=weights)
    # One pass per iteration but those that refresh Z.
    assert len(fused_calls) >= fused.n_iter_[0] - fused.n_iter_[0] // 10 - 1 > 0
    assert fused.n_iter_[0] == plain.n_iter_[0]
    # Conjugate gradients stop at a residual tolerance: a rounding in a
    # Hessian product moves the truncated Newton step within it, and the
    # iterates within the fit's tolerance (1e-8 on the gradient).
    truncated = params["direction"] == "newton-cg"
    rtol = 1e-6 if truncated else 1e-9
    np.testing.assert_allclose(fused.coef_, plain.coef_, rtol=rtol, atol=1e-11)
    np.testing.assert_allclose(fused.intercept_, plain.intercept_, rtol=rtol)
    curve_rtol = 1e-10 if truncated else 1e-12
    np.testing.assert_allclose(fused.loss_curve_, plain.loss_curve_, rtol=curve_rtol)
    # Two products per iteration either way; a unit step not taken writes
    # the pass's backward product off as unused.
    counts, plain_counts = fused.product_counts_, plain.product_counts_
    assert counts["iterations"] == plain_counts["iterations"]
    assert counts["iterations"] == 2 * fused.n_iter_[0]
    assert counts["unused"] <= counts["iterations"] // 4


@pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")
def test_only_a_unit_step_search_uses_the_pass(
    multiclass, fuse_everything, fused_calls
):
    X, y = multiclass
    _fit(X, y, solver="so", direction="lbfgs", max_iter=5)
    _fit(X, y, solver="ls", direction="gd", max_iter=5)
    assert fused_calls == []
    _fit(X, y, solver="ls", direction="lbfgs", max_iter=5)
    assert len(fused_calls) >= 4


@pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")
def test_binary_and_sparse_fits_do_not_use_the_pass(
    multiclass, fuse_everything, fused_calls
):
    X, y = multiclass
    _fit(X, y % 2, direction="lbfgs", max_iter=5)
    _fit(sp.csr_matrix(X), y, direction="lbfgs", max_iter=5)
    _fit(np.asfortranarray(X), y, direction="lbfgs", max_iter=5)
    assert fused_calls == []


def test_a_large_multiclass_X_uses_the_pass_by_default(fused_calls):
    # 4 MiB: the default rule's size floor.
    n, d = engine_module.FUSED_MIN_BYTES // (8 * 50) + 1, 50
    X, y = make_classification(
        n, d, n_informative=20, n_classes=3, n_clusters_per_class=1, random_state=0
    )
    model = _fit(X, y, direction="lbfgs", tol=1e-4)
    assert len(fused_calls) >= model.n_iter_[0] - model.n_iter_[0] // 10 - 1 > 0


def test_a_float32_fit_with_the_pass_reaches_the_same_optimum(multiclass, monkeypatch):
    # X.T R in float32 blocks summed in float64 against one float32 product:
    # roundings of 1e-7 relative, which steer the path once the objective
    # changes by that little (the iteration counts differ by a few there);
    # the optimum reached is the same to float32 precision.
    X, y = multiclass
    X = X.astype(np.float32)
    monkeypatch.setattr(engine_module, "FUSED_MIN_BYTES", np.inf)
    plain = _fit(X, y, direction="lbfgs")
    monkeypatch.setattr(engine_module, "FUSED_MIN_BYTES", 0)
    monkeypatch.setattr(engine_module, "FUSED_BLOCK_BYTES", 1)
    fused = _fit(X, y, direction="lbfgs")
    assert abs(fused.n_iter_[0] - plain.n_iter_[0]) <= 0.2 * plain.n_iter_[0]
    np.testing.assert_allclose(fused.loss_curve_[-1], plain.loss_curve_[-1], rtol=1e-6)
    np.testing.assert_allclose(fused.coef_, plain.coef_, rtol=1e-4, atol=1e-4)
    # The first iterations, before rounding steers, agree to float32 rounding.
    np.testing.assert_allclose(fused.loss_curve_[:5], plain.loss_curve_[:5], rtol=1e-6)


def test_a_point_recomputed_exactly_takes_its_own_gradient(multiclass, monkeypatch):
    # verify() recomputes Z at every accepted point (its rounding trusted
    # to no digit): the pass's gradient, at the cached trial point, is
    # written off and the gradient is taken at the exact point.
    X, y = multiclass
    monkeypatch.setattr(
        "sklearn_so._optimizer._rounding.trusted_digits", lambda value, eps: -1.0
    )
    monkeypatch.setattr(engine_module, "FUSED_MIN_BYTES", np.inf)
    plain = _fit(X, y, direction="lbfgs", max_iter=30)
    monkeypatch.setattr(engine_module, "FUSED_MIN_BYTES", 0)
    monkeypatch.setattr(engine_module, "FUSED_BLOCK_BYTES", 1)
    fused = _fit(X, y, direction="lbfgs", max_iter=30)
    assert fused.n_iter_[0] == plain.n_iter_[0]
    np.testing.assert_allclose(fused.coef_, plain.coef_, rtol=1e-9, atol=1e-11)
    counts, plain_counts = fused.product_counts_, plain.product_counts_
    assert counts["iterations"] == plain_counts["iterations"]
    assert counts["refresh"] == plain_counts["refresh"] > fused.n_iter_[0] // 2
    # One backward product of the pass written off per recomputed point.
    assert counts["unused"] >= plain_counts["unused"] + fused.n_iter_[0] // 2


def test_hessian_products_of_the_pass_are_the_separate_ones(fuse_everything):
    from sklearn_so._losses import MultinomialLogLoss
    from sklearn_so._models import LinearModel

    rng = np.random.default_rng(4)
    n, d, q = 700, 6, 3
    X = rng.standard_normal((n, d))
    Y = np.eye(q)[rng.integers(0, q, n)]
    model = LinearModel(d, q, MultinomialLogLoss(), Y, np.full(n, 1 / n), 0.01, True)
    theta = rng.standard_normal(model.n_params)
    W, b = model.unpack(theta)
    v = rng.standard_normal(model.n_params)
    products = {}
    for fused in (True, False):
        engine = ProductEngine(X)
        if not fused:
            engine.fused_block_rows = lambda q: None
        point = model.point(theta, X @ W + b)
        products[fused] = model.hessian_product(engine, point, "hessian")(v)
        assert engine.counts == {"hessian": 2}
    np.testing.assert_allclose(products[True], products[False], rtol=1e-12)
