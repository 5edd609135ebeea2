"""Models as the outer loop sees them: blocks, gradient and subspace oracle.

A model owns the flat parameter vector's layout. The first ``d * q`` entries are
always the first-layer weights ``W1`` (shape (d, q), the only parameters that
meet X); the model never multiplies by X itself. It is handed the cached
pre-activation ``Z = X W1 + b1`` and returns

* the objective, the residual ``R = df/dZ`` (the outer loop forms
  ``X.T @ R``, the one backward product) and every other part of the gradient;
* ``phi(a)``: the objective at ``theta + sum_j a_j P_j`` with its gradient and
  Hessian in the rates, from the images ``V_j = X P_j,W1 + P_j,b1`` only.
"""

import numpy as np


class LinearModel:
    """``raw = X W + b`` under a loss, with an L2 penalty on W.

    The objective is ``sum_i w_i loss(raw_i, y_i) + l2 / 2 * ||W||^2`` with
    normalised weights ``w`` (they sum to one).

    Parameters
    ----------
    n_features, n_outputs : int
        Shape (d, q) of W.
    loss : loss object
        From ``_losses``.
    y : ndarray of shape (n_samples, q)
        Encoded targets.
    weights : ndarray of shape (n_samples,)
        Normalised sample weights.
    l2 : float
        Penalty strength on W (the intercept is not penalised).
    fit_intercept : bool
        Whether ``b`` is a parameter.
    """

    first_block = 0

    def __init__(self, n_features, n_outputs, loss, y, weights, l2, fit_intercept):
        self.d = n_features
        self.q = n_outputs
        self.loss = loss
        self.y = y
        self.weights = weights
        self.l2 = l2
        self.fit_intercept = fit_intercept
        self.n_weights = n_features * n_outputs
        self.n_params = self.n_weights + (n_outputs if fit_intercept else 0)
        self.blocks = [slice(0, self.n_params)]

    def unpack(self, theta):
        """Return ``(W, b)`` views; ``b`` is None without an intercept."""
        W = theta[: self.n_weights].reshape(self.d, self.q)
        b = theta[self.n_weights :] if self.fit_intercept else None
        return W, b

    first_layer = unpack

    def _penalty(self, theta):
        W = theta[: self.n_weights]
        return 0.5 * self.l2 * (W @ W)

    def objective(self, theta, Z):
        """Objective value at ``theta`` whose pre-activation is ``Z``."""
        return self.loss.value(Z, self.y, self.weights) + self._penalty(theta)

    def objective_and_gradient(self, theta, Z):
        """Return ``f``, the residual ``R = df/dZ`` and the gradient sans ``X.T R``.

        The returned gradient holds the penalty's part in the W slot; the
        caller adds ``X.T @ R`` there.
        """
        value, R, _ = self.loss.evaluate(Z, self.y, self.weights)
        grad = np.empty(self.n_params)
        grad[: self.n_weights] = self.l2 * theta[: self.n_weights]
        if self.fit_intercept:
            grad[self.n_weights :] = R.sum(axis=0)
        return value + self._penalty(theta), R, grad

    def diagonal_scaling(self, engine):
        """Inverse of a bound on the Hessian's diagonal, for preconditioning.

        The log-losses' curvature is at most 1/4 per logit, so the diagonal of
        the Hessian is at most ``sum_i w_i x_ij^2 / 4 + l2`` for a weight and
        ``1/4`` for an intercept. Costs one pass over X.
        """
        columns = 0.25 * engine.weighted_column_norms(self.weights) + self.l2
        diagonal = np.full(self.n_params, 0.25)
        diagonal[: self.n_weights] = np.repeat(columns, self.q)
        return 1.0 / np.maximum(diagonal, np.finfo(float).tiny)

    def subspace(self, theta, Z, basis):
        """Return ``phi(a, derivatives)`` for the directions of ``basis``.

        The raw prediction is affine in ``a``: ``Z + sum_j a_j V_j``; the
        penalty is the quadratic ``l2/2 ||W + sum_j a_j P_j,W||^2`` whose
        coefficients are inner products formed once here.
        """
        V = np.stack([np.zeros_like(Z) if v is None else v for v in basis.V])
        PW = basis.P[:, : self.n_weights]
        W = theta[: self.n_weights]
        cross = PW @ W
        gram = PW @ PW.T
        base_penalty = W @ W
        loss, y, w, l2 = self.loss, self.y, self.weights, self.l2

        def penalty(a):
            return 0.5 * l2 * (base_penalty + 2 * (a @ cross) + a @ gram @ a)

        def phi(a, derivatives=True):
            raw = Z + np.tensordot(a, V, axes=1)
            if not derivatives:
                return loss.value(raw, y, w) + penalty(a)
            value, R, hess = loss.evaluate(raw, y, w, V)
            value += penalty(a)
            grad = V.reshape(len(a), -1) @ R.ravel() + l2 * (cross + gram @ a)
            return value, grad, hess + l2 * gram

        return phi
