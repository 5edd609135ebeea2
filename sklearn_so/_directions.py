"""Search directions: gradient descent, L-BFGS and Adam.

A direction object sees the flat parameter vector and its gradient once per
iteration and returns the new direction ``D``; its state (curvature pairs,
moments) lives in the object. Directions never touch X: the image ``X D`` is
the one forward product the outer loop performs per iteration.
"""

from collections import deque

import numpy as np


class GradientDirection:
    """Steepest descent, diagonally preconditioned: ``D = -S g``.

    Parameters
    ----------
    scaling : ndarray or None
        Positive diagonal ``S`` (an inverse Hessian-diagonal estimate); None
        for the plain gradient.
    """

    def __init__(self, scaling=None):
        self.scaling = scaling

    def __call__(self, theta, grad):
        """Return the direction at ``theta``."""
        return -grad if self.scaling is None else -self.scaling * grad

    def reset(self):
        """Nothing to forget."""


class LBFGSDirection:
    """Limited-memory BFGS two-loop recursion.

    The initial inverse Hessian is ``gamma * S`` with ``S`` a diagonal
    preconditioner and ``gamma = s'y / y'Sy`` from the newest pair, which
    makes the direction insensitive to the scale of each feature.

    Parameters
    ----------
    memory : int
        Number of curvature pairs ``(s, y)`` kept.
    scaling : ndarray or None
        Positive diagonal ``S``; None for the identity.
    """

    def __init__(self, memory, scaling=None):
        self.memory = memory
        self.scaling = scaling
        self.reset()

    def reset(self):
        """Forget the curvature pairs (used when a direction is not descent)."""
        self._pairs = deque(maxlen=self.memory)
        self._previous = None

    def __call__(self, theta, grad):
        """Return ``-H_k grad`` with ``H_k`` the L-BFGS inverse Hessian model."""
        if self._previous is not None:
            s = theta - self._previous[0]
            y = grad - self._previous[1]
            sy = s @ y
            # Keep only pairs with clearly positive curvature, so H_k stays
            # positive definite.
            if sy > 1e-10 * np.sqrt((s @ s) * (y @ y)):
                self._pairs.append((s, y, 1.0 / sy))
        self._previous = (theta.copy(), grad.copy())

        q = -grad
        alphas = []
        for s, y, rho in reversed(self._pairs):
            alpha = rho * (s @ q)
            q = q - alpha * y
            alphas.append(alpha)
        scaling = 1.0 if self.scaling is None else self.scaling
        if self._pairs:
            s, y, _ = self._pairs[-1]
            q = scaling * q * ((s @ y) / (y @ (scaling * y)))
        else:
            q = scaling * q
        for (s, y, rho), alpha in zip(self._pairs, reversed(alphas), strict=True):
            beta = rho * (y @ q)
            q = q + (alpha - beta) * s
        return q


class AdamDirection:
    """Adam's bias-corrected direction ``-m_hat / (sqrt(v_hat) + eps)``.

    The step length is not Adam's learning rate: the strategy chooses it.

    Parameters
    ----------
    beta1, beta2, epsilon : float
        Adam's moment decay rates and denominator guard.
    """

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

    def __call__(self, theta, grad):
        """Update the moments with ``grad`` and return the direction."""
        if self._m is None:
            self._m = np.zeros_like(grad)
            self._v = np.zeros_like(grad)
        self._t += 1
        self._m = self.beta1 * self._m + (1 - self.beta1) * grad
        self._v = self.beta2 * self._v + (1 - self.beta2) * grad**2
        m_hat = self._m / (1 - self.beta1**self._t)
        v_hat = self._v / (1 - self.beta2**self._t)
        return -m_hat / (np.sqrt(v_hat) + self.epsilon)


DIRECTIONS = ("gd", "lbfgs", "adam")
# Directions that use a diagonal preconditioner (Adam has its own scaling).
PRECONDITIONED = ("gd", "lbfgs")


def make_direction(name, memory, scaling=None):
    """Return a fresh direction object for the ``direction`` parameter."""
    if name == "gd":
        return GradientDirection(scaling)
    if name == "lbfgs":
        return LBFGSDirection(memory, scaling)
    if name == "adam":
        return AdamDirection()
    raise ValueError(f"unknown direction {name!r}; expected one of {DIRECTIONS}")
