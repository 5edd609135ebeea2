"""The cached-product engine: the only place where the training matrix is used.

For a linear model, and for the first layer of a two-layer network, the
expensive operations are the *bottleneck products* ``X @ M`` and ``X.T @ R``.
:class:`ProductEngine` performs and counts them; :class:`IterateCache` keeps the
cached first-layer pre-activations ``Z = X W + b`` of the current and recent
iterates, so that any trial point ``W + sum_j a_j P_j`` of a search has the
pre-activation ``Z + sum_j a_j V_j`` without a product.

Another array back end (dask, GPU arrays) only needs an engine class with the
same three methods; models and strategies never see X.
"""

from collections import deque

import numpy as np
import scipy.sparse as sp


class ProductEngine:
    """Perform and count the bottleneck products with a dense or sparse X.

    X is used as given: a dense array in C or F order, or a scipy.sparse
    CSR/CSC matrix or array, float64 or float32. It is never copied or
    densified. The small operand is cast to X's dtype so that numpy does not
    upcast (and thereby copy) X; results are returned in float64, where the
    O(n q) work of the losses is done.

    Parameters
    ----------
    X : ndarray or sparse matrix of shape (n_samples, n_features)
        The training matrix.

    Attributes
    ----------
    n_products : int
        Number of bottleneck products performed so far.
    """

    def __init__(self, X):
        self.X = X
        self.n_products = 0

    @property
    def shape(self):
        """Shape of X."""
        return self.X.shape

    def forward(self, M):
        """Return ``X @ M`` for a (n_features, q) matrix M; one product."""
        self.n_products += 1
        out = self.X @ np.asarray(M, dtype=self.X.dtype)
        return np.asarray(out, dtype=np.float64)

    def backward(self, R):
        """Return ``X.T @ R`` for a (n_samples, q) matrix R; one product."""
        self.n_products += 1
        out = self.X.T @ np.asarray(R, dtype=self.X.dtype)
        return np.asarray(out, dtype=np.float64)


def make_engine(X):
    """Return the engine for X's array type.

    Parameters
    ----------
    X : ndarray or sparse matrix
        The validated training matrix.

    Returns
    -------
    engine : ProductEngine
    """
    if isinstance(X, np.ndarray) or sp.issparse(X):
        return ProductEngine(X)
    raise TypeError(f"no product engine for arrays of type {type(X).__name__}")


class IterateCache:
    """The current and recent iterates with their cached pre-activations.

    Holds ``(theta_k, Z_k), (theta_{k-1}, Z_{k-1}), ...`` where ``Z`` is the
    first-layer pre-activation ``X W1 + b1`` of ``theta``. The differences of
    consecutive entries are the momentum direction and the older memory
    directions, and their images ``Z_k - Z_{k-1}`` cost no product.

    Parameters
    ----------
    n_moves : int
        How many past moves (iterate differences) to keep.
    """

    def __init__(self, n_moves):
        self._entries = deque(maxlen=n_moves + 1)

    def push(self, theta, Z):
        """Record a new current iterate and its pre-activation."""
        self._entries.appendleft((theta, Z))

    @property
    def theta(self):
        """The current iterate."""
        return self._entries[0][0]

    @property
    def Z(self):
        """The cached pre-activation of the current iterate."""
        return self._entries[0][1]

    def replace_Z(self, Z):
        """Replace the current pre-activation (after an exact refresh)."""
        self._entries[0] = (self._entries[0][0], Z)

    def moves(self, count):
        """Return up to ``count`` most recent moves as ``(delta_theta, delta_Z)``."""
        entries = list(self._entries)
        return [
            (entries[i][0] - entries[i + 1][0], entries[i][1] - entries[i + 1][1])
            for i in range(min(count, len(entries) - 1))
        ]

    def clear_history(self):
        """Forget every iterate but the current one (a restart)."""
        while len(self._entries) > 1:
            self._entries.pop()
