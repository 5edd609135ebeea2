"""The multilabel loss: one independent logistic output per label.

Kept apart from ``_losses`` for now; it has the same interface as
:class:`~sklearn_so._losses.BinaryLogLoss` (``value``, ``evaluate`` and
``hessian_diagonal`` on raw predictions ``raw`` of shape (n_samples, q) and
normalised weights ``w``) and belongs beside it.
"""

import numpy as np

from ._losses import _curvature, _sigmoid_slope, _softplus_and_tail, _WeightedTargets
from ._recent import RecentResults


class MultilabelLogLoss:
    """Binary log-losses summed over labels, averaged over samples.

    ``y`` is an (n, L) indicator array of 0/1 labels; the value is
    ``sum_i w_i sum_k (log(1 + exp(z_ik)) - y_ik z_ik)``: MLPClassifier's
    objective for multilabel targets (``binary_log_loss``, summed over the
    outputs and averaged over the samples). With one label it is
    ``BinaryLogLoss``. The exponentials of the last raw predictions evaluated
    are kept, so the gradient at an accepted trial point costs no second
    pass of them.
    """

    def __init__(self):
        self._recent = RecentResults()
        self._weighted_labels = _WeightedTargets()

    def _terms(self, raw):
        return self._recent.by_identity(raw, _softplus_and_tail)

    def value(self, raw, y, w):
        """Weighted mean over samples of the summed ``log(1 + exp(z)) - y z``."""
        softplus, _ = self._terms(raw)
        # Per-entry differences first, as BinaryLogLoss: the sums apart would
        # lose the digits of their difference near the optimum.
        return float(w @ (softplus - y * raw).sum(axis=1))

    def evaluate(self, raw, y, w, J=None):
        """Value, gradient (n, L) and, if ``J`` is given, subspace Hessian.

        The Hessian of a sample is diagonal in the labels,
        ``diag(s(z_ik) (1 - s(z_ik)))``, so the subspace Hessian is
        ``sum_i w_i J_i^T diag(...) J_i``.
        """
        softplus, tail = self._terms(raw)
        value = float(w @ (softplus - y * raw).sum(axis=1))
        # sigmoid(z) = 1 / (1 + e^-z) for z >= 0 and e^z / (1 + e^z) otherwise.
        p = np.where(raw >= 0, 1.0, tail) / (1.0 + tail)
        R = w[:, None] * p
        R -= self._weighted_labels(y, w)
        if J is None:
            return value, R, None
        return value, R, _curvature(J, w[:, None] * _sigmoid_slope(tail))

    def hessian_diagonal(self, raw, y, w):
        """Each entry's weighted curvature ``w_i s(z_ik) (1 - s(z_ik))``, (n, L)."""
        return w[:, None] * _sigmoid_slope(self._terms(raw)[1])
