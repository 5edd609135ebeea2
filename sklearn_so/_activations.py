"""Hidden-layer activations with derivatives expressed through their output.

Each entry maps a name to ``(f, f_prime)`` where ``f_prime(z, a)`` receives the
pre-activation ``z`` and the activation ``a = f(z)``, so the derivative reuses
what the forward pass computed (``1 - a^2`` for tanh, ``a (1 - a)`` for the
logistic function), as scikit-learn's MLP does.
"""

import numpy as np
from scipy.special import expit

# The derivatives work in one new array: on n x r activations every
# temporary is a pass over memory, which costs as much as the arithmetic.


def _identity_prime(z, a):
    return np.ones_like(z)


def _tanh_prime(z, a):
    slope = np.multiply(a, a)
    return np.subtract(1.0, slope, out=slope)


def _logistic_prime(z, a):
    slope = np.subtract(1.0, a)
    return np.multiply(slope, a, out=slope)


def _relu_prime(z, a):
    return (z > 0).astype(z.dtype)


ACTIVATIONS = {
    "identity": (lambda z: z, _identity_prime),
    "tanh": (np.tanh, _tanh_prime),
    "logistic": (expit, _logistic_prime),
    "relu": (lambda z: np.maximum(z, 0.0), _relu_prime),
}
