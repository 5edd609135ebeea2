"""The outer loop shared by every estimator.

One iteration performs exactly two bottleneck products:

1. the direction's image ``X D`` (forward), then every trial point of the
   strategy's search reuses the cached images;
2. the gradient's first-layer part ``X.T R`` at the accepted point (backward).

Before the first iteration (the "setup"), one backward product gives the
starting gradient, one pass over X gives the diagonal preconditioner of the
"gd" and "lbfgs" directions when the model offers one, and, when the starting
weights are not zero, one forward product gives the starting pre-activation.
The cached pre-activation is recomputed exactly every ``REFRESH_EVERY``
iterations and at the end, so the fitted model carries no accumulated drift,
and the preconditioner (the Hessian's diagonal) is re-estimated after
``PRECONDITION_EVERY`` iterations and then less and less often as it settles.
Hence::

    n_products = setup + 2 * n_iter + refresh + preconditioner + unused

where an unused product is the image of a direction that was not taken: it
gave no decrease (the direction's memory is then forgotten and the iteration
tried once more, or the fit ends) or a non-finite objective.
"""

import time
from dataclasses import dataclass, field

import numpy as np

from ._directions import PRECONDITIONED, make_direction
from ._engine import MoveHistory
from ._strategies import make_strategy

# Drift of the cached pre-activation grows like n_iter * eps; one exact refresh
# per 50 iterations costs 1% more products and keeps it at rounding level.
REFRESH_EVERY = 50
# The preconditioner is the Hessian's diagonal at a recent iterate: it is
# re-estimated after PRECONDITION_EVERY iterations, and then again after the
# same period, doubled each time the diagonal changed by at most a factor
# exp(SETTLED_CHANGE) in every entry. One pass over X (two to three products'
# time on dense X, where X is squared chunk by chunk) per 20 iterations costs
# at most about 6% more; on the raw digits and breast-cancer data (10 L-BFGS
# pairs) the refreshed diagonal needed 1.4-4x fewer iterations than one fixed
# at the start, and it settles within a few refreshes.
PRECONDITION_EVERY = 20
SETTLED_CHANGE = 0.1


@dataclass
class OptimizeResult:
    """Outcome of :func:`minimize`.

    Attributes
    ----------
    theta : ndarray
        The returned parameters (the last iterate, or the best finite one if
        the fit broke down).
    value : float
        The objective at ``theta``, from an exactly recomputed pre-activation.
    n_iter : int
        Outer iterations performed.
    converged : bool
        Whether the gradient criterion was met.
    stop_reason : str
        Why the loop ended, in words.
    loss_curve, learning_rates, momentum_rates, times, grad_norms : lists
        One entry per iteration; rates per block.
    n_products : int
        Bottleneck products performed.
    product_counts : dict
        Bottleneck products by purpose: ``"setup"``, ``"iterations"`` (two
        per iteration), ``"refresh"``, ``"preconditioner"`` (the periodic
        passes that re-estimate the Hessian's diagonal) and ``"unused"`` (the image of a
        direction that was not taken: it gave no decrease, after which the
        direction's state is reset once or the fit ends, or it diverged).
    grad_max : float
        Largest absolute gradient entry at the returned ``theta`` (NaN when
        the best finite iterate replaced a diverged one: it is not known).
    pre_activation : ndarray or None
        The exactly recomputed ``X W1 + b1`` (or ``X W``) at ``theta``.
    """

    theta: np.ndarray
    value: float
    n_iter: int
    converged: bool
    stop_reason: str
    n_products: int
    product_counts: dict
    grad_max: float = np.nan
    pre_activation: np.ndarray | None = None
    loss_curve: list = field(default_factory=list)
    learning_rates: list = field(default_factory=list)
    momentum_rates: list = field(default_factory=list)
    times: list = field(default_factory=list)
    grad_norms: list = field(default_factory=list)


def minimize(
    model,
    engine,
    theta0,
    *,
    solver,
    direction,
    max_iter,
    tol,
    memory,
    memory_directions,
    learning_rate,
    momentum,
    verbose=0,
    on_iteration=None,
    on_iteration_begin=None,
    choose_final=None,
):
    """Minimise the model's objective from ``theta0``.

    Parameters
    ----------
    model : model object
        From ``_models``.
    engine : ProductEngine
        Wraps X; performs and counts every product.
    theta0 : ndarray
        Starting parameters (copied).
    solver, direction : str
        Strategy and direction names.
    max_iter : int
        Maximum number of outer iterations.
    tol : float
        Stop when the largest absolute gradient entry is at most ``tol``.
    memory : int
        L-BFGS pairs.
    memory_directions : int
        Older moves added to the subspace by ``solver="so"``.
    learning_rate, momentum : float
        Constant rates of ``solver="fixed"``.
    verbose : int
        If > 0, print one line every ``max(1, 100 // verbose)`` iterations
        (the objective, max|gradient|, the rates of every block and the
        products so far) and a final line saying why the loop stopped.
    on_iteration : callable or None
        Called as ``on_iteration(iteration, theta, value)`` after each
        iteration; returning True stops the loop, with the callable's
        ``reason`` attribute (if any) as the stop reason.
    on_iteration_begin : callable or None
        Called as ``on_iteration_begin(iteration, theta)`` when an iteration
        starts (after the gradient criterion was tested), once per iteration
        even when the iteration is retried. An iteration that then finds no
        decrease or diverges ends without its ``on_iteration`` call.
    choose_final : callable or None
        ``choose_final(theta)`` returns the parameters to return instead of
        the last iterate (early stopping picks the best-validated one).

    Returns
    -------
    OptimizeResult
    """
    start_products = engine.n_products
    theta = np.array(theta0, dtype=np.float64)
    W1, b1 = model.first_layer(theta)
    if np.any(W1):
        Z = _preactivation(engine, W1, b1)
    else:
        Z = np.zeros((engine.shape[0], W1.shape[1])) + (0.0 if b1 is None else b1)
    preconditioned = direction in PRECONDITIONED and hasattr(model, "diagonal_scaling")
    scaling = model.diagonal_scaling(engine, Z) if preconditioned else None

    strategy = make_strategy(
        solver,
        direction,
        memory_directions=memory_directions,
        learning_rate=learning_rate,
        momentum=momentum,
        inner_options=model.inner_options,
    )
    search_direction = make_direction(direction, memory, scaling)
    history = MoveHistory(strategy.n_moves)
    value, grad = _value_and_gradient(model, engine, theta, Z)
    best = (value, theta) if np.isfinite(value) else (np.inf, theta)
    setup_products = engine.n_products - start_products
    n_refreshes = 0

    result = OptimizeResult(theta, value, 0, False, "", 0, {})
    clock = time.perf_counter()
    print_every = max(1, 100 // verbose) if verbose else 0
    stop_reason = f"max_iter={max_iter} iterations reached"
    refreshed_last = False
    restarted = False
    n_unused = 0
    n_preconditioner = 0
    precondition_period = next_precondition = PRECONDITION_EVERY
    diverged = False
    iteration = 0
    while iteration < max_iter:
        grad_max = float(np.max(np.abs(grad), initial=0.0))
        if grad_max <= tol:
            result.converged = True
            stop_reason = f"gradient criterion max|g| <= tol={tol:g} met"
            break
        if on_iteration_begin is not None and not restarted:
            on_iteration_begin(iteration + 1, theta)
        D = search_direction(theta, grad)
        if not grad @ D < 0:
            # Not a descent direction (Adam, or L-BFGS memory gone stale):
            # fall back to (preconditioned) steepest descent and forget the
            # stale state.
            search_direction.reset()
            D = -grad if scaling is None else -scaling * grad
        W1_D, b1_D = model.first_layer(D)
        VD = _preactivation(engine, W1_D, b1_D)
        oracles = []

        def subspace_oracle(basis, theta=theta, Z=Z, oracles=oracles):
            phi = model.subspace(theta, Z, basis)
            oracles.append((basis, phi))
            return phi

        step = strategy.step(
            model,
            subspace_oracle,
            value,
            grad,
            D,
            VD,
            history.recent(strategy.n_moves),
            limits=model.step_limits(theta),
        )
        if not np.isfinite(step.value):
            stop_reason = "the objective became non-finite (a diverging step)"
            diverged = True
            n_unused += 1
            break
        if not np.any(step.a):
            if not restarted:
                # Retry once with the direction's state (curvature pairs,
                # moments) and the momentum forgotten before giving up; the
                # direction's image was spent for nothing and is counted apart.
                search_direction.reset()
                history.clear()
                restarted = True
                n_unused += 1
                continue
            stop_reason = "no further decrease of the objective was possible"
            n_unused += 1
            break
        restarted = False
        delta = step.basis.step(step.a)
        theta = theta + delta
        # The step's image costs an n x r pass: only build it when a strategy
        # keeps moves (momentum) or the search did not keep the trial's array.
        image = step.basis.image(step.a, Z.shape) if strategy.n_moves else None
        Z = _new_pre_activation(oracles, step, Z, image)
        if image is not None:
            history.push(delta, image)
        iteration += 1
        refreshed_last = iteration % REFRESH_EVERY == 0
        if refreshed_last:
            Z = _preactivation(engine, *model.first_layer(theta))
            n_refreshes += 1
        value, grad = _value_and_gradient(model, engine, theta, Z)
        learning, mom = step.basis.rates(step.a, len(model.blocks))
        _record(result, value, learning, mom, grad_max)
        result.times.append(time.perf_counter() - clock)
        if not np.isfinite(value):
            stop_reason = "the objective became non-finite (a diverging step)"
            diverged = True
            break
        if preconditioned and iteration == next_precondition:
            previous, scaling = scaling, model.diagonal_scaling(engine, Z)
            search_direction.set_scaling(scaling)
            n_preconditioner += 1
            if np.max(np.abs(np.log(scaling / previous))) <= SETTLED_CHANGE:
                # The diagonal has settled: re-estimate it half as often.
                precondition_period *= 2
            next_precondition += precondition_period
        if value <= best[0]:
            best = (value, theta)
        if print_every and iteration % print_every == 0:
            _print_progress(iteration, value, grad, learning, mom, engine)
        if on_iteration is not None and on_iteration(iteration, theta, value):
            stop_reason = getattr(on_iteration, "reason", "stopped by a callback")
            break

    result.n_iter = len(result.loss_curve)
    result.grad_max = float(np.max(np.abs(grad), initial=0.0))
    if not result.converged and not diverged and result.grad_max <= tol:
        # The last iteration reached the criterion the loop had no turn to test.
        result.converged = True
        stop_reason = f"gradient criterion max|g| <= tol={tol:g} met"
    if diverged and np.isfinite(best[0]):
        theta, refreshed_last = best[1], False
        result.grad_max = np.nan
        stop_reason += "; the best finite iterate was kept"
    if choose_final is not None:
        # Early stopping only ever holds finite, validated iterates.
        chosen = choose_final(theta)
        if chosen is not theta:
            theta, refreshed_last = chosen, False
            result.grad_max = np.nan
    if not refreshed_last:
        Z = _preactivation(engine, *model.first_layer(theta))
        n_refreshes += 1
    result.theta = theta
    result.pre_activation = Z
    result.value = model.objective(theta, Z)
    result.stop_reason = stop_reason
    result.n_products = engine.n_products - start_products
    result.product_counts = {
        "setup": setup_products,
        "iterations": 2 * result.n_iter,
        "refresh": n_refreshes,
        "preconditioner": n_preconditioner,
        "unused": n_unused,
    }
    if verbose:
        print(f"[sklearn-so] stopped after {result.n_iter} iterations: {stop_reason}")
    return result


def _preactivation(engine, W1, b1):
    """``X W1 + b1``: one forward product."""
    Z = engine.forward(W1)
    if b1 is not None:
        Z += b1
    return Z


def _new_pre_activation(oracles, step, Z, image):
    """``Z + image``: the accepted trial's own array when the search kept it.

    Taking the trial's array (equal to ``Z + image`` up to rounding) lets the
    model and the loss reuse what they computed at that point, so the
    gradient evaluation makes no second pass of exponentials and activations.
    ``image`` may be None: it is then built from the step only if needed.
    """
    for basis, phi in oracles:
        if basis is step.basis:
            trial = phi.pre_activation(step.a)
            if trial is not None:
                return trial
    if image is None:
        image = step.basis.image(step.a, Z.shape)
    return Z + image


def _value_and_gradient(model, engine, theta, Z):
    """Objective and full gradient: one backward product."""
    value, R, grad = model.objective_and_gradient(theta, Z)
    W1_grad, _ = model.first_layer(grad)
    W1_grad += engine.backward(R)
    return value, grad


def _record(result, value, learning, momentum, grad_max):
    result.loss_curve.append(float(value))
    result.learning_rates.append(learning)
    result.momentum_rates.append(momentum)
    result.grad_norms.append(grad_max)


def _print_progress(iteration, value, grad, learning, momentum, engine):
    rates = ", ".join(
        f"lr={lr:.3g} mom={m:.3g}" for lr, m in zip(learning, momentum, strict=True)
    )
    print(
        f"[sklearn-so] iter {iteration:5d}  objective {value:.10g}  "
        f"max|g| {np.max(np.abs(grad)):.3e}  {rates}  products {engine.n_products}"
    )
