"""The inner solvers on problems whose answers are known."""

import numpy as np
import pytest
from scipy.optimize import minimize

from sklearn_so._subspace import (
    ROUNDING_HALVINGS,
    _positive_definite_solve,
    armijo_backtracking,
    subspace_newton,
)
from sklearn_so._trial import Trial


def trials(phi):
    """Wrap ``phi`` returning a value or (value, gradient, Hessian) into Trials."""

    def wrapped(a, derivatives=True):
        if not derivatives:
            return Trial(np.array(a, dtype=float), phi(a, False))
        value, grad, hess = phi(a, True)
        return Trial(np.array(a, dtype=float), value, grad, hess)

    return wrapped


def newton(phi, a_start, **options):
    """``subspace_newton`` on a plain ``phi``: ``(rates, value, n_evals)``."""
    trial, n_evals = subspace_newton(trials(phi), a_start, **options)
    assert trial.has_derivatives
    return trial.rates, trial.value, n_evals


def armijo(phi, f0, slope, step):
    """``armijo_backtracking`` on a plain ``phi``: ``(step, value, n_trials)``."""
    trial, n_trials = armijo_backtracking(trials(phi), f0, slope, step)
    if trial is None:
        return 0.0, f0, n_trials
    return float(trial.rates[0]), trial.value, n_trials


def quadratic(A, b):
    """phi(a) = 1/2 a'Aa - b'a with its exact derivatives."""

    def phi(a, derivatives=True):
        value = 0.5 * a @ A @ a - b @ a
        if not derivatives:
            return value
        return value, A @ a - b, A

    return phi


def test_newton_solves_a_quadratic_exactly():
    rng = np.random.default_rng(0)
    M = rng.standard_normal((4, 4))
    A = M @ M.T + 0.1 * np.eye(4)
    b = rng.standard_normal(4)
    a, value, _ = newton(quadratic(A, b), np.zeros(4))
    np.testing.assert_allclose(a, np.linalg.solve(A, b), rtol=1e-10)
    assert value == pytest.approx(-0.5 * b @ np.linalg.solve(A, b), rel=1e-12)


SMOOTH_C = np.array([[1.0, -2.0], [3.0, 0.5], [-1.0, 1.0]])


def _smooth(a, derivatives=True):
    """``log(sum exp(c_i a)) + |a|^2 / 2``: strictly convex, non-quadratic."""
    z = SMOOTH_C @ a
    top = z.max()
    p = np.exp(z - top)
    value = top + np.log(p.sum()) + 0.5 * a @ a
    if not derivatives:
        return value
    p /= p.sum()
    grad = SMOOTH_C.T @ p + a
    hess = SMOOTH_C.T @ (np.diag(p) - np.outer(p, p)) @ SMOOTH_C + np.eye(2)
    return value, grad, hess


def test_newton_minimises_a_smooth_convex_function():
    phi = _smooth
    a, value, _ = newton(phi, np.zeros(2))
    reference = minimize(
        lambda x: phi(x)[0],
        np.zeros(2),
        jac=lambda x: phi(x)[1],
        hess=lambda x: phi(x)[2],
        method="trust-exact",
        options={"gtol": 1e-14},
    )
    # Newton stops once the remaining decrease (the Newton decrement) is
    # below 1e-10 of the decrease achieved: the value is then exact to
    # rounding and the rates to about 1e-7.
    assert value == pytest.approx(reference.fun, rel=1e-14)
    np.testing.assert_allclose(a, reference.x, atol=1e-7 * np.abs(reference.x).max())


def test_a_worse_warm_start_is_ignored_and_zero_is_never_beaten_by_worse():
    A = np.diag([1.0, 4.0])
    b = np.array([1.0, -2.0])
    phi = quadratic(A, b)
    a, value, _ = newton(phi, np.array([1e6, -1e6]))
    np.testing.assert_allclose(a, [1.0, -0.5], rtol=1e-10)
    assert value <= phi(np.zeros(2), False)


def test_no_step_when_zero_is_optimal():
    phi = quadratic(np.eye(2), np.zeros(2))
    a, value, _ = newton(phi, np.zeros(2))
    np.testing.assert_array_equal(a, 0.0)
    assert value == 0.0


def test_collinear_directions_get_bounded_rates():
    # Two almost identical directions: the exact minimiser has huge
    # cancelling rates; the safeguard keeps them moderate while still
    # reaching (almost) the minimum value.
    u = np.array([1.0, 1.0 + 1e-12])
    A = np.outer(u, u) + 1e-20 * np.eye(2)
    b = u.copy()
    phi = quadratic(A, b)
    a, value, _ = newton(phi, np.zeros(2))
    assert np.max(np.abs(a)) < 1e3
    assert value == pytest.approx(-0.5 * (b @ b) / (u @ u), rel=1e-6)


def test_armijo_accepts_the_first_sufficient_step_and_gives_up_cleanly():
    phi = quadratic(np.array([[2.0]]), np.array([2.0]))  # minimum at a = 1
    f0, slope = 0.0, -2.0
    step, value, trials = armijo(phi, f0, slope, 8.0)
    assert step == 1.0  # 8, 4 and 2 fail the condition, 1 satisfies it
    assert trials == 4
    assert value == pytest.approx(-1.0)

    def increasing(a, derivatives=False):
        return float(a[0] ** 2 + 1.0)

    step, value, trials = armijo(increasing, 0.0, -1.0, 1.0)
    assert step == 0.0 and value == 0.0 and trials == 60


def test_newton_gives_up_at_rounding_level_without_backtracking():
    # Values that differ only by rounding and a gradient that does not
    # shrink: no trial can show progress. The search must stop after a few
    # halvings, not halve the step 40 times.
    def phi(a, derivatives=True):
        value = 1.0 + (np.finfo(float).eps if np.any(a) else 0.0)
        if not derivatives:
            return value
        return value, np.full(2, 1e-9), np.eye(2)

    a, value, n_evals = newton(phi, np.zeros(2))
    assert n_evals == 2 + ROUNDING_HALVINGS  # phi(0), the full step, halvings
    np.testing.assert_array_equal(a, np.zeros(2))


def _flat_at_rounding(a, derivatives=True):
    """``1 + 1e-20 (a - 1)^2`` as rounding shows it, with a model too flat.

    A unit in the last place up past the mirror point (``|a - 1| > 1``),
    half a unit down near the minimum; the model's curvature is 0.45 of the
    true one, so the full Newton step from 0 (to 2.22) overshoots past the
    mirror point: a value equal at rounding level and a larger gradient.
    """
    eps = np.finfo(float).eps
    if a[0] == 0.0:
        value = 1.0
    else:
        value = 1.0 + eps if abs(a[0] - 1.0) > 1.0 else 1.0 - eps / 2
    if not derivatives:
        return value
    return value, 2e-20 * (a - 1.0), np.array([[0.9e-20]])


def test_newton_halves_a_step_too_long_at_rounding_level():
    # The full step overshoots (_flat_at_rounding); the half step (1.11) has
    # a smaller gradient and must be taken, not the search abandoned.
    a, value, _ = newton(_flat_at_rounding, np.zeros(1))
    np.testing.assert_allclose(a, [1.0 / 0.9], rtol=1e-12)


def _counting(phi):
    """``trials(phi)`` that records each call's ``derivatives`` flag."""
    calls = []
    wrapped = trials(phi)

    def counted(a, derivatives=True):
        calls.append(derivatives)
        return wrapped(a, derivatives)

    return counted, calls


def test_the_last_newton_step_is_evaluated_without_derivatives():
    # The last allowed step's derivatives could only decide on a next step:
    # its trial is a value, the rates the same as with derivatives.
    rng = np.random.default_rng(1)
    M = rng.standard_normal((3, 3))
    A = M @ M.T + 0.1 * np.eye(3)
    b = rng.standard_normal(3)
    phi, calls = _counting(quadratic(A, b))
    trial, n_evals = subspace_newton(phi, np.zeros(3), max_iter=1)
    assert calls == [True, False] and n_evals == 2
    assert not trial.has_derivatives
    np.testing.assert_allclose(trial.rates, np.linalg.solve(A, b), rtol=1e-10)
    # Two steps on a non-quadratic phi: the first step's trial needs its
    # derivatives, the second's not; given the same values, the rates are
    # those of a phi that always computes them.
    phi, calls = _counting(_smooth)
    two, _ = subspace_newton(phi, np.zeros(2), max_iter=2)
    assert calls == [True, True, False]

    def always_with_derivatives(a, derivatives=True):
        computed = _smooth(a, True)
        return computed if derivatives else computed[0]

    always = trials(always_with_derivatives)
    reference, _ = subspace_newton(always, np.zeros(2), max_iter=2)
    np.testing.assert_array_equal(two.rates, reference.rates)
    assert two.value == reference.value


def test_a_last_step_at_rounding_level_is_judged_with_its_gradient():
    # As test_newton_halves_a_step_too_long_at_rounding_level, one step
    # allowed: where the value cannot show progress the trial is evaluated
    # again with its gradient, which refuses the full step.
    counted, calls = _counting(_flat_at_rounding)
    trial, n_evals = subspace_newton(counted, np.zeros(1), max_iter=1)
    # phi(0); the full step, valued, then with its (larger) gradient; the
    # half step, valued: lower, accepted.
    assert calls == [True, False, True, False]
    assert not trial.has_derivatives
    assert n_evals == len(calls)
    np.testing.assert_allclose(trial.rates, [1.0 / 0.9], rtol=1e-12)


@pytest.mark.parametrize("bad", [np.nan, np.inf])
def test_non_finite_curvature_gives_no_step_instead_of_a_lapack_error(bad):
    # A trial whose second derivatives overflowed (saturated float32 logits
    # without a penalty) once reached LAPACK's eigensolver, whose
    # LinAlgError escaped the fit from deep inside numpy.
    hess = np.array([[1.0, bad], [bad, 2.0]])
    step = _positive_definite_solve(hess, np.array([1.0, -1.0]))
    np.testing.assert_array_equal(step, [0.0, 0.0])
