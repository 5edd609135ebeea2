"""Models as the outer loop sees them: blocks, gradient and subspace oracle.

A model owns the flat parameter vector's layout. The first ``d * q`` entries are
always the first-layer weights ``W1`` (shape (d, q), the only parameters that
meet X); the model never multiplies by X itself. It is handed the cached
pre-activation ``Z = X W1 + b1`` and returns

* the objective, the residual ``R = df/dZ`` (the outer loop forms
  ``X.T @ R``, the one backward product) and every other part of the gradient;
* ``phi(a)``: the objective at ``theta + sum_j a_j P_j`` with its gradient and
  Hessian in the rates, from the images ``V_j = X P_j,W1 + P_j,b1`` only;
  ``phi.pre_activation(a)`` returns the pre-activation of a recent trial
  point, so the outer loop can take it as the new ``Z`` (and the model and
  loss reuse what they computed there) instead of recomputing it.
"""

import numpy as np

from ._activations import ACTIVATIONS
from ._recent import RecentResults

# Smallest Hessian-diagonal entry kept by the preconditioner, relative to the
# largest.
DIAGONAL_FLOOR = 1e-10
# A network layer may change by at most this multiple of its norm per iteration.
MAX_RELATIVE_STEP = 1.0


class _QuadraticPenalty:
    """``l2 / 2 * ||w + sum_j a_j p_j||^2`` as a quadratic in the rates ``a``.

    Its coefficients are inner products of the directions, formed once per
    iteration (O(n_params k^2)), so evaluating it at a trial point is O(k^2).
    """

    def __init__(self, l2, weights, directions):
        self.l2 = l2
        self.base = weights @ weights
        self.cross = directions @ weights
        self.gram = directions @ directions.T

    def value(self, a):
        return 0.5 * self.l2 * (self.base + 2 * (a @ self.cross) + a @ self.gram @ a)

    def gradient(self, a):
        return self.l2 * (self.cross + self.gram @ a)

    def hessian(self):
        return self.l2 * self.gram


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
    # The subspace Hessian is exact and Newton converges quadratically: solving
    # the inner problem to near machine precision costs one or two steps more.
    inner_options = {"rtol": 1e-10, "max_iter": 30}

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
        self._ones = np.ones(len(weights))

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
            # A matrix-vector product: faster than R.sum(axis=0) for few columns.
            grad[self.n_weights :] = self._ones @ R
        return value + self._penalty(theta), R, grad

    def step_limits(self, theta):
        """No bound on the step: the convex problem's Newton steps are safe."""
        return None

    def diagonal_scaling(self, engine, Z):
        """Inverse of the Hessian's diagonal at the point whose pre-activation is Z.

        The diagonal is ``sum_i h_ik x_ij^2 + l2`` for the weight of feature
        j and output k, ``sum_i h_ik`` for an intercept, with ``h_ik`` the
        weighted curvature of the loss in logit k of sample i. Costs one pass
        over X (a product with X squared).
        """
        curvature = self.loss.hessian_diagonal(Z, self.y, self.weights)
        diagonal = np.empty(self.n_params)
        diagonal[: self.n_weights] = (
            engine.squared_backward(curvature) + self.l2
        ).ravel()
        if self.fit_intercept:
            diagonal[self.n_weights :] = self._ones @ curvature
        # Where every sample's logit saturates the curvature vanishes; a floor
        # relative to the largest entry keeps such coordinates from taking
        # over the direction.
        floor = max(DIAGONAL_FLOOR * diagonal.max(), np.finfo(float).tiny)
        return 1.0 / np.maximum(diagonal, floor)

    def subspace(self, theta, Z, basis):
        """Return ``phi(a, derivatives)`` for the directions of ``basis``.

        The raw prediction is affine in ``a``: ``Z + sum_j a_j V_j``; the
        penalty is the quadratic ``l2/2 ||W + sum_j a_j P_j,W||^2`` whose
        coefficients are inner products formed once here.
        """
        V = np.stack([np.zeros_like(Z) if v is None else v for v in basis.V])
        flat_V = V.reshape(len(V), -1)
        n = self.n_weights
        penalty = _QuadraticPenalty(self.l2, theta[:n], basis.P[:, :n])
        loss, y, w = self.loss, self.y, self.weights

        trials = RecentResults()

        def phi(a, derivatives=True):
            raw = Z + (a @ flat_V).reshape(Z.shape)
            trials.put(a.copy(), raw)
            if not derivatives:
                return loss.value(raw, y, w) + penalty.value(a)
            value, R, hess = loss.evaluate(raw, y, w, V)
            grad = flat_V @ R.ravel() + penalty.gradient(a)
            return value + penalty.value(a), grad, hess + penalty.hessian()

        phi.pre_activation = lambda a: trials.find(lambda key: np.array_equal(key, a))
        return phi


class TwoLayerNetwork:
    """``out = act(X W1 + b1) W2 + b2`` under a loss, L2 penalty on W1 and W2.

    The objective is ``sum_i w_i loss(out_i, y_i) + l2/2 (||W1||^2 +
    ||W2||^2)`` with normalised weights ``w``; with ``l2 = alpha / sum(s)`` it
    is exactly scikit-learn's MLP objective for one hidden layer. The layers
    are the blocks: block 0 is ``(W1, b1)``, block 1 is ``(W2, b2)``. Only
    ``W1`` meets X, so the cached pre-activation ``Z = X W1 + b1`` (n x r) is
    all the outer loop has to keep, and every trial point costs O(n r c k).

    Parameters
    ----------
    n_features, n_hidden, n_outputs : int
        Layer sizes d, r and c.
    activation : str
        Hidden activation, a key of ``ACTIVATIONS``.
    loss : loss object
        Output loss on the raw output (logits or predictions).
    y : ndarray of shape (n_samples, c)
        Encoded targets.
    weights : ndarray of shape (n_samples,)
        Normalised sample weights.
    l2 : float
        Penalty strength on the weights (biases are not penalised).
    """

    first_block = 0
    # Gauss-Newton converges only linearly on this non-convex problem:
    # polishing the rates beyond 1e-3 of the achieved decrease costs many
    # trial points and buys nothing (measured on digits: 16x slower fits,
    # same objective).
    inner_options = {"rtol": 1e-3, "max_iter": 10}

    def __init__(
        self, n_features, n_hidden, n_outputs, activation, loss, y, weights, l2
    ):
        self.d, self.r, self.c = n_features, n_hidden, n_outputs
        self.activation = activation
        self.act, self.act_prime = ACTIVATIONS[activation]
        self.loss = loss
        self.y = y
        self.weights = weights
        self.l2 = l2
        d, r, c = n_features, n_hidden, n_outputs
        self._W1 = slice(0, d * r)
        self._b1 = slice(d * r, d * r + r)
        self._W2 = slice(d * r + r, d * r + r + r * c)
        self._b2 = slice(d * r + r + r * c, d * r + r + r * c + c)
        self.n_params = self._b2.stop
        self.blocks = [slice(0, self._b1.stop), slice(self._b1.stop, self.n_params)]
        mask = np.zeros(self.n_params, dtype=bool)
        mask[self._W1] = mask[self._W2] = True
        self._weight_mask = mask
        # Hidden activations, outputs and activation slopes of recent trial
        # pre-activations, looked up by identity.
        self._outputs = RecentResults()
        # One slope array only: each holds n x r floats, and the accepted
        # trial is most often the last one evaluated with derivatives.
        self._slopes = RecentResults(size=1)

    def unpack(self, theta):
        """Return views ``(W1, b1, W2, b2)``."""
        return (
            theta[self._W1].reshape(self.d, self.r),
            theta[self._b1],
            theta[self._W2].reshape(self.r, self.c),
            theta[self._b2],
        )

    def first_layer(self, theta):
        """Return the views ``(W1, b1)`` that meet X."""
        return self.unpack(theta)[:2]

    def step_limits(self, theta):
        """Largest parameter change allowed per layer in one iteration.

        The safeguard against a layer's rate running away: on this non-convex
        problem the subspace minimiser can lie far out along a direction
        whose curvature the Gauss-Newton model underestimates. A layer may
        move by at most ``MAX_RELATIVE_STEP`` times the norm of its parameters
        (at least ``MAX_RELATIVE_STEP``) per iteration.
        """
        return np.array(
            [
                MAX_RELATIVE_STEP * max(np.linalg.norm(theta[b]), 1.0)
                for b in self.blocks
            ]
        )

    def _penalty(self, theta):
        weights = theta[self._weight_mask]
        return 0.5 * self.l2 * (weights @ weights)

    def output(self, theta, Z):
        """Hidden activations and raw output for the pre-activation ``Z``.

        A ``Z`` taken from ``phi.pre_activation`` comes with the activations
        and output its trial computed (with ``W2 + sum_j a_j P_j,W2``, the
        same second layer as ``theta``'s up to rounding). The lookup is by
        ``Z`` alone: only pass such a ``Z`` with the ``theta`` of the step
        that accepted it, as the outer loop does.
        """
        known = self._outputs.find(lambda stored: stored is Z)
        if known is not None:
            return known
        _, _, W2, b2 = self.unpack(theta)
        A = self.act(Z)
        return A, A @ W2 + b2

    def objective(self, theta, Z):
        """Objective value at ``theta`` whose pre-activation is ``Z``."""
        _, out = self.output(theta, Z)
        return self.loss.value(out, self.y, self.weights) + self._penalty(theta)

    def objective_and_gradient(self, theta, Z):
        """Return ``f``, ``R = df/dZ`` and the gradient without ``X.T R``."""
        _, _, W2, _ = self.unpack(theta)
        A, out = self.output(theta, Z)
        value, G, _ = self.loss.evaluate(out, self.y, self.weights)
        slope = self._slopes.find(lambda stored: stored is Z)
        R = G @ W2.T
        R *= self.act_prime(Z, A) if slope is None else slope
        grad = np.where(self._weight_mask, self.l2 * theta, 0.0)
        grad[self._b1] = R.sum(axis=0)
        grad[self._W2] += (A.T @ G).ravel()
        grad[self._b2] = G.sum(axis=0)
        return value + self._penalty(theta), R, grad

    def subspace(self, theta, Z, basis):
        """Return ``phi(a, derivatives)`` for the directions of ``basis``.

        ``Z(a) = Z + sum_j a_j V_j`` and ``W2(a), b2(a)`` are affine in ``a``;
        the Jacobian of the output is
        ``J_j = (act'(Z(a)) * V_j) W2(a) + act(Z(a)) P_j,W2 + P_j,b2``, and the
        Hessian returned is the Gauss-Newton matrix ``J^T H_loss J`` plus the
        penalty's exact one: positive semi-definite, as a damped Gauss-Newton
        method needs on this non-convex problem.
        """
        k = len(basis.V)
        _, _, W2, b2 = self.unpack(theta)
        P2W = basis.P[:, self._W2].reshape(k, self.r, self.c)
        P2b = basis.P[:, self._b2]
        # Skip the parts a direction does not have (per-layer bases).
        touches_W2 = [bool(np.any(P2W[j]) or np.any(P2b[j])) for j in range(k)]
        images = [(j, v) for j, v in enumerate(basis.V) if v is not None]
        penalty = _QuadraticPenalty(
            self.l2, theta[self._weight_mask], basis.P[:, self._weight_mask]
        )
        loss, y, w = self.loss, self.y, self.weights
        trials = RecentResults()

        def forward(a):
            # Z + sum_j a_j V_j with one scratch array, whatever the count:
            # each n x r temporary is a pass over memory.
            Za = scaled = None
            for j, v in images:
                if a[j] != 0.0:
                    if Za is None:
                        Za = np.multiply(v, a[j])
                        Za += Z
                    else:
                        scaled = np.multiply(v, a[j], out=scaled)
                        Za += scaled
            if Za is None:
                Za = Z.copy()
            W2a = W2 + np.tensordot(a, P2W, axes=1)
            b2a = b2 + a @ P2b
            A = self.act(Za)
            out = A @ W2a + b2a
            self._outputs.put(Za, (A, out))
            trials.put(a.copy(), Za)
            return Za, A, W2a, out

        def phi(a, derivatives=True):
            Za, A, W2a, out = forward(a)
            if not derivatives:
                return loss.value(out, y, w) + penalty.value(a)
            J = np.zeros((k,) + out.shape)
            if images:
                slope = self.act_prime(Za, A)
                self._slopes.put(Za, slope)
                scratch = None
                for j, v in images:
                    scratch = np.multiply(slope, v, out=scratch)
                    J[j] = scratch @ W2a
            for j in range(k):
                if touches_W2[j]:
                    J[j] += A @ P2W[j] + P2b[j]
            value, G, hess = loss.evaluate(out, y, w, J)
            grad = J.reshape(k, -1) @ G.ravel() + penalty.gradient(a)
            return value + penalty.value(a), grad, hess + penalty.hessian()

        phi.pre_activation = lambda a: trials.find(lambda key: np.array_equal(key, a))
        return phi
