"""Inputs and outputs of a fit on a dask X, without gathering X to the client.

A ``dask.array.Array`` X always takes this path (with or without
``array_api_dispatch``): scikit-learn's ``validate_data`` would convert it
to numpy, computing all of X on the client. Here the checks stay lazy or
cheap: the shape and dtype come from the array's metadata, and finiteness is
one reduction over X, computed in the same round trip as the class labels.

Every n-row array (X, the encoded targets, the sample weights) is a dask
array with X's row chunks and one column chunk, persisted on the workers;
the parameters are numpy arrays on the client, where the fitted attributes
are returned (as dask-ml does). Predictions on a dask X are lazy dask arrays.
"""

from collections import OrderedDict
from dataclasses import fields

import numpy as np
import scipy.sparse as sp
from sklearn.utils.validation import check_is_fitted

from . import _namespace as ns


def check_X(estimator, X, *, reset):
    """Check a dask X's metadata; return it with one column chunk, in float.

    Parameters
    ----------
    estimator : estimator
        Sets (``reset=True``) or checks ``n_features_in_``.
    X : dask.array.Array
        The training or prediction matrix.
    reset : bool
        Whether this is a fit that sets ``n_features_in_``.

    Returns
    -------
    X : dask.array.Array
        float32 or float64 (other dtypes are cast to float64, lazily), with
        the row chunks given and every column in one chunk: each product
        then takes one task per row chunk. Its chunks are numpy arrays or
        scipy.sparse matrices (CSR or CSC best: other formats are converted
        to CSR in every task).

    Raises
    ------
    ValueError
        For an X that is not 2-D, has chunks other than numpy arrays or
        scipy.sparse matrices (or sparse chunks in several column chunks), unknown
        chunk sizes, no samples or no features, or other features than the
        fit's.
    """
    if X.ndim != 2:
        raise ValueError(f"Expected a 2-D dask array, got {X.ndim} dimensions.")
    sparse = sp.issparse(X._meta)
    if not (sparse or isinstance(X._meta, np.ndarray)):
        # Chunks of another library would fail deep in the first product.
        raise ValueError(
            "Only dask arrays of numpy or scipy.sparse chunks are supported; X "
            f"has chunks of {type(X._meta).__module__}.{type(X._meta).__name__}."
        )
    if any(np.isnan(c) for c in X.chunks[0]):
        raise ValueError(
            "The dask array X has unknown chunk sizes (from a dask dataframe?); "
            "compute them first with X.compute_chunk_sizes() or "
            "ddf.to_dask_array(lengths=True)."
        )
    n_samples, n_features = X.shape
    if n_samples < 1 or n_features < 1:
        raise ValueError(
            f"Found array with {n_samples} sample(s) and {n_features} feature(s) "
            "while a minimum of 1 is required."
        )
    if X.dtype not in (np.float32, np.float64):
        if not np.issubdtype(X.dtype, np.number) and X.dtype != bool:
            raise ValueError(f"X must be numeric, got dtype {X.dtype}.")
        X = X.astype(np.float64)
    if len(X.chunks[1]) > 1:
        if sparse:
            # dask concatenates chunks with numpy, which sparse chunks refuse.
            raise ValueError(
                "A dask X of scipy.sparse chunks must hold all its columns in "
                f"one chunk; X has {len(X.chunks[1])} column chunks."
            )
        X = X.rechunk({1: -1})
    if reset:
        estimator.n_features_in_ = n_features
    elif n_features != estimator.n_features_in_:
        raise ValueError(
            f"X has {n_features} features, but {type(estimator).__name__} is "
            f"expecting {estimator.n_features_in_} features as input."
        )
    return X


def rows_like(X, values, name, dtype=None):
    """``values`` (numpy or dask, one entry or row per sample) with X's row chunks.

    Parameters
    ----------
    X : dask.array.Array
        The training matrix whose row chunks the result follows.
    values : array-like or dask.array.Array
        ``y`` or ``sample_weight``.
    name : str
        Its name, for the error message.
    dtype : dtype or None
        Cast to this dtype (lazily), if given.

    Returns
    -------
    dask.array.Array
    """
    import dask.array as da

    if not ns.is_dask(values):
        values = np.asarray(values)
    if values.shape[0] != X.shape[0]:
        raise ValueError(
            f"{name} has {values.shape[0]} samples, X has {X.shape[0]}: they "
            "must have the same number of rows."
        )
    chunks = (X.chunks[0],) + tuple((s,) for s in values.shape[1:])
    if ns.is_dask(values):
        values = values.rechunk(chunks)
    else:
        values = da.from_array(values, chunks=chunks)
    return values if dtype is None else values.astype(dtype)


def classification_inputs(estimator, X, y, sample_weight, *, reset, not_1d):
    """A classifier's checked inputs: X, its labels, weights and classes.

    Parameters
    ----------
    estimator : estimator
        Records (``reset``) or checks the number of features.
    X : dask.array.Array
        The training matrix.
    y, sample_weight : array-like or dask.array.Array
        Labels (a column vector is flattened) and weights (or None).
    reset : bool
        Whether the fit starts afresh (not a warm start).
    not_1d : str
        The ValueError's message for labels that are not one-dimensional;
        ``{shape}`` is replaced by their shape.

    Returns
    -------
    X, labels, weights : dask.array.Array
        With X's row chunks (``weights`` None when not given).
    classes : ndarray
        The sorted distinct labels, checked to be classification targets.
    """
    from sklearn.utils.multiclass import check_classification_targets

    X = check_X(estimator, X, reset=reset)
    labels = rows_like(X, y, "y")
    if labels.ndim == 2 and labels.shape[1] == 1:
        labels = labels[:, 0]
    if labels.ndim != 1:
        raise ValueError(not_1d.format(shape=labels.shape))
    weights = None
    if sample_weight is not None:
        weights = rows_like(X, sample_weight, "sample_weight", np.float64)
    classes = check_finite_and_labels(X, labels, weights)
    check_classification_targets(classes)
    return X, labels, weights, classes


def check_finite_and_labels(X, y=None, sample_weight=None, targets=None):
    """Finiteness of X (and of y's values) and y's distinct values, in one round trip.

    Parameters
    ----------
    X : dask.array.Array
        The training matrix: one reduction over it.
    y : dask.array.Array or None
        Labels whose distinct values are returned (classification), or
        None.
    sample_weight : dask.array.Array or None
        Checked to be finite and non-negative.
    targets : dask.array.Array or None
        Regression targets, checked to be finite.

    Returns
    -------
    labels : ndarray or None
        The sorted distinct values of ``y``.

    Raises
    ------
    ValueError
        If X (or ``targets``) holds NaN or infinity, or a weight is negative
        or not finite.
    """
    import dask
    import dask.array as da

    from ._dask_rows import map_rows

    # X's finiteness from its column scale (NaN and inf propagate through
    # the maxima), which the fit needs anyway: one task per row chunk.
    _, scales = map_rows(_column_scale_rows, [X])
    checks = []
    if sample_weight is not None:
        checks.append((da.isfinite(sample_weight) & (sample_weight >= 0)).all())
    if targets is not None:
        checks.append(da.isfinite(targets).all())
    labels = None if y is None else da.unique(y)
    # The module function, not a method: one compute, one round trip.
    ns.count_round_trip()
    scales, flags, labels = dask.compute(scales, checks, labels)
    scale = scales.max(axis=0)
    if not np.all(np.isfinite(scale)):
        raise ValueError("Input X contains NaN or infinity.")
    _remember_column_scale(X, scale)
    if sample_weight is not None and not flags[0]:
        raise ValueError(
            "sample_weight must be finite and non-negative (found a negative, "
            "NaN or infinite weight)."
        )
    if targets is not None and not flags[-1]:
        raise ValueError("Input y contains NaN or infinity.")
    return labels


def _column_scale_rows(chunks):
    """A row chunk's largest ``|x|`` per column (NaN or inf if it holds one)."""
    from ._engine import chunk_engine

    (X,) = chunks
    if X.shape[0] == 0:
        return [], np.zeros(X.shape[1])
    scale = chunk_engine(X).column_scale()
    if sp.issparse(X) and not np.isfinite(X.data).all():
        # A NaN among the stored values need not survive scipy's maxima.
        scale = np.full_like(scale, np.nan)
    return [], scale


# Column scales measured by a fit's input check, by the name of the dask
# array (a token of its contents): the fit's engine reads them instead of
# making a pass of its own. A few entries: one fit at a time uses one.
_COLUMN_SCALES = OrderedDict()
_COLUMN_SCALES_KEPT = 4


def _remember_column_scale(X, scale):
    """Keep ``scale`` as X's column scale (the oldest of the kept ones goes)."""
    _COLUMN_SCALES[X.name] = np.asarray(scale, dtype=np.float64)
    _COLUMN_SCALES.move_to_end(X.name)
    while len(_COLUMN_SCALES) > _COLUMN_SCALES_KEPT:
        _COLUMN_SCALES.popitem(last=False)


def column_scale(X):
    """Each column's largest ``|x|`` of a dask X, on the client.

    Remembered from the fit's input check when it measured this X;
    otherwise one task per row chunk, one round trip.
    """
    from ._dask_rows import map_rows, run

    scale = _COLUMN_SCALES.get(X.name)
    if scale is None:
        _, scales = run(*map_rows(_column_scale_rows, [X]))
        scale = scales.max(axis=0)
        _remember_column_scale(X, scale)
    return scale


def encode_labels(y, classes):
    """The class index of every label, lazily (``np.searchsorted`` per chunk)."""
    return y.map_blocks(lambda labels: np.searchsorted(classes, labels), dtype=np.intp)


def one_hot(index, n_classes):
    """Lazy one-hot rows (float64) of class indices."""
    import dask.array as da

    return (index[:, None] == da.arange(n_classes)[None, :]).astype(np.float64)


def check_predict_X(estimator, X):
    """The checks of a prediction on a dask X: fitted, features, one column chunk."""
    check_is_fitted(estimator)
    return check_X(estimator, X, reset=False)


def linear_scores(X, coef, intercept):
    """The lazy ``X @ coef.T + intercept`` (float64), one task per row chunk.

    Numpy and scipy.sparse chunks alike (as ``ProductEngine.pre_activation``).
    """
    from ._engine import chunk_engine

    W = np.asarray(coef.T, dtype=X.dtype)
    b = np.asarray(intercept, dtype=np.float64)
    return X.map_blocks(
        lambda block: chunk_engine(block).pre_activation(W, b, ""),
        chunks=(X.chunks[0], (W.shape[1],)),
        dtype=np.float64,
        meta=np.empty((0, 0)),
    )


def take(labels, index):
    """``labels[index]`` for numpy labels and a lazy dask index array."""
    return index.map_blocks(lambda i: labels[i], dtype=labels.dtype)


def persist_point(point):
    """Persist the lazy arrays of a model's forward state, in place; return it.

    Every n-row field (and the loss terms' arrays) is persisted in one call,
    before anything is computed from them: graphs that start from stored
    chunks stay small however many iterations run, and a trial point's
    arrays, once accepted, are already on the workers. (Persisting arrays
    after a compute has used them would resubmit their keys with other
    tasks, which the distributed scheduler warns about.)
    """
    import dask

    names = [f.name for f in fields(point)]
    flat, layout = [], []
    for name in names:
        value = getattr(point, name)
        parts = value if isinstance(value, tuple) else (value,)
        layout.append((name, isinstance(value, tuple), len(parts)))
        flat.extend(parts)
    lazy = [part for part in flat if ns.is_dask(part)]
    kept = iter(dask.persist(*lazy))
    flat = [next(kept) if ns.is_dask(part) else part for part in flat]
    position = 0
    for name, is_tuple, count in layout:
        parts = tuple(flat[position : position + count])
        position += count
        setattr(point, name, parts if is_tuple else parts[0])
    return point
