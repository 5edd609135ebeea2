"""Losses on raw predictions: value, gradient and the subspace curvature.

Every loss works on a raw prediction array ``raw`` of shape (n_samples, q)
and a vector of normalised sample weights ``w`` (the weights already divided by
their sum, so that the value is a weighted *mean*). A loss never sees X: the
caller passes cached products, as scikit-learn's ``LinearModelLoss`` does with
``raw_prediction``.

``curvature(raw, w, J)`` returns ``sum_i w_i J_i^T H_i J_i`` for the stacked
Jacobian ``J`` of shape (k, n_samples, q): the exact Hessian of the loss in a
k-dimensional subspace when the raw prediction is affine in the rates (linear
models) and its Gauss-Newton matrix otherwise (networks).
"""

import numpy as np
from scipy.special import expit, log_expit, logsumexp, softmax


class BinaryLogLoss:
    """Logistic loss on one logit; ``y`` is an (n, 1) array of 0/1 labels."""

    def value(self, raw, y, w):
        """Weighted mean of ``log(1 + exp(z)) - y z``."""
        z = raw[:, 0]
        # log(1 + e^z) - y z = -log_expit(z) + (1 - y) z, stable for both signs.
        return float(w @ ((1.0 - y[:, 0]) * z - log_expit(z)))

    def gradient(self, raw, y, w):
        """Derivative of the weighted mean loss with respect to ``raw``."""
        return (w * (expit(raw[:, 0]) - y[:, 0]))[:, None]

    def curvature(self, raw, w, J):
        """Subspace Hessian ``J^T diag(w p (1 - p)) J``."""
        p = expit(raw[:, 0])
        J0 = J[:, :, 0]
        return (J0 * (w * p * (1.0 - p))) @ J0.T

    def predict_proba(self, raw):
        """Probability of the positive class, shape (n, 1)."""
        return expit(raw)


class MultinomialLogLoss:
    """Softmax cross-entropy; ``y`` is an (n, K) one-hot array."""

    def value(self, raw, y, w):
        """Weighted mean of ``logsumexp(z) - z_y``."""
        return float(w @ (logsumexp(raw, axis=1) - np.einsum("ij,ij->i", raw, y)))

    def gradient(self, raw, y, w):
        """Derivative of the weighted mean loss with respect to ``raw``."""
        return w[:, None] * (softmax(raw, axis=1) - y)

    def curvature(self, raw, w, J):
        """Subspace Hessian with the softmax Hessian ``diag(p) - p p^T``."""
        p = softmax(raw, axis=1)
        Jp = np.einsum("kic,ic->ki", J, p)
        first = np.einsum("kic,lic->kl", J * (w[:, None] * p), J)
        second = (Jp * w) @ Jp.T
        return first - second

    def predict_proba(self, raw):
        """Class probabilities, shape (n, K)."""
        return softmax(raw, axis=1)


class HalfSquaredLoss:
    """Half the squared error, averaged over samples *and* outputs.

    This is the value ``MLPRegressor`` reports as ``loss_``; the gradient is the
    gradient of that same value (see scikit-learn issue #8349 for the lbfgs
    solver's inconsistency with multiple outputs).
    """

    def value(self, raw, y, w):
        """``0.5 * sum_i w_i ||z_i - y_i||^2 / n_outputs``."""
        r = raw - y
        return float(0.5 * (w @ np.einsum("ij,ij->i", r, r)) / raw.shape[1])

    def gradient(self, raw, y, w):
        """Derivative of the value with respect to ``raw``."""
        return (w[:, None] / raw.shape[1]) * (raw - y)

    def curvature(self, raw, w, J):
        """Subspace Hessian ``J^T (w / n_outputs) J``."""
        return np.einsum("kic,lic->kl", J * (w[:, None] / raw.shape[1]), J)
