"""Hidden-layer activations with derivatives expressed through their output.

Each entry maps a name to ``(f, f_prime)`` where ``f_prime(z, a)`` receives the
pre-activation ``z`` and the activation ``a = f(z)``, so the derivative reuses
what the forward pass computed (``1 - a^2`` for tanh, ``a (1 - a)`` for the
logistic function), as scikit-learn's MLP does.

The functions work on the arrays of any array API namespace, on their device
(see ``_namespace``); numpy arrays take numpy's own routines (scipy's
``expit``, ufuncs writing into their output), which the other namespaces do
not have.
"""

import numpy as np
from scipy.special import expit

from ._namespace import namespace

# The derivatives work in one new array: on n x r activations every
# temporary is a pass over memory, which costs as much as the arithmetic.


def _identity(z):
    return z


def _identity_prime(z, a):
    return namespace(z).ones_like(z)


def _tanh(z):
    return namespace(z).tanh(z)


def _tanh_prime(z, a):
    slope = a * a
    if isinstance(slope, np.ndarray):
        return np.subtract(1.0, slope, out=slope)
    return 1.0 - slope


def _logistic(z):
    if isinstance(z, np.ndarray):
        return expit(z)
    return 1.0 / (1.0 + namespace(z).exp(-z))


def _logistic_prime(z, a):
    slope = 1.0 - a
    slope *= a
    return slope


def _relu(z):
    if isinstance(z, np.ndarray):
        return np.maximum(z, 0.0)
    return namespace(z).clip(z, min=0.0)


def _relu_prime(z, a):
    if isinstance(z, np.ndarray):
        return (z > 0).astype(z.dtype)
    return namespace(z).astype(z > 0, z.dtype)


ACTIVATIONS = {
    "identity": (_identity, _identity_prime),
    "tanh": (_tanh, _tanh_prime),
    "logistic": (_logistic, _logistic_prime),
    "relu": (_relu, _relu_prime),
}
