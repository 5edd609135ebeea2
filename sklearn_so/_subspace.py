"""Inner solvers for the tiny problem ``min_a phi(a)``, ``a`` in R^k.

``phi(a)`` is the outer objective at ``theta + sum_j a_j P_j``; it is evaluated
from cached images only, so every call costs O(n k q) and no product with X.
``phi(a, derivatives=True)`` returns a :class:`~sklearn_so._trial.Trial` with
the value, gradient and Hessian in the rates, ``phi(a, derivatives=False)``
one with the value alone. The solvers return the accepted trial itself (as
optax's line searches return the accepted point's value and gradient in
their state), so the caller continues from everything computed there.
"""

import math

import numpy as np

# Armijo's sufficient-decrease constant, as in scipy.optimize's line searches.
ARMIJO_C1 = 1e-4
# Smallest eigenvalue kept in the unit-diagonal subspace Hessian, relative to
# the largest: bounds the rates of nearly collinear directions.
CONDITION_FLOOR = 1e-8
# Changes of the objective below this many units in the last place of its
# value are treated as rounding noise.
ROUNDING_ULPS = 64
# Machine epsilon of float64, the working precision of numpy fits.
FLOAT64_EPS = float(np.finfo(np.float64).eps)
# Halvings of a Newton step tried when its trials are all at rounding level.
ROUNDING_HALVINGS = 3
# Smallest positive float64, the floor of the largest eigenvalue.
TINY = float(np.finfo(np.float64).tiny)


def armijo_backtracking(
    phi, f0, slope, step, *, shrink=0.5, max_trials=60, eps=FLOAT64_EPS
):
    """Backtrack along one direction until Armijo's condition holds.

    Near the optimum the objective changes by less than its rounding error and
    Armijo's test becomes a coin toss, so the steps would shrink for nothing.
    There, as in Hager and Zhang's approximate Wolfe conditions, a step is
    accepted when the value is below ``f0`` by no more than rounding (never
    equal or above: the objective keeps decreasing, and a search that cannot
    decrease it at all still ends) and the directional derivative shows it
    did not overshoot: ``phi'(step) <= (1 - 2 c1) |phi'(0)|``.

    Parameters
    ----------
    phi : callable
        ``phi(a, derivatives)`` for a length-1 array ``a``.
    f0 : float
        ``phi(0)``.
    slope : float
        Directional derivative ``phi'(0)``; must be negative.
    step : float
        First trial step.
    shrink : float
        Factor applied to the step after each failed trial.
    max_trials : int
        Trials before giving up.
    eps : float
        Machine epsilon of the precision the objective is computed in.

    Returns
    -------
    trial : Trial or None
        The accepted trial (its ``rates`` hold the step), None if no step
        satisfied the condition.
    n_trials : int
        Number of step lengths tried.
    """
    rounding = ROUNDING_ULPS * eps * abs(f0)
    for n_trials in range(1, max_trials + 1):
        trial = phi(np.array([step]), derivatives=False)
        value = trial.value
        if math.isfinite(value):
            if value <= f0 + ARMIJO_C1 * step * slope and value < f0:
                return trial, n_trials
            if f0 - rounding <= value < f0:
                with_slope = phi(np.array([step]), derivatives=True)
                if with_slope.gradient[0] <= (1 - 2 * ARMIJO_C1) * abs(slope):
                    return with_slope, n_trials
        step *= shrink
    return None, max_trials


def subspace_newton(
    phi,
    a_start,
    *,
    value_at_zero=None,
    rtol=1e-10,
    max_iter=30,
    fits=None,
    eps=FLOAT64_EPS,
):
    """Minimise ``phi`` by a safeguarded Newton method.

    The Hessian returned by ``phi`` (exact for convex linear models,
    Gauss-Newton for networks) is made positive definite by flooring its
    eigenvalues, so every step is a descent direction; a backtracking search
    along it enforces Armijo decrease. Where the objective can no longer
    resolve the decrease (changes at rounding level), a step is accepted when
    it reduces the norm of the subspace gradient instead, as scikit-learn's
    Newton solvers do; this lets the outer method reach tight tolerances.

    Parameters
    ----------
    phi : callable
        The subspace objective.
    a_start : ndarray of shape (k,)
        Warm start (the previous iteration's rates); used only if it is
        better than ``a = 0``.
    value_at_zero : float or None
        ``phi(0)`` if the caller knows it (the current objective); saves an
        evaluation when the warm start is better.
    rtol : float
        Stop once Newton's decrement (the decrease the quadratic model still
        promises) is at most ``rtol`` times the decrease already achieved.
    max_iter : int
        Newton iterations at most.
    fits : callable or None
        ``fits(a)`` tells whether the parameter change for rates ``a`` is
        within the safeguard's bounds; trial steps are halved until it holds
        (the bounded set is convex and contains ``a = 0``). None for no bound.
    eps : float
        Machine epsilon of the precision the objective is computed in: its
        changes below ``ROUNDING_ULPS * eps * |value|`` are rounding.

    Returns
    -------
    trial : Trial
        The trial at the rates found (``trial.rates``), never worse than
        ``a = 0``; without derivatives when the last of ``max_iter`` Newton
        steps found it.
    n_evals : int
        Number of evaluations of ``phi``.
    """
    zero = np.zeros_like(a_start, dtype=float)
    n_evals = 0
    current = None
    if a_start.any():
        warm = phi(a_start.astype(float), derivatives=True)
        n_evals += 1
        if math.isfinite(warm.value):
            current = warm
    # The derivatives at 0 are needed only when the warm start is not better
    # than 0, and the caller usually knows phi(0).
    if current is None or value_at_zero is None or not current.value < value_at_zero:
        at_zero = phi(zero, derivatives=True)
        n_evals += 1
        value_at_zero = at_zero.value
        if current is None or not current.value < value_at_zero:
            current = at_zero
    f_zero = value_at_zero
    for iteration in range(max_iter):
        a, value, grad = current.rates, current.value, current.gradient
        delta = _positive_definite_solve(current.hessian, grad)
        decrement = -(grad @ delta)
        if not decrement > 0:
            break
        rounding = ROUNDING_ULPS * eps * abs(value)
        # Newton's decrement measures the remaining progress; stop once it is
        # negligible against the progress made in this outer iteration, or
        # below what the objective's value can resolve at all.
        if iteration > 0 and decrement <= max(
            rtol * max(f_zero - value, 0.0), rounding
        ):
            break
        step = 1.0
        if fits is not None:
            while step > 1e-12 and not fits(a + step * delta):
                step *= 0.5
        accepted = None
        rounding_trials = 0
        # The last Newton step's derivatives would only decide whether to
        # take another step: its trials are evaluated without them, at a
        # fraction of a trial's cost. The decisions are the same given the
        # same values; a value computed without derivatives may differ in
        # its last bits (a loss whose value and evaluate round differently,
        # a dask X's sums over chunks).
        last = iteration == max_iter - 1
        for _ in range(40):
            evaluation = phi(a + step * delta, derivatives=not last)
            n_evals += 1
            trial_value = evaluation.value
            if math.isfinite(trial_value):
                if trial_value <= value - ARMIJO_C1 * step * decrement:
                    accepted = evaluation
                    break
                # At rounding level the value cannot show progress: judge by
                # the gradient norm instead. A step too long by a factor of
                # up to 2**ROUNDING_HALVINGS (the model's curvature too low)
                # still finds a smaller gradient by halving; beyond that,
                # shorter steps cannot be told apart: give up.
                if abs(trial_value - value) <= rounding:
                    if not evaluation.has_derivatives:
                        evaluation = phi(evaluation.rates, derivatives=True)
                        n_evals += 1
                    if np.linalg.norm(evaluation.gradient) < np.linalg.norm(grad):
                        accepted = evaluation
                        break
                    rounding_trials += 1
                    if rounding_trials > ROUNDING_HALVINGS:
                        break
            step *= 0.5
        if accepted is None:
            break
        current = accepted
    return current, n_evals


def _positive_definite_solve(hess, grad):
    """Return ``-H^+ g`` for a safeguarded version of H.

    H is first scaled to unit diagonal (the directions of a basis can differ in
    length by many orders of magnitude), then its eigenvalues are floored at
    ``CONDITION_FLOOR`` times the largest. Nearly collinear directions (the
    new direction almost parallel to the momentum, say) would otherwise get
    huge cancelling rates: the step would be the same, but the cached products
    would lose their digits to cancellation and drift from ``X W``.
    """
    # ndarray methods and broadcasting rather than np.diag, np.outer, np.all:
    # the same arithmetic, a fraction of the dispatch on a k x k matrix.
    hess = 0.5 * (hess + hess.T)
    diag = np.abs(hess.diagonal())
    diag[~(diag > 0)] = 1.0
    scale = 1.0 / np.sqrt(diag)
    scaled = hess * (scale[:, None] * scale[None, :])
    scaled_grad = scale * grad
    if not (np.isfinite(scaled).all() and np.isfinite(scaled_grad).all()):
        # Curvature beyond floating point (saturated, overflowing terms):
        # no Newton step can be trusted from here.
        return np.zeros_like(grad)
    try:
        eigval, eigvec = np.linalg.eigh(scaled)
    except np.linalg.LinAlgError:
        # LAPACK's eigensolver did not converge: take no step.
        return np.zeros_like(grad)
    top = max(eigval.max(initial=0.0), TINY)
    eigval = np.maximum(np.abs(eigval), CONDITION_FLOOR * top)
    return -scale * (eigvec @ ((eigvec.T @ scaled_grad) / eigval))
