"""The cached-product engine: the only place where the training matrix is used.

For a linear model, and for the first layer of a two-layer network, the
expensive operations are the *bottleneck products* ``X @ M`` and ``X.T @ R``.
:class:`ProductEngine` performs and counts them; :class:`MoveHistory` keeps the
images of the recent moves, so that, with the cached pre-activation
``Z = X W + b``, any trial point ``W + sum_j a_j P_j`` of a search has the
pre-activation ``Z + sum_j a_j V_j`` without a product.

Every product is counted where it is performed, under the purpose the caller
names (:data:`PURPOSES`); the estimators' ``product_counts_`` are these
counters. Another array back end only needs an engine class with the same
methods (the ``Engine`` protocol in ``_contracts``); models and strategies
never see X. :class:`ArrayAPIEngine` is the one for a dense X of any array
API library (``array_api_dispatch``): its products stay in X's namespace, on
X's device, in X's dtype. :class:`DaskEngine` is the one for a dask X: its
products are lazy n-row dask arrays on the workers, persisted when the loop
keeps them (:meth:`DaskEngine.keep`).
"""

from collections import Counter, deque

import numpy as np
import scipy.sparse as sp

from ._namespace import is_dask, namespace_and_device

# The purposes of the products a fit performs, as ``product_counts_`` reports
# them: the starting gradient, preconditioner and pre-activation; two per
# iteration; the exact recomputations of the cached pre-activation; the
# periodic preconditioner passes; images of directions not taken.
PURPOSES = ("setup", "iterations", "refresh", "preconditioner", "unused")
# The passes that form the Hessian of the "newton" direction, one per
# iteration; reported in ``product_counts_`` only by the fits that make them
# (a pass costs about ``(d + 1) q (q + 1) / 2`` products' arithmetic).
HESSIAN_PURPOSE = "hessian"


# A fused pass over X (``ProductEngine.forward_backward_blocks``): dense
# numpy X of at least this many bytes, read in blocks of about
# FUSED_BLOCK_BYTES and at least FUSED_MIN_ROWS rows (see
# ``fused_block_rows``). Below 32 MiB the gain depends on the BLAS kernel:
# on one CPU, 7 and 30 MiB X were 0.92-0.95x with OpenBLAS's Haswell kernel
# (``benchmarks/results/fused.md``) and 1.01-1.14x with its SkylakeX kernel
# (``fused_skylakex/fused.md``); from 46 MiB on, 0.99-1.10x and 1.42-1.68x.
FUSED_MIN_BYTES = 2**25
FUSED_BLOCK_BYTES = 2**19
FUSED_MIN_ROWS = 128


def fused_block_size(X):
    """Rows per block of a fused pass over a dense ``X``.

    About :data:`FUSED_BLOCK_BYTES` of X, at least :data:`FUSED_MIN_ROWS`.
    """
    return max(FUSED_MIN_ROWS, FUSED_BLOCK_BYTES // (X.itemsize * X.shape[1]))


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
    counts : collections.Counter
        Products performed so far, by purpose (a key of :data:`PURPOSES`, or
        any other label a caller gives, such as ``"validation"``).
    """

    # The namespace, device and dtype of the products (see ``_namespace``):
    # plain numpy on the host, in float64.
    xp = np
    device = "cpu"
    dtype = np.float64

    def __init__(self, X):
        self.X = X
        self.counts = Counter()
        # Whether BLAS runs one thread, once asked (``fused_block_rows``).
        self._one_thread = None

    @property
    def shape(self):
        """Shape of X."""
        return self.X.shape

    @property
    def n_products(self):
        """Number of bottleneck products performed so far, all purposes."""
        return sum(self.counts.values())

    def forward(self, M, purpose):
        """Return ``X @ M`` for a (n_features, q) matrix M; one product.

        ``purpose`` labels the product in :attr:`counts`.
        """
        self.counts[purpose] += 1
        out = self.X @ np.asarray(M, dtype=self.X.dtype)
        return np.asarray(out, dtype=np.float64)

    def backward(self, R, purpose):
        """Return ``X.T @ R`` for a (n_samples, q) matrix R; one product."""
        self.counts[purpose] += 1
        out = _transposed_product(self.X, np.asarray(R, dtype=self.X.dtype))
        return np.asarray(out, dtype=np.float64)

    def pre_activation(self, W, b, purpose):
        """``X W + b`` (``b`` may be None): one forward product."""
        Z = self.forward(W, purpose)
        if b is not None:
            Z += b
        return Z

    def fused_block_rows(self, q):
        """Rows per block of :meth:`forward_backward_blocks`, or None.

        A fused pass pays where X does not stay in cache between the two
        products of an iteration (a dense, C-ordered numpy X of at least
        :data:`FUSED_MIN_BYTES`), the image has several columns, whose loss
        terms (the softmax) then stay in cache too, and BLAS runs one
        thread. Side by side (``benchmarks/results/fused.md``, OpenBLAS's
        Haswell kernel, one thread): 0.99-1.10x on three multiclass fits
        with X of 46 MiB or more (1.42-1.68x with the SkylakeX kernel,
        ``fused_skylakex/fused.md``), 0.92-0.95x on smaller X; with one
        output 0.93-0.95x, and at two threads 0.80-1.00x (0.71-0.73x with
        one output), so None there, as for sparse X, whose row blocks are
        not views. Blocks of about
        :data:`FUSED_BLOCK_BYTES` of X: the fastest
        of 256 KiB to 2 MiB in a first measurement with several outputs.
        """
        X = self.X
        if (
            q < 2
            or not isinstance(X, np.ndarray)
            or not X.flags.c_contiguous
            or X.nbytes < FUSED_MIN_BYTES
            or not self._single_blas_thread()
        ):
            return None
        return fused_block_size(X)

    def _single_blas_thread(self):
        """Whether BLAS runs one thread (asked once per engine, about 1 ms).

        A block's products are too small for BLAS to share among threads:
        at two threads the fused pass was slower than two threaded products
        (0.71-1.00x, ``benchmarks/results/fused.md``), and more threads
        would speed up the separate products only.
        """
        if self._one_thread is None:
            from threadpoolctl import ThreadpoolController

            pools = ThreadpoolController().select(user_api="blas").lib_controllers
            self._one_thread = all(pool.num_threads == 1 for pool in pools)
        return self._one_thread

    def forward_backward_blocks(self, W, b, residual, purpose):
        """``image = X W + b`` and ``X.T @ residual(...)`` in one pass over X.

        Both products of an iteration for an X that does not stay in cache
        between them: X is read in blocks of :meth:`fused_block_rows` rows
        and each block serves both. ``residual(start, stop, image_rows)``
        returns the block's rows of the residual ``R``, computed from the
        block's rows of the image (a loss at the trial point ``Z + a
        image``). Two products, counted under ``purpose``; the image rows
        are those of :meth:`pre_activation` (the same per-row products),
        ``X.T R`` differs from :meth:`backward`'s by the summation order.

        Parameters
        ----------
        W : ndarray of shape (n_features, q)
        b : ndarray of shape (q,) or None
        residual : callable
            ``residual(start, stop, image_rows)`` -> ndarray of shape
            ``(stop - start, q)``.
        purpose : str
            Label of the two products in :attr:`counts`.

        Returns
        -------
        image : ndarray of shape (n_samples, q)
        XtR : ndarray of shape (n_features, q)
        """
        X = self.X
        n, q = X.shape[0], W.shape[1]
        rows = self.fused_block_rows(q) or n
        self.counts[purpose] += 2
        W = np.asarray(W, dtype=X.dtype)
        image = np.empty((n, q))
        XtR = np.zeros((X.shape[1], q))
        for start in range(0, n, rows):
            stop = min(start + rows, n)
            block = X[start:stop]
            image_rows = image[start:stop]
            image_rows[...] = block @ W
            if b is not None:
                image_rows += b
            R = residual(start, stop, image_rows)
            XtR += _transposed_product(block, np.asarray(R, dtype=X.dtype))
        return image, XtR

    def write_off(self, purpose, as_purpose="unused"):
        """Count one product of ``purpose`` as ``as_purpose`` instead.

        The image of a new direction is computed before the search can tell
        whether the direction will be taken; when it is not, its product is
        written off as unused.
        """
        if self.counts[purpose] < 1:
            raise ValueError(f"no {purpose!r} product to write off")
        self.counts[purpose] -= 1
        self.counts[as_purpose] += 1

    def column_scale(self, chunk_bytes=2**20):
        """The largest absolute value of each column of X, shape (n_features,).

        Cached: one pass over X the first time (comparisons only, no
        multiplication; not counted as a product). It bounds the rounding of
        a product: ``|X M - fl(X M)| <~ eps * (scale @ |M|)``, which a product
        whose terms cancel (a large constant column beside the intercept)
        leaves far above ``eps * max|X M|``.
        """
        if getattr(self, "_column_scale", None) is None:
            X = self.X
            if sp.issparse(X):
                scale = abs(X).max(axis=0)
                scale = np.asarray(scale.toarray() if sp.issparse(scale) else scale)
                scale = scale.ravel()
            else:
                scale = np.zeros(X.shape[1], dtype=X.dtype)
                chunk_rows = max(1, chunk_bytes // (X.itemsize * max(X.shape[1], 1)))
                # One scratch block for every chunk: a dask worker's
                # allocator (MALLOC_TRIM_THRESHOLD_ set by distributed's
                # nanny) maps and unmaps each new one, 6x slower measured.
                scratch = np.empty((min(chunk_rows, X.shape[0]), X.shape[1]), X.dtype)
                for start in range(0, X.shape[0], chunk_rows):
                    rows = X[start : start + chunk_rows]
                    block = np.abs(rows, out=scratch[: rows.shape[0]])
                    np.maximum(scale, block.max(axis=0, initial=0), out=scale)
            self._column_scale = np.asarray(scale, dtype=np.float64)
        return self._column_scale

    def squared_backward(self, H, purpose, chunk_bytes=2**20):
        """Return ``(X * X).T @ H`` for a (n_samples, q) matrix H; one product.

        The Hessian diagonal of a linear model's loss has this form (``H``
        holding each sample's curvature), which the diagonal preconditioner
        needs. Counted as a product: it reads all of X once. Dense X is
        squared in row chunks of about ``chunk_bytes``, so the temporary
        stays small; sparse X squares its stored values only (a temporary of
        nnz entries, sharing X's indices).
        """
        self.counts[purpose] += 1
        X = self.X
        if sp.issparse(X):
            squared = type(X)(
                (np.square(X.data, dtype=np.float64), X.indices, X.indptr),
                shape=X.shape,
            )
            return np.asarray(squared.T @ H, dtype=np.float64)
        out = np.zeros((X.shape[1], H.shape[1]))
        # Chunks of about chunk_bytes: small temporaries, and a block that
        # stays in cache between squaring it and multiplying it.
        chunk_rows = max(1, chunk_bytes // (8 * X.shape[1]))
        # One scratch block, as in column_scale (a dask worker's allocator).
        scratch = np.empty((min(chunk_rows, X.shape[0]), X.shape[1]))
        for start in range(0, X.shape[0], chunk_rows):
            block = X[start : start + chunk_rows]
            rows = np.square(block, out=scratch[: block.shape[0]], dtype=np.float64)
            out += rows.T @ H[start : start + chunk_rows]
        return out

    def weighted_grams(
        self, H, purpose, intercept=False, chunk_bytes=2**19, min_rows=128
    ):
        """Return ``A.T @ diag(H[:, m]) @ A`` for every column m of H; one pass.

        ``A`` is X, with a column of ones appended when ``intercept``: the
        Hessian of a linear model's objective is assembled from such
        matrices (``LinearModel.hessian``). Counted as one product under
        ``purpose``, though it costs about ``n (d + 1)^2 m`` operations, the
        arithmetic of ``(d + 1) m / q`` products with q outputs.

        Dense X is read in row chunks: each chunk ``A_c`` gives all m
        matrices in one matrix product, ``A_c.T @ (A_c * H_c)``, with the
        scaled copies laid side by side (a temporary of about
        ``chunk_bytes``, and at least ``min_rows`` rows so the product stays
        efficient for many columns m). Sparse X forms each
        ``X.T @ diag(h) @ X`` sparse, then dense.

        Parameters
        ----------
        H : ndarray of shape (n_samples, m)
            The weights, one column per matrix.
        purpose : str
            Label of the pass in :attr:`counts`.
        intercept : bool, default=False
            Whether to append a column of ones to X.
        chunk_bytes : int, default=512 KiB
            Size of the scaled temporary of a row chunk (dense X). Small
            enough to stay in cache between scaling and multiplying: at one
            thread, the binary Hessian of a 5,000 x 30 X took 0.65 ms in
            512 KiB chunks against 2.7 ms in 4 MiB ones (20,000 x 300:
            102 ms against 120 ms).
        min_rows : int, default=128
            Fewest rows of a chunk (for many columns m, where ``chunk_bytes``
            would allow only a few).

        Returns
        -------
        grams : ndarray of shape (m, d + intercept, d + intercept)
            Symmetric matrices, float64.
        """
        self.counts[purpose] += 1
        X = self.X
        n, d = X.shape
        m = H.shape[1]
        width = d + bool(intercept)
        if sp.issparse(X):
            grams = np.empty((m, width, width))
            for k in range(m):
                h = H[:, k]
                scaled = sp.csr_matrix(X.multiply(h[:, None]))
                grams[k, :d, :d] = (X.T @ scaled).toarray()
                if intercept:
                    column = np.asarray(X.T @ h, dtype=np.float64).ravel()
                    grams[k, :d, d] = grams[k, d, :d] = column
                    grams[k, d, d] = h.sum()
            return grams
        out = np.zeros((width, width * m))
        chunk_rows = max(min_rows, chunk_bytes // (8 * width * m))
        if intercept or X.dtype != np.float64:
            rows = np.empty((min(chunk_rows, n), width))
            if intercept:
                rows[:, d] = 1.0
        # One scratch block for the scaled rows (see column_scale).
        scaled_rows = np.empty((min(chunk_rows, n), width, m))
        for start in range(0, n, chunk_rows):
            stop = min(start + chunk_rows, n)
            if intercept or X.dtype != np.float64:
                block = rows[: stop - start]
                block[:, :d] = X[start:stop]
            else:
                block = X[start:stop]
            scaled = np.multiply(
                block[:, :, None],
                H[start:stop, None, :],
                out=scaled_rows[: stop - start],
            )
            out += block.T @ scaled.reshape(stop - start, width * m)
        return out.reshape(width, width, m).transpose(2, 0, 1)


class ArrayAPIEngine(ProductEngine):
    """The products with a dense X of any array API library, on its device.

    Unlike :class:`ProductEngine`, results stay in X's namespace, on X's
    device and in X's dtype: float32 X gives float32 products (GPUs are much
    faster there), and nothing is copied to the host.

    Parameters
    ----------
    X : array of shape (n_samples, n_features)
        The training matrix (float32 or float64).
    xp : module
        X's array namespace.
    device : object
        X's device.
    """

    def __init__(self, X, xp, device):
        super().__init__(X)
        self.xp = xp
        self.device = device
        self.dtype = X.dtype

    def forward(self, M, purpose):
        """Return ``X @ M`` for a (n_features, q) matrix M; one product."""
        self.counts[purpose] += 1
        return self.X @ self.xp.astype(M, self.dtype, copy=False)

    def backward(self, R, purpose):
        """Return ``X.T @ R`` for a (n_samples, q) matrix R; one product."""
        self.counts[purpose] += 1
        return _transposed_product(self.X, self.xp.astype(R, self.dtype, copy=False))

    def pre_activation(self, W, b, purpose):
        """``X W + b`` (``b`` may be None): one forward product."""
        Z = self.forward(W, purpose)
        return Z if b is None else Z + b

    def column_scale(self, chunk_bytes=2**20):
        """The largest absolute value of each column of X (cached, on the device).

        One pass over X in row chunks the first time; see
        :meth:`ProductEngine.column_scale`.
        """
        if getattr(self, "_column_scale", None) is None:
            xp, X = self.xp, self.X
            scale = xp.zeros((X.shape[1],), dtype=self.dtype, device=self.device)
            itemsize = xp.finfo(self.dtype).bits // 8
            chunk_rows = max(1, chunk_bytes // (itemsize * max(X.shape[1], 1)))
            for start in range(0, X.shape[0], chunk_rows):
                stop = min(start + chunk_rows, X.shape[0])
                scale = xp.maximum(scale, xp.max(xp.abs(X[start:stop, :]), axis=0))
            self._column_scale = scale
        return self._column_scale

    def squared_backward(self, H, purpose, chunk_bytes=2**20):
        """Return ``(X * X).T @ H``, squaring X in row chunks; one product."""
        self.counts[purpose] += 1
        xp, X = self.xp, self.X
        out = xp.zeros((X.shape[1], H.shape[1]), dtype=self.dtype, device=self.device)
        itemsize = xp.finfo(self.dtype).bits // 8
        chunk_rows = max(1, chunk_bytes // (itemsize * X.shape[1]))
        n = X.shape[0]
        for start in range(0, n, chunk_rows):
            stop = min(start + chunk_rows, n)
            rows = X[start:stop, :]
            out += (rows * rows).T @ H[start:stop, :]
        return out

    def weighted_grams(self, H, purpose, intercept=False, chunk_bytes=2**22):
        """Return ``A.T @ diag(H[:, m]) @ A`` for every column m of H; one pass.

        As :meth:`ProductEngine.weighted_grams`, on X's device and in X's
        dtype: row chunks of X (with a column of ones when ``intercept``)
        give all m matrices in one matrix product each. The result, of
        shape (m, d + intercept, d + intercept), stays on the device.
        """
        self.counts[purpose] += 1
        xp, X = self.xp, self.X
        n, d = X.shape
        m = H.shape[1]
        width = d + bool(intercept)
        itemsize = xp.finfo(self.dtype).bits // 8
        chunk_rows = max(1, chunk_bytes // (itemsize * width * m))
        out = xp.zeros((width, width * m), dtype=self.dtype, device=self.device)
        for start in range(0, n, chunk_rows):
            stop = min(start + chunk_rows, n)
            block = X[start:stop, :]
            if intercept:
                ones = xp.ones((stop - start, 1), dtype=self.dtype, device=self.device)
                block = xp.concat([block, ones], axis=1)
            scaled = block[:, :, None] * H[start:stop, None, :]
            out += block.T @ xp.reshape(scaled, (stop - start, width * m))
        return xp.permute_dims(xp.reshape(out, (width, width, m)), (2, 0, 1))


class DaskEngine(ProductEngine):
    """The products with a row-chunked dask X, on the workers of its scheduler.

    The parameter-sized operands (``M``, and the results of ``X.T @ R``) are
    numpy arrays on the client; the n-row results are lazy dask arrays
    aligned with X's row chunks, in float64, as on the numpy path. Nothing is
    computed here: :meth:`forward` and :meth:`backward` build graphs, the
    loop persists what it keeps (:meth:`keep`) and moves small results to
    the client through ``_namespace.to_host``, one round trip per call, so
    each product's result is computed with the scalars that go with it.

    Parameters
    ----------
    X : dask.array.Array of shape (n_samples, n_features)
        The training matrix, float32 or float64, with one column chunk.

    Attributes
    ----------
    lazy : bool
        True: the n-row arrays of this engine are lazy (dask) arrays.
    """

    lazy = True

    def forward(self, M, purpose):
        """Return the lazy ``X @ M`` (n x q, float64); one product.

        One task per row chunk (numpy or scipy.sparse chunks alike).
        """
        from ._dask_rows import map_rows

        self.counts[purpose] += 1
        M = np.asarray(M, dtype=self.X.dtype)
        (image,), _ = map_rows(_forward_rows, [self.X], M, None)
        return image

    def backward(self, R, purpose):
        """Return the lazy ``X.T @ R`` (d x q, float64); one product.

        One task per row chunk, each giving its chunk's ``X_c.T R_c``; the
        sum over the chunks is left to the caller's graph.
        """
        from ._dask_rows import map_rows

        self.counts[purpose] += 1
        _, partial = map_rows(_backward_rows, [self.X, R], _given_residual, (), False)
        return partial.sum(axis=0).reshape((self.X.shape[1], -1))

    def pre_activation(self, W, b, purpose):
        """Lazy ``X W + b`` (``b`` may be None): one forward product."""
        Z = self.forward(W, purpose)
        return Z if b is None else Z + b

    def pre_activation_and_size(self, W, b, purpose):
        """``X W + b`` persisted on the workers, and its largest ``|entry|``.

        One forward product, one task per row chunk, one round trip (the
        image of a new direction: its size feeds the rounding ledger and the
        finiteness test of the search).

        Returns
        -------
        image : dask.array.Array of shape (n_samples, q)
            Persisted, float64.
        size : float
            ``max |X W + b|`` (NaN or inf when the product overflowed).
        """
        from ._dask_rows import map_rows, run

        self.counts[purpose] += 1
        W = np.asarray(W, dtype=self.X.dtype)
        outputs, numbers = map_rows(_forward_rows, [self.X], W, b)
        (image,), host = run(outputs, numbers)
        return image, float(np.max(host))

    def backward_rows(self, residual, rows, *args, purpose, squared=False):
        """``X.T R`` and a model's numbers from one pass over the row chunks.

        ``residual(chunks, *args)`` computes, on each row chunk of ``rows``
        (dask arrays aligned with X), the chunk's residual ``R`` (float64,
        (rows, q)), a vector of numbers (a loss value, the intercepts'
        gradient...) and a list of n-row outputs to keep; the task
        multiplies by the chunk of X (by X squared, ``(X * X).T R``, when
        ``squared``: a Hessian diagonal; by both, squared first, when
        ``squared="both"``). One backward product (two for both), one round
        trip.

        Returns
        -------
        outputs : list of dask.array.Array
            Persisted.
        numbers : ndarray of shape (n_chunks, m + n_features * q)
            Each chunk's numbers, then its ``X.T R`` (row-major); with both,
            ``(X * X).T R`` then ``X.T R`` (``m + 2 n_features q``).
        """
        from ._dask_rows import map_rows, run

        self.counts[purpose] += 2 if squared == "both" else 1
        outputs, numbers = map_rows(
            _backward_rows, [self.X, *rows], residual, args, squared
        )
        return run(outputs, numbers)

    def forward_backward_rows(self, W, b, residual, rows, *args, purpose):
        """``X W + b``, then a residual ``R`` from it and ``X.T R``: one task per chunk.

        Both products of an iteration in one pass over the row chunks and
        one round trip: each task forms its chunk's image (as
        :meth:`pre_activation_and_size`), hands it with the chunks of
        ``rows`` to ``residual`` (as in :meth:`backward_rows`, the image
        first) and multiplies the residual by the chunk of X. Two products,
        counted under ``purpose``.

        Returns
        -------
        outputs : list of dask.array.Array
            The image, then the residual's outputs; persisted.
        numbers : ndarray of shape (n_chunks, 1 + m + n_features * q)
            Each chunk's ``max |X W + b|``, the residual's numbers, then its
            ``X.T R`` (row-major).
        """
        from ._dask_rows import map_rows, run

        self.counts[purpose] += 2
        W = np.asarray(W, dtype=self.X.dtype)
        outputs, numbers = map_rows(
            _forward_backward_rows, [self.X, *rows], W, b, residual, args
        )
        return run(outputs, numbers)

    def constant(self, width, b):
        """The lazy pre-activation ``0 X + b`` of zero weights: no product."""
        import dask.array as da

        Z = da.zeros(
            (self.X.shape[0], width), chunks=(self.X.chunks[0], width), dtype=float
        )
        return Z if b is None else Z + b

    def column_scale(self, chunk_bytes=None):
        """Each column's largest ``|X|``, on the client (cached).

        The fit's input check measured it (``_dask.check_finite_and_labels``,
        in the same round trip as the finiteness of X); otherwise one task
        per row chunk and one round trip. See
        :meth:`ProductEngine.column_scale`.
        """
        from . import _dask

        if getattr(self, "_column_scale", None) is None:
            self._column_scale = _dask.column_scale(self.X)
        return self._column_scale

    def squared_backward(self, H, purpose, chunk_bytes=None):
        """Return the lazy ``(X * X).T @ H``; one product (one pass over X).

        Each chunk of X is squared where it lives, so no squared copy of X
        is kept.
        """
        from ._dask_rows import map_rows

        self.counts[purpose] += 1
        _, partial = map_rows(_backward_rows, [self.X, H], _given_residual, (), True)
        return partial.sum(axis=0).reshape((self.X.shape[1], -1))

    def weighted_grams(self, H, purpose, intercept=False):
        """The lazy ``A.T @ diag(H[:, m]) @ A`` for every column m of H; one pass.

        Each row chunk ``A_c`` of X (with a column of ones when
        ``intercept``) gives its own ``A_c.T diag(H_c) A_c`` where it lives
        (:meth:`ProductEngine.weighted_grams` on the chunk: numpy, in
        float64), and the chunks' matrices are summed: the result, of shape
        (m, d + intercept, d + intercept), is computed in one round trip
        by whoever moves it to the client. ``H`` has X's row chunks.
        """
        import dask.array as da

        self.counts[purpose] += 1
        width = self.X.shape[1] + bool(intercept)
        m = H.shape[1]

        def chunk_grams(X_chunk, H_chunk):
            grams = chunk_engine(X_chunk).weighted_grams(
                H_chunk, purpose, intercept=intercept
            )
            return grams[None]

        # One task per row chunk (X and H have one column chunk each), each
        # returning a (1, m, width, width) block; then a sum over chunks.
        partial = da.blockwise(
            chunk_grams,
            "ikab",
            self.X,
            "ij",
            H.rechunk({1: -1}),
            "il",
            new_axes={"k": m, "a": width, "b": width},
            adjust_chunks={"i": 1},
            concatenate=True,
            dtype=np.float64,
        )
        return partial.sum(axis=0)

    @staticmethod
    def keep(*arrays):
        """Persist lazy arrays the loop keeps; return them in the same order.

        Persisting cuts their graphs: a cached array built from the previous
        ones by updates stays a handful of tasks per chunk, however many
        iterations the fit runs. On a ``distributed`` scheduler this returns
        at once (the chunks are computed in the background).
        """
        import dask

        present = [a for a in arrays if a is not None]
        kept = iter(dask.persist(*present))
        return tuple(None if a is None else next(kept) for a in arrays)


def chunk_engine(X):
    """The :class:`ProductEngine` of a dask X's row chunk, a worker's numpy work.

    Sparse chunks in another format than CSR or CSC (COO, LIL...) become
    CSR first: the products and the squared pass read CSR / CSC structure.
    A dense chunk at an unaligned address is copied (see
    :func:`aligned`): a chunk that a worker received from another one
    can be such a view of the message's buffer.
    """
    if sp.issparse(X) and X.format not in ("csr", "csc"):
        X = X.tocsr()
    return ProductEngine(aligned(X))


def _transposed_product(X, R):
    """``X.T @ R``, in the operand order BLAS runs fastest.

    For a C-ordered dense X and R of several columns, OpenBLAS forms
    ``R.T @ X`` (a few long rows against X's rows) faster than ``X.T @ R``:
    measured at 1 thread, 0.4-0.8x the time in float64 and 0.65-0.95x in
    float32 for 3 to 30 columns (n x d from 100,000 x 200 to 20,000 x
    784); on torch's CPU 0.2-0.96x. With one column the two orders take
    the same time; on an F-ordered numpy X the swap was faster in float64
    and slower in float32, so the plain product is kept there, as for a
    sparse X (scipy forms its own products). The result is the transposed
    view of a C-ordered matrix (the same numbers up to the summation order).
    """
    if R.shape[1] < 2 or sp.issparse(X):
        return X.T @ R
    if isinstance(X, np.ndarray) and not X.flags.c_contiguous:
        return X.T @ R
    return (R.T @ X).T


def aligned(X):
    """X, or an aligned copy of a dense X at an unaligned address.

    numpy arrays deserialized from a message can start at any byte (a dask
    compute's result on the client, a chunk copied between workers): BLAS
    and numpy's loops take slow paths there, products about 20x slower
    (measured on float32). The copy costs one pass over X.
    """
    if isinstance(X, np.ndarray) and not X.flags.aligned:
        return np.require(X, requirements="A")
    return X


def _forward_rows(chunks, W, b):
    """A row chunk's ``X W + b`` (as :meth:`ProductEngine.pre_activation`) and size."""
    (X,) = chunks
    Z = chunk_engine(X).pre_activation(W, b, "")
    return [Z], [np.max(np.abs(Z), initial=0.0)]


def _given_residual(rows):
    """The residual of a bare product: the row chunk of ``R`` itself."""
    (R,) = rows
    return R, [], []


def _backward_rows(chunks, residual, args, squared):
    """A row chunk's numbers and ``X.T R`` (or ``(X * X).T R``, or both), row-major.

    As :meth:`ProductEngine.backward` / ``squared_backward`` on the chunk
    (a numpy or scipy.sparse chunk).
    """
    X, *rows = chunks
    R, numbers, outputs = residual(rows, *args)
    engine = chunk_engine(X)
    products = []
    if squared:
        products.append(engine.squared_backward(R, "").ravel())
    if squared in (False, "both"):
        products.append(engine.backward(R, "").ravel())
    numbers = np.concatenate([np.asarray(numbers, dtype=np.float64), *products])
    return outputs, numbers


def _forward_backward_rows(chunks, W, b, residual, args):
    """A row chunk's image ``X W + b``, a residual from it and ``X.T R``.

    As :func:`_forward_rows` then :func:`_backward_rows`, in one task.
    """
    X, *rows = chunks
    engine = chunk_engine(X)
    image = engine.pre_activation(W, b, "")
    R, numbers, outputs = residual([image, *rows], *args)
    XtR = engine.backward(R, "")
    size = np.max(np.abs(image), initial=0.0)
    numbers = np.concatenate(
        [[size], np.asarray(numbers, dtype=np.float64), XtR.ravel()]
    )
    return [image, *outputs], numbers


def make_engine(X):
    """Return the engine for X's array type.

    Parameters
    ----------
    X : ndarray, sparse matrix or array of an array API library
        The validated training matrix; another library's array only with
        ``array_api_dispatch`` on (see ``_namespace``).

    Returns
    -------
    engine : ProductEngine or ArrayAPIEngine
    """
    X = aligned(X)
    if isinstance(X, np.ndarray) or sp.issparse(X):
        return ProductEngine(X)
    if is_dask(X):
        return DaskEngine(X)
    xp, device = namespace_and_device(X)
    if xp is not np:
        return ArrayAPIEngine(X, xp, device)
    raise TypeError(f"no product engine for arrays of type {type(X).__name__}")


class MoveHistory:
    """The recent moves of the iterate with their cached images.

    A move is the step ``s_k = theta_k - theta_{k-1}`` actually taken and its
    image ``u_k = X s_k,W1 + s_k,b1``, accumulated from the images of the
    basis directions. The newest move is the momentum direction, older ones
    are the memory directions; neither costs a product.

    Moves are stored as they were taken rather than as differences of cached
    pre-activations: near convergence ``Z_k - Z_{k-1}`` cancels almost every
    digit, and with momentum rates above one the rounding errors of such
    differences grow geometrically, so ``Z`` would drift away from ``X W``.

    Parameters
    ----------
    n_moves : int
        How many moves to keep.
    """

    def __init__(self, n_moves):
        self._moves = deque(maxlen=max(n_moves, 1))
        self._accuracies = deque(maxlen=max(n_moves, 1))

    def push(self, step, image, accuracy=None):
        """Record the newest move, its image and the image's rounding error.

        ``accuracy`` is the image's :class:`~sklearn_so._rounding.ImageError`.
        """
        self._moves.appendleft((step, image))
        self._accuracies.appendleft(accuracy)

    def recent(self, count):
        """Return up to ``count`` newest moves as ``(step, image)`` pairs."""
        return list(self._moves)[:count]

    def accuracy(self, index):
        """The rounding error of the ``index``-th newest move's image (0: newest).

        A :class:`~sklearn_so._rounding.ImageError`, or None if not tracked.
        """
        return self._accuracies[index]

    def accuracies(self):
        """The rounding errors of every move's image, newest first."""
        return list(self._accuracies)

    def clear(self):
        """Forget every move (a restart)."""
        self._moves.clear()
        self._accuracies.clear()
