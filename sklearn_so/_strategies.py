"""Strategies: which rates are chosen on each iteration, and how.

A strategy turns the new direction ``D`` (with its image ``X D``) and the
recent moves of the iterate (with their cached images) into a subspace basis,
then picks the coefficients ``a`` of that basis. Adding a strategy means
choosing a basis and an inner solver, nothing else.

=========  ===================================================================
``ls``     ``[D]``; Armijo backtracking (a line *search*).
``lo``     ``[D]``; the 1-D problem solved by safeguarded Newton.
``ps``     ``[D, theta_k - theta_{k-1}]`` shared by every block; 2-D Newton.
``so``     the same two directions and ``memory_directions`` older moves,
           each restricted to every block separately (k = blocks x
           (2 + memory_directions) rates); Newton in k dimensions.
``fixed``  ``[D, theta_k - theta_{k-1}]`` with the user's constant rates.
=========  ===================================================================

The directions of a basis and their images live in the namespace and on the
device of the parameters (see ``_namespace``); the rates are numpy arrays on
the host, and cross to the device (k numbers) to form a step.
"""

from dataclasses import dataclass

import numpy as np

from . import _namespace as ns
from ._subspace import FLOAT64_EPS, armijo_backtracking, subspace_newton
from ._trial import Trial

SOLVERS = ("ls", "lo", "ps", "so", "fixed")
# Directions whose natural step is 1 (quasi-Newton and Newton): the searches
# try it first.
UNIT_STEP_DIRECTIONS = ("lbfgs", "newton", "newton-cg")


@dataclass
class Basis:
    """A subspace: flat directions, their first-layer images and their roles.

    Attributes
    ----------
    P : ndarray of shape (k, n_params)
        The directions in parameter space.
    V : list of (ndarray or None)
        The image of each direction's first-layer part (``X P_W1 + P_b1``);
        None where the direction does not touch the first layer.
    kinds : list of str
        ``"lr"`` (the new direction), ``"momentum"`` (the last move) or
        ``"memory"`` (older moves), per direction.
    blocks : list of (int or None)
        The block each direction is restricted to; None if it spans all.
    sources : list of int or None
        Where each direction came from: 0 for the new direction ``D``, ``j``
        for the ``j``-th newest move (the loop tracks their images'
        rounding by it).
    """

    P: np.ndarray
    V: list
    kinds: list
    blocks: list
    sources: list | None = None

    def step(self, a):
        """Return the parameter step for rates ``a``."""
        if isinstance(self.P, np.ndarray):
            return a @ self.P
        return ns.from_host(a, self.P) @ self.P

    def image(self, a, image_shape):
        """Return the image of the step for rates ``a`` (its pre-activation change).

        ``sum_j a_j V_j`` over the directions with an image
        (:func:`~sklearn_so._namespace.scaled_sum`), zeros when no rate
        touches one; for a dask X a lazy sum (no n-row array built on the
        client).
        """
        terms = [
            (float(coef), direction_image)
            for coef, direction_image in zip(a, self.V, strict=True)
            if direction_image is not None and coef != 0.0
        ]
        image = ns.scaled_sum(terms)
        if image is not None:
            return image
        lazy = [v for v in self.V if v is not None and ns.is_dask(v)]
        if lazy:
            return ns.namespace(lazy[0]).zeros_like(lazy[0])
        if isinstance(self.P, np.ndarray):
            return np.zeros(image_shape)
        return ns.namespace(self.P).zeros(
            image_shape, dtype=self.P.dtype, device=ns.device(self.P)
        )

    def within(self, limits, blocks):
        """Return ``fits(a)``: whether every block's step is within its limit.

        ``limits`` bounds the Euclidean norm of each block's parameter change;
        the per-block Gram matrices of the directions make the check O(k^2).
        """
        grams = [ns.to_host(self.P[:, part] @ self.P[:, part].T) for part in blocks]

        def fits(a):
            return all(
                a @ gram @ a <= limit**2
                for gram, limit in zip(grams, limits, strict=True)
            )

        return fits

    def rates(self, a, n_blocks):
        """Return per-block learning and momentum rates for coefficients a."""
        learning = np.zeros(n_blocks)
        momentum = np.zeros(n_blocks)
        for coef, kind, block in zip(a, self.kinds, self.blocks, strict=True):
            if kind == "lr":
                target = learning
            elif kind == "momentum":
                target = momentum
            else:
                continue
            if block is None:
                target[:] = coef
            else:
                target[block] = coef
        return learning, momentum


def _nonzero(x, xp):
    if xp is np:
        return x.any()
    return ns.to_bool(xp.any(x != 0))


def build_basis(D, VD, moves, model, per_block):
    """Assemble the subspace basis from the direction and the recent moves.

    Zero directions (the momentum direction on the first iteration, a block
    the direction leaves alone) are dropped, so the inner problem stays
    non-degenerate.
    """
    xp = ns.namespace(D)
    candidates = [(D, VD, "lr")]
    for index, (move, image) in enumerate(moves):
        candidates.append((move, image, "momentum" if index == 0 else "memory"))
    P, V, kinds, blocks, sources = [], [], [], [], []
    if not per_block:
        for source, (direction, image, kind) in enumerate(candidates):
            if _nonzero(direction, xp):
                P.append(direction)
                V.append(image)
                kinds.append(kind)
                blocks.append(None)
                sources.append(source)
    else:
        for block, part in enumerate(model.blocks):
            for source, (direction, image, kind) in enumerate(candidates):
                restricted = xp.zeros_like(direction)
                restricted[part] = direction[part]
                if _nonzero(restricted, xp):
                    P.append(restricted)
                    V.append(image if block == model.first_block else None)
                    kinds.append(kind)
                    blocks.append(block)
                    sources.append(source)
    P = np.array(P) if xp is np else xp.stack(P)
    return Basis(P, V, kinds, blocks, sources)


@dataclass
class StepResult:
    """What a strategy chose on one iteration.

    Attributes
    ----------
    basis : Basis
        The subspace searched.
    trial : Trial or None
        The accepted trial point (its rates, objective and the model's
        forward state there); None when no rates decreased the objective.
    value : float
        The objective at the accepted point (the current one if none).
    n_evals : int
        Evaluations of the subspace objective.
    """

    basis: Basis
    trial: Trial | None
    value: float
    n_evals: int

    @property
    def a(self):
        """The chosen rates, zeros when no point was accepted."""
        if self.trial is None:
            return np.zeros(len(self.basis.kinds))
        return self.trial.rates

    @property
    def moved(self):
        """Whether the iterate moves: a trial was accepted with non-zero rates."""
        return self.trial is not None and bool(self.trial.rates.any())


class Strategy:
    """Base class; subclasses choose the basis and solve for the rates.

    Parameters
    ----------
    direction_name : str
        The direction in use; L-BFGS and Newton steps start from a unit
        step.
    """

    per_block = False
    n_moves = 0
    # Whether the strategy only accepts rates that decrease the objective.
    descends = True

    def __init__(self, direction_name, inner_options=None):
        self.direction_name = direction_name
        self.inner_options = inner_options or {}
        self._last = {}

    def step(self, model, phi_factory, f0, grad, D, VD, moves, limits=None):
        """Choose the rates for this iteration.

        Parameters
        ----------
        model : model object
            Gives the blocks.
        phi_factory : callable
            ``phi_factory(basis)`` returns the subspace objective ``phi``,
            whose calls return :class:`~sklearn_so._trial.Trial` objects.
        f0 : float
            The current objective.
        grad : ndarray
            The current gradient.
        D : ndarray
            The new direction; ``VD`` its first-layer image.
        moves : list of (ndarray, ndarray)
            The recent moves with their images, newest first.
        limits : ndarray or None
            Largest allowed norm of each block's parameter change (the
            safeguard against a layer's rate running away); None for none.

        Returns
        -------
        StepResult
        """
        basis = build_basis(D, VD, moves[: self.n_moves], model, self.per_block)
        # The working precision's epsilon sets the objective's rounding level.
        self.eps = getattr(model, "eps", FLOAT64_EPS)
        phi = phi_factory(basis)
        fits = None if limits is None else basis.within(limits, model.blocks)
        trial, n_evals = self.solve(phi, basis, f0, grad, fits)
        value = f0 if trial is None else trial.value
        return StepResult(basis, trial, value, n_evals)

    def first_rates(self, D, fits):
        """The rates the search will try first, if known before the image of ``D``.

        ``fits`` is None or tells whether rates respect the model's step
        limits (as in :meth:`solve`). None (the default): the first trial
        depends on what the search learns. A strategy that returns rates
        promises to evaluate them first; the loop may then compute that
        trial with the direction's image (see ``_trial.FirstTrial``).
        """
        return None

    def solve(self, phi, basis, f0, grad, fits):
        """Return the accepted trial (None for no decrease) and the evaluations.

        Subclasses implement it; ``fits`` is None or tells whether rates
        respect the step limits.
        """
        raise NotImplementedError

    def _warm_start(self, basis):
        """The previous rates of the directions of the same role, else 0."""
        return np.array(
            [
                self._last.get((kind, block), 0.0)
                for kind, block in zip(basis.kinds, basis.blocks, strict=True)
            ]
        )

    def _remember(self, basis, a):
        for coef, kind, block in zip(a, basis.kinds, basis.blocks, strict=True):
            self._last[(kind, block)] = float(coef)


class LineSearch(Strategy):
    """``ls``: Armijo backtracking along D."""

    def first_rates(self, D, fits):
        """The unit step of a quasi-Newton or Newton direction (usually taken).

        Halved until it fits the step limits, as :meth:`solve` does. None
        for the other directions, whose first step is a guess from the last
        one and is refused more often.
        """
        if self.direction_name in UNIT_STEP_DIRECTIONS:
            return np.array([self._within(1.0, fits)])
        return None

    @staticmethod
    def _within(start, fits):
        """``start`` halved until the step fits the limits (if any)."""
        if fits is not None:
            while start > 0 and not fits(np.array([start])):
                start *= 0.5
        return start

    def solve(self, phi, basis, f0, grad, fits):
        D = basis.P[0, :]
        slope = grad @ D
        slope = float(slope) if isinstance(D, np.ndarray) else ns.to_float(slope)
        if self.direction_name in UNIT_STEP_DIRECTIONS:
            start = 1.0
        elif "lr" in self._last:
            start = 2.0 * self._last["lr"]
        else:
            norm = (
                np.linalg.norm(D)
                if isinstance(D, np.ndarray)
                else ns.to_float(ns.namespace(D).linalg.vector_norm(D))
            )
            start = 1.0 / max(norm, np.finfo(float).tiny)
        start = self._within(start, fits)
        trial, n_evals = armijo_backtracking(phi, f0, slope, start, eps=self.eps)
        if trial is not None:
            self._last["lr"] = float(trial.rates[0])
        return trial, n_evals


class SubspaceNewton(Strategy):
    """Base of the strategies that minimise phi precisely."""

    def solve(self, phi, basis, f0, grad, fits):
        start = self._warm_start(basis)
        if not np.any(start) and self.direction_name in UNIT_STEP_DIRECTIONS:
            start[0] = 1.0
        if fits is not None and not fits(start):
            start = np.zeros_like(start)
        trial, n_evals = subspace_newton(
            phi, start, value_at_zero=f0, fits=fits, eps=self.eps, **self.inner_options
        )
        if not trial.value < f0:
            return None, n_evals
        self._remember(basis, trial.rates)
        return trial, n_evals


class LineOptimisation(SubspaceNewton):
    """``lo``: the 1-D problem along D solved precisely."""


class PlaneSearch(SubspaceNewton):
    """``ps``: one learning rate and one momentum rate shared by all blocks."""

    n_moves = 1


class SubspaceOptimisation(SubspaceNewton):
    """``so``: learning, momentum and memory rates for every block."""

    per_block = True

    def __init__(self, direction_name, memory_directions, inner_options=None):
        super().__init__(direction_name, inner_options)
        self.n_moves = 1 + memory_directions


class FixedRates(Strategy):
    """``fixed``: the user's constant learning rate and momentum."""

    n_moves = 1
    descends = False

    def __init__(self, direction_name, learning_rate, momentum):
        super().__init__(direction_name)
        self.learning_rate = learning_rate
        self.momentum = momentum

    def solve(self, phi, basis, f0, grad, fits):
        a = np.array(
            [self.learning_rate if k == "lr" else self.momentum for k in basis.kinds]
        )
        # The constant rates are taken whatever they give: a non-finite
        # value is the outer loop's to detect.
        return phi(a, derivatives=False), 1


def make_strategy(
    solver,
    direction,
    *,
    memory_directions,
    learning_rate,
    momentum,
    inner_options=None,
):
    """Return the strategy object for the ``solver`` parameter.

    ``inner_options`` (``rtol``, ``max_iter``) are passed to the subspace
    Newton solver; the model chooses them (see ``_models``).
    """
    if solver == "ls":
        return LineSearch(direction)
    if solver == "lo":
        return LineOptimisation(direction, inner_options)
    if solver == "ps":
        return PlaneSearch(direction, inner_options)
    if solver == "so":
        return SubspaceOptimisation(direction, memory_directions, inner_options)
    if solver == "fixed":
        return FixedRates(direction, learning_rate, momentum)
    raise ValueError(f"unknown solver {solver!r}; expected one of {SOLVERS}")
