"""The contracts between the outer loop and its parts, written as Protocols.

The outer loop (``_optimizer.SubspaceSolver``) combines five parts:

* an **engine** (``_engine``): the only code that touches X; performs and
  counts the bottleneck products;
* a **model** (``_models``): the parameter layout, the objective and gradient
  given the cached pre-activation, and the subspace objective ``phi``;
* the model's **loss** (``_losses``): value, gradient and curvature on raw
  predictions;
* a **direction** (``_directions``): the new search direction from the
  gradient;
* a **strategy** (``_strategies``): the subspace basis and the rates chosen
  in it.

:func:`check_solver_parts` checks them once, when a fit starts, so that a
part lacking what another needs is a clear error naming both, not an
AttributeError in the middle of a fit.

Arrays: every n-row and parameter-sized array a part receives or returns is
in the engine's namespace and on its device (plain numpy unless X is an
array of another array API library under ``array_api_dispatch``; see
``_namespace``); rates, trial values, subspace gradients and Hessians are
numpy arrays and floats on the host.
"""

import functools
from typing import Any, Protocol, runtime_checkable

import numpy as np


@runtime_checkable
class Engine(Protocol):
    """Performs and counts the products with X.

    ``purpose`` labels each product in ``counts`` (see ``_engine.PURPOSES``).
    Products are returned in X's namespace, on X's device; an engine may say
    which with ``xp``, ``device`` and ``dtype`` attributes (the outer loop
    assumes float64 numpy when it has none).
    """

    shape: tuple
    counts: Any

    def forward(self, M: np.ndarray, purpose: str) -> np.ndarray:
        """``X @ M`` for M of shape (n_features, q)."""

    def backward(self, R: np.ndarray, purpose: str) -> np.ndarray:
        """``X.T @ R`` for R of shape (n_samples, q)."""

    def pre_activation(self, W: np.ndarray, b, purpose: str) -> np.ndarray:
        """``X W + b`` (b may be None)."""

    def write_off(self, purpose: str, as_purpose: str = "unused") -> None:
        """Count one product of ``purpose`` as ``as_purpose`` instead."""

    def column_scale(self) -> np.ndarray:
        """Each column's largest ``|X|`` (bounds a product's rounding)."""


@runtime_checkable
class Loss(Protocol):
    """A loss on raw predictions ``raw`` of shape (n_samples, q).

    ``targets`` is a ``_losses.Targets`` (encoded targets and normalised
    weights); ``terms`` is what ``terms(raw, targets)`` returned, or None to
    have it computed. The value is a float for numpy arrays; the losses of
    ``_losses`` compute in ``raw``'s namespace and return another
    namespace's value as a 0-d array, left on the device.
    """

    def terms(self, raw: np.ndarray, targets) -> Any:
        """The expensive per-sample part, kept by the caller for reuse."""

    def value(self, raw: np.ndarray, targets, terms=None) -> float:
        """The weighted mean loss."""

    def evaluate(self, raw: np.ndarray, targets, J=None, terms=None) -> tuple:
        """``(value, R = d value / d raw, sum_i w_i J_i' H_i J_i or None)``."""


@runtime_checkable
class PreconditionedLoss(Loss, Protocol):
    """A loss whose Hessian diagonal is available (for a preconditioner)."""

    def hessian_diagonal(self, raw: np.ndarray, targets, terms=None) -> np.ndarray:
        """Each sample's weighted curvature per output, shape (n_samples, q)."""


@runtime_checkable
class CurvatureLoss(Loss, Protocol):
    """A loss whose per-sample Hessian is available (for a Newton direction)."""

    def hessian_factors(self, raw: np.ndarray, targets, terms=None) -> tuple:
        """``(d, u)``: sample i's weighted Hessian is ``diag(d_i) - u_i u_i^T``.

        Both of shape (n_samples, q); ``u`` is None when every Hessian is
        diagonal.
        """


@runtime_checkable
class Model(Protocol):
    """A model as the outer loop sees it.

    Attributes
    ----------
    n_params : int
        Length of the flat parameter vector.
    blocks : list of slice
        The parameter blocks (layers); ``"so"`` chooses rates per block.
    first_block : int
        The block that holds the first layer (the one that meets X).
    inner_options : dict
        Options of the subspace Newton solver (``rtol``, ``max_iter``).
    loss : Loss
        The loss on the model's raw output.
    required_loss_methods : tuple of str
        The loss methods the model calls.

    A model may also have ``eps``, the machine epsilon of its working
    precision (float64 when it has none), which sets the objective's
    rounding level in the searches. Its parameters and forward states are
    in the engine's namespace; ``subspace`` returns trials whose numbers are
    on the host.

    A model may also offer ``first_trial(theta, point, engine, D, rates,
    purpose)``, returning a ``_trial.FirstTrial`` or None: the image of the
    new direction ``D``, the trial at ``rates`` and the gradient there from
    one pass over X (a large dense numpy X, ``LinearModel.first_trial``) or
    one round trip (a lazy model, below), used when the strategy names its
    first rates (``first_rates``); its ``subspace`` then takes ``first=``
    and answers those rates from it. None: the loop forms the image alone.
    """

    n_params: int
    blocks: list
    first_block: int
    inner_options: dict
    loss: Any
    required_loss_methods: tuple

    def first_layer(self, theta: np.ndarray) -> tuple:
        """Views ``(W1, b1)`` of the parameters that meet X (b1 may be None)."""

    def restrict_direction(self, D: np.ndarray) -> np.ndarray:
        """Project a descent direction onto the subspace holding the minimiser.

        The identity for most models; the result must stay a descent
        direction (the gradient must lie in that subspace).
        """

    def point(self, theta: np.ndarray, Z: np.ndarray) -> Any:
        """The forward state at ``theta`` whose pre-activation is ``Z``.

        It has a ``pre_activation`` attribute (``Z``).
        """

    def objective(self, theta: np.ndarray, point) -> float:
        """The objective at ``theta`` with forward state ``point``."""

    def objective_and_gradient(self, theta: np.ndarray, point) -> tuple:
        """``(value, R, grad)``: the caller adds ``X.T @ R`` to the W1 slot."""

    def subspace(self, theta: np.ndarray, point, basis) -> Any:
        """``phi(a, derivatives=True)`` returning ``_trial.Trial`` objects."""

    def step_limits(self, theta: np.ndarray) -> np.ndarray | None:
        """Largest norm of each block's change per iteration, or None."""


@runtime_checkable
class PreconditionedModel(Model, Protocol):
    """A model that offers a diagonal preconditioner.

    It may also offer ``preconditioner(engine, point, purpose)``, which the
    loop then calls instead: a diagonal, or a
    ``_preconditioner.CentredScaling`` (the linear model's with
    ``preconditioner="centred"``).
    """

    def diagonal_scaling(self, engine: Engine, point, purpose: str) -> np.ndarray:
        """Inverse Hessian diagonal at ``point``; one pass over X."""


@runtime_checkable
class CurvatureModel(PreconditionedModel, Protocol):
    """A model that offers its Hessian (for the Newton directions).

    Its Hessian diagonal (``diagonal_scaling``) preconditions the
    truncated Newton direction's conjugate gradients.
    """

    def hessian(self, engine: Engine, point, purpose: str) -> np.ndarray:
        """The (n_params, n_params) Hessian at ``point``; one pass over X.

        Positive definite on the subspace ``restrict_direction`` keeps
        directions in (a model may add curvature outside it, where the
        gradient has no component). The engine forms it with
        ``weighted_grams``; it is returned on the host (numpy, float64)
        whatever X's namespace.
        """

    def hessian_product(self, engine: Engine, point, purpose: str) -> Any:
        """``v -> H v`` at ``point``: two products per call."""


@runtime_checkable
class LazyModel(Model, Protocol):
    """A model of a dask X (``lazy`` true): its n-row arrays live on the workers.

    The loop gathers the objective and the gradient at a point in one
    round trip through :meth:`gather_gradient`. Its ``first_trial`` (see
    :class:`Model`) takes one round trip, and its ``subspace`` answers the
    first rates without one.
    """

    lazy: bool

    def gather_gradient(
        self, theta: np.ndarray, point, engine: Engine, purpose: str, step=None
    ) -> tuple:
        """``(value, sum |R|, gradient, measured)`` at ``point``: one round trip.

        Given the ``step`` ``(images, rates, keep)`` that led to ``point``,
        ``measured`` is ``(image, max |Z|, max |image|)`` of that step, from
        the same tasks; None otherwise.
        """


@runtime_checkable
class Direction(Protocol):
    """A search direction with its own state (curvature pairs, moments).

    Attributes
    ----------
    uses_scaling : bool
        Whether the direction takes a diagonal preconditioner when the model
        offers one (``set_scaling``).
    """

    uses_scaling: bool

    def __call__(self, theta: np.ndarray, grad: np.ndarray) -> np.ndarray:
        """The new direction at ``theta``."""

    def reset(self) -> None:
        """Forget the state (the direction was not a descent direction)."""

    def set_scaling(self, scaling: np.ndarray | None) -> None:
        """Use a new diagonal preconditioner from now on."""


@runtime_checkable
class Strategy(Protocol):
    """Chooses the rates of one iteration in a subspace.

    Attributes
    ----------
    n_moves : int
        How many past moves (with their images) the strategy uses.
    descends : bool
        Whether it accepts only rates that decrease the objective (a step
        whose decrease turns out to be rounding is then refused).
    """

    n_moves: int
    descends: bool

    def step(self, model, phi_factory, f0, grad, D, VD, moves, limits=None) -> Any:
        """A ``_strategies.StepResult`` for the direction ``D``.

        A strategy may also have ``first_rates(D, fits)``: the rates its
        search evaluates first, when known before ``D``'s image (None
        otherwise); on a dask X the loop then computes that trial with the
        image (see :class:`LazyModel`).
        """


@runtime_checkable
class CurvatureDirection(Direction, Protocol):
    """A direction that needs the model's Hessian at the current point."""

    def set_curvature(self, curvature) -> None:
        """Use ``curvature`` (an ``_optimizer.Curvature``) next.

        Its ``matrix()``, ``product()`` and ``diagonal()`` form the
        Hessian, the product with it or its inverse diagonal at the current
        point, only when called.
        """


def uses_curvature(direction):
    """Whether the outer loop hands ``direction`` the model's Hessian."""
    return hasattr(direction, "set_curvature")


def protocol_members(protocol):
    """The attributes and methods a protocol requires, in definition order."""
    return list(_protocol_members(protocol))


@functools.cache
def _protocol_members(protocol):
    # Read once per protocol: every fit checks its parts against them.
    names = {}
    for klass in reversed(protocol.__mro__):
        if not getattr(klass, "_is_protocol", False) or klass is Protocol:
            continue
        names.update(dict.fromkeys(vars(klass).get("__annotations__", {})))
        names.update(
            dict.fromkeys(
                name
                for name, member in vars(klass).items()
                if callable(member) and (name == "__call__" or name[0] != "_")
            )
        )
    return tuple(names)


def _require(obj, protocol, role):
    missing = [name for name in _protocol_members(protocol) if not hasattr(obj, name)]
    if missing:
        raise TypeError(
            f"{type(obj).__name__} cannot serve as the {role}: it lacks "
            f"{', '.join(missing)} (see sklearn_so._contracts.{protocol.__name__})."
        )


def check_solver_parts(model, engine, direction, strategy):
    """Check, before a fit starts, that the parts fit together.

    Parameters
    ----------
    model, engine, direction, strategy : objects
        The parts the outer loop will combine.

    Returns
    -------
    preconditioned : bool
        Whether the direction will be diagonally preconditioned: it uses a
        scaling and the model offers one.

    Raises
    ------
    TypeError
        Naming the part and what it lacks: a member of its protocol, a loss
        method the model calls, the loss's Hessian diagonal that the
        model's preconditioner needs, or the Hessian (the model's and the
        loss's) that a Newton direction needs.
    """
    _require(engine, Engine, "product engine")
    _require(model, Model, "model")
    _require(direction, Direction, "search direction")
    _require(strategy, Strategy, "strategy")
    if getattr(engine, "lazy", False):
        _require(model, LazyModel, "model of a dask X")
    loss = model.loss
    lacking = [m for m in model.required_loss_methods if not hasattr(loss, m)]
    if lacking:
        raise TypeError(
            f"{type(model).__name__} calls {', '.join(lacking)} on its loss, "
            f"which {type(loss).__name__} lacks (see "
            "sklearn_so._contracts.Loss and PreconditionedLoss)."
        )
    if uses_curvature(direction):
        _require(model, CurvatureModel, f"model of the {type(direction).__name__}")
        needed = getattr(model, "curvature_loss_methods", ("hessian_factors",))
        lacking = [m for m in needed if not hasattr(loss, m)]
        if lacking:
            raise TypeError(
                f"The Hessian of {type(model).__name__} needs "
                f"{type(loss).__name__}.{', '.join(lacking)}, which it lacks "
                "(see sklearn_so._contracts.CurvatureLoss)."
            )
    preconditioned = direction.uses_scaling and hasattr(model, "diagonal_scaling")
    if preconditioned:
        _require(model, PreconditionedModel, "model of a preconditioned direction")
        if not hasattr(loss, "hessian_diagonal"):
            raise TypeError(
                f"The diagonal preconditioner of {type(model).__name__} needs "
                f"{type(loss).__name__}.hessian_diagonal, which it lacks."
            )
    return preconditioned
