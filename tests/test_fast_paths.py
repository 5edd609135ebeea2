"""numpy's fast paths give the numbers of the plain formulas they replace."""

import numpy as np
import pytest
import scipy.sparse as sp

from sklearn_so._engine import ProductEngine, _transposed_product
from sklearn_so._losses import MultinomialLogLoss, Targets, one_hot_index
from sklearn_so._models import _numpy_trial_raw


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_backward_product_of_a_c_ordered_X_takes_the_faster_order(dtype):
    rng = np.random.default_rng(0)
    X = rng.standard_normal((300, 20)).astype(dtype)
    R = rng.standard_normal((300, 4)).astype(dtype)
    out = _transposed_product(X, R)
    # R.T @ X, transposed: the same numbers as a product formed that way.
    assert out.shape == (20, 4) and out.flags.f_contiguous
    np.testing.assert_array_equal(out, (R.T @ X).T)
    rtol = 1e-12 if dtype == np.float64 else 1e-5
    np.testing.assert_allclose(out, X.T @ R, rtol=rtol, atol=rtol)
    backward = ProductEngine(X).backward(R, "iterations")
    assert backward.dtype == np.float64
    np.testing.assert_array_equal(backward, (R.T @ X).T.astype(np.float64))


def test_backward_product_keeps_the_plain_order_elsewhere():
    rng = np.random.default_rng(1)
    X = rng.standard_normal((300, 20))
    one_column = rng.standard_normal((300, 1))
    np.testing.assert_array_equal(_transposed_product(X, one_column), X.T @ one_column)
    R = rng.standard_normal((300, 4))
    X_f = np.asfortranarray(X)
    np.testing.assert_array_equal(_transposed_product(X_f, R), X_f.T @ R)
    X_sparse = sp.random(300, 20, density=0.2, format="csr", random_state=0)
    np.testing.assert_allclose(
        _transposed_product(X_sparse, R), X_sparse.toarray().T @ R, rtol=1e-12
    )


@pytest.mark.parametrize("k", [1, 2, 3])
def test_trial_point_is_the_plain_affine_formula_bit_for_bit(k):
    rng = np.random.default_rng(2)
    Z = rng.standard_normal((500, 7))
    flat_V = rng.standard_normal((k, 500 * 7))
    a = rng.standard_normal(k)
    raw = _numpy_trial_raw(Z, flat_V, a)
    np.testing.assert_array_equal(raw, Z + (a @ flat_V).reshape(Z.shape))
    assert raw.shape == Z.shape and raw is not Z


def _one_hot(labels, n_classes):
    return np.eye(n_classes)[labels]


def test_softmax_terms_read_the_target_logit_as_the_masked_sum():
    rng = np.random.default_rng(3)
    labels = rng.integers(0, 5, 400)
    y = _one_hot(labels, 5)
    targets = Targets(y, np.full(400, 1 / 400), one_hot_index(y))
    np.testing.assert_array_equal(targets.one_index, labels + 5 * np.arange(400))
    raw = 3 * rng.standard_normal((400, 5))
    raw[0, 1] = 900.0  # a row shifted by its own maximum
    losses, p = MultinomialLogLoss().terms(raw, targets)
    # The same terms through the masked sum (Targets without the indices).
    want_losses, want_p = MultinomialLogLoss().terms(raw, Targets(y, targets.w))
    np.testing.assert_array_equal(losses, want_losses)
    np.testing.assert_array_equal(p, want_p)
    assert losses[0] > 800
    # A non-contiguous raw takes the masked sum: the same numbers.
    wide = np.zeros((400, 10))
    wide[:, ::2] = raw
    np.testing.assert_array_equal(
        MultinomialLogLoss().terms(wide[:, ::2], targets)[0], losses
    )


@pytest.mark.parametrize(
    "y",
    [
        np.array([[1.0, 1.0, 0.0], [0.0, 1.0, 0.0]]),  # two ones in a row
        np.array([[0.5, 0.5, 0.0], [0.0, 1.0, 0.0]]),  # not 0/1
        np.array([[0.0, 0.0, 0.0], [0.0, 1.0, 1.0]]),  # a row without a one
    ],
)
def test_only_a_one_hot_y_has_target_indices(y):
    assert one_hot_index(y) is None


def test_a_non_finite_logit_gives_a_non_finite_loss_either_way():
    y = _one_hot(np.array([0, 1]), 3)
    targets = Targets(y, np.full(2, 0.5), one_hot_index(y))
    raw = np.array([[0.0, np.inf, 1.0], [np.nan, 0.0, 1.0]])
    with np.errstate(invalid="ignore"):  # as the fit runs
        losses, _ = MultinomialLogLoss().terms(raw, targets)
    assert not np.isfinite(losses).any()
