"""Where the arrays of a fit live: X's array namespace, and the host crossings.

With scikit-learn's ``array_api_dispatch`` on, a dense X from another array
API library (PyTorch, CuPy, ``array_api_strict``) is trained in its own
namespace and on its own device: every n-row and parameter-sized array of
the fit is created there. Otherwise -- and always for numpy and scipy.sparse
X -- the namespace is plain ``numpy`` (no wrapper), so the numpy path is
exactly the code it was.

Only small quantities cross to the host, and only through :func:`to_host`
(device to host) and :func:`from_host` (host to device): a trial's value,
subspace gradient and Hessian (k + k^2 + 1 numbers, one crossing), a few
scalars per iteration (the objective, max|gradient|, the descent test) and
the L-BFGS compact form's small vectors (``memory`` numbers). The tests
count the bytes by wrapping these two functions, so every crossing goes
through them (no ``float()`` on a device array).

A dask X (``dask.array.Array``) always takes the dask path, with or without
``array_api_dispatch``: its n-row arrays are lazy dask arrays on the workers,
its parameter-sized arrays numpy on the client (see ``_dask``), and
:func:`to_host` is where a graph is computed: each call is one scheduler
round trip.
"""

import contextlib
import contextvars
import sys

import numpy as np
import scipy.sparse as sp
from sklearn import get_config


def namespace_and_device(X):
    """The namespace and device a fit on X runs in.

    Parameters
    ----------
    X : array or sparse matrix
        The training (or prediction) matrix.

    Returns
    -------
    xp : module
        Plain ``numpy`` for numpy or scipy.sparse X, and whenever
        ``array_api_dispatch`` is off; X's array API namespace otherwise.
    device : object
        X's device (``"cpu"`` for numpy).

    Raises
    ------
    TypeError
        For a sparse array of another library (only scipy.sparse is
        supported, on the host).
    """
    if (
        isinstance(X, np.ndarray)
        or sp.issparse(X)
        or not get_config()["array_api_dispatch"]
    ):
        return np, "cpu"
    import array_api_compat

    xp = array_api_compat.array_namespace(X)
    layout = getattr(X, "layout", None)
    if getattr(X, "is_sparse", False) or (
        layout is not None and "strided" not in str(layout)
    ):
        raise TypeError(
            "Sparse X is supported as a scipy.sparse matrix on the host only; "
            f"a sparse {type(X).__module__}.{type(X).__name__} is not supported "
            "yet with array_api_dispatch. Pass a dense array or a scipy.sparse "
            "matrix."
        )
    return xp, array_api_compat.device(X)


def is_dask(x):
    """Whether ``x`` is a dask array (without importing dask when it is not loaded)."""
    if "dask.array" not in sys.modules or isinstance(x, np.ndarray):
        return False
    return isinstance(x, sys.modules["dask.array"].Array)


def namespace(x):
    """The namespace of an array created during a fit (numpy: plain numpy)."""
    if isinstance(x, np.ndarray):
        return np
    import array_api_compat

    return array_api_compat.array_namespace(x)


def device(x):
    """The device of an array (``"cpu"`` for numpy)."""
    if isinstance(x, np.ndarray):
        return "cpu"
    import array_api_compat

    return array_api_compat.device(x)


class RoundTrips:
    """The scheduler round trips of one fit (graphs computed to the client).

    Attributes
    ----------
    count : int
        Round trips so far.
    """

    def __init__(self):
        self.count = 0


# The counter of the fit running in this thread (or context): concurrent fits
# in other threads count their own.
_round_trips = contextvars.ContextVar("sklearn_so_round_trips", default=None)


@contextlib.contextmanager
def counting_round_trips():
    """Count the round trips made inside the ``with`` block (in this context).

    Yields
    ------
    counter : RoundTrips
    """
    counter = RoundTrips()
    token = _round_trips.set(counter)
    try:
        yield counter
    finally:
        _round_trips.reset(token)


def count_round_trip():
    """Record one scheduler round trip for the fit running in this context."""
    counter = _round_trips.get()
    if counter is not None:
        counter.count += 1


def to_host(x):
    """Copy a small device array (or 0-d array) to a float64 numpy array.

    The one way device data reaches the host during a fit; it is only ever
    called on k-sized quantities (and, for a dask X, on a product ``X.T R``,
    which the parameters on the client need).
    """
    if isinstance(x, np.ndarray):
        return x.astype(np.float64, copy=False)
    if is_dask(x):
        import dask

        count_round_trip()
        host = _gather_persisted(x)
        if host is None:
            # One compute: one scheduler round trip for everything stacked in x.
            (host,) = dask.compute(x)
        return np.asarray(host, dtype=np.float64)
    from sklearn.utils._array_api import _convert_to_numpy

    return np.asarray(_convert_to_numpy(x, namespace(x)), dtype=np.float64)


def _gather_persisted(x):
    """A persisted dask array's value, gathered from a distributed client's futures.

    Returns None unless the active scheduler is a ``distributed.Client`` and
    every chunk of ``x`` is one of its futures (``x`` persisted). Gathering
    the futures waits for them without submitting another graph: computing
    a persisted array would send the scheduler a graph of aliases first.
    """
    distributed = sys.modules.get("distributed")
    if distributed is None:
        return None
    from dask.base import get_scheduler

    client = getattr(get_scheduler(), "__self__", None)
    if not isinstance(client, distributed.Client):
        return None
    graph, keys = x.__dask_graph__(), x.__dask_keys__()
    flat = list(_flatten(keys))
    futures = [graph.get(key) for key in flat]
    if not all(isinstance(f, distributed.Future) for f in futures):
        return None
    values = iter(client.gather(futures))
    finalize, args = x.__dask_postcompute__()
    return finalize(_nest(keys, values), *args)


def _flatten(keys):
    """The keys of a nested list of keys (``__dask_keys__``), in order."""
    for key in keys:
        if isinstance(key, list):
            yield from _flatten(key)
        else:
            yield key


def _nest(keys, values):
    """``values`` (an iterator, in key order) in the nesting of ``keys``."""
    return [
        _nest(key, values) if isinstance(key, list) else next(values) for key in keys
    ]


def to_float(x):
    """A device scalar (0-d array) as a Python float, through :func:`to_host`."""
    if isinstance(x, float | np.generic):
        return float(x)
    return float(to_host(x))


def to_bool(x):
    """A device boolean (0-d array) as a Python bool, through :func:`to_host`."""
    if isinstance(x, bool | np.generic | np.ndarray):
        return bool(x)
    return bool(to_host(x))


def from_host(a, like):
    """A small numpy array ``a`` in ``like``'s namespace, dtype and device.

    Returns ``a`` itself when ``like`` is a numpy array.
    """
    if isinstance(like, np.ndarray):
        return a
    xp = namespace(like)
    return xp.asarray(
        np.asarray(a, dtype=np.float64).tolist(), dtype=like.dtype, device=device(like)
    )


def trial_to_host(value, gradient=None, hessian=None):
    """A trial's value, subspace gradient and Hessian on the host, in one crossing.

    Parameters
    ----------
    value : float or 0-d array
    gradient : array of shape (k,) or None
    hessian : array of shape (k, k) or None

    Returns
    -------
    value : float
    gradient : ndarray of shape (k,) or None
    hessian : ndarray of shape (k, k) or None
    """
    if isinstance(value, float | np.generic):
        return value, gradient, hessian
    if gradient is None:
        return to_float(value), None, None
    xp = namespace(gradient)
    k = gradient.shape[0]
    host = to_host(
        xp.concat([xp.reshape(value, (1,)), gradient, xp.reshape(hessian, (k * k,))])
    )
    return float(host[0]), host[1 : k + 1], host[k + 1 :].reshape(k, k)


def reshape(x, shape):
    """``x`` reshaped; for numpy by the method, a quarter of np.reshape's overhead.

    On the small problems where Python's overhead counts, a fit reshapes its
    parameter vector several times per iteration.
    """
    if isinstance(x, np.ndarray):
        return x.reshape(shape)
    return namespace(x).reshape(x, shape)


def concat(arrays, axis=0):
    """Concatenate arrays of one namespace (numpy: ``np.concatenate``).

    ``concat`` is the standard's name, which numpy has only since 2.0.
    """
    if isinstance(arrays[0], np.ndarray):
        return np.concatenate(arrays, axis=axis)
    return namespace(arrays[0]).concat(arrays, axis=axis)


def n_bytes(X):
    """Memory held by a dense array of any namespace, or a scipy.sparse matrix."""
    if hasattr(X, "nnz"):
        return X.data.nbytes + X.indices.nbytes + X.indptr.nbytes
    if hasattr(X, "nbytes"):
        return X.nbytes
    xp = namespace(X)
    return int(np.prod(X.shape)) * (xp.finfo(X.dtype).bits // 8)


def scaled_sum(terms):
    """``sum_j c_j V_j`` over the ``(c_j, V_j)`` pairs, in order; None for none.

    The one place a step's image is summed (a move's image, a network
    trial's step, a dask chunk's), so they all round alike. numpy scales
    every term after the first into one scratch array: each n x r temporary
    is a pass over memory. Other namespaces (and dask arrays) add new
    arrays.
    """
    total = scratch = None
    for coef, image in terms:
        if total is None:
            total = image * coef
        elif isinstance(image, np.ndarray):
            scratch = np.multiply(image, coef, out=scratch)
            total += scratch
        else:
            total = total + image * coef
    return total
