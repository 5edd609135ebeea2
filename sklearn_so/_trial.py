"""The result of evaluating the subspace objective at one set of rates.

A subspace objective ``phi(a, derivatives)`` (built by a model for a basis
of directions, see ``_models``) returns a :class:`Trial`: the rates, the
outer objective there and, when asked, its gradient and Hessian in the
rates, together with the model's :attr:`Trial.point` -- the pre-activation
``Z + sum_j a_j V_j`` and whatever the model and its loss computed from it
(hidden activations, outputs, exponentials). The inner solvers return the
accepted trial, the strategy hands it to the outer loop, and the loop
evaluates the full gradient at that very point: nothing computed during the
search is computed twice, and nothing is looked up in a cache.
"""

from dataclasses import dataclass

import numpy as np


@dataclass
class Trial:
    """The subspace objective evaluated at the rates ``a``.

    Attributes
    ----------
    rates : ndarray of shape (k,)
        The coefficients ``a`` of the basis directions.
    value : float
        The outer objective at ``theta + sum_j a_j P_j``.
    gradient : ndarray of shape (k,) or None
        Its gradient in the rates (None when evaluated without derivatives).
    hessian : ndarray of shape (k, k) or None
        Its Hessian in the rates: exact for linear models, Gauss-Newton for
        networks (None without derivatives).
    point : object or None
        The model's forward state at the trial point (see ``_models``):
        ``point.pre_activation`` is ``Z + sum_j a_j V_j``. None for a
        subspace objective that is not backed by a model (tests).
    """

    rates: np.ndarray
    value: float
    gradient: np.ndarray | None = None
    hessian: np.ndarray | None = None
    point: object = None

    @property
    def has_derivatives(self):
        """Whether the gradient and Hessian were computed."""
        return self.gradient is not None


@dataclass
class FirstTrial:
    """A line search's first trial, computed with the new direction's image.

    On a dask X, where round trips cost more than arithmetic, a model may
    evaluate the first rates of a line search in the tasks that form the
    direction's image, and the full gradient at that trial point with them
    (``DaskLinearModel.first_trial``): both products of an iteration in one
    round trip. On a large dense numpy X the same numbers come from one
    pass over X in row blocks (``LinearModel.first_trial``): both products
    of an iteration in one read of X. The search takes the trial's numbers
    from here; when it accepts these very rates the loop takes the gradient
    from here too, otherwise that backward product is written off as unused.

    Attributes
    ----------
    rates : ndarray of shape (k,)
        The rates evaluated.
    image : dask.array.Array or ndarray
        The direction's image ``X D1 + d1``, persisted (dask X).
    image_size : float
        ``max |image|`` (dask X; NaN for numpy, measured by the loop).
    z_size : float
        ``max |Z + sum_j a_j V_j|`` at the trial point (dask X; NaN for
        numpy).
    numbers : ndarray
        The model's sums for the subspace objective at ``rates`` (its own
        layout, read by the model's ``subspace``).
    gradient : callable
        ``gradient(theta)`` returns the objective, ``sum |R|`` and the full
        gradient at the trial point ``theta`` (as ``gather_gradient``).
    pre_activation : dask.array.Array or None
        The trial point's ``Z + sum_j a_j V_j``, persisted, for a model
        whose trials keep it (the networks); None otherwise.
    point : object or None
        The trial's forward state (numpy X), as a :class:`Trial`'s.
    """

    rates: np.ndarray
    image: object
    image_size: float
    z_size: float
    numbers: np.ndarray
    gradient: object
    pre_activation: object = None
    point: object = None

    def taken(self, rates):
        """Whether the accepted ``rates`` are these (the gradient is theirs)."""
        return np.array_equal(rates, self.rates)
