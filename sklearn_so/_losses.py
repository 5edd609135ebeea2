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


# Largest logit above the target's for which exp() is taken with the target's
# shift: e^500 is far from overflow (e^709), even summed over many classes.
MAX_EXPONENT = 500.0


def _sigmoid_slope(tail):
    """``s(z) (1 - s(z))`` from ``tail = e^{-|z|}``: accurate at any margin.

    ``p * (1 - p)`` would round to 0 once ``p`` rounds to 1 (z > 37).
    """
    return tail / (1.0 + tail) ** 2


class _WeightedTargets:
    """``w[:, None] * y``, computed once per (targets, weights) pair.

    The targets and weights of a fit are fixed arrays, so the products that
    enter every evaluation of the loss are formed once instead of per call.
    """

    def __init__(self):
        self._key = None
        self._value = None

    def __call__(self, y, w):
        if self._key is None or self._key[0] is not y or self._key[1] is not w:
            self._key = (y, w)
            self._value = w[:, None] * y
        return self._value


class BinaryLogLoss:
    """Logistic loss on one logit; ``y`` is an (n, 1) array of 0/1 labels.

    The exponentials of the last raw predictions evaluated are kept, so the
    gradient at an accepted trial point costs no second pass of them.
    """

    def __init__(self):
        self._recent = RecentResults()
        self._weighted_labels = _WeightedTargets()

    def _terms(self, raw):
        return self._recent.by_identity(raw, lambda r: _softplus_and_tail(r[:, 0]))

    def value(self, raw, y, w):
        """Weighted mean of ``log(1 + exp(z)) - y z``."""
        # Per-sample differences first: the two sums apart would each be much
        # larger than their difference and lose its last digits, which the
        # searches need near the optimum.
        return float(w @ (self._terms(raw)[0] - y[:, 0] * raw[:, 0]))

    def evaluate(self, raw, y, w, J=None):
        """Value, gradient (n, 1) and, if ``J`` is given, subspace Hessian."""
        z = raw[:, 0]
        softplus, tail = self._terms(raw)
        wy = self._weighted_labels(y, w)[:, 0]
        value = float(w @ (softplus - y[:, 0] * z))
        # sigmoid(z) = 1 / (1 + e^-z) for z >= 0 and e^z / (1 + e^z) otherwise.
        p = np.where(z >= 0, 1.0, tail) / (1.0 + tail)
        R = w * p
        R -= wy
        R = R[:, None]
        if J is None:
            return value, R, None
        return value, R, _curvature(J, (w * _sigmoid_slope(tail))[:, None])

    def hessian_diagonal(self, raw, y, w):
        """Each sample's weighted curvature ``w_i s(z_i) (1 - s(z_i))``, (n, 1)."""
        return (w * _sigmoid_slope(self._terms(raw)[1]))[:, None]


class MultinomialLogLoss:
    """Softmax cross-entropy; ``y`` is an (n, K) one-hot array (required).

    Each sample's loss is computed as ``log(sum_k exp(z_k - z_y))``: shifting
    by the target's logit keeps every term of the sum at least 1, so the loss
    is accurate to a few units in its last place, which the searches need
    near the optimum (a mean of ``logsumexp(z) - z_y`` loses digits to
    cancellation when the logits are large). The softmax of the last raw
    predictions evaluated is kept, so the gradient at an accepted trial point
    costs no second pass of exponentials.
    """

    def __init__(self):
        self._recent = RecentResults()
        self._weighted_labels = _WeightedTargets()

    @staticmethod
    def _compute_terms(raw, y):
        """Every sample's loss (shape (n,)) and the softmax; ``y`` one-hot."""
        ones = np.ones(raw.shape[1])
        # The target logit; a matrix-vector product sums the few columns
        # faster than .sum(axis=1) (and the same below).
        target = (raw * y) @ ones
        shifted = raw - target[:, None]
        wide = None
        if not shifted.max() <= MAX_EXPONENT:
            # Rows with a logit far above the target's (or a non-finite one)
            # are shifted by their own maximum instead, so no exponential
            # overflows; the other rows keep the accurate shift.
            top = shifted.max(axis=1)
            wide = ~(top <= MAX_EXPONENT)
            shifted[wide] -= top[wide, None]
        np.exp(shifted, out=shifted)
        total = shifted @ ones
        losses = np.log(total)
        if wide is not None:
            losses[wide] += top[wide]
        shifted *= (1.0 / total)[:, None]
        return losses, shifted

    def _terms(self, raw, y):
        # Cached by the identity of raw, with the targets they were computed
        # for (a different y, e.g. a validation set's, is computed afresh).
        known_y, *terms = self._recent.by_identity(
            raw, lambda r: (y, *self._compute_terms(r, y))
        )
        return terms if known_y is y else self._compute_terms(raw, y)

    def value(self, raw, y, w):
        """Weighted mean of ``logsumexp(z) - z_y``."""
        return float(w @ self._terms(raw, y)[0])

    def evaluate(self, raw, y, w, J=None):
        """Value, gradient (n, K) and, if ``J`` is given, subspace Hessian.

        The softmax Hessian of a sample is ``diag(p) - p p^T``, so the
        subspace Hessian is ``sum_i w_i (J_i^T diag(p_i) J_i - (J_i p_i)(J_i
        p_i)^T)``.
        """
        losses, p = self._terms(raw, y)
        value = float(w @ losses)
        R = p * w[:, None]
        R -= self._weighted_labels(y, w)
        if J is None:
            return value, R, None
        Jp = np.einsum("kic,ic->ki", J, p)
        hess = _curvature(J, w[:, None] * p) - (Jp * w) @ Jp.T
        return value, R, hess

    def hessian_diagonal(self, raw, y, w):
        """Each sample's weighted Hessian diagonal ``w_i p_ik (1 - p_ik)``, (n, K)."""
        _, p = self._terms(raw, y)
        return w[:, None] * p * (1.0 - p)


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
