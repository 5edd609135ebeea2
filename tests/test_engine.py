"""The cached-product engine: counting, no copies of X, dtype handling."""

import numpy as np
import pytest
import scipy.sparse as sp

from sklearn_so import SOLogisticRegression
from sklearn_so._engine import MoveHistory, ProductEngine, chunk_engine, make_engine


@pytest.mark.parametrize("order", ["C", "F"])
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_dense_products_are_counted_and_exact(order, dtype):
    rng = np.random.default_rng(0)
    X = np.asarray(rng.standard_normal((50, 7)), dtype=dtype, order=order)
    engine = make_engine(X)
    assert engine.X is X  # used as given: no copy, no conversion
    M = rng.standard_normal((7, 3))
    R = rng.standard_normal((50, 3))
    # float32 X is multiplied in float32: agreement to its precision.
    rtol, atol = (1e-12, 0.0) if dtype == np.float64 else (1e-5, 1e-5)
    Xf = X.astype(float)
    np.testing.assert_allclose(engine.forward(M, "setup"), Xf @ M, rtol=rtol, atol=atol)
    np.testing.assert_allclose(
        engine.backward(R, "iterations"), Xf.T @ R, rtol=rtol, atol=atol
    )
    H = rng.uniform(size=(50, 3))
    np.testing.assert_allclose(
        engine.squared_backward(H, "preconditioner", chunk_bytes=16 * 7 * 8),
        (Xf**2).T @ H,
        rtol=rtol,
    )
    assert engine.n_products == 3
    assert engine.counts == {"setup": 1, "iterations": 1, "preconditioner": 1}
    assert engine.forward(M, "setup").dtype == np.float64


@pytest.mark.parametrize("fmt", ["csr", "csc"])
def test_sparse_products_stay_sparse(fmt):
    X = sp.random(40, 30, density=0.1, format=fmt, random_state=0)
    engine = make_engine(X)
    assert engine.X is X
    rng = np.random.default_rng(1)
    M = rng.standard_normal((30, 2))
    R = rng.standard_normal((40, 2))
    np.testing.assert_allclose(engine.forward(M, "setup"), X.toarray() @ M, rtol=1e-12)
    np.testing.assert_allclose(
        engine.backward(R, "iterations"), X.toarray().T @ R, rtol=1e-12
    )
    H = rng.uniform(size=(40, 2))
    stored = X.data.copy()
    np.testing.assert_allclose(
        engine.squared_backward(H, "preconditioner"),
        (X.toarray() ** 2).T @ H,
        rtol=1e-12,
    )
    np.testing.assert_array_equal(X.data, stored)  # squaring left X alone
    assert engine.n_products == 3
    assert isinstance(engine.forward(M, "setup"), np.ndarray)


def test_unknown_array_type_is_refused():
    with pytest.raises(TypeError, match="no product engine"):
        make_engine([[1.0, 2.0]])


def test_move_history_keeps_newest_first_and_forgets():
    history = MoveHistory(2)
    for k in range(3):
        history.push(np.full(2, k), np.full(3, 10 * k))
    steps = [step[0] for step, _ in history.recent(5)]
    assert steps == [2, 1]  # capacity 2, newest first
    assert history.recent(1)[0][1][0] == 20
    history.clear()
    assert history.recent(3) == []


def test_engine_count_starts_at_zero():
    engine = ProductEngine(np.eye(3))
    assert engine.n_products == 0
    assert engine.shape == (3, 3)


def test_products_are_counted_by_purpose_and_written_off():
    rng = np.random.default_rng(0)
    X = rng.standard_normal((6, 4))
    engine = ProductEngine(X)
    W, b = rng.standard_normal((4, 2)), rng.standard_normal(2)
    np.testing.assert_allclose(
        engine.pre_activation(W, b, "setup"), X @ W + b, rtol=1e-14
    )
    np.testing.assert_allclose(
        engine.pre_activation(W, None, "iterations"), X @ W, rtol=1e-14
    )
    engine.backward(rng.standard_normal((6, 2)), "iterations")
    engine.write_off("iterations")
    assert engine.counts == {"setup": 1, "iterations": 1, "unused": 1}
    assert engine.n_products == 3
    with pytest.raises(ValueError, match="no 'refresh' product"):
        engine.write_off("refresh")


@pytest.mark.parametrize("layout", ["C", "F", "csr", "csc"])
def test_column_scale_is_each_columns_largest_absolute_value(layout):
    rng = np.random.default_rng(0)
    X = rng.standard_normal((300, 7))
    X[:, 3] = -3e5
    X[:, 5] = 0.0
    expected = np.abs(X).max(axis=0)
    if layout == "F":
        X = np.asfortranarray(X)
    elif layout in ("csr", "csc"):
        X = getattr(sp, f"{layout}_matrix")(X)
    # Small chunks: the row blocks of a dense X must all be read.
    scale = ProductEngine(X).column_scale(chunk_bytes=256)
    np.testing.assert_array_equal(scale, expected)


def test_misaligned_dense_X_is_copied_aligned():
    """A dense X at an odd address (as a dask compute can return) is copied.

    The copy is aligned and equal; fits on the misaligned and the aligned X
    agree exactly, so the copy changes the speed only.
    """
    rng = np.random.default_rng(0)
    X = rng.standard_normal((50, 4)).astype(np.float32)
    buffer = bytearray(X.nbytes + 1)
    misaligned = np.frombuffer(buffer, dtype=np.float32, offset=1).reshape(X.shape)
    misaligned[...] = X
    assert not misaligned.flags.aligned
    engine = make_engine(misaligned)
    assert engine.X.flags.aligned
    np.testing.assert_array_equal(engine.X, X)
    assert make_engine(X).X is X  # aligned input: no copy
    # A dask X's row chunk received from another worker can be such a view:
    # the worker's engine copies it too.
    assert chunk_engine(misaligned[:20]).X.flags.aligned
    assert chunk_engine(X[:20]).X.base is X
    y = (X[:, 0] + 0.3 * X[:, 1] > 0).astype(int)
    a = SOLogisticRegression(max_iter=5, tol=0).fit(misaligned, y)
    b = SOLogisticRegression(max_iter=5, tol=0).fit(X, y)
    np.testing.assert_array_equal(a.coef_, b.coef_)


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("intercept", [False, True])
@pytest.mark.parametrize("m", [1, 3])
def test_weighted_grams_do_not_depend_on_the_row_chunks(m, intercept, dtype):
    # Chunks of one row, of min_rows rows, the default (a few chunks), and
    # the whole X in one: A.T diag(h) A for each column h of H, in float64.
    rng = np.random.default_rng(3)
    X = rng.standard_normal((300, 5)).astype(dtype)
    H = rng.uniform(size=(300, m))
    A = np.hstack([X, np.ones((300, 1))]) if intercept else X.astype(float)
    expected = np.stack([A.T @ (A * H[:, [k]]) for k in range(m)])
    for chunking in (
        {"chunk_bytes": 1, "min_rows": 1},
        {"chunk_bytes": 1, "min_rows": 64},
        {"chunk_bytes": 8 * 6 * m * 100},
        {"min_rows": 1000},
    ):
        engine = ProductEngine(X)
        grams = engine.weighted_grams(H, "hessian", intercept=intercept, **chunking)
        assert grams.dtype == np.float64 and grams.shape == expected.shape
        np.testing.assert_allclose(grams, expected, rtol=1e-12, atol=1e-12)
        assert engine.counts == {"hessian": 1}
