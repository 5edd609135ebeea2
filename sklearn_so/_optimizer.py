"""The outer loop shared by every estimator, as a solver of named steps.

One iteration performs exactly two bottleneck products:

1. the direction's image ``X D`` (forward), then every trial point of the
   strategy's search reuses the cached images;
2. the gradient's first-layer part ``X.T R`` at the accepted point (backward).

Before the first iteration (the "setup"), one backward product gives the
starting gradient, one pass over X gives the diagonal preconditioner of the
"gd" and "lbfgs" directions when the model offers one (one more product when
it is centred: ``_preconditioner``), and, when the starting
weights are not zero, one forward product gives the starting pre-activation.
The cached pre-activation is recomputed exactly every ``REFRESH_EVERY``
iterations and at the end, so the fitted model carries no accumulated drift,
and the preconditioner (the Hessian's diagonal) is re-estimated on the
schedule of ``_preconditioner``. The engine counts every product where it is
performed, under its purpose::

    n_products = setup + iterations (2 per iteration) + refresh
                 + preconditioner + unused [+ hessian]

where "hessian" counts the passes that form the Newton direction's Hessian
(one per iteration, reported only by the fits that make them) and an unused
product is the image of a direction that was not taken: it
gave no decrease (the direction's memory is then forgotten and the iteration
tried once more, or the fit ends) or a non-finite objective.

The parameters, the gradient, the directions and every n-row array live in
the engine's namespace, on its device (see ``_namespace``); the loop itself
reads a few scalars per iteration on the host (the objective, max|gradient|,
the descent and finiteness tests).
"""

import math
import time
from dataclasses import dataclass, field

import numpy as np

from . import _namespace as ns
from . import _rounding
from ._contracts import check_solver_parts, uses_curvature
from ._dask_rows import step_image_and_sizes
from ._engine import HESSIAN_PURPOSE, PURPOSES, MoveHistory
from ._preconditioner import (
    CentredScaling,
    PreconditionerSchedule,
    apply_scaling,
    scaling_diagonal,
)
from ._strategies import Basis, StepResult
from ._subspace import ROUNDING_ULPS

# Drift of the cached pre-activation grows like n_iter * eps; one exact refresh
# per 50 iterations costs 1% more products and keeps it at rounding level.
REFRESH_EVERY = 50


@dataclass
class OptimizeResult:
    """Outcome of :meth:`SubspaceSolver.solve`.

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
        Bottleneck products by purpose, as the engine counted them:
        ``"setup"``, ``"iterations"`` (two per iteration), ``"refresh"``,
        ``"preconditioner"`` (the periodic passes that re-estimate the
        Hessian's diagonal), ``"hessian"`` (only with a Newton direction:
        the passes that form its Hessian) and ``"unused"`` (the image of a
        direction that was not taken: it gave no decrease, after which the
        direction's state is reset once or the fit ends, or it diverged).
    grad_max : float
        Largest absolute gradient entry at the returned ``theta`` (NaN when
        the best finite iterate replaced a diverged one: it is not known).
    pre_activation : ndarray or None
        The exactly recomputed ``X W1 + b1`` (or ``X W``) at ``theta``.
    round_trips : dict
        For a dask X, the scheduler round trips (graphs computed to the
        client) by phase: ``"setup"``, ``"iterations"`` and ``"finalize"``;
        empty otherwise.
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
    round_trips: dict = field(default_factory=dict)


@dataclass
class Curvature:
    """The model's curvature at one point, formed only on request.

    What the loop hands a direction that needs curvature (``"newton"``,
    ``"newton-cg"``); the products it costs are counted as ``"hessian"``.
    """

    model: object
    engine: object
    point: object

    def matrix(self):
        """The Hessian (one pass over X): ``model.hessian``."""
        return self.model.hessian(self.engine, self.point, HESSIAN_PURPOSE)

    def product(self):
        """``v -> H v`` (two products per call): ``model.hessian_product``."""
        return self.model.hessian_product(self.engine, self.point, HESSIAN_PURPOSE)

    def diagonal(self):
        """The inverse Hessian diagonal (one pass): ``model.diagonal_scaling``."""
        return self.model.diagonal_scaling(self.engine, self.point, HESSIAN_PURPOSE)


class SubspaceSolver:
    """Minimise a model's objective with per-iteration subspace searches.

    :meth:`solve` runs these steps, each a method below whose docstring says
    what it reads and sets:

    1. :meth:`setup` -- starting pre-activation, preconditioner, gradient;
    2. per iteration, until :meth:`check_convergence` says stop:

       a. :meth:`begin_iteration` -- tell the callbacks;
       b. :meth:`compute_direction` -- ``D`` and its image ``X D`` (one
          forward product);
       c. :meth:`search` -- the strategy's rates in the subspace, returning
          the accepted :class:`~sklearn_so._trial.Trial`;
       d. :meth:`accept` -- move to the trial point, or retry once with the
          direction's memory forgotten, or stop;
       e. :meth:`refresh` -- the exact ``X W1 + b1`` every ``REFRESH_EVERY``
          iterations;
       f. :meth:`evaluate_gradient` -- value and gradient at the new point
          (one backward product), reusing the trial's forward state;
       g. :meth:`record` -- objective, rates, time;
       h. :meth:`check_divergence` -- stop if the objective is not finite;
       i. :meth:`precondition` -- re-estimate the diagonal when due;
       j. :meth:`end_iteration` -- best iterate, progress line, callbacks;

    3. :meth:`finalize` -- the returned parameters and their exact objective.

    Parameters
    ----------
    model : Model
        From ``_models`` (the ``Model`` protocol of ``_contracts``).
    engine : Engine
        Wraps X; performs and counts every product.
    strategy : Strategy
        From ``_strategies.make_strategy``.
    direction : Direction
        From ``_directions.make_direction``.
    max_iter : int
        Maximum number of outer iterations.
    tol : float
        Stop when the largest absolute gradient entry is at most ``tol``.
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
    refresh_every : int
        Iterations between exact recomputations of the cached product.
    """

    def __init__(
        self,
        model,
        engine,
        strategy,
        direction,
        *,
        max_iter,
        tol,
        verbose=0,
        on_iteration=None,
        on_iteration_begin=None,
        choose_final=None,
        refresh_every=REFRESH_EVERY,
    ):
        self.model = model
        self.engine = engine
        self.strategy = strategy
        self.direction = direction
        self.max_iter = max_iter
        self.tol = tol
        self.print_every = max(1, 100 // verbose) if verbose else 0
        self.on_iteration = on_iteration
        self.on_iteration_begin = on_iteration_begin
        self.choose_final = choose_final
        self.refresh_every = refresh_every

    def solve(self, theta0):
        """Minimise from ``theta0`` (copied); return an :class:`OptimizeResult`.

        A dask X's round trips are counted in ``trips``, this fit's own.
        """
        with ns.counting_round_trips() as self.trips:
            self.setup(theta0)
            while self.iteration < self.max_iter:
                if self.check_convergence():
                    break
                self.begin_iteration()
                D, image = self.compute_direction()
                step = self.search(D, image)
                if not self.accept(step):
                    if self.stop_reason is not None:
                        break
                    continue  # retried with the direction's memory forgotten
                self.refresh()
                self.evaluate_gradient()
                self.record(step)
                if self.check_divergence():
                    break
                self.precondition()
                if self.end_iteration():
                    break
            return self.finalize()

    # -- the steps ---------------------------------------------------------

    def setup(self, theta0):
        """Check the parts and evaluate the starting point.

        Reads ``theta0``. Sets ``theta``, ``point`` (the model's forward state,
        holding ``Z = X W1 + b1``: one product, none when ``W1`` is zero),
        ``scaling`` (the preconditioner, one or two products, when the
        direction uses one and the model offers it), ``value``, ``grad`` (one backward
        product), the move history, the preconditioner schedule and the
        records. Products are counted as ``"setup"``.
        """
        model, engine = self.model, self.engine
        self.preconditioned = check_solver_parts(
            model, engine, self.direction, self.strategy
        )
        self.curved = uses_curvature(self.direction)
        xp = self.xp = getattr(engine, "xp", np)
        # A dask X: n-row arrays are lazy on the workers, parameters numpy.
        self.lazy = getattr(engine, "lazy", False)
        self.trips_start = self.trips.count
        self.pending_gradient = None
        self.first = None
        if xp is np:
            self.theta = np.array(theta0, dtype=np.float64)
        else:
            self.theta = xp.asarray(theta0, dtype=engine.dtype, copy=True)
        W1, b1 = model.first_layer(self.theta)
        z_size = None
        if self.lazy and np.any(W1 != 0):
            Z, z_size = engine.pre_activation_and_size(W1, b1, "setup")
        elif self.lazy:
            Z = engine.constant(W1.shape[1], b1)
            # Z = 0 X + b exactly: its size is the intercepts' (no round trip).
            z_size = 0.0 if b1 is None else float(np.max(np.abs(b1), initial=0.0))
        elif self._all(xp.any(W1 != 0)):
            Z = engine.pre_activation(W1, b1, "setup")
        elif xp is np:
            Z = np.zeros((engine.shape[0], W1.shape[1])) + (0.0 if b1 is None else b1)
        else:
            Z = xp.zeros(
                (engine.shape[0], W1.shape[1]), dtype=engine.dtype, device=engine.device
            )
            Z = Z if b1 is None else Z + b1
        self.point = self._keep(model.point(self.theta, Z))
        # Products round in X's precision, the cached updates in the engine's.
        self.eps = float(xp.finfo(engine.X.dtype).eps)
        # The fitted attributes are returned in X's precision.
        self.largest = float(xp.finfo(engine.X.dtype).max)
        self.ledger = _rounding.RoundingLedger(
            self.eps, float(xp.finfo(engine.dtype).eps)
        )
        self.column_scale = engine.column_scale()
        if z_size is None:
            z_size = self._max_abs(Z)
        self.z_error = self.ledger.product(z_size, self._product_scale(W1, b1))
        self.scaling = None
        if self.preconditioned:
            self.scaling = self._preconditioner("setup")
            self.direction.set_scaling(self.scaling)
        self.schedule = PreconditionerSchedule()
        self.history = MoveHistory(self.strategy.n_moves)
        self.evaluate_gradient(purpose="setup")
        finite = (
            np.isfinite(self.value)
            and self._all(xp.all(xp.isfinite(self.grad)))
            and np.isfinite(z_size)
            and (self.scaling is None or self._positive(self.scaling))
        )
        if not finite:
            raise ValueError(
                "The objective, its gradient or the products with X are not "
                "finite at the starting point: X (or y) holds values too large "
                "for floating-point arithmetic. Scale the data first, e.g. "
                "with make_pipeline(StandardScaler(), ...)."
            )
        self.best = (self.value, self.theta)
        self.start_value = self.value
        self.result = OptimizeResult(self.theta, self.value, 0, False, "", 0, {})
        self.iteration = 0
        self.grad_max = np.nan
        self.retrying = False
        self.undecided_decrease = 0.0
        self.diverged = False
        self.refreshed_last = False
        self.stop_reason = None
        self.clock = time.perf_counter()
        self.trips_iterations = self.trips.count

    def check_convergence(self):
        """Whether the gradient criterion ``max|g| <= tol`` holds.

        Reads ``grad``. Sets ``grad_max`` and, when met, the result's
        ``converged`` and the stop reason.
        """
        if self.xp is np:
            # The ndarray method: np.max's dispatch costs more on small vectors.
            self.grad_max = float(np.abs(self.grad).max(initial=0.0))
        else:
            self.grad_max = self._max_abs(self.grad)
        if self.grad_max <= self.tol:
            self.result.converged = True
            self.stop(f"gradient criterion max|g| <= tol={self.tol:g} met")
            return True
        return False

    def begin_iteration(self):
        """Tell the callbacks an iteration starts (not again on its retry).

        Reads ``iteration``, ``theta``, ``retrying``.
        """
        if self.on_iteration_begin is not None and not self.retrying:
            self.on_iteration_begin(self.iteration + 1, self.theta)

    def compute_direction(self):
        """Return the new direction ``D`` and its image ``X D1 + d1``.

        Reads ``theta``, ``grad``, ``scaling``. Sets ``D`` and ``D_image``.
        The model restricts the direction to the subspace that holds its
        minimiser (``restrict_direction``). A direction that is not a descent
        direction (Adam's, or L-BFGS's with stale memory) is replaced by
        (preconditioned) steepest descent and its state forgotten. One
        forward product, counted as ``"iterations"``. A direction that
        needs curvature (``"newton"``) is first handed the model's Hessian
        at the current point, formed if the direction uses it (one pass
        over X, ``"hessian"``). On a dask X the same round trip, on a large
        dense numpy X the same pass over X, may also evaluate the search's
        first trial and the gradient there (:meth:`_first_trial`; the
        backward product is then counted here).
        """
        restrict = self.model.restrict_direction
        if self.curved:
            self.direction.set_curvature(Curvature(self.model, self.engine, self.point))
        D = restrict(self.direction(self.theta, self.grad))
        slope = self.grad @ D
        if not (slope if self.xp is np else ns.to_float(slope)) < 0:
            self.direction.reset()
            D = -apply_scaling(self.scaling, self.grad)
            D = restrict(D)
        W1_D, b1_D = self.model.first_layer(D)
        self.D = D
        self.D_scale = self._product_scale(W1_D, b1_D)
        if self.lazy:
            # One round trip: the image, persisted, with its size for the
            # ledger and the finiteness test of the search (and, when the
            # search's first rates are known, that trial with its gradient).
            self.first = self._first_trial()
            if self.first is not None:
                self.D_image, self.D_size = self.first.image, self.first.image_size
            else:
                self.D_image, self.D_size = self.engine.pre_activation_and_size(
                    W1_D, b1_D, "iterations"
                )
            self.D_error = self.ledger.product(self.D_size, self.D_scale)
            return self.D, self.D_image
        self.first = self._first_trial()
        if self.first is not None:
            self.D_image = self.first.image
        else:
            self.D_image = self.engine.pre_activation(W1_D, b1_D, "iterations")
        if self.strategy.n_moves:
            self.D_error = self.ledger.product(
                self._max_abs(self.D_image), self.D_scale
            )
        return self.D, self.D_image

    def search(self, D, image):
        """Let the strategy choose the rates; return its ``StepResult``.

        Reads ``theta``, ``point``, ``value``, ``grad`` and the move history.
        Every trial point is evaluated from cached images: no product. An
        image that overflowed gives a step whose value is not finite.
        """
        xp = self.xp
        if self.lazy:
            finite = np.isfinite(self.D_size)
        elif xp is np:
            finite = np.isfinite(image).all()
        else:
            finite = ns.to_bool(xp.all(xp.isfinite(image)))
        if not finite:
            # The product overflowed: no trial point can be finite.
            return StepResult(None, None, np.nan, 0)
        model, theta, point = self.model, self.theta, self.point
        # The first trial's rates have known numbers (:meth:`_first_trial`).
        known = {} if self.first is None else {"first": self.first}
        return self.strategy.step(
            model,
            lambda basis: model.subspace(theta, point, basis, **known),
            self.value,
            self.grad,
            D,
            image,
            self.history.recent(self.strategy.n_moves),
            limits=model.step_limits(theta),
        )

    def accept(self, step):
        """Move to the accepted trial point; return whether the iterate moved.

        Reads ``step``. When the objective there is not finite, sets the stop
        reason and ``diverged``. When no rates decreased it (:meth:`no_decrease`),
        forgets the direction's state and the moves and retries once, or
        stops. A trial whose cached pre-activation may have drifted too far
        to trust (:meth:`verify`) is checked with an exact product first. On
        success sets ``theta``, ``point`` (the trial's own forward state,
        with everything computed there), pushes the move and its image to
        the history (strategies that keep moves) and advances ``iteration``.
        """
        first, self.first = self.first, None
        taken = step.moved and math.isfinite(step.value)
        if first is not None and not (taken and first.taken(step.a)):
            # The gradient computed at the first trial: not the new point's.
            self.engine.write_off("iterations")
            first = None
        if not math.isfinite(step.value):
            self.engine.write_off("iterations")
            if step.basis is None:
                self.stop("the product with X overflowed (a non-finite image)")
            else:
                self.stop("the objective became non-finite (a diverging step)")
            self.diverged = True
            return False
        if not step.moved:
            return self.no_decrease()
        delta = step.basis.step(step.a)
        theta = self.theta + delta
        point = step.trial.point
        image = None
        if self.lazy:
            image, z_size, image_size = self._measure_step(theta, point, step, first)
        else:
            # Sizes are measured where the arrays exist (one pass over the n x r
            # entries), so that only the errors are bounds.
            z_size = self._max_abs(point.pre_activation)
            if first is not None:
                # Computed in the image's pass (:meth:`_first_trial`).
                self.pending_gradient = (point, *first.gradient(theta))
        if self.strategy.n_moves:
            step_error = self._step_error(step)
            z_error = self.ledger.plus(self.z_error, step_error, z_size)
        else:
            # Every image in a basis without moves is the direction's.
            rates = float(np.abs(step.a).sum())
            z_error = self.ledger.add_unkept(self.z_error, z_size, rates * self.D_scale)
        point, z_error = self.verify(theta, point, z_error)
        if point is None:
            self._drop_pending_gradient()
            return self.no_decrease()
        self.retrying = False
        self.undecided_decrease = 0.0
        self.theta, self.point, self.z_error = theta, point, z_error
        if self.strategy.n_moves:
            if image is None:
                # A trial that formed its step's image keeps it (a
                # network's); else it is built here, only when kept (an
                # n x r pass).
                image = getattr(step.trial.point, "step_image", None)
                if image is None:
                    shape = self.point.pre_activation.shape
                    image = step.basis.image(step.a, shape)
                image_size = self._max_abs(image)
            # Measured: a bound on a move's size compounds through the rates.
            step_error = step_error.with_size(image_size)
            self.history.push(delta, image, step_error)
        # Roundings no move carries any more can no longer cancel in Z.
        self.z_error = self.ledger.settle(self.z_error, self.history.accuracies())
        self.iteration += 1
        return True

    def no_decrease(self):
        """No rates decreased the objective: retry once, or stop; return False.

        Writes the direction's image off as ``"unused"``. After the first
        failure forgets the direction's state and the moves and sets
        ``retrying``. A second failure where the decrease the quadratic
        model still promises along both failed directions
        (:meth:`predicted_decrease`) is below the objective's rounding error
        is convergence: the objective is at its minimum to floating-point
        precision.
        """
        self.engine.write_off("iterations")
        # What the quadratic model promises along the direction that
        # failed: below the objective's rounding, there is nothing left.
        self.undecided_decrease = max(
            self.undecided_decrease, self.predicted_decrease()
        )
        if self.retrying:
            eps = getattr(self.model, "eps", np.finfo(float).eps)
            rounding = ROUNDING_ULPS * eps * abs(self.value)
            if self.undecided_decrease <= rounding:
                self.result.converged = True
                self.stop(
                    "the objective is at its minimum to floating-point "
                    "precision (the decrease still possible along the "
                    f"last directions, {self.undecided_decrease:.2g}, is "
                    "below its rounding error)"
                )
            else:
                self.stop("no further decrease of the objective was possible")
        else:
            self.direction.reset()
            self.history.clear()
            self.retrying = True
        return False

    def verify(self, theta, point, z_error):
        """Check a step whose cached objective may have drifted; return the point.

        Reads ``sensitivity`` (``sum |dF/dZ|`` at the current point) and
        ``value``. When the objective's uncertainty from the cached ``Z``'s
        estimated error (see ``_rounding``) exceeds the digits the loop
        trusts, ``Z`` is recomputed exactly at ``theta`` (one product,
        ``"refresh"``); if the strategy descends and the objective there is
        not below the current one, the decrease was rounding: returns
        ``(None, None)``. Otherwise returns the point to move to (constant
        rates move whatever the objective does) and the error of its ``Z``.
        """
        error = self.ledger.error(z_error)
        uncertainty = _rounding.objective_uncertainty(self.sensitivity, error)
        if not uncertainty > _rounding.trusted_digits(self.value, self.eps):
            return point, z_error
        point = self._exact_point(theta)
        if self.strategy.descends:
            value = self.model.objective(theta, point)
            if not value < self.value:
                return None, None
        return point, self._exact_error(theta, point)

    def predicted_decrease(self):
        """The decrease the quadratic model promises along ``D``.

        ``phi'(0)^2 / (2 phi''(0))`` for the subspace objective along the
        direction alone, from its exact (linear models) or Gauss-Newton
        (networks) curvature: the Newton decrement along ``D``. One trial
        evaluation at ``a = 0``; no product.
        """
        basis = Basis(self.D[None, :], [self.D_image], ["lr"], [None])
        phi = self.model.subspace(self.theta, self.point, basis)
        at_zero = phi(np.zeros(1), derivatives=True)
        slope, curvature = at_zero.gradient[0], at_zero.hessian[0, 0]
        if not (np.isfinite(slope) and curvature > 0):
            return np.inf
        return slope**2 / (2.0 * curvature)

    def refresh(self):
        """Recompute ``Z = X W1 + b1`` exactly every ``refresh_every`` iterations.

        Reads ``iteration``, ``theta``. Sets ``refreshed_last`` and, when due,
        ``point`` (a fresh forward state; one product, ``"refresh"``).
        """
        self.refreshed_last = self.iteration % self.refresh_every == 0
        if self.refreshed_last:
            self.point = self._exact_point(self.theta)
            self.z_error = self._exact_error(self.theta, self.point)

    def evaluate_gradient(self, purpose="iterations"):
        """Objective and full gradient at ``theta``: one backward product.

        Reads ``theta``, ``point``. Sets ``value`` and ``grad``.
        """
        pending = self.pending_gradient
        if pending is not None and pending[0] is self.point:
            # Computed with the accepted point (:meth:`accept`).
            self.pending_gradient = None
            self.value, self.sensitivity, self.grad = pending[1:]
            return
        self._drop_pending_gradient()
        if self.lazy:
            # One task per row chunk: a model on a dask X gathers its value,
            # ``sum |R|`` and gradient with ``X.T R`` in one round trip.
            self.value, self.sensitivity, self.grad, _ = self.model.gather_gradient(
                self.theta, self.point, self.engine, purpose
            )
            return
        value, R, grad = self.model.objective_and_gradient(self.theta, self.point)
        # How much an error in the cached Z moves the objective (``verify``).
        if self.xp is np:
            self.sensitivity = float(np.abs(R).sum())
        else:
            self.sensitivity = ns.to_float(self.xp.sum(self.xp.abs(R)))
        if self.xp is np:
            W1_grad, _ = self.model.first_layer(grad)
            W1_grad += self.engine.backward(R, purpose)
        else:
            # Writing through a reshaped view is not part of the array API
            # standard: add to W1's slot, the first entries of the vector.
            XtR = self.engine.backward(R, purpose)
            size = XtR.shape[0] * XtR.shape[1]
            grad[:size] += self.xp.reshape(XtR, (size,))
        self.value, self.grad = value, grad

    def record(self, step):
        """Append the objective, the rates per block and the time.

        Reads ``value``, ``grad_max`` (at the iteration's start) and the
        step's rates.
        """
        learning, momentum = step.basis.rates(step.a, len(self.model.blocks))
        result = self.result
        result.loss_curve.append(float(self.value))
        result.learning_rates.append(learning)
        result.momentum_rates.append(momentum)
        result.grad_norms.append(self.grad_max)
        result.times.append(time.perf_counter() - self.clock)

    def check_divergence(self):
        """Whether the objective at the new point is not finite (then stop).

        Reads ``value``. Sets ``diverged`` and the stop reason.
        """
        if math.isfinite(self.value):
            return False
        self.stop("the objective became non-finite (a diverging step)")
        self.diverged = True
        return True

    def precondition(self):
        """Re-estimate the diagonal preconditioner when the schedule says so.

        Reads ``iteration``, ``point``. Sets ``scaling`` and hands it to the
        direction (one or two products, ``"preconditioner"``).
        """
        if not (self.preconditioned and self.schedule.due(self.iteration)):
            return
        previous = self.scaling
        scaling = self._preconditioner("preconditioner")
        if not self._positive(scaling):
            # A diagonal that overflowed says nothing: keep the last one.
            diagonal = scaling_diagonal(previous)
            self.schedule.update(diagonal, diagonal)
            return
        self.scaling = scaling
        self.direction.set_scaling(scaling)
        self.schedule.update(scaling_diagonal(previous), scaling_diagonal(scaling))

    def _preconditioner(self, purpose):
        """The model's preconditioner at ``point``: one or two passes over X.

        Its ``preconditioner`` when it has one (a diagonal, or a
        :class:`~sklearn_so._preconditioner.CentredScaling` from two
        passes), else its ``diagonal_scaling``.
        """
        model = self.model
        estimate = getattr(model, "preconditioner", model.diagonal_scaling)
        return estimate(self.engine, self.point, purpose)

    def _positive(self, scaling):
        """Whether a preconditioner is finite with a positive diagonal."""
        xp = self.xp
        diagonal = scaling_diagonal(scaling)
        positive = self._all(xp.all(xp.isfinite(diagonal) & (diagonal > 0)))
        if positive and isinstance(scaling, CentredScaling):
            return self._all(xp.all(xp.isfinite(scaling.means)))
        return positive

    def end_iteration(self):
        """Keep the best iterate, print progress, call back; True to stop.

        Reads ``value``, ``theta``, ``iteration``. Sets ``best`` (value and
        parameters of the best iterate so far) and, when
        the callback stops the fit, the stop reason.
        """
        if self.value <= self.best[0]:
            self.best = (self.value, self.theta)
        if self.print_every and self.iteration % self.print_every == 0:
            self._print_progress(self.result.learning_rates[-1])
        if self.on_iteration is not None and self.on_iteration(
            self.iteration, self.theta, self.value
        ):
            self.stop(getattr(self.on_iteration, "reason", "stopped by a callback"))
            return True
        return False

    def finalize(self):
        """Choose the returned parameters and compute their exact objective.

        Reads everything above. After a breakdown the best finite iterate is
        returned, or a ValueError raised when the very first step broke down;
        early stopping may choose another one. Unless the last
        iteration refreshed it, ``Z`` is recomputed exactly (one product,
        ``"refresh"``) so that the fitted model carries no drift.
        """
        result, model, engine = self.result, self.model, self.engine
        self.trips_end = self.trips.count
        if self.stop_reason is None:
            self.stop(f"max_iter={self.max_iter} iterations reached")
        result.n_iter = len(result.loss_curve)
        result.grad_max = self._max_abs(self.grad)
        theta, refreshed = self.theta, self.refreshed_last
        if not result.converged and not self.diverged and result.grad_max <= self.tol:
            # The last iteration reached the criterion the loop had no turn to test.
            result.converged = True
            self.stop_reason = f"gradient criterion max|g| <= tol={self.tol:g} met"
        if self.diverged and result.n_iter == 0:
            raise ValueError(
                "No finite step could be taken from the starting point: "
                f"{self.stop_reason}. Scale the data first (e.g. with "
                "make_pipeline(StandardScaler(), ...)); with solver='fixed', "
                "lower learning_rate."
            )
        if self.diverged:
            theta, refreshed = self.best[1], False
            result.grad_max = np.nan
            self.stop_reason += "; the best finite iterate was kept"
        if self.choose_final is not None:
            # Early stopping only ever holds finite, validated iterates.
            chosen = self.choose_final(theta)
            if chosen is not theta:
                theta, refreshed = chosen, False
                result.grad_max = np.nan
        point = self.point
        if not refreshed:
            point = self._exact_point(theta)
        if not self._representable(theta, point):
            # With float32 X, weights beyond float32's range (a diverging
            # fixed step) keep a saturated objective finite, but the model
            # cannot be returned in X's precision, or its product with X
            # overflows there. Fall back to the best iterate.
            theta = self.best[1]
            point = self._exact_point(theta)
            if not self._representable(theta, point):
                raise ValueError(
                    "The weights, or their product with X, overflowed X's "
                    "precision. Scale the data first (e.g. with "
                    "make_pipeline(StandardScaler(), ...)); with solver='fixed', "
                    "lower learning_rate."
                )
            result.converged = False
            result.grad_max = np.nan
            self.stop_reason += (
                "; the weights or their product with X overflowed X's precision "
                "at the last iterate, the best finite iterate was kept"
            )
        value = model.objective(theta, point)
        best_theta = self.best[1]
        climbed = (
            not self.strategy.descends
            and value > self.start_value
            and best_theta is not theta
            and self.choose_final is None
        )
        if climbed:
            # Constant rates (solver="fixed") too large for the problem
            # oscillate outwards; the searches only ever descend. A model
            # worse than the starting point is no model: keep the best
            # iterate (early stopping's validated choice stands).
            theta = best_theta
            point = self._exact_point(theta)
            value = model.objective(theta, point)
            result.converged = False
            result.grad_max = np.nan
            self.stop_reason += (
                "; the objective rose above its starting value (the rates are "
                "too large), the best iterate was kept"
            )
        result.theta = theta
        result.pre_activation = point.pre_activation
        result.value = value
        result.stop_reason = self.stop_reason
        result.product_counts = {
            purpose: engine.counts[purpose] for purpose in PURPOSES
        }
        hessian_passes = engine.counts.get(HESSIAN_PURPOSE, 0)
        if hessian_passes:
            result.product_counts[HESSIAN_PURPOSE] = hessian_passes
        result.n_products = engine.n_products
        if self.lazy:
            now = self.trips.count
            result.round_trips = {
                "setup": self.trips_iterations - self.trips_start,
                "iterations": self.trips_end - self.trips_iterations,
                "finalize": now - self.trips_end,
            }
        if self.print_every:
            print(
                f"[sklearn-so] stopped after {result.n_iter} iterations: "
                f"{self.stop_reason}"
            )
        return result

    # -- helpers -----------------------------------------------------------

    def _first_trial(self):
        """The direction's image with the search's first trial, or None.

        When the strategy knows its first rates before the image (``ls``
        with a unit step) and the model can evaluate them where it forms
        the image (``first_trial``: in the tasks of a dask X, in the row
        blocks of a large dense numpy X), one round trip or one pass over X
        gives the image, that trial and the gradient at it: when the search
        takes these rates, as it mostly does, the iteration costs that
        alone and its usual two products; otherwise the backward product is
        written off as unused (:meth:`accept`). Not on iterations that
        refresh ``Z`` (the gradient is then taken at the exact point).
        """
        model = self.model
        first_trial = getattr(model, "first_trial", None)
        first_rates = getattr(self.strategy, "first_rates", None)
        refreshes = (self.iteration + 1) % self.refresh_every == 0
        if first_trial is None or first_rates is None or refreshes:
            return None
        if not (self.lazy or getattr(model, "in_memory_first_trial", False)):
            # Not worth the step limits' test (a network in memory).
            return None
        limits = model.step_limits(self.theta)
        fits = None
        if limits is not None:
            # The search's own test of its first step (``Strategy.step``).
            basis = Basis(self.D[None, :], [None], ["lr"], [None])
            fits = basis.within(limits, model.blocks)
        rates = first_rates(self.D, fits)
        if rates is None:
            return None
        return first_trial(
            self.theta, self.point, self.engine, self.D, rates, "iterations"
        )

    def _measure_step(self, theta, point, step, first=None):
        """A dask X: the accepted point's ``max|Z|``, the step's image and size.

        The trial point is already persisted on the workers; the step's
        image is formed and kept there (strategies that keep moves), and
        the sizes cross in one round trip. The model (``gather_gradient``)
        computes its gradient at the point in the same tasks, kept in
        ``pending_gradient`` for :meth:`evaluate_gradient`: one round trip
        fewer per iteration. Not when this iteration
        refreshes ``Z`` (the gradient is taken at the exact point); should
        :meth:`verify` replace or refuse the point, the product is written
        off as unused. Given the ``first`` trial that was taken
        (:meth:`_first_trial`), its gradient and sizes serve: no round trip.
        """
        keep = bool(self.strategy.n_moves)
        # A lazy trial point is computed and kept on the workers now (on a
        # distributed scheduler the tasks start with the round trip below).
        point = self._keep(point)
        if first is not None:
            # Measured with the image (:meth:`_first_trial`); a strategy
            # that names its first rates keeps no moves.
            self.pending_gradient = (point, *first.gradient(theta))
            return None, first.z_size, 0.0
        if (self.iteration + 1) % self.refresh_every == 0:
            return step_image_and_sizes(
                point.pre_activation, step.basis.V, step.a, keep
            )
        value, sensitivity, grad, measured = self.model.gather_gradient(
            theta,
            point,
            self.engine,
            "iterations",
            step=(step.basis.V, step.a, keep),
        )
        self.pending_gradient = (point, value, sensitivity, grad)
        return measured

    def _drop_pending_gradient(self):
        """Write off a gradient computed for a point the loop did not keep."""
        if self.pending_gradient is not None:
            self.pending_gradient = None
            self.engine.write_off("iterations")

    def _keep(self, point):
        """The model's forward state with its lazy arrays persisted (dask X)."""
        if not self.lazy:
            return point
        from ._dask import persist_point

        return persist_point(point)

    def _representable(self, theta, point):
        """Whether ``theta`` and its exact ``Z`` are finite in X's precision."""
        if self._max_abs(theta) > self.largest:
            return False
        if self.lazy:
            # Measured with the product (:meth:`_exact_point`): max|Z| is
            # finite exactly when every entry is.
            return bool(np.isfinite(self.exact_size))
        xp = self.xp
        return self._all(xp.all(xp.isfinite(point.pre_activation)))

    def _exact_point(self, theta):
        """The forward state at ``theta`` from an exact product (``"refresh"``).

        For a dask X, ``max|Z|`` is computed with the product, in its round
        trip, and kept in ``exact_size``.
        """
        W1, b1 = self.model.first_layer(theta)
        if self.lazy:
            Z, self.exact_size = self.engine.pre_activation_and_size(W1, b1, "refresh")
        else:
            Z = self.engine.pre_activation(W1, b1, "refresh")
        return self._keep(self.model.point(theta, Z))

    def _exact_error(self, theta, point):
        """The error of ``Z`` computed exactly at ``theta`` by :meth:`_exact_point`."""
        W1, b1 = self.model.first_layer(theta)
        if self.lazy:
            size = self.exact_size
        else:
            size = self._max_abs(point.pre_activation)
        return self.ledger.product(size, self._product_scale(W1, b1))

    def _product_scale(self, W, b):
        """``max(|X| @ |W|) + max|b|``: the size of the terms ``X W + b`` sums."""
        xp = self.xp
        if xp is np:
            scale = float((self.column_scale @ np.abs(W)).max())
            return scale if b is None else scale + float(np.abs(b).max())
        scale = xp.max(self.column_scale @ xp.abs(W))
        if b is not None:
            scale = scale + xp.max(xp.abs(b))
        return ns.to_float(scale)

    def _step_error(self, step):
        """The error of the step's image, from the rates and their sources."""
        basis = step.basis
        errors = [
            None
            if image is None
            else self.D_error
            if source == 0
            else self.history.accuracy(source - 1)
            for image, source in zip(basis.V, basis.sources, strict=True)
        ]
        return self.ledger.combine(step.a, errors)

    def stop(self, reason):
        """Record why the loop stops."""
        self.stop_reason = reason

    @staticmethod
    def _all(flag):
        """A boolean reduction (numpy, or 0-d on the device) on the host."""
        return bool(flag) if isinstance(flag, np.generic | bool) else ns.to_bool(flag)

    def _max_abs(self, v, *others):
        """``max |v|`` on the host (0 for an empty array).

        With ``others`` (lazy arrays or None), returns the maximum of each,
        computed in one round trip (None gives 0).
        """
        if others:
            arrays = [a for a in (v, *others) if a is not None]
            xp = ns.namespace(arrays[0])
            host = ns.to_host(xp.stack([xp.max(xp.abs(a)) for a in arrays]))
            sizes = iter(host.tolist())
            return [0.0 if a is None else next(sizes) for a in (v, *others)]
        if isinstance(v, np.ndarray):
            # Two reductions without an n x r temporary |v| (about 4x
            # faster); np.maximum keeps a NaN.
            return float(np.maximum(v.max(), -v.min())) if v.size else 0.0
        if 0 in v.shape:
            return 0.0
        xp = ns.namespace(v) if self.lazy else self.xp
        return ns.to_float(xp.max(xp.abs(v)))

    def _print_progress(self, learning):
        momentum = self.result.momentum_rates[-1]
        rates = ", ".join(
            f"lr={lr:.3g} mom={m:.3g}" for lr, m in zip(learning, momentum, strict=True)
        )
        trips = ""
        if self.lazy:
            trips = f"  round trips {self.trips.count - self.trips_start}"
        print(
            f"[sklearn-so] iter {self.iteration:5d}  objective {self.value:.10g}  "
            f"max|g| {self._max_abs(self.grad):.3e}  {rates}  "
            f"products {self.engine.n_products}{trips}"
        )
