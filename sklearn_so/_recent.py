"""A tiny memory of the last few trial points, to reuse their work.

The accepted trial point of an iteration is where the next gradient is
evaluated. Its pre-activation, hidden activations and loss terms (the
exponentials of the log-losses, the activation of a network) were already
computed during the subspace search; keeping the last few lets the gradient
evaluation reuse them instead of making the same passes over n x q arrays
again.
"""

from collections import deque


class RecentResults:
    """The last ``size`` ``(key, value)`` pairs, newest first on lookup.

    Parameters
    ----------
    size : int
        How many pairs to keep; each may hold arrays of n_samples rows, so
        keep it small.
    """

    def __init__(self, size=2):
        self._items = deque(maxlen=size)

    def put(self, key, value):
        """Remember ``value`` under ``key``."""
        self._items.append((key, value))

    def find(self, matches):
        """The newest value whose key satisfies ``matches(key)``, or None."""
        for key, value in reversed(self._items):
            if matches(key):
                return value
        return None

    def by_identity(self, key, compute):
        """The value stored for this very object, else ``compute(key)`` (kept).

        Identity, not equality: the lookup costs no pass over the array, and
        since the cache holds a reference to the key, its id cannot be
        recycled by another array. Callers must not modify a key in place
        after it was cached (nothing in the package does: trial points and
        refreshed products are always new arrays).
        """
        value = self.find(lambda stored: stored is key)
        if value is None:
            value = compute(key)
            self.put(key, value)
        return value
