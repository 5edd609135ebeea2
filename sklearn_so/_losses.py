"""Losses on raw predictions: value, gradient and the subspace curvature.

Every loss works on a raw prediction array ``raw`` of shape (n_samples, q)
and a vector of normalised sample weights ``w`` (the weights already divided by
their sum, so that the value is a weighted *mean*). A loss never sees X: the
caller passes cached products, as scikit-learn's ``LinearModelLoss`` does with
``raw_prediction``.

Targets and weights come together as a :class:`Targets`. A loss has
``terms(raw, targets)`` -- the expensive per-sample part (one pass of
exponentials) -- and every other method takes those terms back
(``terms=``), computing them only when the caller has none: the caller (a
model's forward state) decides what is kept, so no lookup by identity is
needed.

``evaluate(raw, targets, J)`` returns the value, the gradient ``R = d value
/ d raw`` and, given a stacked Jacobian ``J`` of shape (k, n_samples, q), the
matrix ``sum_i w_i J_i^T H_i J_i``: the exact Hessian of the loss in a
k-dimensional subspace when the raw prediction is affine in the rates (linear
models), its Gauss-Newton matrix otherwise (networks). The three share the
terms, whose exponentials dominate the cost of a trial point.

``hessian_factors(raw, targets)`` gives every sample's weighted Hessian in
the outputs as ``diag(d_i) - u_i u_i^T`` (``u`` None when it is diagonal):
the linear model builds its exact Hessian, and its products with the
Hessian, from these (the ``"newton"`` and ``"newton-cg"`` directions).

Every loss works in the namespace of its arrays, on their device
(``array_api_dispatch``, see ``_namespace``; lazily for dask arrays):
for numpy that is plain numpy, and numpy keeps its own routine only where
it rounds differently or saves a pass over the samples (marked where it
is). A value is a float for numpy arrays and a 0-d array otherwise, left
where it is for the caller to move to the host with the rest of a trial's
numbers.
"""

from dataclasses import dataclass, field

import numpy as np

from ._namespace import device, namespace, reshape


def _curvature(J, weighted_hessian_diag):
    """``sum_i J_i^T diag(h_i) J_i`` for J of shape (k, n, q), h of shape (n, q)."""
    k = J.shape[0]
    flat = reshape(J, (k, -1))
    return (flat * reshape(weighted_hessian_diag, (1, -1))) @ flat.T


def _softplus_and_tail(z):
    """``log(1 + e^z)`` computed stably, and ``e^{-|z|}`` for reuse.

    One exponential and one log1p: about twice as fast as scipy's log_expit,
    and the tail gives the sigmoid without another exponential. In ``z``'s
    namespace, on its device.
    """
    if not isinstance(z, np.ndarray):
        xp = namespace(z)
        tail = xp.exp(-xp.abs(z))
        return xp.clip(z, min=0.0) + xp.log1p(tail), tail
    tail = np.exp(-np.abs(z))
    return np.maximum(z, 0.0) + np.log1p(tail), tail


def _host_if_numpy(value):
    """A numpy loss value as a float; another namespace's 0-d array as it is.

    A device value stays on the device until the caller moves it to the host
    together with the rest of a trial's numbers (see ``_namespace``).
    """
    return float(value) if isinstance(value, np.generic | np.ndarray) else value


# Largest logit above the target's for which exp() is taken with the target's
# shift: e^500 is far from overflow (e^709), even summed over many classes.
MAX_EXPONENT = 500.0


def _sigmoid_slope(tail):
    """``s(z) (1 - s(z))`` from ``tail = e^{-|z|}``: accurate at any margin.

    ``p * (1 - p)`` would round to 0 once ``p`` rounds to 1 (z > 37).
    """
    return tail / (1.0 + tail) ** 2


@dataclass(frozen=True)
class Targets:
    """The encoded targets of a fit and their normalised sample weights.

    Formed once per fit; ``weighted`` (``w[:, None] * y``) enters every
    gradient of the log-losses, so it is computed here rather than per call.

    Parameters
    ----------
    y : ndarray of shape (n_samples, q)
        Encoded targets (0/1 labels, one-hot rows or regression targets).
    w : ndarray of shape (n_samples,)
        Sample weights summing to one.
    one_index : ndarray or None, default=None
        :func:`one_hot_index` of a one-hot ``y``: the log-loss of several
        classes reads the target logits through it.
    """

    y: np.ndarray
    w: np.ndarray
    one_index: np.ndarray | None = field(default=None, repr=False, compare=False)
    weighted: np.ndarray = field(init=False, repr=False)

    def __post_init__(self):
        object.__setattr__(self, "weighted", self.w[:, None] * self.y)


def one_hot_index(y):
    """Flat indices of the ones of a one-hot numpy ``y``, else None.

    Given to :class:`Targets` as ``one_index``, ``raw.ravel().take(index)``
    reads each row's target entry: about 10x faster than the masked sum
    ``(raw * y) @ 1`` (measured on 100,000 x 10), the same numbers for a
    finite ``raw``. Formed once per fit (one pass over ``y``); the tasks of a
    dask X, whose ``Targets`` are built per chunk and trial, do without.
    """
    if not isinstance(y, np.ndarray) or y.ndim != 2:
        return None
    n, width = y.shape
    index = np.flatnonzero(y)
    one_hot = (
        len(index) == n
        and np.array_equal(index // width, np.arange(n))
        and bool(np.all(y.flat[index] == 1))
    )
    return index if one_hot else None


class BinaryLogLoss:
    """Logistic loss on one logit; ``y`` is an (n, 1) array of 0/1 labels.

    Its terms (``log(1 + e^z)`` and ``e^{-|z|}``) are one pass of
    exponentials; a caller that keeps them (a trial point's forward state)
    passes them back, so the gradient at an accepted trial point costs no
    second pass. It works in the namespace of its arrays: the value is a
    float for numpy arrays and a 0-d array otherwise.
    """

    def terms(self, raw, targets):
        """``(softplus(z), e^{-|z|})`` of the single logit, each of shape (n,)."""
        return _softplus_and_tail(raw[:, 0])

    def value(self, raw, targets, terms=None):
        """Weighted mean of ``log(1 + exp(z)) - y z``."""
        softplus, _ = self.terms(raw, targets) if terms is None else terms
        # Per-sample differences first: the two sums apart would each be much
        # larger than their difference and lose its last digits, which the
        # searches need near the optimum.
        return _host_if_numpy(targets.w @ (softplus - targets.y[:, 0] * raw[:, 0]))

    def evaluate(self, raw, targets, J=None, terms=None):
        """Value, gradient (n, 1) and, if ``J`` is given, subspace Hessian."""
        z = raw[:, 0]
        w = targets.w
        softplus, tail = self.terms(raw, targets) if terms is None else terms
        value = _host_if_numpy(w @ (softplus - targets.y[:, 0] * z))
        # sigmoid(z) = 1 / (1 + e^-z) for z >= 0 and e^z / (1 + e^z) otherwise.
        one = 1.0 if isinstance(tail, np.ndarray) else namespace(tail).ones_like(tail)
        p = namespace(tail).where(z >= 0, one, tail) / (1.0 + tail)
        R = w * p
        R -= targets.weighted[:, 0]
        R = R[:, None]
        if J is None:
            return value, R, None
        return value, R, _curvature(J, (w * _sigmoid_slope(tail))[:, None])

    def hessian_diagonal(self, raw, targets, terms=None):
        """Each sample's weighted curvature ``w_i s(z_i) (1 - s(z_i))``, (n, 1)."""
        _, tail = self.terms(raw, targets) if terms is None else terms
        return (targets.w * _sigmoid_slope(tail))[:, None]

    def hessian_factors(self, raw, targets, terms=None):
        """Each sample's weighted Hessian ``diag(d_i)``: ``(d, None)``.

        One logit: ``d`` is the Hessian diagonal, with no rank-one part.
        """
        return self.hessian_diagonal(raw, targets, terms), None


class MultilabelLogLoss:
    """Binary log-losses summed over labels, averaged over samples.

    ``y`` is an (n, L) indicator array of 0/1 labels; the value is
    ``sum_i w_i sum_k (log(1 + exp(z_ik)) - y_ik z_ik)``: MLPClassifier's
    objective for multilabel targets (``binary_log_loss``, summed over the
    outputs and averaged over the samples). With one label it is
    ``BinaryLogLoss``. Its terms are ``log(1 + e^z)`` and ``e^{-|z|}`` of
    every entry.

    It works in the namespace of its arrays, on their device: the value is a
    float for numpy arrays and a 0-d array otherwise, left on the device for
    the caller to move to the host with the rest of a trial's numbers.
    """

    def terms(self, raw, targets):
        """``(softplus(z), e^{-|z|})`` of every logit, each of shape (n, L)."""
        return _softplus_and_tail(raw)

    def value(self, raw, targets, terms=None):
        """Weighted mean over samples of the summed ``log(1 + exp(z)) - y z``."""
        softplus, _ = self.terms(raw, targets) if terms is None else terms
        # Per-entry differences first, as BinaryLogLoss: the sums apart would
        # lose the digits of their difference near the optimum.
        return _host_if_numpy(
            targets.w @ namespace(raw).sum(softplus - targets.y * raw, axis=1)
        )

    def evaluate(self, raw, targets, J=None, terms=None):
        """Value, gradient (n, L) and, if ``J`` is given, subspace Hessian.

        The Hessian of a sample is diagonal in the labels,
        ``diag(s(z_ik) (1 - s(z_ik)))``, so the subspace Hessian is
        ``sum_i w_i J_i^T diag(...) J_i``.
        """
        xp = namespace(raw)
        w = targets.w
        softplus, tail = self.terms(raw, targets) if terms is None else terms
        value = _host_if_numpy(w @ xp.sum(softplus - targets.y * raw, axis=1))
        # sigmoid(z) = 1 / (1 + e^-z) for z >= 0 and e^z / (1 + e^z) otherwise.
        one = 1.0 if xp is np else xp.ones_like(tail)
        p = xp.where(raw >= 0, one, tail) / (1.0 + tail)
        R = w[:, None] * p
        R -= targets.weighted
        if J is None:
            return value, R, None
        return value, R, _curvature(J, w[:, None] * _sigmoid_slope(tail))

    def hessian_diagonal(self, raw, targets, terms=None):
        """Each entry's weighted curvature ``w_i s(z_ik) (1 - s(z_ik))``, (n, L)."""
        _, tail = self.terms(raw, targets) if terms is None else terms
        return targets.w[:, None] * _sigmoid_slope(tail)

    def hessian_factors(self, raw, targets, terms=None):
        """Each sample's weighted Hessian ``diag(d_i)``: ``(d, None)``.

        The labels' losses are independent: the Hessian is diagonal.
        """
        return self.hessian_diagonal(raw, targets, terms), None


class MultinomialLogLoss:
    """Softmax cross-entropy; ``y`` is an (n, K) one-hot array (required).

    Each sample's loss is computed as ``log(sum_k exp(z_k - z_y))``: shifting
    by the target's logit keeps every term of the sum at least 1, so the loss
    is accurate to a few units in its last place, which the searches need
    near the optimum (a mean of ``logsumexp(z) - z_y`` loses digits to
    cancellation when the logits are large). The terms (every sample's loss
    and the softmax) are one pass of exponentials, passed back by a caller
    that keeps them. It works in the namespace of its arrays: the value is a
    float for numpy arrays and a 0-d array otherwise.
    """

    # Adding the same number to every logit of a sample changes nothing.
    shift_invariant = True

    def terms(self, raw, targets):
        """Every sample's loss (shape (n,)) and the softmax (shape (n, K))."""
        if not isinstance(raw, np.ndarray):
            return self._terms_without_branches(raw, targets)
        # numpy's own routine (the same numbers, fewer passes): shifts only
        # the rows that need it, and exponentiates in place.
        ones = np.ones(raw.shape[1])
        index = targets.one_index
        if index is not None and raw.flags.c_contiguous:
            target = raw.ravel().take(index)
        else:
            # The target logit; a matrix-vector product sums the few columns
            # faster than .sum(axis=1) (and the same below).
            target = (raw * targets.y) @ ones
        shifted = raw - target[:, None]
        wide = None
        if not shifted.max(initial=-np.inf) <= MAX_EXPONENT:
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

    @staticmethod
    def _terms_without_branches(raw, targets):
        """:meth:`terms` in any namespace, without a branch on the data.

        The rows whose logits are far above the target's are shifted by
        their maximum, the others by zero, so no boolean crosses to the host
        (or computes a dask graph); the numbers are numpy's.
        """
        xp = namespace(raw)
        ones = xp.ones(raw.shape[1], dtype=raw.dtype, device=device(raw))
        target = (raw * targets.y) @ ones
        shifted = raw - target[:, None]
        top = xp.max(shifted, axis=1)
        shift = xp.where(top <= MAX_EXPONENT, xp.zeros_like(top), top)
        shifted = xp.exp(shifted - shift[:, None])
        total = shifted @ ones
        return xp.log(total) + shift, shifted * (1.0 / total)[:, None]

    def value(self, raw, targets, terms=None):
        """Weighted mean of ``logsumexp(z) - z_y``."""
        losses, _ = self.terms(raw, targets) if terms is None else terms
        return _host_if_numpy(targets.w @ losses)

    def evaluate(self, raw, targets, J=None, terms=None):
        """Value, gradient (n, K) and, if ``J`` is given, subspace Hessian.

        The softmax Hessian of a sample is ``diag(p) - p p^T``, so the
        subspace Hessian is ``sum_i w_i (J_i^T diag(p_i) J_i - (J_i p_i)(J_i
        p_i)^T)``.
        """
        w = targets.w
        losses, p = self.terms(raw, targets) if terms is None else terms
        value = _host_if_numpy(w @ losses)
        R = p * w[:, None]
        R -= targets.weighted
        if J is None:
            return value, R, None
        if isinstance(J, np.ndarray):
            # numpy's own contraction: einsum rounds as the recorded iterates.
            Jp = np.einsum("kic,ic->ki", J, p)
        else:
            Jp = namespace(J).sum(J * p[None, :, :], axis=2)
        hess = _curvature(J, w[:, None] * p) - (Jp * w) @ Jp.T
        return value, R, hess

    def hessian_diagonal(self, raw, targets, terms=None):
        """Each sample's weighted Hessian diagonal ``w_i p_ik (1 - p_ik)``, (n, K)."""
        _, p = self.terms(raw, targets) if terms is None else terms
        return targets.w[:, None] * p * (1.0 - p)

    def hessian_factors(self, raw, targets, terms=None):
        """Each sample's weighted Hessian ``w_i (diag(p_i) - p_i p_i^T)``.

        Returns ``(w p, sqrt(w) p)``: the diagonal part and the rank-one
        factor ``u_i`` of ``diag(d_i) - u_i u_i^T``, each (n, K).
        """
        _, p = self.terms(raw, targets) if terms is None else terms
        w = targets.w[:, None]
        # In the namespace of the weights (numpy: np.sqrt), on their device.
        return w * p, namespace(w).sqrt(w) * p


class HalfSquaredLoss:
    """Half the squared error, averaged over samples *and* outputs.

    This is the value ``MLPRegressor`` reports as ``loss_``; the gradient is the
    gradient of that same value (see scikit-learn issue #8349 for the lbfgs
    solver's inconsistency with multiple outputs). It has no terms worth
    keeping: every quantity is one cheap pass over the residual.

    It works in the namespace of its arrays, on their device: the value is a
    float for numpy arrays and a 0-d array otherwise.
    """

    def terms(self, raw, targets):
        """Nothing to keep (None)."""
        return None

    def value(self, raw, targets, terms=None):
        """``0.5 * sum_i w_i ||z_i - y_i||^2 / n_outputs``."""
        r = raw - targets.y
        if isinstance(r, np.ndarray):
            squares = np.einsum("ij,ij->i", r, r)
        else:
            squares = namespace(r).sum(r * r, axis=1)
        return _host_if_numpy(0.5 * (targets.w @ squares) / raw.shape[1])

    def evaluate(self, raw, targets, J=None, terms=None):
        """Value, gradient (n, q) and, if ``J`` is given, subspace Hessian."""
        xp = namespace(raw)
        scaled_w = targets.w[:, None] / raw.shape[1]
        residual = raw - targets.y
        value = _host_if_numpy(0.5 * xp.sum(scaled_w * residual**2))
        R = scaled_w * residual
        if J is None:
            return value, R, None
        return value, R, _curvature(J, xp.broadcast_to(scaled_w, raw.shape))

    def hessian_diagonal(self, raw, targets, terms=None):
        """Each sample's weighted curvature ``w_i / n_outputs``, shape (n, q)."""
        return np.repeat(targets.w[:, None] / raw.shape[1], raw.shape[1], axis=1)

    def hessian_factors(self, raw, targets, terms=None):
        """Each sample's weighted Hessian ``diag(w_i / n_outputs)``: ``(d, None)``."""
        return self.hessian_diagonal(raw, targets, terms), None
