"""Models as the outer loop sees them: blocks, gradient and subspace oracle.

A model owns the flat parameter vector's layout. The first ``d * q`` entries are
always the first-layer weights ``W1`` (shape (d, q), the only parameters that
meet X); the model never multiplies by X itself. It is handed the cached
pre-activation ``Z = X W1 + b1`` wrapped in a *point* -- the model's forward
state at ``theta``, holding ``Z`` and what the model and its loss compute
from it (hidden activations, outputs, the loss's exponentials), each computed
once -- and returns

* the objective, the residual ``R = df/dZ`` (the outer loop forms
  ``X.T @ R``, the one backward product) and every other part of the gradient;
* ``phi(a)``: a :class:`~sklearn_so._trial.Trial` holding the objective at
  ``theta + sum_j a_j P_j`` with its gradient and Hessian in the rates,
  computed from the images ``V_j = X P_j,W1 + P_j,b1`` only, and the point
  there, which the outer loop takes as its new point when it accepts the
  trial: the gradient there reuses everything the trial computed.

The methods the outer loop needs are the ``Model`` protocol of
``_contracts``; the linear model also offers its curvature
(``diagonal_scaling``, ``hessian``, ``hessian_product``) to the
preconditioned and the Newton directions.

:class:`LinearModel` and :class:`TwoLayerNetwork` work on another array
API library too (``array_api_dispatch``, see ``_namespace``), one class for
every namespace: their targets, weights, parameters, cached pre-activations
and trial points live in X's namespace on X's device, in X's dtype, and only
a trial's k + k^2 + 1 numbers (and the penalty's coefficients, once per
basis; for the "newton" direction the Hessian's Gram blocks, O(n_params^2)
numbers per iteration) cross to the host, where the inner solvers and the
Hessian's factorisation run. Their code is written
against the namespace of their arrays, which for numpy is plain numpy
(numpy-only routines are kept where they are faster, marked where they are).

For a dask X, :class:`DaskLinearModel` and :class:`TwoLayerNetwork` keep
the n-row arrays (targets, weights, pre-activations, trial points) as lazy
dask arrays aligned with X's row chunks and the parameters as numpy arrays
on the client; the loop takes the objective, the gradient and ``X.T R``
from their ``gather_gradient``, one task per row chunk and one round trip.
"""

import functools
import uuid
from dataclasses import dataclass

import numpy as np

from . import _namespace as ns
from ._activations import ACTIVATIONS
from ._dask_rows import map_rows, run, step_rows
from ._losses import Targets, one_hot_index
from ._preconditioner import CentredScaling
from ._trial import FirstTrial, Trial

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

    @classmethod
    def from_device(cls, l2, weights, directions):
        """The penalty for parameters on a device, its coefficients on the host.

        Its k + k^2 + 1 coefficients cross to the host in one go; the
        quadratic is then evaluated there.
        """
        xp = ns.namespace(weights)
        k = directions.shape[0]
        coefficients = xp.concat(
            [
                xp.reshape(weights @ weights, (1,)),
                directions @ weights,
                xp.reshape(directions @ directions.T, (k * k,)),
            ]
        )
        host = ns.to_host(coefficients)
        penalty = cls.__new__(cls)
        penalty.l2 = l2
        penalty.base, penalty.cross = host[0], host[1 : k + 1]
        penalty.gram = host[k + 1 :].reshape(k, k)
        return penalty

    @classmethod
    def of(cls, l2, weights, directions):
        """The penalty for parameters of any namespace (see :meth:`from_device`)."""
        if isinstance(weights, np.ndarray):
            return cls(l2, weights, directions)
        return cls.from_device(l2, weights, directions)

    def value(self, a):
        return 0.5 * self.l2 * (self.base + 2 * (a @ self.cross) + a @ self.gram @ a)

    def gradient(self, a):
        return self.l2 * (self.cross + self.gram @ a)

    def hessian(self):
        return self.l2 * self.gram

    def trial(self, a, point, loss_value, loss_gradient=None, loss_hessian=None):
        """The :class:`Trial` at ``a``: the loss's part plus the penalty's."""
        value = loss_value + self.value(a)
        if loss_gradient is None:
            return Trial(a.copy(), value, point=point)
        gradient = loss_gradient + self.gradient(a)
        return Trial(a.copy(), value, gradient, loss_hessian + self.hessian(), point)


@dataclass
class LinearPoint:
    """A linear model's forward state: ``Z = X W + b`` and the loss's terms.

    Attributes
    ----------
    pre_activation : ndarray of shape (n_samples, q)
        The raw prediction ``X W + b``.
    loss_terms : object or None
        The loss's terms at ``pre_activation`` once computed (see
        ``_losses``); filled by the first evaluation that needs them.
    """

    pre_activation: np.ndarray
    loss_terms: object = None


@dataclass
class NetworkPoint:
    """A two-layer network's forward state at one parameter vector.

    Attributes
    ----------
    pre_activation : ndarray of shape (n_samples, r)
        ``Z = X W1 + b1``.
    hidden : ndarray of shape (n_samples, r) or None
        ``act(Z)`` (None for a dask X: see ``second_layer``).
    output : ndarray of shape (n_samples, c) or None
        ``act(Z) W2 + b2``, the raw output the loss sees (None for a dask X).
    slope : ndarray of shape (n_samples, r) or None
        ``act'(Z)``, once computed (a trial with derivatives computes it).
    loss_terms : object or None
        The loss's terms at ``output``, once computed.
    second_layer : tuple or None
        For a dask X, ``(W2, b2)`` (numpy) of the output: the row tasks
        recompute the activations and the output from ``pre_activation``,
        the one n-row array kept on the workers.
    step_image : ndarray of shape (n_samples, r) or None
        For a trial point that scaled two images or more, ``sum_j a_j
        V_j`` (``pre_activation`` is ``Z`` plus it), summed as
        :meth:`Basis.image` sums it: the move's image if the trial is
        accepted. None otherwise (the loop then sums the image itself).
    """

    pre_activation: np.ndarray
    hidden: np.ndarray
    output: np.ndarray
    slope: np.ndarray | None = None
    loss_terms: object = None
    second_layer: tuple | None = None
    step_image: np.ndarray | None = None


def _centred_scaling(xp, squares, sums, totals, l2):
    """A :class:`~sklearn_so._preconditioner.CentredScaling` from the curvature's sums.

    ``squares`` is ``(X * X).T h``, ``sums`` is ``X.T h`` (both (d, q)) and
    ``totals`` the column sums of ``h``; as :meth:`LinearModel.diagonal_scaling`,
    the diagonal is floored relative to its largest entry.
    """
    tiny = xp.finfo(squares.dtype).smallest_normal
    # xp.maximum, not clip(min=) (numpy before 2.1), with a 0-d array of
    # X's dtype and device for another namespace.
    if xp is not np:
        tiny = xp.asarray(tiny, dtype=squares.dtype, device=ns.device(squares))
    means = sums / xp.maximum(totals, tiny)[None, :]
    # The Schur complement of each (feature, intercept) block of the
    # Hessian's diagonal: non-negative in exact arithmetic; a feature whose
    # mean dwarfs its spread loses digits to cancellation here, and a
    # negative result is clipped to 0, leaving l2 as its floor.
    weights = xp.maximum(squares - sums * means, xp.zeros_like(squares)) + l2
    d, q = squares.shape
    parts = [ns.reshape(weights, (d * q,)), totals]
    diagonal = np.concatenate(parts) if xp is np else xp.concat(parts)
    floor = xp.maximum(DIAGONAL_FLOOR * xp.max(diagonal), tiny)
    return CentredScaling(1.0 / xp.maximum(diagonal, floor), means)


def _fused_block_rows(engine, q):
    """Rows per block of the engine's fused pass over X, or None (see ``_engine``)."""
    rows = getattr(engine, "fused_block_rows", None)
    return None if rows is None else rows(q)


def _loss_terms(loss, raw, targets, point):
    """The loss's terms at ``raw``, kept in ``point`` for the next use."""
    if point.loss_terms is None:
        point.loss_terms = loss.terms(raw, targets)
    return point.loss_terms


def _loss_hessian_times(xp, diagonal, rank_one, image):
    """Each sample's loss Hessian times its row of ``image``.

    The Hessian of a sample's loss in its raw prediction is
    ``diag(diagonal) - rank_one rank_one^T`` (``rank_one`` None where it is
    diagonal): see ``hessian_factors`` of the losses.
    """
    R = diagonal * image
    if rank_one is not None:
        R = R - rank_one * xp.sum(rank_one * image, axis=1, keepdims=True)
    return R


class _HoldsTargets:
    """``y`` and ``weights`` read from the model's :class:`Targets`."""

    @property
    def y(self):
        """The encoded targets, shape (n_samples, n_outputs)."""
        return self.targets.y

    @property
    def weights(self):
        """The normalised sample weights, shape (n_samples,)."""
        return self.targets.w


def _pair_weights(diagonal, rank_one, pairs):
    """The weights ``[k = m] d_k - u_k u_m`` of every output pair, (n, len(pairs)).

    ``diagonal`` and ``rank_one`` are a loss's ``hessian_factors``; numpy
    arrays are indexed with the pairs, other namespaces' (which need not
    support integer-array indexing or masked assignment) are built column
    by column, the same numbers.
    """
    if isinstance(rank_one, np.ndarray):
        first, second = np.array(pairs).T
        weights = -rank_one[:, first] * rank_one[:, second]
        weights[:, first == second] += diagonal
        return weights
    xp = ns.namespace(rank_one)
    columns = []
    for k, m in pairs:
        column = -rank_one[:, k] * rank_one[:, m]
        columns.append(column + diagonal[:, k] if k == m else column)
    return xp.stack(columns, axis=1)


class LinearModel(_HoldsTargets):
    """``raw = X W + b`` under a loss, with an L2 penalty on W.

    The objective is ``sum_i w_i loss(raw_i, y_i) + l2 / 2 * ||W||^2`` with
    normalised weights ``w`` (they sum to one).

    The model works in the namespace of its targets and weights, on their
    device and in their dtype (X's; see ``_namespace``): for numpy, plain
    numpy in float64. Values reach the host as floats (one scalar per
    objective), a trial's value, subspace gradient and Hessian in one
    crossing of k + k^2 + 1 numbers, its rates the other way (k numbers),
    the penalty's coefficients once per basis. numpy keeps its own routine
    where writing through a view saves a copy (marked where it is).

    Parameters
    ----------
    n_features, n_outputs : int
        Shape (d, q) of W.
    loss : loss object
        From ``_losses``.
    y : array of shape (n_samples, q)
        Encoded targets.
    weights : array of shape (n_samples,)
        Normalised sample weights.
    l2 : float
        Penalty strength on W (the intercept is not penalised).
    fit_intercept : bool
        Whether ``b`` is a parameter.
    """

    first_block = 0
    # Its first_trial may fuse the products of an in-memory X (the loop
    # asks only models that say so; a lazy model's always may).
    in_memory_first_trial = True
    # Whether the directions' preconditioner eliminates the intercepts
    # (:meth:`preconditioner`); the estimator sets it.
    centre_intercepts = False
    # The subspace Hessian is exact and Newton converges quadratically: solving
    # the inner problem to near machine precision costs one or two steps more.
    inner_options = {"rtol": 1e-10, "max_iter": 30}
    # What the model calls on its loss (checked when a fit starts, see
    # ``_contracts.check_solver_parts``); the diagonal preconditioner needs
    # ``hessian_diagonal``.
    required_loss_methods = ("terms", "value", "evaluate", "hessian_diagonal")
    # What the "newton" direction's Hessian (:meth:`hessian`) calls on it.
    curvature_loss_methods = ("hessian_factors",)

    def __init__(self, n_features, n_outputs, loss, y, weights, l2, fit_intercept):
        self.d = n_features
        self.q = n_outputs
        self.loss = loss
        self.targets = Targets(y, weights, one_hot_index(y))
        # The targets by row blocks of a fused pass (:meth:`first_trial`).
        self._block_targets_cache = None
        self.l2 = l2
        self.fit_intercept = fit_intercept
        self.n_weights = n_features * n_outputs
        self.n_params = self.n_weights + (n_outputs if fit_intercept else 0)
        self.blocks = [slice(0, self.n_params)]
        self.xp = xp = ns.namespace(weights)
        if xp is np:
            self._ones = np.ones(weights.shape[0])
        else:
            self._ones = xp.ones_like(weights)
            # The working precision's epsilon (numpy fits run in float64,
            # the default): the searches treat changes of the objective
            # below its rounding as noise.
            self.eps = float(xp.finfo(weights.dtype).eps)
        # A loss unchanged by a shift common to every output (the softmax)
        # leaves the sum of W's columns to the penalty alone: the minimiser
        # has columns summing to zero, and directions are kept there.
        self._centre_columns = n_outputs > 1 and getattr(loss, "shift_invariant", False)

    def unpack(self, theta):
        """Return ``(W, b)`` views; ``b`` is None without an intercept."""
        W = ns.reshape(theta[: self.n_weights], (self.d, self.q))
        b = theta[self.n_weights :] if self.fit_intercept else None
        return W, b

    first_layer = unpack

    def point(self, theta, Z):
        """The forward state at ``theta`` whose pre-activation is ``Z``."""
        return LinearPoint(Z)

    def restrict_direction(self, D):
        """Project a direction onto the subspace that holds the minimiser.

        For the softmax, adding a vector to every column of W changes no
        logit difference, so only the penalty sees it: the minimiser (the
        minimum-norm solution, as LogisticRegression's) has columns summing
        to zero. The gradient lies in that subspace, but a per-class
        preconditioner or Adam's scaling moves a direction out of it, where
        only the weak penalty pulls the iterate back. Removing the mean over
        the columns keeps every iterate in the subspace and a descent
        direction a descent direction (the gradient is orthogonal to what is
        removed). Other models and losses return ``D`` unchanged.
        """
        if not self._centre_columns:
            return D
        n = self.n_weights
        if isinstance(D, np.ndarray):
            # numpy's own routine: through a view of a copy (writing through
            # a reshaped view is not part of the array API standard).
            D = D.copy()
            W = D[:n].reshape(self.d, self.q)
            W -= W.mean(axis=1, keepdims=True)
            return D
        xp = ns.namespace(D)
        W = xp.reshape(D[:n], (self.d, self.q))
        W = W - xp.mean(W, axis=1, keepdims=True)
        return xp.concat([xp.reshape(W, (n,)), D[n:]])

    def _penalty(self, theta):
        W = theta[: self.n_weights]
        return 0.5 * self.l2 * (W @ W)

    def objective(self, theta, point):
        """Objective value at ``theta``, whose forward state is ``point``.

        A float (one scalar to the host from a device).
        """
        Z = point.pre_activation
        terms = _loss_terms(self.loss, Z, self.targets, point)
        value = self.loss.value(Z, self.targets, terms) + self._penalty(theta)
        return value if self.xp is np else ns.to_float(value)

    def objective_and_gradient(self, theta, point):
        """Return ``f``, the residual ``R = df/dZ`` and the gradient sans ``X.T R``.

        The returned gradient holds the penalty's part in the W slot; the
        caller adds ``X.T @ R`` there. ``f`` is a float (one scalar to the
        host from a device).
        """
        Z = point.pre_activation
        terms = _loss_terms(self.loss, Z, self.targets, point)
        value, R, _ = self.loss.evaluate(Z, self.targets, terms=terms)
        grad = self.xp.empty_like(theta)
        grad[: self.n_weights] = self.l2 * theta[: self.n_weights]
        if self.fit_intercept:
            # A matrix-vector product: faster than R.sum(axis=0) for few columns.
            grad[self.n_weights :] = self._ones @ R
        value = value + self._penalty(theta)
        return (value if self.xp is np else ns.to_float(value)), R, grad

    def step_limits(self, theta):
        """No bound on the step: the convex problem's Newton steps are safe."""
        return None

    def diagonal_scaling(self, engine, point, purpose):
        """Inverse of the Hessian's diagonal at the forward state ``point``.

        The diagonal is ``sum_i h_ik x_ij^2 + l2`` for the weight of feature
        j and output k, ``sum_i h_ik`` for an intercept, with ``h_ik`` the
        weighted curvature of the loss in logit k of sample i. Costs one pass
        over X (a product with X squared), counted under ``purpose``.
        """
        xp, n = self.xp, self.n_weights
        Z = point.pre_activation
        curvature = self._curvature(point)
        diagonal = xp.empty(self.n_params, dtype=Z.dtype, device=ns.device(Z))
        diagonal[:n] = ns.reshape(
            engine.squared_backward(curvature, purpose) + self.l2, (n,)
        )
        if self.fit_intercept:
            diagonal[n:] = self._ones @ curvature
        # Where every sample's logit saturates the curvature vanishes; a floor
        # relative to the largest entry keeps such coordinates from taking
        # over the direction.
        if xp is np:
            # numpy's own: the floor as a host float.
            floor = max(DIAGONAL_FLOOR * diagonal.max(), np.finfo(float).tiny)
            return 1.0 / np.maximum(diagonal, floor)
        # On a device the floor stays there (no crossing).
        tiny = xp.finfo(diagonal.dtype).smallest_normal
        floor = xp.clip(DIAGONAL_FLOOR * xp.max(diagonal), min=tiny)
        return 1.0 / xp.maximum(diagonal, floor)

    def _curvature(self, point):
        """The loss's weighted curvature ``h`` (n x q) at the forward state."""
        Z = point.pre_activation
        terms = _loss_terms(self.loss, Z, self.targets, point)
        return self.loss.hessian_diagonal(Z, self.targets, terms)

    def preconditioner(self, engine, point, purpose):
        """The directions' preconditioner at the forward state ``point``.

        :meth:`centred_scaling` when the estimator asked for it
        (``centre_intercepts``) and the model has intercepts, else
        :meth:`diagonal_scaling`.
        """
        if self.centre_intercepts and self.fit_intercept:
            return self.centred_scaling(engine, point, purpose)
        return self.diagonal_scaling(engine, point, purpose)

    def centred_scaling(self, engine, point, purpose):
        """The inverse Hessian diagonal with the intercepts eliminated.

        See :class:`~sklearn_so._preconditioner.CentredScaling`: from the
        loss's curvature ``h`` at ``point``, ``(X * X).T h`` (the pass of
        :meth:`diagonal_scaling`) and ``X.T h`` (one more product), both
        counted under ``purpose``, and the intercepts' sums of ``h``.
        """
        curvature = self._curvature(point)
        squares = engine.squared_backward(curvature, purpose)
        sums = engine.backward(curvature, purpose)
        return _centred_scaling(self.xp, squares, sums, self._ones @ curvature, self.l2)

    def hessian(self, engine, point, purpose):
        """The Hessian of the objective at the forward state ``point``.

        With ``A = [X, 1]`` (X alone without an intercept) and each sample's
        weighted loss Hessian ``diag(d_i) - u_i u_i^T`` in the outputs (the
        loss's ``hessian_factors``), the block of outputs k and l is ``A.T
        diag(h_kl) A`` with ``h_kl = [k = l] d_k - u_k u_l``, plus ``l2`` on
        the diagonal of the weights: scikit-learn's ``NewtonCholeskySolver``
        forms the same blocks. The ``q (q + 1) / 2`` distinct blocks (one
        without a rank-one part) come from one pass over X, counted under
        ``purpose`` (``engine.weighted_grams``).

        For the softmax, the objective does not change along a shift of
        every class's coefficients of one feature (or of the intercepts)
        but through the penalty: the Hessian is singular there without a
        penalty, and the gradient is orthogonal to these directions. The
        returned matrix adds ``c P``, with P the orthogonal projector onto
        them and ``c`` the mean of the Hessian's diagonal: positive definite
        on full-rank data, and its inverse applied to a gradient is the
        Newton direction restricted to the subspace of the minimiser (as
        :meth:`restrict_direction` keeps it).

        The Gram matrices are formed where X is (on its device, in its
        dtype; on the workers for a dask X) and only they cross to the host:
        ``q (q + 1) / 2`` matrices of ``(d + 1)^2`` numbers, about half the
        Hessian, which is O(n_params^2) and independent of n_samples, like
        the k x k matrices of the inner problems. Assembling and factorising
        them there (LAPACK's Cholesky, with numpy's pseudo-inverse fallback)
        keeps one algorithm for every namespace -- the array API standard
        has no triangular solve, and its ``linalg`` extension is optional --
        and solves in float64 when X is float32 on a device. On a GPU the
        crossing costs one synchronisation per iteration; the pass that
        forms the matrices costs n_samples times their size.

        Parameters
        ----------
        engine : ProductEngine
            Forms the weighted Gram matrices of X.
        point : LinearPoint
            The forward state at the current parameters.
        purpose : str
            Label of the pass in the engine's counts.

        Returns
        -------
        hessian : ndarray of shape (n_params, n_params)
            In the layout of the flat parameters (W row by row, then b),
            a float64 numpy array on the host whatever X's namespace: the
            Gram matrices cross once (for a dask X, one round trip), and
            the assembly and the factorisation are the numpy path's.
        """
        Z = point.pre_activation
        terms = _loss_terms(self.loss, Z, self.targets, point)
        diagonal, rank_one = self.loss.hessian_factors(Z, self.targets, terms)
        q = self.q
        if rank_one is None:
            pairs = [(k, k) for k in range(q)]
            weights = diagonal
        else:
            pairs = [(k, m) for k in range(q) for m in range(k, q)]
            weights = _pair_weights(diagonal, rank_one, pairs)
        # The q (q + 1) / 2 Gram matrices, (d + 1)^2 numbers each, cross to
        # the host (from a device or the workers; numpy's stay where they
        # are): the assembly and the factorisation below are numpy code in
        # float64 on the host, as the inner problems are. Their size is the
        # Hessian's, O(n_params^2), independent of n_samples; forming them
        # took n_samples times their size in arithmetic on X's side.
        grams = ns.to_host(
            engine.weighted_grams(weights, purpose, intercept=self.fit_intercept)
        )
        width = grams.shape[1]
        blocks = np.zeros((width, q, width, q))
        for (k, m), gram in zip(pairs, grams, strict=True):
            blocks[:, k, :, m] = gram
            blocks[:, m, :, k] = gram
        if self._centre_columns:
            shift = np.einsum("jkjk->", blocks) / self.n_params
            # c P: c / q on every (k, l) entry of each feature's own block.
            for j in range(width):
                blocks[j, :, j, :] += shift / q
        hessian = blocks.reshape(self.n_params, self.n_params)
        weights_diagonal = np.arange(self.n_weights)
        hessian[weights_diagonal, weights_diagonal] += self.l2
        return hessian

    def hessian_product(self, engine, point, purpose):
        """The product with the Hessian at ``point``, as a function.

        ``product(v)`` returns ``H v`` for a flat parameter vector ``v``
        with two products, counted under ``purpose``: the forward image
        ``z = X v_W + v_b``, each sample's weighted loss Hessian applied to
        it (``d_i * z_i - u_i (u_i . z_i)``, from the loss's
        ``hessian_factors``, formed once here), and the backward product
        of the result; plus ``l2 v_W``. Unlike :meth:`hessian` nothing is
        added along the softmax's shift directions: a Krylov method started
        from a gradient never leaves their orthogonal complement.

        Parameters
        ----------
        engine : ProductEngine
            Performs the products.
        point : LinearPoint
            The forward state at the current parameters.
        purpose : str
            Label of the products in the engine's counts.

        Returns
        -------
        product : callable
            ``product(v)`` -> array of shape (n_params,), in the namespace
            and on the device of ``v`` (nothing crosses to the host).
        """
        xp = self.xp
        Z = point.pre_activation
        terms = _loss_terms(self.loss, Z, self.targets, point)
        diagonal, rank_one = self.loss.hessian_factors(Z, self.targets, terms)
        n = self.n_weights

        def times_hessian(image, rows=slice(None)):
            R = diagonal[rows] * image
            if rank_one is not None:
                u = rank_one[rows]
                R -= u * (u * image).sum(axis=1, keepdims=True)
            return R

        fused = xp is np and _fused_block_rows(engine, self.q) is not None

        def numpy_product(v):
            # numpy's own: in place, with ndarray methods (less overhead per
            # conjugate-gradient step on small problems; the same numbers).
            W, b = self.unpack(v)
            out = np.empty(self.n_params)
            if fused:
                # Both products from one read of X, in row blocks (as
                # first_trial); R's rows are formed block by block.
                R = np.empty((engine.shape[0], self.q))

                def residual(start, stop, image_rows):
                    R[start:stop] = times_hessian(image_rows, slice(start, stop))
                    return R[start:stop]

                _, XtR = engine.forward_backward_blocks(W, b, residual, purpose)
                out[:n] = XtR.ravel()
            else:
                R = times_hessian(engine.pre_activation(W, b, purpose))
                out[:n] = engine.backward(R, purpose).ravel()
            out[:n] += self.l2 * v[:n]
            if self.fit_intercept:
                out[n:] = self._ones @ R
            return out

        if xp is np:
            return numpy_product

        def product(v):
            W, b = self.unpack(v)
            image = engine.pre_activation(W, b, purpose)
            R = _loss_hessian_times(xp, diagonal, rank_one, image)
            backward = ns.reshape(engine.backward(R, purpose), (n,))
            parts = [backward + self.l2 * v[:n]]
            if self.fit_intercept:
                parts.append(self._ones @ R)
            return ns.concat(parts)

        return product

    def first_trial(self, theta, point, engine, D, rates, purpose):
        """The direction's image, the first trial and the gradient there, or None.

        For a dense numpy X too large to stay in cache (the engine's
        ``fused_block_rows``), one pass over X in row blocks forms each
        block's image ``X W + b`` of the new direction ``D``, the trial
        point ``Z + a image`` at ``rates``, the loss's terms and residual
        there, and the block's share of ``X.T R`` (two products, counted
        under ``purpose``): an iteration that takes these rates, as an
        L-BFGS or Newton iteration mostly does, reads X once instead of
        twice. Every number but ``X.T R`` (summed by blocks) is the one
        :meth:`subspace` and :meth:`objective_and_gradient` compute at that
        point. None where the engine does not fuse: the loop then forms
        the image alone.

        Parameters
        ----------
        theta : ndarray of shape (n_params,)
        point : LinearPoint
            The current forward state.
        engine : ProductEngine
        D : ndarray of shape (n_params,)
            The new direction.
        rates : ndarray of shape (1,)
            The line search's first step.
        purpose : str
            The products' purpose.

        Returns
        -------
        FirstTrial or None
        """
        if self.xp is not np or len(rates) != 1:
            return None
        rows = _fused_block_rows(engine, self.q)
        if rows is None:
            return None
        Z, loss, a = point.pre_activation, self.loss, rates[0]
        raw, R = np.empty_like(Z), np.empty_like(Z)
        block_targets = self._block_targets(rows)
        block_terms = []

        def residual(start, stop, image_rows):
            # ``_numpy_trial_raw``'s formula, row block by row block.
            raw_rows = np.multiply(image_rows, a, out=raw[start:stop])
            raw_rows += Z[start:stop]
            targets = block_targets[start // rows]
            terms = loss.terms(raw_rows, targets)
            block_terms.append(terms)
            R[start:stop] = loss.evaluate(raw_rows, targets, terms=terms)[1]
            return R[start:stop]

        W, b = self.first_layer(D)
        image, XtR = engine.forward_backward_blocks(W, b, residual, purpose)
        terms = None
        if block_terms[0] is not None:
            columns = zip(*block_terms, strict=True)
            terms = tuple(np.concatenate(parts) for parts in columns)
        trial_point = LinearPoint(raw, terms)
        # The value of a trial (subspace's ``numpy_phi``), and of the
        # gradient's evaluation: one formula for the log-losses.
        value = loss.value(raw, self.targets, terms)

        def gradient(theta):
            # As objective_and_gradient with evaluate_gradient's X.T R.
            n = self.n_weights
            grad = np.empty_like(theta)
            grad[:n] = self.l2 * theta[:n] + XtR.ravel()
            if self.fit_intercept:
                grad[n:] = self._ones @ R
            return value + self._penalty(theta), float(np.abs(R).sum()), grad

        return FirstTrial(
            rates=np.array(rates, dtype=np.float64),
            image=image,
            image_size=float("nan"),
            z_size=float("nan"),
            numbers=np.array([value]),
            gradient=gradient,
            point=trial_point,
        )

    def _block_targets(self, rows):
        """The targets of each block of ``rows`` rows, formed once per block size."""
        cached = self._block_targets_cache
        if cached is not None and cached[0] == rows:
            return cached[1]
        targets, n = self.targets, self.targets.y.shape[0]
        width = targets.y.shape[1]
        blocks = []
        for start in range(0, n, rows):
            stop = min(start + rows, n)
            index = targets.one_index
            if index is not None:
                # One entry per row, in row order: the block's own flat indices.
                index = index[start:stop] - start * width
            blocks.append(Targets(targets.y[start:stop], targets.w[start:stop], index))
        self._block_targets_cache = (rows, blocks)
        return blocks

    def subspace(self, theta, point, basis, first=None):
        """Return ``phi(a, derivatives)`` for the directions of ``basis``.

        The raw prediction is affine in ``a``: ``Z + sum_j a_j V_j``; the
        penalty is the quadratic ``l2/2 ||W + sum_j a_j P_j,W||^2`` whose
        coefficients are inner products formed once here. ``phi`` returns a
        :class:`~sklearn_so._trial.Trial` whose point holds the trial's raw
        prediction and loss terms. On a device the rates cross to it (k
        numbers) and the trial's value, subspace gradient and Hessian back
        to the host in one crossing (k + k^2 + 1 numbers). The value at the
        rates of ``first`` (:meth:`first_trial`) is known, with its point.
        """
        xp = self.xp
        Z = point.pre_activation
        if xp is np and len(basis.V) == 1 and basis.V[0] is not None:
            V = basis.V[0][None]  # one direction (ls, lo): a view, no copy
        else:
            V = xp.stack([xp.zeros_like(Z) if v is None else v for v in basis.V])
        flat_V = ns.reshape(V, (V.shape[0], -1))
        n = self.n_weights
        penalty = _QuadraticPenalty.of(self.l2, theta[:n], basis.P[:, :n])
        loss, targets = self.loss, self.targets

        def numpy_phi(a, derivatives=True):
            if first is not None and not derivatives and first.taken(a):
                return penalty.trial(a, first.point, float(first.numbers[0]))
            # numpy's own: the same operations without the namespace calls,
            # whose overhead shows on small problems (a phi per trial point).
            raw = _numpy_trial_raw(Z, flat_V, a)
            trial_point = LinearPoint(raw, loss.terms(raw, targets))
            if not derivatives:
                value = loss.value(raw, targets, trial_point.loss_terms)
                return penalty.trial(a, trial_point, value)
            value, R, hess = loss.evaluate(raw, targets, V, trial_point.loss_terms)
            return penalty.trial(a, trial_point, value, flat_V @ R.ravel(), hess)

        if xp is np:
            return numpy_phi

        def phi(a, derivatives=True):
            raw = Z + ns.reshape(ns.from_host(a, Z) @ flat_V, Z.shape)
            trial_point = LinearPoint(raw, loss.terms(raw, targets))
            if not derivatives:
                value = loss.value(raw, targets, trial_point.loss_terms)
                return penalty.trial(a, trial_point, ns.to_float(value))
            value, R, hess = loss.evaluate(raw, targets, V, trial_point.loss_terms)
            gradient = flat_V @ ns.reshape(R, (-1,))
            value, gradient, hess = ns.trial_to_host(value, gradient, hess)
            return penalty.trial(a, trial_point, value, gradient, hess)

        return phi


class DaskLinearModel(LinearModel):
    """:class:`LinearModel` for a dask X: rows on the workers, parameters here.

    The targets, weights, raw predictions and trial points are lazy dask
    arrays (float64) aligned with X's row chunks; the parameters, the
    gradient and the penalty are numpy, on the client. A trial's value,
    subspace gradient and Hessian are computed in one round trip
    (``_namespace.trial_to_host``); the objective, the gradient and ``X.T R``
    by :meth:`gather_gradient`, in one more.

    Parameters
    ----------
    n_features, n_outputs, loss, y, weights, l2, fit_intercept
        As for :class:`LinearModel`; ``y`` and ``weights`` are dask arrays
        with X's row chunks, ``loss`` a loss of ``_losses``.
    """

    lazy = True

    def __init__(self, n_features, n_outputs, loss, y, weights, l2, fit_intercept):
        super().__init__(n_features, n_outputs, loss, y, weights, l2, fit_intercept)
        # The intercepts' sums are reductions on the workers (no ones column).
        self._ones = None

    def _chunk_rows(self, point, images=()):
        """The row-aligned arrays the per-chunk loss tasks read.

        ``Z``, ``y``, the weights, then ``images`` and the loss terms kept
        in ``point`` (in that order: the tasks unpack them so).
        """
        terms = point.loss_terms
        rows = [point.pre_activation, self.targets.y, self.targets.w, *images]
        return rows + (list(terms) if terms is not None else [])

    def objective(self, theta, point):
        """Objective value at ``theta`` (a float: one task per row chunk, one trip)."""
        rows = self._chunk_rows(point)
        _, host = run(*map_rows(_linear_value_rows, rows, self.loss))
        return float(host.sum()) + self._penalty(theta)

    def objective_and_gradient(self, theta, point):
        """Return the lazy ``f``, lazy ``R = df/dZ`` and the gradient sans ``X.T R``.

        The gradient is lazy too when it has an intercept (a sum over the
        samples). The model protocol's method; the loop calls
        :meth:`gather_gradient`, which adds ``X.T R`` in the same tasks.
        """
        Z = point.pre_activation
        terms = _loss_terms(self.loss, Z, self.targets, point)
        value, R, _ = self.loss.evaluate(Z, self.targets, terms=terms)
        grad = self.l2 * theta[: self.n_weights]
        if self.fit_intercept:
            grad = self.xp.concat([self.xp.asarray(grad), self.xp.sum(R, axis=0)])
        return value + self._penalty(theta), R, grad

    def diagonal_scaling(self, engine, point, purpose):
        """Inverse of the Hessian's diagonal at ``point``; one pass over X.

        One task per row chunk computes the loss's curvature, its product
        with the chunk of X squared and its intercept sums: one round trip.
        """
        rows = self._chunk_rows(point)
        _, host = engine.backward_rows(
            _linear_curvature_rows, rows, self.loss, purpose=purpose, squared=True
        )
        sums = host.sum(axis=0)
        q, n = self.q, self.n_weights
        diagonal = np.empty(self.n_params)
        diagonal[:n] = sums[q:] + self.l2
        if self.fit_intercept:
            diagonal[n:] = sums[:q]
        floor = max(DIAGONAL_FLOOR * diagonal.max(), np.finfo(float).tiny)
        return 1.0 / np.maximum(diagonal, floor)

    def centred_scaling(self, engine, point, purpose):
        """:meth:`LinearModel.centred_scaling` on the workers: one round trip.

        One task per row chunk computes the curvature, its intercept sums
        and its products with the chunk of X squared and of X (two
        products).
        """
        rows = self._chunk_rows(point)
        q, d = self.q, self.d
        _, host = engine.backward_rows(
            _linear_curvature_rows, rows, self.loss, purpose=purpose, squared="both"
        )
        sums = host.sum(axis=0)
        squares, plain = (
            ns.reshape(sums[q + k * d * q : q + (k + 1) * d * q], (d, q))
            for k in (0, 1)
        )
        return _centred_scaling(np, squares, plain, sums[:q], self.l2)

    def gather_gradient(self, theta, point, engine, purpose, step=None):
        """Objective, ``sum |R|`` and gradient at ``point``: one round trip.

        One task per row chunk computes the chunk's loss, residual ``R``,
        ``sum |R|``, intercept sums and ``X.T R`` (one backward product,
        counted under ``purpose``); the client adds them up and adds the
        penalty. Given the ``step`` that led to ``point``, the same tasks
        measure it as ``_dask_rows.step_image_and_sizes`` does (the loop
        then needs no separate round trip to accept the point).

        Parameters
        ----------
        theta : ndarray of shape (n_params,)
        point : LinearPoint
            Its persisted forward state.
        engine : DaskEngine
        purpose : str
            The product's purpose.
        step : tuple or None
            ``(images, rates, keep)`` as for ``step_image_and_sizes``.

        Returns
        -------
        value : float
        sensitivity : float
            ``sum |R|`` (see ``SubspaceSolver.verify``).
        grad : ndarray of shape (n_params,)
        measured : tuple or None
            ``(image, z_size, image_size)`` of the step, if one was given.
        """
        images, rates, keep = ([], None, False) if step is None else step
        rows = self._chunk_rows(point, images)
        outputs, host = engine.backward_rows(
            _linear_residual_rows,
            rows,
            self.loss,
            len(images),
            rates,
            keep,
            purpose=purpose,
        )
        q = self.q
        n_sizes = 0 if step is None else 1 + keep
        sums = host.sum(axis=0)
        measured = None
        if step is not None:
            measured = _step_measurement(host, outputs, 2 + q, keep)
        return (*self._gathered(theta, sums, sums[2 + q + n_sizes :]), measured)

    def _gathered(self, theta, sums, XtR):
        """Objective, ``sum |R|`` and gradient at ``theta`` from the chunks' sums.

        ``sums`` starts with the loss value, ``sum |R|`` and ``R``'s column
        sums (``_linear_residual_rows``, summed over the chunks), ``XtR`` is
        the summed ``X.T R``; the penalty is added here.
        """
        q, n = self.q, self.n_weights
        grad = np.empty(self.n_params)
        grad[:n] = self.l2 * theta[:n] + XtR
        if self.fit_intercept:
            grad[n:] = sums[2 : 2 + q]
        value = float(sums[0]) + self._penalty(theta)
        return value, float(sums[1]), grad

    def first_trial(self, theta, point, engine, D, rates, purpose):
        """The direction's image, the first trial and the gradient there: one trip.

        One task per row chunk forms the chunk's image ``X W + b`` of the
        new direction ``D``, the trial point ``Z + a V`` at ``rates``, the
        subspace objective's numbers there (as :meth:`subspace`, with and
        without derivatives) and the residual's numbers with ``X.T R`` (as
        :meth:`gather_gradient` at that point): two products, counted under
        ``purpose``. The image is persisted; only numbers cross.

        Parameters
        ----------
        theta : ndarray of shape (n_params,)
        point : LinearPoint
            The current forward state, persisted.
        engine : DaskEngine
        D : ndarray of shape (n_params,)
            The new direction.
        rates : ndarray of shape (1,)
            The line search's first step.
        purpose : str
            The products' purpose.

        Returns
        -------
        FirstTrial
        """
        W, b = self.first_layer(D)
        rows = [point.pre_activation, self.targets.y, self.targets.w]
        (image,), host = engine.forward_backward_rows(
            W, b, _linear_first_trial_rows, rows, self.loss, rates, purpose=purpose
        )
        q, k = self.q, len(rates)
        # Each chunk: max|image|, phi's value, value, gradient and Hessian,
        # then sum |R|, R's column sums, max|Z| at the trial, X.T R.
        n_phi = 2 + k + k * k
        sizes = host[:, [0, n_phi + q + 2]].max(axis=0)
        sums = host.sum(axis=0)
        # The gradient pass's layout: value, sum |R|, column sums.
        gradient_sums = np.concatenate([sums[2:3], sums[n_phi + 1 : n_phi + q + 2]])
        return FirstTrial(
            rates=np.array(rates, dtype=np.float64),
            image=image,
            image_size=float(sizes[0]),
            z_size=float(sizes[1]),
            numbers=sums[1 : n_phi + 1],
            gradient=functools.partial(
                self._gathered, sums=gradient_sums, XtR=sums[n_phi + q + 3 :]
            ),
        )

    def hessian_product(self, engine, point, purpose):
        """The product with the Hessian at ``point``, as a function.

        As :meth:`LinearModel.hessian_product`, for a vector ``v`` on the
        client: its image, each sample's loss Hessian applied to it and the
        backward product (two products, counted under ``purpose``) are
        computed on the workers with the intercepts' sums, in one round
        trip; ``H v`` is returned on the client. The loss's Hessian factors
        are persisted once, for every product at this point.
        """
        xp = self.xp
        Z = point.pre_activation
        terms = _loss_terms(self.loss, Z, self.targets, point)
        diagonal, rank_one = engine.keep(
            *self.loss.hessian_factors(Z, self.targets, terms)
        )
        n = self.n_weights

        def product(v):
            W, b = self.unpack(v)
            image = engine.pre_activation(W, b, purpose)
            R = _loss_hessian_times(xp, diagonal, rank_one, image)
            parts = [xp.reshape(engine.backward(R, purpose), (-1,))]
            if self.fit_intercept:
                parts.append(xp.sum(R, axis=0))
            out = ns.to_host(xp.concat(parts))
            out[:n] += self.l2 * v[:n]
            return out

        return product

    def subspace(self, theta, point, basis, first=None):
        """Return ``phi(a, derivatives)`` for the directions of ``basis``.

        As :meth:`LinearModel.subspace`; each trial is one task per row
        chunk (the numpy code on the chunk: the trial point, its loss terms
        and the chunk's share of the value, subspace gradient and Hessian)
        and one round trip. Only the numbers cross and nothing is kept: the
        trial point is returned lazily, the same per-chunk formula, computed
        (and persisted) only if the loop accepts it -- most trials are not,
        and each kept array would cost the scheduler two tasks per chunk in
        the trial's round trip. The client adds the chunks' numbers and the
        penalty. The rates of ``first`` (a :class:`~sklearn_so._trial.FirstTrial`
        from :meth:`first_trial`) cost no round trip: their numbers are
        known.
        """
        Z = point.pre_activation
        n, k = self.n_weights, len(basis.V)
        penalty = _QuadraticPenalty(self.l2, theta[:n], basis.P[:, :n])
        rows = [Z, self.targets.y, self.targets.w, *basis.V]

        def phi(a, derivatives=True):
            rates = np.array(a, dtype=np.float64)
            trial_point = LinearPoint(_lazy_trial_raw(Z, basis.V, rates))
            if first is not None and first.taken(rates):
                # phi's value (the loss's ``value``, as without derivatives),
                # then the value, gradient and Hessian from ``evaluate``.
                value, sums = first.numbers[0], first.numbers[1:]
                if not derivatives:
                    return penalty.trial(a, trial_point, float(value))
            else:
                _, host = run(
                    *map_rows(_linear_trial_rows, rows, self.loss, rates, derivatives)
                )
                sums = host.sum(axis=0)
                if not derivatives:
                    return penalty.trial(a, trial_point, float(sums[0]))
            gradient, hess = sums[1 : k + 1], sums[k + 1 :].reshape(k, k)
            return penalty.trial(a, trial_point, float(sums[0]), gradient, hess)

        return phi


def _trial_raw(Z, images, a):
    """A row chunk's trial point ``Z + sum_j a_j V_j`` and the stacked ``V``.

    The one formula of the trial's numbers and of the accepted point (so
    the two agree to the last bit); a None image is a zero one.
    """
    V = np.stack([np.zeros_like(Z) if v is None else v for v in images])
    flat_V = V.reshape(len(V), -1)
    return _numpy_trial_raw(Z, flat_V, a), V, flat_V


def _numpy_trial_raw(Z, flat_V, a):
    """``Z + sum_j a_j V_j`` for numpy arrays, with one new array.

    The same numbers as ``Z + (a @ flat_V).reshape(Z.shape)``, about 7x
    faster for one direction (measured on 100,000 x 10): numpy's product
    of a length-1 ``a`` with one long row takes a slow path, and adding
    ``Z`` in place saves an n x q temporary (a fresh allocation costs more
    than the pass).
    """
    if len(a) == 1:
        raw = np.multiply(flat_V[0], a[0]).reshape(Z.shape)
    else:
        raw = (a @ flat_V).reshape(Z.shape)
    raw += Z
    return raw


def _lazy_trial_raw(Z, images, a):
    """The lazy trial point ``Z + sum_j a_j V_j``, one task per row chunk."""
    import dask.array as da

    present = [v for v in images if v is not None]
    where = [v is not None for v in images]

    def block(Z_block, *blocks):
        chunks = iter(blocks)
        chunk_images = [next(chunks) if kept else None for kept in where]
        return _trial_raw(Z_block, chunk_images, a)[0]

    # A fresh name: tokenizing the closure would cost more than it saves.
    name = f"trial-raw-{uuid.uuid4().hex}"
    return da.map_blocks(
        block, Z, *present, name=name, dtype=Z.dtype, meta=np.empty((0, 0))
    )


def _linear_trial_rows(chunks, loss, a, derivatives):
    """A row chunk's share of ``phi``'s numbers at the trial point.

    The numpy code of :meth:`LinearModel.subspace` on the chunk; the weights
    are normalised over all rows, so the chunks' numbers add up.
    """
    Z, y, w, *images = chunks
    targets = Targets(y, w)
    raw, V, flat_V = _trial_raw(Z, images, a)
    terms = loss.terms(raw, targets)
    # Nothing is kept: most trials are not accepted, and each kept array
    # costs tasks per chunk; the accepted point is recomputed by the same
    # formula (``_lazy_trial_raw``) and so are its terms.
    if not derivatives:
        return [], [loss.value(raw, targets, terms)]
    value, R, hess = loss.evaluate(raw, targets, V, terms)
    numbers = np.concatenate([[value], flat_V @ R.ravel(), np.ravel(hess)])
    return [], numbers


def _linear_first_trial_rows(chunks, loss, a):
    """A row chunk's first trial from the new image, and the residual there.

    The numbers of ``_linear_trial_rows`` without and with derivatives
    (the same formulas, so the search decides as it would without the
    shortcut), then ``sum |R|``, ``R``'s column sums and ``max |Z|`` at the
    trial point (as ``_linear_residual_rows``); ``R`` is returned for the
    backward product.
    """
    image, Z, y, w = chunks
    targets = Targets(y, w)
    raw, V, flat_V = _trial_raw(Z, [image], a)
    terms = loss.terms(raw, targets)
    value = loss.value(raw, targets, terms)
    evaluated, R, hess = loss.evaluate(raw, targets, V, terms)
    numbers = np.concatenate(
        [
            [value, evaluated],
            flat_V @ R.ravel(),
            np.ravel(hess),
            [np.abs(R).sum()],
            R.sum(axis=0),
            [np.max(np.abs(raw), initial=0.0)],
        ]
    )
    return R, numbers, []


def _linear_value_rows(chunks, loss):
    """A row chunk's share of the loss value."""
    Z, y, w, *terms = chunks
    targets = Targets(y, w)
    return [], [loss.value(Z, targets, tuple(terms) if terms else None)]


def _step_measurement(host, outputs, first, keep):
    """The accepted step's ``(image, z_size, image_size)`` from a gradient pass.

    ``host`` holds each chunk's numbers, ``max|Z|`` (and ``max|image|`` when
    the image is kept, as ``outputs[0]``) from column ``first`` on
    (``_dask_rows.step_rows``).
    """
    sizes = np.max(host[:, first : first + 1 + keep], axis=0)
    image_size = float(sizes[1]) if keep else 0.0
    return (outputs[0] if keep else None, float(sizes[0]), image_size)


def _linear_curvature_rows(chunks, loss):
    """A row chunk's loss curvature (the Hessian diagonal) and its column sums."""
    Z, y, w, *terms = chunks
    targets = Targets(y, w)
    curvature = loss.hessian_diagonal(Z, targets, tuple(terms) if terms else None)
    return curvature, curvature.sum(axis=0), []


def _linear_residual_rows(chunks, loss, n_images, rates, keep):
    """A row chunk's ``R``, its loss value, ``sum |R|`` and ``R``'s column sums.

    With rates, also the step's sizes and image (``_dask_rows.step_rows``),
    the sizes after the sums.
    """
    Z, y, w, *rest = chunks
    images, terms = rest[:n_images], rest[n_images:]
    outputs, sizes = [], []
    if rates is not None:
        outputs, sizes = step_rows([Z, *images], rates, keep)
    targets = Targets(y, w)
    value, R, _ = loss.evaluate(Z, targets, terms=tuple(terms) if terms else None)
    numbers = np.concatenate([[value, np.abs(R).sum()], R.sum(axis=0), sizes])
    return R, numbers, outputs


class TwoLayerNetwork(_HoldsTargets):
    """``out = act(X W1 + b1) W2 + b2`` under a loss, L2 penalty on W1 and W2.

    The objective is ``sum_i w_i loss(out_i, y_i) + l2/2 (||W1||^2 +
    ||W2||^2)`` with normalised weights ``w``; with ``l2 = alpha / sum(s)`` it
    is exactly scikit-learn's MLP objective for one hidden layer. The layers
    are the blocks: block 0 is ``(W1, b1)``, block 1 is ``(W2, b2)``. Only
    ``W1`` meets X, so the cached pre-activation ``Z = X W1 + b1`` (n x r) is
    all the outer loop has to keep, and every trial point costs O(n r c k).

    The model works in the namespace of its targets and weights, on their
    device and in their dtype (X's; see ``_namespace``): for numpy, plain
    numpy in float64. Values reach the host as floats (one scalar per
    objective), a trial's value, subspace gradient and Hessian in one
    crossing of k + k^2 + 1 numbers, its rates the other way (k numbers).

    Parameters
    ----------
    n_features, n_hidden, n_outputs : int
        Layer sizes d, r and c.
    activation : str
        Hidden activation, a key of ``ACTIVATIONS``.
    loss : loss object
        Output loss on the raw output (logits or predictions), working in
        the namespace of the targets.
    y : array of shape (n_samples, c)
        Encoded targets.
    weights : array of shape (n_samples,)
        Normalised sample weights.
    l2 : float
        Penalty strength on the weights (biases are not penalised).
    """

    first_block = 0
    # One Gauss-Newton step from the warm start (the last rates): on this
    # non-convex problem polishing the rates buys no outer progress. Measured
    # to MLP lbfgs's objective on the benchmark's three sets with lo/ps/so x
    # gd/lbfgs: one step took about as many outer iterations as up to two or
    # ten, at 2.0-2.5 trials per iteration instead of 2.0-4.5, and reached
    # the objective first in 15 of the 18 (lo/gd reached it in none or once,
    # so/lbfgs on the regression set 6% later than with ten steps; the
    # sweep is in issue 15's notes). With one step rtol is never read.
    inner_options = {"max_iter": 1}
    # What the model calls on its loss (checked when a fit starts).
    required_loss_methods = ("terms", "value", "evaluate")

    def __init__(
        self, n_features, n_hidden, n_outputs, activation, loss, y, weights, l2
    ):
        self.d, self.r, self.c = n_features, n_hidden, n_outputs
        self.activation = activation
        self.act, self.act_prime = ACTIVATIONS[activation]
        self.loss = loss
        self.targets = Targets(y, weights, one_hot_index(y))
        self.l2 = l2
        self.xp = ns.namespace(weights)
        # A dask X: the rows are lazy dask arrays, the parameters numpy (pxp).
        self.lazy = ns.is_dask(weights)
        self.pxp = np if self.lazy else self.xp
        if self.xp is not np:
            # The working precision's epsilon (numpy fits run in float64,
            # the default): the searches treat changes of the objective
            # below its rounding as noise.
            self.eps = float(self.xp.finfo(weights.dtype).eps)
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

    def unpack(self, theta):
        """Return views ``(W1, b1, W2, b2)``."""
        return (
            ns.reshape(theta[self._W1], (self.d, self.r)),
            theta[self._b1],
            ns.reshape(theta[self._W2], (self.r, self.c)),
            theta[self._b2],
        )

    def first_layer(self, theta):
        """Return the views ``(W1, b1)`` that meet X."""
        return self.unpack(theta)[:2]

    def _weights(self, v):
        """The penalised entries (W1, then W2) of a parameter vector, or of rows.

        numpy selects them with a boolean mask: its result's memory layout
        (column-major for rows) fixes the rounding of the products formed
        with it. Elsewhere the two slices are concatenated: a mask's
        data-dependent shape would synchronise a GPU.
        """
        if isinstance(v, np.ndarray):
            return v[..., self._weight_mask]
        return ns.concat([v[..., self._W1], v[..., self._W2]], axis=-1)

    def restrict_direction(self, D):
        """Return ``D``: every direction is admissible.

        (A softmax output leaves a shift of W2's columns to the penalty, as
        for the linear model, but MLPClassifier does not centre them either,
        and the iterates are compared with its.)
        """
        return D

    def step_limits(self, theta):
        """Largest parameter change allowed per layer in one iteration.

        The safeguard against a layer's rate running away: on this non-convex
        problem the subspace minimiser can lie far out along a direction
        whose curvature the Gauss-Newton model underestimates. A layer may
        move by at most ``MAX_RELATIVE_STEP`` times the norm of its parameters
        (at least ``MAX_RELATIVE_STEP``) per iteration. The layers' squared
        norms cross to the host together.
        """
        squares = [theta[b] @ theta[b] for b in self.blocks]
        if self.pxp is not np:
            squares = ns.to_host(self.xp.stack(squares))
        return MAX_RELATIVE_STEP * np.maximum(np.sqrt(squares), 1.0)

    def _penalty(self, theta):
        weights = self._weights(theta)
        return 0.5 * self.l2 * (weights @ weights)

    def output(self, theta, Z):
        """Hidden activations and raw output for the pre-activation ``Z``."""
        _, _, W2, b2 = self.unpack(theta)
        return self._hidden_and_output(Z, W2, b2)

    def _hidden_and_output(self, Z, W2, b2):
        """``act(Z)`` and ``act(Z) W2 + b2`` for the second layer ``(W2, b2)``."""
        A = self.act(Z)
        return A, A @ W2 + b2

    def point(self, theta, Z):
        """The forward state at ``theta`` whose pre-activation is ``Z``.

        For a dask X only ``Z`` is kept on the workers, with the second
        layer on the client: each task that needs the activations and the
        output recomputes them on its row chunk (one kept array costs the
        scheduler a task per chunk, and memory on the workers).
        """
        if self.lazy:
            _, _, W2, b2 = self.unpack(theta)
            return NetworkPoint(Z, None, None, second_layer=(W2.copy(), b2.copy()))
        return NetworkPoint(Z, *self.output(theta, Z))

    def objective(self, theta, point):
        """Objective value at ``theta`` (a float), whose forward state is ``point``."""
        if self.lazy:
            # One task per row chunk, one round trip.
            rows = [point.pre_activation, self.targets.y, self.targets.w]
            args = (self._spec, point.second_layer)
            _, host = run(*map_rows(_network_value_rows, rows, *args))
            return float(host.sum()) + self._penalty(theta)
        out = point.output
        terms = _loss_terms(self.loss, out, self.targets, point)
        value = self.loss.value(out, self.targets, terms) + self._penalty(theta)
        return ns.to_float(value)

    def _loss_gradient(self, W2, point):
        """The loss's value, ``R = d loss/dZ`` and its second-layer gradient.

        Without the penalty: ``(value, R, sum_i R_i, A.T G, sum_i G_i)`` with
        ``G = d loss/d out``; a dask X's tasks add the sums over the chunks.
        """
        xp = self.xp
        A, out = point.hidden, point.output
        terms = _loss_terms(self.loss, out, self.targets, point)
        value, G, _ = self.loss.evaluate(out, self.targets, terms=terms)
        slope = point.slope
        R = G @ W2.T
        R *= self.act_prime(point.pre_activation, A) if slope is None else slope
        if xp is np:
            # ndarray methods: a fraction of the namespace functions' overhead.
            return value, R, R.sum(axis=0), (A.T @ G).ravel(), G.sum(axis=0)
        AG = xp.reshape(A.T @ G, (-1,))
        return value, R, xp.sum(R, axis=0), AG, xp.sum(G, axis=0)

    def objective_and_gradient(self, theta, point):
        """Return ``f`` (a float), ``R = df/dZ`` and the gradient without ``X.T R``.

        A point taken from an accepted trial carries the activations and
        output its trial computed (with ``W2 + sum_j a_j P_j,W2``, the same
        second layer as ``theta``'s up to rounding) and, when the trial was
        evaluated with derivatives, the activation's slope. For a dask X,
        ``R`` is persisted on the workers (one round trip); the loop uses
        :meth:`gather_gradient` instead, which adds ``X.T R`` in the same
        tasks.
        """
        _, _, W2, _ = self.unpack(theta)
        if self.lazy:
            rows = [point.pre_activation, self.targets.y, self.targets.w]
            args = (self._spec, W2, point.second_layer)
            (R,), host = run(*map_rows(_network_gradient_rows, rows, *args))
            sums = host.sum(axis=0)
            grad = self._gradient_from_sums(theta, sums[2:])
            return float(sums[0]) + self._penalty(theta), R, grad
        value, R, R_sum, AG, G_sum = self._loss_gradient(W2, point)
        grad = ns.concat(
            [
                self.l2 * theta[self._W1],
                R_sum,
                self.l2 * theta[self._W2] + AG,
                G_sum,
            ]
        )
        return ns.to_float(value + self._penalty(theta)), R, grad

    def _gradient_from_sums(self, theta, sums, XtR=None):
        """The gradient from the chunks' summed ``(R_sum, A.T G, G_sum)`` (dask X)."""
        grad = np.empty(self.n_params)
        grad[self._W1] = self.l2 * theta[self._W1]
        if XtR is not None:
            grad[self._W1] += XtR
        rest = slice(self._b1.start, self.n_params)
        grad[rest] = sums[: rest.stop - rest.start]
        grad[self._W2] += self.l2 * theta[self._W2]
        return grad

    def gather_gradient(self, theta, point, engine, purpose, step=None):
        """Objective, ``sum |R|`` and gradient at ``point`` on a dask X: one round trip.

        One task per row chunk recomputes the chunk's activations and output
        (from ``Z`` and the point's second layer), its loss, the residual
        ``R``, ``sum |R|``, the second layer's gradient and ``X.T R`` (one
        backward product, counted under ``purpose``) with
        :meth:`_loss_gradient`; the client adds them up and adds the penalty.
        Given the ``step`` that led to ``point``, the same tasks measure it
        (``_dask_rows.step_rows``). Parameters and returns as
        :meth:`DaskLinearModel.gather_gradient`; ``point`` holds the
        persisted pre-activation and the second layer.
        """
        images, rates, keep = ([], None, False) if step is None else step
        _, _, W2, _ = self.unpack(theta)
        rows = [point.pre_activation, self.targets.y, self.targets.w, *images]
        outputs, host = engine.backward_rows(
            _network_residual_rows,
            rows,
            self._spec,
            W2,
            point.second_layer,
            rates,
            keep,
            purpose=purpose,
        )
        sums = host.sum(axis=0)
        n_sums = self.n_params - self._b1.start
        n_sizes = 0 if step is None else 1 + keep
        XtR = sums[2 + n_sums + n_sizes :]
        measured = None
        if step is not None:
            measured = _step_measurement(host, outputs, 2 + n_sums, keep)
        return (*self._gathered(theta, sums, XtR), measured)

    def first_trial(self, theta, point, engine, D, rates, purpose):
        """The direction's image, the first trial and the gradient there: one trip.

        As :meth:`DaskLinearModel.first_trial`: one task per row chunk forms
        the chunk's image of ``D``, the trial at ``rates`` (its pre-activation,
        kept, and the loss's value, as :meth:`subspace` without
        derivatives) and the gradient pass at that point (as
        :meth:`gather_gradient`): two products, counted under ``purpose``.
        A search that asks for the trial's derivatives there (near the
        optimum) takes one more round trip. A dask X only: None otherwise
        (an in-memory network's products are not the bottleneck of its
        trials).

        Returns
        -------
        FirstTrial or None
        """
        if not getattr(engine, "lazy", False):
            return None
        W, b = self.first_layer(D)
        P = D[None, :]
        second_layer = self._second_layer_at(theta, P, rates)
        rows = [point.pre_activation, self.targets.y, self.targets.w]
        (image, Za), host = engine.forward_backward_rows(
            W,
            b,
            _network_first_trial_rows,
            rows,
            self._spec,
            theta,
            P,
            rates,
            second_layer,
            purpose=purpose,
        )
        n_sums = self.n_params - self._b1.start
        # Each chunk: max|image|, the trial's value, the gradient pass's
        # numbers (value, sum |R| and 2 + n_sums sums), max|Z(a)|, X.T R.
        sizes = host[:, [0, 4 + n_sums]].max(axis=0)
        sums = host.sum(axis=0)
        return FirstTrial(
            rates=np.array(rates, dtype=np.float64),
            image=image,
            image_size=float(sizes[0]),
            z_size=float(sizes[1]),
            numbers=sums[1:2],
            gradient=functools.partial(
                self._gathered, sums=sums[2 : 4 + n_sums], XtR=sums[5 + n_sums :]
            ),
            pre_activation=Za,
        )

    def _gathered(self, theta, sums, XtR):
        """Objective, ``sum |R|`` and gradient at ``theta`` from the chunks' sums.

        ``sums`` as :func:`_network_residual_rows` gives them (summed over
        the chunks), ``XtR`` the summed ``X.T R``; the penalty is added here.
        """
        grad = self._gradient_from_sums(theta, sums[2:], XtR)
        value = float(sums[0]) + self._penalty(theta)
        return value, float(sums[1]), grad

    def subspace(self, theta, point, basis, first=None):
        """Return ``phi(a, derivatives)`` for the directions of ``basis``.

        ``Z(a) = Z + sum_j a_j V_j`` and ``W2(a), b2(a)`` are affine in ``a``;
        the Jacobian of the output is
        ``J_j = (act'(Z(a)) * V_j) W2(a) + act(Z(a)) P_j,W2 + P_j,b2``, and the
        Hessian returned is the Gauss-Newton matrix ``J^T H_loss J`` plus the
        penalty's exact one: positive semi-definite, as a damped Gauss-Newton
        method needs on this non-convex problem. ``phi`` returns a
        :class:`~sklearn_so._trial.Trial` whose point holds the trial's
        pre-activation, activations, output, loss terms and (with
        derivatives) activation slope.

        For a dask X each trial is one task per row chunk (the same code on
        the chunk, :meth:`_trial_rows`) and one round trip; the trial's
        pre-activation is persisted on the workers, the chunks' numbers are
        added on the client. The value at the rates of ``first`` (from
        :meth:`first_trial`) is known: no round trip.
        """
        penalty = _QuadraticPenalty.of(
            self.l2, self._weights(theta), self._weights(basis.P)
        )
        if self.lazy:
            return self._dask_subspace(theta, point, basis, penalty, first)
        rows = self._trial_rows(theta, point.pre_activation, basis.P, basis.V)

        def phi(a, derivatives=True):
            trial_point, value, gradient, hess = rows(a, derivatives)
            if not derivatives:
                return penalty.trial(a, trial_point, ns.to_float(value))
            value, gradient, hess = ns.trial_to_host(value, gradient, hess)
            return penalty.trial(a, trial_point, value, gradient, hess)

        return phi

    def _dask_subspace(self, theta, point, basis, penalty, first=None):
        """:meth:`subspace` on a dask X: one task per row chunk per trial."""
        k = len(basis.V)
        P = basis.P
        rows = [point.pre_activation, self.targets.y, self.targets.w, *basis.V]

        def phi(a, derivatives=True):
            rates = np.array(a, dtype=np.float64)
            if first is not None and not derivatives and first.taken(rates):
                second_layer = self._second_layer_at(theta, P, rates)
                trial_point = NetworkPoint(
                    first.pre_activation, None, None, second_layer=second_layer
                )
                return penalty.trial(a, trial_point, float(first.numbers[0]))
            outputs, numbers = map_rows(
                _network_trial_rows, rows, self._spec, theta, P, rates, derivatives
            )
            (Za,), host = run(outputs, numbers)
            sums = host.sum(axis=0)
            second_layer = self._second_layer_at(theta, P, rates)
            trial_point = NetworkPoint(Za, None, None, second_layer=second_layer)
            if not derivatives:
                return penalty.trial(a, trial_point, float(sums[0]))
            gradient, hess = sums[1 : k + 1], sums[k + 1 :].reshape(k, k)
            return penalty.trial(a, trial_point, float(sums[0]), gradient, hess)

        return phi

    def _second_layer_at(self, theta, P, a):
        """A trial's second layer ``(W2 + sum_j a_j P_j,W2, b2 + sum_j a_j P_j,b2)``."""
        _, _, W2, b2 = self.unpack(theta)
        rates = ns.from_host(a, W2)
        if self.pxp is np:
            # np.tensordot's own product, without its Python overhead.
            step = np.dot(rates.reshape(1, -1), P[:, self._W2])
            W2a = W2 + step.reshape(W2.shape)
        else:
            P2W = ns.reshape(P[:, self._W2], (P.shape[0], self.r, self.c))
            W2a = W2 + self.pxp.tensordot(rates, P2W, axes=1)
        return W2a, b2 + rates @ P[:, self._b2]

    def _trial_rows(self, theta, Z, P, V):
        """``rows(a, derivatives)``: a trial's point and its loss's numbers.

        The loss's value, subspace gradient and Gauss-Newton Hessian at
        ``theta + sum_j a_j P_j`` (on the rows' device; None without
        derivatives), without the penalty, from the pre-activation ``Z``
        and the directions' images ``V`` of the same rows: all rows on
        numpy or another namespace, or one row chunk of a dask X.
        """
        xp = self.xp
        on_numpy = xp is np
        k = len(V)
        P2W = ns.reshape(P[:, self._W2], (k, self.r, self.c))
        P2b = P[:, self._b2]
        # Skip the parts a direction does not have (per-layer bases).
        second_layer = P[:, self.blocks[1]]
        if on_numpy:
            touches_W2 = second_layer.any(axis=1)
        else:
            touches_W2 = ns.to_host(xp.any(second_layer, axis=1)) != 0
        images = [(j, v) for j, v in enumerate(V) if v is not None]
        # The second-layer parts side by side: one product with the n x r
        # activations for all of them (one pass over A, not one each).
        second = [j for j in range(k) if touches_W2[j]]
        P2W_side = ns.concat([P2W[j, ...] for j in second], axis=1) if second else None
        loss, targets = self.loss, self.targets

        def forward(a):
            # Z + S with the step's image S = sum_j a_j V_j summed as
            # Basis.image sums it. With two images or more the trial keeps
            # S, which becomes the move's image if the trial is accepted
            # (it would otherwise cost the same passes again); with one,
            # a_j V_j + Z in place rounds alike and costs one array less.
            terms = [(float(a[j]), v) for j, v in images if a[j] != 0.0]
            S = ns.scaled_sum(terms)
            if S is None:
                Za = Z.copy() if on_numpy else xp.asarray(Z, copy=True)
            elif len(terms) == 1:
                Za, S = S, None
                Za += Z
            else:
                Za = Z + S
            W2a, b2a = self._second_layer_at(theta, P, a)
            trial_point = NetworkPoint(Za, *self._hidden_and_output(Za, W2a, b2a))
            trial_point.step_image = S
            trial_point.loss_terms = loss.terms(trial_point.output, targets)
            return trial_point, W2a

        def rows(a, derivatives=True):
            trial_point, W2a = forward(a)
            A, out = trial_point.hidden, trial_point.output
            if not derivatives:
                value = loss.value(out, targets, trial_point.loss_terms)
                return trial_point, value, None, None
            if on_numpy:
                J = np.zeros((k,) + out.shape)
            else:
                J = xp.zeros((k,) + out.shape, dtype=out.dtype, device=ns.device(out))
            if images:
                slope = self.act_prime(trial_point.pre_activation, A)
                trial_point.slope = slope
                scratch = None
                for j, v in images:
                    if on_numpy:
                        scratch = np.multiply(slope, v, out=scratch)
                        J[j] = scratch @ W2a
                    else:
                        J[j, ...] = (slope * v) @ W2a
            if second:
                c = self.c
                AP = A @ P2W_side
                for i, j in enumerate(second):
                    J[j, ...] += AP[:, i * c : (i + 1) * c] + P2b[j, ...]
            value, G, hess = loss.evaluate(out, targets, J, trial_point.loss_terms)
            gradient = ns.reshape(J, (k, -1)) @ ns.reshape(G, (-1,))
            return trial_point, value, gradient, hess

        return rows

    @property
    def _spec(self):
        """What a row task needs to rebuild the model on its chunk."""
        return (self.d, self.r, self.c, self.activation, self.loss)


def _chunk_network(spec, y, w):
    """The network on one row chunk of a dask X (numpy), for the row tasks.

    Its penalty is left to the client (``l2`` 0): the chunks' numbers are
    sums over their rows, which the client adds up.
    """
    d, r, c, activation, loss = spec
    return TwoLayerNetwork(d, r, c, activation, loss, y, w, 0.0)


def _network_trial_rows(chunks, spec, theta, P, a, derivatives):
    """A row chunk's trial pre-activation and its share of ``phi``'s numbers."""
    Z, y, w, *images = chunks
    model = _chunk_network(spec, y, w)
    rows = model._trial_rows(theta, Z, P, images)
    trial_point, value, gradient, hess = rows(a, derivatives)
    # Only Z(a) is kept: the accepted point's gradient recomputes the
    # activations and output from it (the same numbers), and most trials
    # are not accepted.
    if not derivatives:
        return [trial_point.pre_activation], [value]
    numbers = np.concatenate([[value], gradient, np.ravel(hess)])
    return [trial_point.pre_activation], numbers


def _network_first_trial_rows(chunks, spec, theta, P, a, second_layer):
    """A row chunk's first trial from the new image, and the gradient pass there.

    :func:`_network_trial_rows` without derivatives, then
    :func:`_network_residual_rows` at the trial point (the same formulas as
    two round trips would use) and ``max |Z(a)|``; ``R`` is returned for the
    backward product, ``Z(a)`` kept.
    """
    image, Z, y, w = chunks
    (Za,), (value,) = _network_trial_rows([Z, y, w, image], spec, theta, P, a, False)
    W2 = second_layer[0]
    R, numbers, _ = _network_residual_rows(
        [Za, y, w], spec, W2, second_layer, None, False
    )
    size = np.max(np.abs(Za), initial=0.0)
    return R, np.concatenate([[value], numbers, [size]]), [Za]


def _network_value_rows(chunks, spec, second_layer):
    """A row chunk's share of the loss value."""
    Z, y, w = chunks
    model = _chunk_network(spec, y, w)
    _, out = model._hidden_and_output(Z, *second_layer)
    return [], [model.loss.value(out, model.targets)]


def _network_residual_rows(chunks, spec, W2, second_layer, rates, keep):
    """A row chunk's ``R``, loss value, ``sum |R|`` and second-layer gradient.

    The numbers are ``[value, sum |R|, R_sum, A.T G, G_sum]`` (see
    ``TwoLayerNetwork._loss_gradient``), then, with rates, the step's sizes
    (``_dask_rows.step_rows``), whose image is the one output.
    """
    Z, y, w, *images = chunks
    outputs, sizes = [], []
    if rates is not None:
        outputs, sizes = step_rows([Z, *images], rates, keep)
    model = _chunk_network(spec, y, w)
    point = NetworkPoint(Z, *model._hidden_and_output(Z, *second_layer))
    value, R, R_sum, AG, G_sum = model._loss_gradient(W2, point)
    numbers = np.concatenate([[value, np.abs(R).sum()], R_sum, AG, G_sum, sizes])
    return R, numbers, outputs


def _network_gradient_rows(chunks, spec, W2, second_layer):
    """A row chunk's ``R``, kept, and the numbers of :func:`_network_residual_rows`."""
    R, numbers, _ = _network_residual_rows(chunks, spec, W2, second_layer, None, False)
    return [R], numbers
