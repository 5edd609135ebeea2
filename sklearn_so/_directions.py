"""Search directions: gradient descent, L-BFGS, Adam and Newton.

A direction object sees the flat parameter vector and its gradient once per
iteration and returns the new direction ``D``; its state (curvature pairs,
moments) lives in the object. Directions never touch X: the image ``X D`` is
the one forward product the outer loop performs per iteration.

The parameter-sized state (the curvature pairs, the moments) lives in the
namespace and on the device of the parameters (see ``_namespace``); the
L-BFGS compact form's small ``memory x memory`` matrices and its triangular
solves are on the host, in float64, and ``O(memory)`` numbers cross per
iteration.
"""

import numpy as np
from scipy.linalg.lapack import dpotrf, dpotrs, dtrtrs

from . import _namespace as ns
from ._preconditioner import apply_scaling


def _copy(x):
    if isinstance(x, np.ndarray):
        return x.copy()
    return ns.namespace(x).asarray(x, copy=True)


class GradientDirection:
    """Steepest descent, diagonally preconditioned: ``D = -S g``.

    Parameters
    ----------
    scaling : ndarray, CentredScaling or None
        Positive diagonal ``S`` (an inverse Hessian-diagonal estimate), or
        that diagonal with the intercepts eliminated (``_preconditioner``);
        None for the plain gradient.
    """

    # Takes the model's diagonal preconditioner, when it offers one.
    uses_scaling = True

    def __init__(self, scaling=None):
        self.scaling = scaling

    def __call__(self, theta, grad):
        """Return the direction at ``theta``."""
        return -apply_scaling(self.scaling, grad)

    def reset(self):
        """Nothing to forget."""

    def set_scaling(self, scaling):
        """Use a new diagonal preconditioner from now on."""
        self.scaling = scaling


class LBFGSDirection:
    """Limited-memory BFGS in the compact representation.

    The initial inverse Hessian is ``H0 = gamma * S`` with ``S`` a diagonal
    preconditioner and ``gamma = s'y / y'Sy`` from the newest pair, which
    makes the direction insensitive to the scale of each feature. The
    direction ``-H g`` is formed with the compact representation of Byrd,
    Nocedal and Schnabel (1994)::

        H = H0 + [S, H0 Y] [[R^-T (D + Y' H0 Y) R^-1, -R^-T], [-R^-1, 0]] [S'; Y' H0]

    (``R`` the upper triangle of ``S'Y``, ``D`` its diagonal). It equals the
    two-loop recursion's direction, with a dozen matrix-vector operations
    instead of four per pair: on small problems the Python overhead of the
    recursion is a sizeable part of an iteration.

    Parameters
    ----------
    memory : int
        Number of curvature pairs ``(s, y)`` kept.
    scaling : ndarray, CentredScaling or None
        Positive diagonal ``S``, or that diagonal with the intercepts
        eliminated (a symmetric positive definite ``H0`` either way, up to
        L-BFGS's scalar); None for the identity.
    """

    uses_scaling = True

    def __init__(self, memory, scaling=None):
        self.memory = memory
        self.scaling = scaling
        self._previous = None
        self.reset()

    def reset(self):
        """Forget the curvature pairs (used when a direction is not descent).

        The current point is kept, so the pair it forms with the next point
        is not lost.
        """
        self._s = None  # (memory, n_params) rows: a ring buffer of the pairs
        self._count = 0
        self._next = 0

    def _scale(self, v):
        return apply_scaling(self.scaling, v)

    def set_scaling(self, scaling):
        """Use a new diagonal preconditioner; the curvature pairs are kept."""
        self.scaling = scaling
        if self._count:
            Y = self._y[: self._count, :]
            self._ysy[: self._count, : self._count] = ns.to_host(Y @ self._scale(Y).T)

    def _add_pair(self, s, y):
        xp = ns.namespace(s)
        if self._s is None:
            # Rows are filled in order until the buffer is full, and only
            # filled rows are ever read: np.empty leaves the memory of a
            # large, unfilled buffer untouched.
            if xp is np:
                self._s = np.empty((self.memory, s.size))
                self._y = np.empty((self.memory, s.size))
            else:
                shape, device = (self.memory, s.shape[0]), ns.device(s)
                self._s = xp.empty(shape, dtype=s.dtype, device=device)
                self._y = xp.empty(shape, dtype=s.dtype, device=device)
            # s_i'y_j and y_i'S y_j for every pair of filled slots.
            self._sy = np.zeros((self.memory, self.memory))
            self._ysy = np.zeros((self.memory, self.memory))
        slot = self._next
        self._s[slot, :] = s
        self._y[slot, :] = y
        filled = min(self._count + 1, self.memory)
        S, Y = self._s[:filled, :], self._y[:filled, :]
        if xp is np:
            self._sy[slot, :filled] = Y @ s
            self._sy[:filled, slot] = S @ y
            scaled = Y @ self._scale(y)
        else:
            # The 3 * memory inner products cross to the host together.
            host = ns.to_host(xp.concat([Y @ s, S @ y, Y @ self._scale(y)]))
            self._sy[slot, :filled] = host[:filled]
            self._sy[:filled, slot] = host[filled : 2 * filled]
            scaled = host[2 * filled :]
        self._ysy[slot, :filled] = scaled
        self._ysy[:filled, slot] = scaled
        self._next = (slot + 1) % self.memory
        self._count = filled

    def __call__(self, theta, grad):
        """Return ``-H_k grad`` with ``H_k`` the L-BFGS inverse Hessian model."""
        on_host = isinstance(grad, np.ndarray)
        if self._previous is not None:
            s = theta - self._previous[0]
            y = grad - self._previous[1]
            if on_host:
                sy, ss, yy = s @ y, s @ s, y @ y
            else:
                xp = ns.namespace(s)
                sy, ss, yy = ns.to_host(xp.stack([s @ y, s @ s, y @ y]))
            # Keep only pairs with clearly positive curvature, so H_k stays
            # positive definite.
            if sy > 1e-10 * np.sqrt(ss * yy):
                self._add_pair(s, y)
        if on_host:
            self._previous = (theta.copy(), grad.copy())
        else:
            self._previous = (_copy(theta), _copy(grad))
        count = self._count
        if count == 0:
            return -self._scale(grad)

        S, Y = self._s[:count, :], self._y[:count, :]
        if not on_host:
            return self._array_api_direction(S, Y, grad, count)
        Sg, YSg = S @ grad, Y @ self._scale(grad)
        if count < self.memory or self._next == 0:
            # The slots already run from the oldest pair to the newest (the
            # buffer has not wrapped round): nothing to reorder.
            order = None
            sy, ysy = self._sy[:count, :count], self._ysy[:count, :count]
        else:
            # np.take is cheaper than fancy indexing for these few entries.
            order = (self._next - count + np.arange(count)) % count
            sy = self._sy[:count, :count].take(order, 0).take(order, 1)
            ysy = self._ysy[:count, :count].take(order, 0).take(order, 1)
            Sg, YSg = Sg.take(order), YSg.take(order)
        gamma = sy[-1, -1] / ysy[-1, -1]
        # LAPACK's triangular solves read only the upper triangle of sy: R.
        r1, _ = dtrtrs(sy, Sg)
        rhs = sy.diagonal() * r1 + gamma * (ysy @ r1 - YSg)
        t1, _ = dtrtrs(sy, rhs, trans=1)
        if order is not None:
            # r1 and t1 put back in slots.
            in_slots = np.empty((2, count))
            in_slots[0, order] = r1
            in_slots[1, order] = t1
            r1, t1 = in_slots
        # H g = gamma S (g - Y' r1) + S' t1.
        return -(gamma * self._scale(grad - r1 @ Y) + t1 @ S)

    def _array_api_direction(self, S, Y, grad, count):
        """:meth:`__call__`'s direction for pairs and gradient on a device.

        The same algebra: the two memory-sized products cross to the host,
        the small triangular solves run there, and their results (2 *
        memory numbers) come back as the coefficients of S and Y.
        """
        xp = ns.namespace(grad)
        order = (self._next - count + np.arange(count)) % count
        sy = self._sy[:count, :count].take(order, 0).take(order, 1)
        ysy = self._ysy[:count, :count].take(order, 0).take(order, 1)
        gamma = float(sy[-1, -1] / ysy[-1, -1])
        host = ns.to_host(xp.concat([S @ grad, Y @ self._scale(grad)]))
        r1, _ = dtrtrs(sy, host[:count].take(order))
        rhs = sy.diagonal() * r1 + gamma * (ysy @ r1 - host[count:].take(order))
        t1, _ = dtrtrs(sy, rhs, trans=1)
        in_slots = np.empty((2, count))
        in_slots[0, order] = r1
        in_slots[1, order] = t1
        in_slots = ns.from_host(in_slots, grad)
        return -(gamma * self._scale(grad - in_slots[0, :] @ Y) + in_slots[1, :] @ S)


class AdamDirection:
    """Adam's bias-corrected direction ``-m_hat / (sqrt(v_hat) + eps)``.

    The step length is not Adam's learning rate: the strategy chooses it.

    Parameters
    ----------
    beta1, beta2, epsilon : float
        Adam's moment decay rates and denominator guard.
    """

    # Adam's second moment is its own diagonal scaling.
    uses_scaling = False

    def __init__(self, beta1=0.9, beta2=0.999, epsilon=1e-8):
        self.beta1 = beta1
        self.beta2 = beta2
        self.epsilon = epsilon
        self.reset()

    def reset(self):
        """Forget the moments."""
        self._m = None
        self._v = None
        self._t = 0

    def set_scaling(self, scaling):
        """Ignored: Adam scales by its own second moment."""

    def __call__(self, theta, grad):
        """Update the moments with ``grad`` and return the direction."""
        xp = ns.namespace(grad)
        if self._m is None:
            self._m = xp.zeros_like(grad)
            self._v = xp.zeros_like(grad)
        self._t += 1
        self._m = self.beta1 * self._m + (1 - self.beta1) * grad
        self._v = self.beta2 * self._v + (1 - self.beta2) * grad**2
        m_hat = self._m / (1 - self.beta1**self._t)
        v_hat = self._v / (1 - self.beta2**self._t)
        return -m_hat / (xp.sqrt(v_hat) + self.epsilon)


# Eigenvalues of a Hessian that Cholesky refused below this fraction of the
# largest are treated as zero (the pseudo-inverse's cut-off, as lstsq's).
NEWTON_RCOND = 1e-12


def solve_positive(H, g):
    """Return ``H^{-1} g`` for a symmetric positive semi-definite ``H``.

    Cholesky first; if it fails (``H`` singular or not positive definite to
    rounding), the pseudo-inverse from the eigendecomposition, with
    eigenvalues below ``NEWTON_RCOND`` times the largest (and negative
    ones, rounding errors of a convex objective's Hessian) dropped: the
    minimum-norm Newton step in the directions the objective curves.

    Parameters
    ----------
    H : ndarray of shape (p, p)
        Symmetric (not modified).
    g : ndarray of shape (p,)
        The right-hand side.

    Returns
    -------
    x : ndarray of shape (p,)
    """
    # LAPACK's Cholesky directly: scipy.linalg's wrappers cost more than
    # the factorisation itself for a few dozen parameters.
    factor, info = dpotrf(H, lower=1, clean=0, overwrite_a=0)
    if info == 0:
        x, info = dpotrs(factor, g, lower=1)
        if info == 0 and np.all(np.isfinite(x)):
            return x
    values, vectors = np.linalg.eigh(H)
    keep = values > NEWTON_RCOND * max(values.max(initial=0.0), 0.0)
    if not np.any(keep):
        return g.copy()
    vectors = vectors[:, keep]
    return vectors @ ((vectors.T @ g) / values[keep])


class NewtonDirection:
    """Newton's direction ``-H^{-1} g`` from the exact Hessian at the point.

    The outer loop hands the direction, before each call, the model's
    curvature at the current point (``set_curvature``: a
    ``_optimizer.Curvature``); the Hessian is formed (one pass over X,
    counted as ``"hessian"``) only when the direction is computed. The subspace
    search then chooses the step (and the momentum rate) as for any
    direction; ``"ls"`` tries the unit step first. After ``reset`` (the
    direction gave no decrease) the next direction is steepest descent,
    without a Hessian: Newton's direction at the same point would be the
    same.
    """

    uses_scaling = False

    def __init__(self):
        self._curvature = None
        self._steepest = False

    def reset(self):
        """Take one steepest-descent direction next (Newton's failed here)."""
        self._steepest = True

    def set_scaling(self, scaling):
        """Ignored: the Hessian is the scaling."""

    def set_curvature(self, curvature):
        """Use the curvature at the current point for the next direction.

        Parameters
        ----------
        curvature : Curvature
            ``curvature.matrix()`` returns the (n_params, n_params) Hessian,
            positive definite on the subspace the model keeps its
            directions in (``_optimizer.Curvature``).
        """
        self._curvature = curvature

    def __call__(self, theta, grad):
        """Return ``-H^{-1} grad``, or ``-grad`` after a reset.

        The Hessian arrives on the host (``curvature.matrix()``); a gradient
        on a device crosses to it and the direction back (``n_params``
        numbers each way), in the gradient's namespace, device and dtype.
        """
        if self._steepest or self._curvature is None:
            self._steepest = False
            return -grad
        curvature, self._curvature = self._curvature, None
        hessian = curvature.matrix()
        if isinstance(grad, np.ndarray):
            return -solve_positive(hessian, grad)
        return -ns.from_host(solve_positive(hessian, ns.to_host(grad)), grad)


# The truncated Newton direction's conjugate-gradient iterations per
# direction at most (scikit-learn's newton-cg allows 200).
CG_MAX_ITER = 200


def _scalars(xp, *values):
    """0-d results as host numbers: numpy's as they are, a device's in one crossing.

    A device's arrive as Python floats: a numpy scalar times a device array
    would try to convert the array to numpy.
    """
    if xp is np:
        return values
    return tuple(ns.to_host(xp.stack(values)).tolist())


def _norm1(xp, v):
    """``sum |v|``; numpy's by the ndarray method (less call overhead)."""
    return np.abs(v).sum() if xp is np else xp.sum(xp.abs(v))


def conjugate_gradient(product, g, max_iter=CG_MAX_ITER, scaling=None):
    """Approximately solve ``H x = -g`` by conjugate gradients from ``x = 0``.

    Stops, as scikit-learn's newton-cg solver does, when ``||r||_1`` is at
    most ``min(0.5, sqrt(||g||_1)) ||g||_1`` (a forcing term that makes
    the outer iteration superlinear), at non-positive or negligible
    curvature, or after ``max_iter`` iterations.

    The vectors live in the namespace and on the device of ``g`` (for
    numpy, plain numpy); the scalars that steer the iteration cross to the
    host, two at a time: the curvature ``p'Hp`` with ``||p||^2``, and
    ``r'z`` with ``||r||_1``.

    Parameters
    ----------
    product : callable
        ``product(v)`` returns ``H v``, in ``v``'s namespace.
    g : array of shape (p,)
        The gradient.
    max_iter : int
        Largest number of products with H.
    scaling : array of shape (p,) or None
        A diagonal preconditioner (the inverse Hessian diagonal), in
        ``g``'s namespace.

    Returns
    -------
    x : array of shape (p,)
        The approximate Newton step (``-g`` scaled by its curvature if the
        first direction has none worth using).
    """
    xp = ns.namespace(g)
    tiny = 16 * np.finfo(float).eps
    x = xp.zeros_like(g)
    r = _copy(g)  # residual H x + g
    z = r if scaling is None else scaling * r
    p = -z
    magnitude, rr = _scalars(xp, _norm1(xp, g), r @ z)
    tolerance = min(0.5, np.sqrt(magnitude)) * magnitude
    residual = magnitude
    for iteration in range(max_iter):
        if residual <= tolerance:
            break
        Hp = product(p)
        curvature, p_norm2 = _scalars(xp, p @ Hp, p @ p)
        if curvature <= tiny * p_norm2:
            if iteration == 0 and curvature > 0:
                x = (rr / curvature) * p
            break
        alpha = rr / curvature
        x += alpha * p
        r += alpha * Hp
        z = r if scaling is None else scaling * r
        rr_next, residual = _scalars(xp, r @ z, _norm1(xp, r))
        beta = rr_next / rr
        p = -z + beta * p
        rr = rr_next
    if not (np.any(x) if xp is np else ns.to_bool(xp.any(x != 0))):
        return -g
    return x


class TruncatedNewtonDirection(NewtonDirection):
    """Newton's direction from conjugate gradients on Hessian products.

    For models too large for the exact Hessian: the step solves
    ``H x = -g`` approximately (:func:`conjugate_gradient`, scikit-learn's
    newton-cg's stopping rule), each product with H costing two products
    with X (``curvature.product()``, counted as ``"hessian"``), with the
    conjugate gradients diagonally preconditioned. The
    subspace search then chooses the step length (and momentum) along it,
    where newton-cg's line search costs products of its own.
    """

    def __call__(self, theta, grad):
        """Return the truncated Newton step, or ``-grad`` after a reset.

        The conjugate gradients are preconditioned by the inverse Hessian
        diagonal at the same point (``curvature.diagonal()``, one more pass
        over X): on the raw digits it took 2.9x fewer products with H than
        without, where a diagonal estimated at the start took 1.4x fewer.
        """
        if self._steepest or self._curvature is None:
            self._steepest = False
            return -grad
        curvature, self._curvature = self._curvature, None
        return conjugate_gradient(
            curvature.product(), grad, scaling=curvature.diagonal()
        )


# The directions of every model; LINEAR_DIRECTIONS adds those that need the
# model's exact Hessian (``_contracts.CurvatureModel``), the linear model's,
# and "auto" (the default), which chooses between "newton" and "lbfgs" by
# shape.
DIRECTIONS = ("gd", "lbfgs", "adam")
LINEAR_DIRECTIONS = (*DIRECTIONS, "newton", "newton-cg", "auto")

# direction="auto" (the default) takes "newton" when forming and factorising
# the Hessian costs at most this many multiply-adds (about half a
# millisecond at one thread: the Python overhead of one or two iterations),
# else "lbfgs". In benchmarks/results/newton*.md the shapes below the bound
# (breast cancer, raw wine: 2e5-6e5) reached the target 1.8-3.2x faster
# with ls/newton than with ls/lbfgs, and ls/lbfgs was faster than ls/newton
# on every shape above it (dense 5,000 x 100 and x 300, digits, dense 50,000
# x 500: 5e7-1e10). "newton-cg" is not chosen by shape: above the bound it
# was ahead of ls/lbfgs (with the centred preconditioner) only on the dense
# 50,000 x 500 set with redundant features, and behind it on raw digits,
# the image-like set, the smaller dense sets from the same generator and
# on standardised sets of similar shapes (benchmarks/results/newton_std.md,
# where L-BFGS needs 13 to 53 iterations).
AUTO_NEWTON_OPERATIONS = 5e6


def newton_operations(n_samples, n_features, n_outputs, fit_intercept):
    """Multiply-adds of one exact Newton direction of the linear model.

    The Hessian pass, ``n (d + 1)^2 q (q + 1) / 2`` (dense X; an upper
    bound for sparse X), and its Cholesky factorisation, ``p^3 / 3`` with
    ``p = (d + 1) q`` parameters.

    Parameters
    ----------
    n_samples, n_features, n_outputs : int
        Shape of X and number of outputs q (1 for a binary problem).
    fit_intercept : bool
        Whether the model has an intercept (``d + 1`` columns).

    Returns
    -------
    operations : float
    """
    width = n_features + bool(fit_intercept)
    pairs = n_outputs * (n_outputs + 1) / 2
    n_params = width * n_outputs
    return n_samples * width**2 * pairs + n_params**3 / 3


def resolve_direction(name, n_samples, n_features, n_outputs, fit_intercept):
    """The direction a linear model takes for the ``direction`` parameter.

    ``"auto"`` is ``"newton"`` when :func:`newton_operations` is at most
    ``AUTO_NEWTON_OPERATIONS``, else ``"lbfgs"``. Any other name is itself.

    Parameters
    ----------
    name : str
        The ``direction`` parameter.
    n_samples, n_features, n_outputs : int
        Shape of X and number of outputs (1 for a binary problem).
    fit_intercept : bool
        Whether the model has an intercept.

    Returns
    -------
    direction : str
    """
    if name != "auto":
        return name
    operations = newton_operations(n_samples, n_features, n_outputs, fit_intercept)
    return "newton" if operations <= AUTO_NEWTON_OPERATIONS else "lbfgs"


def make_direction(name, memory, scaling=None):
    """Return a fresh direction object for the ``direction`` parameter."""
    if name == "gd":
        return GradientDirection(scaling)
    if name == "lbfgs":
        return LBFGSDirection(memory, scaling)
    if name == "adam":
        return AdamDirection()
    if name == "newton":
        return NewtonDirection()
    if name == "newton-cg":
        return TruncatedNewtonDirection()
    raise ValueError(f"unknown direction {name!r}; expected one of {LINEAR_DIRECTIONS}")
