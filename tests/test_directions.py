"""The search directions against their textbook definitions."""

import numpy as np
import pytest

from sklearn_so._directions import LBFGSDirection


def bfgs_inverse_hessian(pairs, initial):
    """Dense BFGS inverse-Hessian updates of ``initial`` by ``pairs``, oldest first."""
    H = initial.copy()
    identity = np.eye(len(H))
    for s, y in pairs:
        rho = 1.0 / (s @ y)
        H = (identity - rho * np.outer(s, y)) @ H @ (
            identity - rho * np.outer(y, s)
        ) + rho * np.outer(s, s)
    return H


def quadratic_path(n_params, n_points, seed):
    """Points and gradients of a convex quadratic, as an optimiser visits them."""
    rng = np.random.default_rng(seed)
    M = rng.standard_normal((n_params, n_params))
    A = M @ M.T + np.diag(rng.uniform(0.1, 100.0, n_params))
    b = rng.standard_normal(n_params)
    thetas = np.cumsum(rng.standard_normal((n_points, n_params)), axis=0)
    return thetas, thetas @ A - b


@pytest.mark.parametrize("memory", [1, 3, 10, 40])
@pytest.mark.parametrize("preconditioned", [False, True])
def test_lbfgs_direction_is_the_bfgs_update_of_the_last_pairs(memory, preconditioned):
    # Fed more points than it keeps, so the ring buffer wraps around: every
    # direction must equal -H g with H the BFGS updates, oldest pair first, of
    # gamma * S by the last `memory` pairs (gamma = s'y / y'Sy of the newest).
    n_params, n_points = 50, memory + 12
    thetas, grads = quadratic_path(n_params, n_points, seed=memory)
    rng = np.random.default_rng(1)
    scaling = rng.uniform(0.01, 10.0, n_params) if preconditioned else None
    diagonal = np.ones(n_params) if scaling is None else scaling
    direction = LBFGSDirection(memory, scaling)

    np.testing.assert_allclose(direction(thetas[0], grads[0]), -diagonal * grads[0])
    pairs = []
    for k in range(1, n_points):
        pairs.append((thetas[k] - thetas[k - 1], grads[k] - grads[k - 1]))
        kept = pairs[-memory:]
        s, y = kept[-1]
        gamma = (s @ y) / (y @ (diagonal * y))
        H = bfgs_inverse_hessian(kept, gamma * np.diag(diagonal))
        np.testing.assert_allclose(
            direction(thetas[k], grads[k]), -H @ grads[k], rtol=1e-9, atol=1e-12
        )


def test_lbfgs_skips_pairs_without_positive_curvature_and_reset_keeps_the_point():
    thetas, grads = quadratic_path(5, 4, seed=0)
    direction = LBFGSDirection(5)
    direction(thetas[0], grads[0])
    # A point with the same gradient: s'y = 0, the pair is skipped.
    np.testing.assert_allclose(direction(thetas[1], grads[0]), -grads[0])
    direction.reset()
    # After a reset the pairs are gone, but the pair from the point where the
    # reset happened to the next point is formed.
    d = direction(thetas[2], grads[2])
    s, y = thetas[2] - thetas[1], grads[2] - grads[0]
    H = bfgs_inverse_hessian([(s, y)], (s @ y) / (y @ y) * np.eye(5))
    np.testing.assert_allclose(d, -H @ grads[2], rtol=1e-10)


def test_lbfgs_new_scaling_applies_to_the_kept_pairs():
    # After set_scaling, the direction is the BFGS update of gamma * S_new by
    # the same pairs, gamma = s'y / y'S_new y of the newest.
    n_params, memory = 20, 4
    thetas, grads = quadratic_path(n_params, 9, seed=5)
    rng = np.random.default_rng(2)
    direction = LBFGSDirection(memory, rng.uniform(0.1, 10.0, n_params))
    for k in range(8):
        direction(thetas[k], grads[k])
    new_scaling = rng.uniform(0.1, 10.0, n_params)
    direction.set_scaling(new_scaling)
    pairs = [(thetas[k] - thetas[k - 1], grads[k] - grads[k - 1]) for k in range(1, 9)][
        -memory:
    ]
    s, y = pairs[-1]
    H = bfgs_inverse_hessian(
        pairs, (s @ y) / (y @ (new_scaling * y)) * np.diag(new_scaling)
    )
    np.testing.assert_allclose(
        direction(thetas[8], grads[8]), -H @ grads[8], rtol=1e-9, atol=1e-12
    )
