"""Losses on raw predictions: value, gradient and the subspace curvature.

Every loss works on a raw prediction array ``raw`` of shape (n_samples, q)
and a vector of normalised sample weights ``w`` (the weights already divided by
their sum, so that the value is a weighted *mean*). A loss never sees X: the
caller passes cached products, as scikit-learn's ``LinearModelLoss`` does with
``raw_prediction``.

``evaluate(raw, y, w, J)`` returns the value, the gradient ``R = d value / d
raw`` and, given a stacked Jacobian ``J`` of shape (k, n_samples, q), the
matrix ``sum_i w_i J_i^T H_i J_i``: the exact Hessian of the loss in a
k-dimensional subspace when the raw prediction is affine in the rates (linear
models), its Gauss-Newton matrix otherwise (networks). The three share one
pass over the exponentials, which dominates the cost of a trial point.
"""

import numpy as np

from ._recent import RecentResults


def _curvature(J, weighted_hessian_diag):
    """``sum_i J_i^T diag(h_i) J_i`` for J of shape (k, n, q), h of shape (n, q)."""
    k = J.shape[0]
    flat = J.reshape(k, -1)
    return (flat * weighted_hessian_diag.reshape(1, -1)) @ flat.T


def _softplus_and_tail(z):
    """``log(1 + e^z)`` computed stably, and ``e^{-|z|}`` for reuse.

    One exponential and one log1p: about twice as fast as scipy's log_expit,
    and the tail gives the sigmoid without another exponential.
    """
    tail = np.exp(-np.abs(z))
    return np.maximum(z, 0.0) + np.log1p(tail), tail


class BinaryLogLoss:
    """Logistic loss on one logit; ``y`` is an (n, 1) array of 0/1 labels.

    The exponentials of the last raw predictions evaluated are kept, so the
    gradient at an accepted trial point costs no second pass of them.
    """

    def __init__(self):
        self._recent = RecentResults()

    def _terms(self, raw):
        return self._recent.by_identity(raw, lambda r: _softplus_and_tail(r[:, 0]))

    def value(self, raw, y, w):
        """Weighted mean of ``log(1 + exp(z)) - y z``."""
        z = raw[:, 0]
        return float(w @ (self._terms(raw)[0] - y[:, 0] * z))

    def evaluate(self, raw, y, w, J=None):
        """Value, gradient (n, 1) and, if ``J`` is given, subspace Hessian."""
        z = raw[:, 0]
        softplus, tail = self._terms(raw)
        value = float(w @ (softplus - y[:, 0] * z))
        # sigmoid(z) = 1 / (1 + e^-z) for z >= 0 and e^z / (1 + e^z) otherwise.
        p = np.where(z >= 0, 1.0, tail) / (1.0 + tail)
        R = (w * (p - y[:, 0]))[:, None]
        if J is None:
            return value, R, None
        return value, R, _curvature(J, (w * p * (1.0 - p))[:, None])


class MultinomialLogLoss:
    """Softmax cross-entropy; ``y`` is an (n, K) one-hot array.

    The softmax of the last raw predictions evaluated is kept, so the
    gradient at an accepted trial point costs no second pass of exponentials.
    """

    def __init__(self):
        self._recent = RecentResults()

    @staticmethod
    def _compute_log_normaliser(raw):
        top = raw.max(axis=1, keepdims=True)
        shifted = np.exp(raw - top)
        total = shifted.sum(axis=1, keepdims=True)
        return top + np.log(total), shifted / total

    def _log_normaliser(self, raw):
        return self._recent.by_identity(raw, self._compute_log_normaliser)

    def value(self, raw, y, w):
        """Weighted mean of ``logsumexp(z) - z_y``."""
        log_norm, _ = self._log_normaliser(raw)
        return float(w @ (log_norm[:, 0] - np.einsum("ij,ij->i", raw, y)))

    def evaluate(self, raw, y, w, J=None):
        """Value, gradient (n, K) and, if ``J`` is given, subspace Hessian.

        The softmax Hessian of a sample is ``diag(p) - p p^T``, so the
        subspace Hessian is ``sum_i w_i (J_i^T diag(p_i) J_i - (J_i p_i)(J_i
        p_i)^T)``.
        """
        log_norm, p = self._log_normaliser(raw)
        value = float(w @ (log_norm[:, 0] - np.einsum("ij,ij->i", raw, y)))
        R = w[:, None] * (p - y)
        if J is None:
            return value, R, None
        Jp = np.einsum("kic,ic->ki", J, p)
        hess = _curvature(J, w[:, None] * p) - (Jp * w) @ Jp.T
        return value, R, hess


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

    def evaluate(self, raw, y, w, J=None):
        """Value, gradient (n, q) and, if ``J`` is given, subspace Hessian."""
        scaled_w = w[:, None] / raw.shape[1]
        residual = raw - y
        value = float(0.5 * np.sum(scaled_w * residual**2))
        R = scaled_w * residual
        if J is None:
            return value, R, None
        return value, R, _curvature(J, np.broadcast_to(scaled_w, raw.shape))
