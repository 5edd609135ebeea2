"""One task per row chunk: a numpy function mapped over dask arrays' row chunks.

A fit on a dask X spends its time in scheduling, not arithmetic: the same
trial written with ``dask.array`` operations is a few dozen tasks per chunk
(each reduction a tree of its own), each with a fixed cost to the scheduler
(milliseconds on a loaded machine), and a graph that the client builds and
optimises anew for every trial. Here a numpy function runs once per row
chunk on the chunks of several row-aligned arrays, and returns

* n-row arrays (a trial point's raw predictions, an image ``X D``...), kept
  on the worker that computed them, as lazy dask arrays with X's row chunks;
* a small vector of numbers (partial sums, maxima), gathered to the client,
  which reduces them over the chunks.

:func:`map_rows` builds such a graph (one task per chunk, and one
``getitem`` per output to name its part), :func:`run` persists the n-row
outputs and gathers the numbers in one scheduler round trip, through
``_namespace.to_host``, where round trips are counted. The graphs start
from persisted arrays, so they do not grow with the iterations. Any dask
scheduler runs them (the synchronous one in a thread, a
``distributed.Client`` on its workers).
"""

import functools
import operator
import uuid

import numpy as np

from . import _namespace as ns


def _chunk_keys(array, index):
    """The key of row chunk ``index`` of a dask array with one column chunk."""
    return (array.name, index) + (0,) * (array.ndim - 1)


def _empty_rows(array):
    """A numpy array with no rows and ``array``'s other dimensions and dtype."""
    return np.empty((0,) + tuple(array.shape[1:]), dtype=array.dtype)


def _aligned(array, row_chunks):
    """``array`` with the given row chunks and one chunk along its other axes."""
    chunks = (row_chunks,) + tuple((size,) for size in array.shape[1:])
    return array if array.chunks == chunks else array.rechunk(chunks)


def map_rows(func, rows, *args):
    """Run ``func`` on every row chunk of ``rows``: one task per chunk.

    Parameters
    ----------
    func : callable
        ``func(chunks, *args)`` with ``chunks`` a list of one numpy chunk
        (or None) per entry of ``rows``; returns ``(outputs, numbers)``: a
        list of n-row numpy arrays (or None) and a 1-d float array whose
        length does not depend on the chunk. It is first called on chunks
        with no rows, on the client, to learn the outputs' shapes and dtypes
        (as dask's ``meta``).
    rows : list of (dask.array.Array or None)
        Arrays with the same number of rows; the first present one's row chunks
        are the tasks' (the others are rechunked to them, and to one chunk
        along their other axes, where they differ). None entries reach
        ``func`` as None.
    *args
        Passed to ``func`` unchanged (small: numpy parameters, rates, a loss).

    Returns
    -------
    outputs : list of (dask.array.Array or None)
        The n-row outputs, lazy, with the rows' chunks.
    numbers : dask.array.Array of shape (n_chunks, m)
        Each chunk's numbers, one row per chunk.
    """
    import dask.array as da
    from dask.highlevelgraph import HighLevelGraph

    row_chunks = next(r for r in rows if r is not None).chunks[0]
    rows = [None if r is None else _aligned(r, row_chunks) for r in rows]
    present = [r for r in rows if r is not None]
    meta_outputs, meta_numbers = func(
        [None if r is None else _empty_rows(r) for r in rows], *args
    )
    # A fresh name per call: tokenizing the arguments (a loss object, the
    # parameters) would cost more than the keys' uniqueness is worth.
    name = f"rows-{func.__name__}-{uuid.uuid4().hex}"
    # Without n-row outputs the row task's result is its numbers: no getitem
    # (each task costs the scheduler about as much as a chunk's arithmetic).
    only_numbers = not any(meta is not None for meta in meta_outputs)
    call = functools.partial(_call, func, args, only_numbers)
    key = (lambda i: (name, i, 0)) if only_numbers else (lambda i: (name, i))
    layer = {
        key(i): (call,) + tuple(None if r is None else _chunk_keys(r, i) for r in rows)
        for i in range(len(row_chunks))
    }
    graph = HighLevelGraph.from_collections(name, layer, dependencies=present)
    layers, dependencies = dict(graph.layers), dict(graph.dependencies)

    def part(label, position, ndim):
        out = f"{label}-{name}"
        layers[out] = {
            (out, i) + (0,) * (ndim - 1): (operator.getitem, (name, i), position)
            for i in range(len(row_chunks))
        }
        dependencies[out] = {name}
        return out

    names = [
        None if meta is None else part(f"out{j}", j, meta.ndim)
        for j, meta in enumerate(meta_outputs)
    ]
    numbers_name = name if only_numbers else part("numbers", -1, 2)
    graph = HighLevelGraph(layers, dependencies)
    outputs = [
        None
        if meta is None
        else da.Array(
            graph,
            out,
            chunks=(row_chunks,) + tuple((s,) for s in meta.shape[1:]),
            meta=meta,
        )
        for out, meta in zip(names, meta_outputs, strict=True)
    ]
    width = np.asarray(meta_numbers).shape[0]
    numbers = da.Array(
        graph,
        numbers_name,
        chunks=((1,) * len(row_chunks), (width,)),
        dtype=np.float64,
    )
    return outputs, numbers


def _call(func, args, only_numbers, *chunks):
    """A row task: ``func`` on the chunks, its numbers as one (1, m) row last."""
    outputs, numbers = func(list(chunks), *args)
    numbers = np.asarray(numbers, dtype=np.float64).reshape(1, -1)
    return numbers if only_numbers else (*outputs, numbers)


def run(outputs, numbers):
    """Persist the n-row outputs and gather the numbers: one round trip.

    Parameters
    ----------
    outputs : list of (dask.array.Array or None)
        Lazy n-row arrays from :func:`map_rows`, to be kept on the workers.
    numbers : dask.array.Array of shape (n_chunks, m)
        The chunks' numbers.

    Returns
    -------
    outputs : list of (dask.array.Array or None)
        The same arrays, persisted (their chunks held by the scheduler).
    numbers : ndarray of shape (n_chunks, m)
        On the client, for the caller to reduce over the chunks.
    """
    import dask

    present = [o for o in outputs if o is not None]
    if not present:
        return list(outputs), ns.to_host(numbers)
    # Persisted together: each row task runs once, whichever part is used.
    *kept, numbers = dask.persist(*present, numbers)
    kept = iter(kept)
    outputs = [None if o is None else next(kept) for o in outputs]
    return outputs, ns.to_host(numbers)


def step_rows(chunks, rates, keep):
    """``max|Z|`` and, if ``keep``, the step's image ``sum_j a_j V_j`` and its size."""
    Z, *images = chunks
    sizes = [np.max(np.abs(Z), initial=0.0)]
    if not keep:
        return [], sizes
    # Summed as ``Basis.image`` sums it on numpy.
    image = ns.scaled_sum(
        (float(coef), direction_image)
        for coef, direction_image in zip(rates, images, strict=True)
        if direction_image is not None and coef != 0.0
    )
    if image is None:
        image = np.zeros_like(Z)
    return [image], sizes + [np.max(np.abs(image), initial=0.0)]


def step_image_and_sizes(Z, images, rates, keep):
    """The accepted point's ``max|Z|`` and the step's image with its size.

    One task per row chunk, one round trip.

    Parameters
    ----------
    Z : dask.array.Array of shape (n_samples, r)
        The accepted point's pre-activation.
    images : list of (dask.array.Array or None)
        The basis directions' images ``V_j``.
    rates : ndarray of shape (k,)
        The accepted rates ``a``.
    keep : bool
        Whether the step's image is needed (a strategy that keeps moves).

    Returns
    -------
    image : dask.array.Array or None
        ``sum_j a_j V_j``, persisted (None unless ``keep``).
    z_size, image_size : float
        ``max|Z|`` and ``max|image|`` (0 when the image is not kept).
    """
    outputs, numbers = map_rows(
        step_rows, [Z, *images], np.asarray(rates, dtype=np.float64), keep
    )
    outputs, host = run(outputs, numbers)
    sizes = np.max(host, axis=0)
    if not keep:
        return None, float(sizes[0]), 0.0
    return outputs[0], float(sizes[0]), float(sizes[1])
