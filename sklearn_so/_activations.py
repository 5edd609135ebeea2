"""Hidden-layer activations with derivatives expressed through their output.

Each entry maps a name to ``(f, f_prime)`` where ``f_prime(z, a)`` receives the
pre-activation ``z`` and the activation ``a = f(z)``, so the derivative reuses
what the forward pass computed (``1 - a^2`` for tanh, ``a (1 - a)`` for the
logistic function), as scikit-learn's MLP does.
"""

import numpy as np
from scipy.special import expit


def _identity_prime(z, a):
    return np.ones_like(z)


ACTIVATIONS = {
    "identity": (lambda z: z, _identity_prime),
    "tanh": (np.tanh, lambda z, a: 1.0 - a * a),
    "logistic": (expit, lambda z, a: a * (1.0 - a)),
    "relu": (lambda z: np.maximum(z, 0.0), lambda z, a: (z > 0).astype(z.dtype)),
}
