"""The directions' preconditioner, and when it is re-estimated.

The "gd" and "lbfgs" directions are scaled by the inverse of the Hessian's
diagonal at a recent iterate (``model.diagonal_scaling``: one pass over X),
or, for a linear model with intercepts (``preconditioner="centred"``, the
estimator's default), by :class:`CentredScaling`, the same diagonal with the
intercepts eliminated (``model.preconditioner``: one more product). It is
estimated at the start, re-estimated after ``period`` iterations, and then
again after the same period, doubled each time the diagonal changed by at
most a factor ``exp(settled_change)`` in every entry.
"""

import numpy as np

from . import _namespace as ns

# One pass over X (two to three products' time on dense X, where X is
# squared chunk by chunk; one product more when centred) per 20 iterations
# costs at most about 6-9% more; on
# the raw digits and breast-cancer data (10 L-BFGS pairs) the refreshed
# diagonal needed 1.4-4x fewer iterations than one fixed at the start, and it
# settles within a few refreshes.
PRECONDITION_EVERY = 20
SETTLED_CHANGE = 0.1


class PreconditionerSchedule:
    """The iterations at which the diagonal preconditioner is re-estimated.

    Parameters
    ----------
    period : int
        Iterations before the first re-estimate, and the initial period.
    settled_change : float
        A re-estimate whose entries all changed by at most a factor
        ``exp(settled_change)`` doubles the period.

    Attributes
    ----------
    period : int
        The current period.
    next_iteration : int
        The iteration after which the next re-estimate is due.
    """

    def __init__(self, period=PRECONDITION_EVERY, settled_change=SETTLED_CHANGE):
        self.period = period
        self.settled_change = settled_change
        self.next_iteration = period

    def due(self, iteration):
        """Whether the diagonal is to be re-estimated after ``iteration``."""
        return iteration == self.next_iteration

    def update(self, previous, scaling):
        """Schedule the next re-estimate after one from ``previous`` to ``scaling``."""
        if isinstance(scaling, np.ndarray):
            change = np.max(np.abs(np.log(scaling / previous)))
        else:
            xp = ns.namespace(scaling)
            change = ns.to_float(xp.max(xp.abs(xp.log(scaling / previous))))
        if change <= self.settled_change:
            # The diagonal has settled: re-estimate it half as often.
            self.period *= 2
        self.next_iteration += self.period


class CentredScaling:
    """A diagonal preconditioner with a linear model's intercepts eliminated.

    For a linear model with intercepts, features whose mean is far from
    zero (raw pixels, counts, tf-idf: any sparse X, which cannot be
    centred) couple every weight with its output's intercept, and a
    diagonal preconditioner cannot see it. Written in the coordinates of
    features centred by their curvature-weighted means ``mu[j, k] = sum_i
    h_ik x_ij / sum_i h_ik`` (``h_ik`` the loss's curvature in output k of
    sample i), those couplings vanish from the Hessian's 2 x 2 blocks of
    feature j and intercept k, and its diagonal there is ``sum_i h_ik
    x_ij^2 - mu[j, k] sum_i h_ik x_ij + l2`` (the block's Schur
    complement) for the weights and ``sum_i h_ik`` for the intercepts. The
    preconditioner is that inverse diagonal ``S`` in those coordinates,
    ``A S A^T`` in the model's, with ``A`` the change of coordinates
    (weights unchanged, intercept ``k`` minus ``sum_j mu[j, k] w_jk``):
    symmetric positive definite, and O(n_params) to apply. As Spark's
    virtual centring of the features, without changing X.

    Parameters
    ----------
    diagonal : array of shape (n_params,)
        ``S``: the positive inverse diagonal in the centred coordinates,
        weights row by row (feature-major) then intercepts.
    means : array of shape (n_features, n_outputs)
        ``mu``, in the namespace and on the device of ``diagonal``.
    """

    def __init__(self, diagonal, means):
        self.diagonal = diagonal
        self.means = means

    def __call__(self, v):
        """``A S A^T v`` for ``v`` of shape (n_params,) or rows (m, n_params)."""
        d, q = self.means.shape
        n = d * q
        if isinstance(v, np.ndarray) and v.ndim == 1:
            # numpy's own, for a vector (twice per iteration): in place,
            # without the batch dimension (the same numbers).
            out = np.empty_like(v)
            intercepts = v[n:]
            weights = np.multiply(self.means, intercepts, out=out[:n].reshape(d, q))
            np.subtract(v[:n].reshape(d, q), weights, out=weights)
            weights *= self.diagonal[:n].reshape(d, q)
            out[n:] = intercepts * self.diagonal[n:]
            out[n:] -= (self.means * weights).sum(axis=0)
            return out
        xp = ns.namespace(v)
        rows = v if v.ndim == 2 else ns.reshape(v, (1, -1))
        m = rows.shape[0]
        intercepts = rows[:, n:]
        # A^T v: the weights' part in centred coordinates.
        weights = (
            ns.reshape(rows[:, :n], (m, d, q))
            - self.means[None, :, :] * (intercepts[:, None, :])
        )
        scaled_weights = ns.reshape(weights, (m, n)) * self.diagonal[None, :n]
        scaled_intercepts = intercepts * self.diagonal[None, n:]
        # A: the intercepts back in the model's coordinates.
        shift = xp.sum(
            self.means[None, :, :] * ns.reshape(scaled_weights, (m, d, q)), axis=1
        )
        parts = [scaled_weights, scaled_intercepts - shift]
        # numpy before 2.0 has no concat.
        out = np.concatenate(parts, axis=1) if xp is np else xp.concat(parts, axis=1)
        return out if v.ndim == 2 else out[0, :]


def apply_scaling(scaling, v):
    """The preconditioner ``scaling`` (None, a diagonal or a CentredScaling) times v."""
    if scaling is None:
        return v
    if isinstance(scaling, CentredScaling):
        return scaling(v)
    return scaling * v


def scaling_diagonal(scaling):
    """The positive diagonal of a preconditioner (a CentredScaling's ``S``)."""
    if isinstance(scaling, CentredScaling):
        return scaling.diagonal
    return scaling
