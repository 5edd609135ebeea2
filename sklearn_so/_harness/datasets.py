"""The problems the demo and the benchmarks fit, built here from seeds.

Every generator returns ``(X, y)`` and draws its random numbers in a fixed
order from its ``seed``, so a seed names one dataset, bit for bit, on any
machine with the same library versions. The loaders return scikit-learn's
bundled data as it comes (``load_digits`` gives a non-contiguous view; a
caller that wants a contiguous copy makes it), so the memory layout is the
caller's choice too.
"""

from dataclasses import dataclass
from functools import cached_property

import numpy as np
import scipy.sparse as sp
from scipy.special import expit
from sklearn.datasets import (
    load_breast_cancer,
    load_digits,
    load_wine,
    make_classification,
    make_regression,
)
from sklearn.preprocessing import StandardScaler


@dataclass
class Dataset:
    """A named training set.

    Parameters
    ----------
    name : str
        Identifier used on the command line and in the tables.
    X : ndarray or sparse matrix of shape (n_samples, n_features)
        The training matrix.
    y : ndarray of shape (n_samples,)
        Class labels or regression targets.
    task : {"classification", "regression"}, default="classification"
        What ``y`` holds.
    """

    name: str
    X: object
    y: np.ndarray
    task: str = "classification"

    @property
    def is_classification(self):
        """Whether the targets are class labels."""
        return self.task == "classification"

    @cached_property
    def n_classes(self):
        """Number of distinct labels."""
        return len(np.unique(self.y))

    @property
    def n_outputs(self):
        """Columns of a linear model's output: 1 if binary, else ``n_classes``."""
        return 1 if self.n_classes == 2 else self.n_classes

    @property
    def density(self):
        """Fraction of stored entries (1 for dense data)."""
        if sp.issparse(self.X):
            return self.X.nnz / np.prod(self.X.shape)
        return 1.0

    @property
    def nbytes(self):
        """Memory held by X's arrays."""
        if sp.issparse(self.X):
            return self.X.data.nbytes + self.X.indices.nbytes + self.X.indptr.nbytes
        return self.X.nbytes


# scikit-learn's bundled sets, shipped with it (no download).
BUNDLED = {
    "digits": load_digits,  # 1797 x 64 pixel values 0-16, 10 classes
    "breast_cancer": load_breast_cancer,  # 569 x 30, binary
    "wine": load_wine,  # 178 x 13, 3 classes
}


def bundled(name, standardise=False):
    """A dataset that ships with scikit-learn, raw or standardised.

    Parameters
    ----------
    name : {"digits", "breast_cancer", "wine"}
        Digits (1797 x 64, pixel values 0-16, 10 classes), breast cancer
        (569 x 30, binary) or wine (178 x 13, 3 classes).
    standardise : bool, default=False
        Standardise every feature over all samples; otherwise X is as the
        loader returns it (raw, badly scaled features).

    Returns
    -------
    X : ndarray of shape (n_samples, n_features)
        Features.
    y : ndarray of shape (n_samples,)
        Class labels.
    """
    X, y = BUNDLED[name](return_X_y=True)
    return (StandardScaler().fit_transform(X) if standardise else X), y


def dense_binary(n_samples, n_features, seed=0):
    """Dense binary problem from ``make_classification``.

    One feature in ten is informative and one in twenty redundant (a linear
    combination of informative ones); 1% of the labels are flipped.

    Parameters
    ----------
    n_samples, n_features : int
        Shape of X.
    seed : int, default=0
        Random seed.

    Returns
    -------
    X : ndarray of shape (n_samples, n_features)
        Features, not standardised.
    y : ndarray of shape (n_samples,)
        Labels 0 and 1.
    """
    return make_classification(
        n_samples=n_samples,
        n_features=n_features,
        n_informative=max(2, n_features // 10),
        n_redundant=n_features // 20,
        flip_y=0.01,
        random_state=seed,
    )


def dense_multiclass(n_samples, n_features, seed=0):
    """Standardised ``make_classification`` problem with 5 classes.

    One feature in ten is informative and one in twenty redundant, two
    clusters per class, 1% of the labels flipped.

    Parameters
    ----------
    n_samples, n_features : int
        Shape of X; ``n_features`` at least 20.
    seed : int, default=0
        Random seed.

    Returns
    -------
    X : ndarray of shape (n_samples, n_features)
        Standardised features.
    y : ndarray of shape (n_samples,)
        Labels 0 to 4.
    """
    X, y = make_classification(
        n_samples=n_samples,
        n_features=n_features,
        n_informative=n_features // 10,
        n_redundant=n_features // 20,
        n_classes=5,
        n_clusters_per_class=2,
        flip_y=0.01,
        random_state=seed,
    )
    return StandardScaler().fit_transform(X), y


def image_like_multiclass(n_samples, side=28, n_classes=10, seed=0):
    """Image-like multiclass problem: smooth, correlated pixel features.

    Every class has a template, a random image smoothed by a Gaussian
    filter (width ``side / 10``); a sample is its class's template with a
    random contrast, plus smooth noise (the same filter) and pixel noise,
    clipped to [0, 1] like scaled grey levels. Neighbouring pixels are
    strongly correlated and the features are not standardised, as raw
    images are.

    Parameters
    ----------
    n_samples : int
        Number of images.
    side : int, default=28
        Images are ``side x side``: ``side ** 2`` features (784 by default).
    n_classes : int, default=10
        Number of classes, drawn uniformly.
    seed : int, default=0
        Random seed.

    Returns
    -------
    X : ndarray of shape (n_samples, side ** 2)
        Grey levels in [0, 1].
    y : ndarray of shape (n_samples,)
        Labels 0 to ``n_classes - 1``.
    """
    from scipy.ndimage import gaussian_filter

    rng = np.random.default_rng(seed)
    width = side / 10
    templates = gaussian_filter(
        rng.standard_normal((n_classes, side, side)), (0, width, width)
    )
    templates /= templates.std(axis=(1, 2), keepdims=True)
    y = rng.integers(n_classes, size=n_samples)
    contrast = rng.uniform(0.5, 1.5, size=(n_samples, 1, 1))
    noise = gaussian_filter(
        rng.standard_normal((n_samples, side, side)), (0, width, width)
    )
    noise /= noise.std()
    images = 0.5 + 0.15 * (contrast * templates[y] + 2.0 * noise)
    images += 0.05 * rng.standard_normal(images.shape)
    return np.clip(images, 0.0, 1.0).reshape(n_samples, side * side), y


def sparse_binary(n_samples, n_features, nnz_per_row=20, seed=0):
    """Sparse binary CSR problem with logistic label noise.

    X has standard normal values at about ``nnz_per_row`` random positions per
    row; the labels are ``1[X w + b + noise > 0]`` with a true coefficient
    vector ``w`` having 10% non-zero standard normal entries and logistic
    noise.

    Parameters
    ----------
    n_samples, n_features : int
        Shape of X.
    nnz_per_row : int, default=20
        Expected stored entries per row.
    seed : int, default=0
        Random seed.

    Returns
    -------
    X : scipy.sparse.csr_matrix of shape (n_samples, n_features)
        Features, standard normal where stored.
    y : ndarray of shape (n_samples,)
        Labels 0 and 1.
    """
    rng = np.random.default_rng(seed)
    X = sp.random(
        n_samples,
        n_features,
        density=nnz_per_row / n_features,
        format="csr",
        rng=rng,
        data_rvs=rng.standard_normal,
        dtype=np.float64,
    )
    true_coef = sp.random(
        n_features, 1, density=0.1, rng=rng, data_rvs=rng.standard_normal
    ).toarray()[:, 0]
    scores = X @ true_coef + 0.2 + rng.logistic(size=n_samples)
    return X, (scores > 0).astype(np.int64)


def sparse_text_like(n_samples, n_features, words_per_row, seed):
    """A sparse, tf-idf-like binary classification set.

    Word frequencies follow a power law (a few frequent words, a long tail)
    and rows are L2-normalised, as a tf-idf matrix of documents is; labels
    are drawn from a logistic model with a sparse weight vector.

    Parameters
    ----------
    n_samples, n_features : int
        Shape of X.
    words_per_row : int
        Distinct words per document (before duplicates merge).
    seed : int
        Random seed.

    Returns
    -------
    X : scipy.sparse.csr_matrix of shape (n_samples, n_features)
        Log word counts, rows of unit L2 norm.
    y : ndarray of shape (n_samples,)
        Labels 0 and 1.
    """
    rng = np.random.default_rng(seed)
    frequency = 1.0 / (np.arange(n_features) + 10.0) ** 1.1
    frequency /= frequency.sum()
    columns = rng.choice(n_features, size=(n_samples, words_per_row), p=frequency)
    rows = np.repeat(np.arange(n_samples), words_per_row)
    counts = np.ones(rows.size)
    X = sp.csr_matrix((counts, (rows, columns.ravel())), (n_samples, n_features))
    X.sum_duplicates()
    X.data = np.log1p(X.data)
    norms = np.sqrt(np.asarray(X.multiply(X).sum(axis=1)).ravel())
    X = sp.diags(1.0 / norms) @ X
    weights = rng.standard_normal(n_features) * (rng.random(n_features) < 0.2)
    y = (rng.random(n_samples) < expit(8.0 * (X @ weights))).astype(np.int64)
    return X.tocsr(), y


def linear_regression(n_samples, n_features, noise=1.0, seed=0):
    """Standardised ``make_regression`` problem: a noisy linear target.

    Parameters
    ----------
    n_samples, n_features : int
        Shape of X.
    noise : float, default=1.0
        Standard deviation of the Gaussian noise added to the target.
    seed : int, default=0
        Random seed.

    Returns
    -------
    X : ndarray of shape (n_samples, n_features)
        Standardised features.
    y : ndarray of shape (n_samples,)
        Target with mean 0 and standard deviation 1.
    """
    X, y = make_regression(
        n_samples=n_samples, n_features=n_features, noise=noise, random_state=seed
    )
    return StandardScaler().fit_transform(X), (y - y.mean()) / y.std()


def nonlinear_regression(n_samples, n_features, seed=0):
    """Standardised nonlinear regression problem.

    X comes from ``make_regression`` (standard normal, a linear target ``l``
    on one feature in ten); with two random unit directions ``w1``, ``w2``
    the target is ``sin(2 X w1) + (X w2)^2 + 0.5 l / std(l)`` plus 0.1
    Gaussian noise, then standardised.

    Parameters
    ----------
    n_samples, n_features : int
        Shape of X.
    seed : int, default=0
        Random seed (of ``make_regression`` and of the directions and noise).

    Returns
    -------
    X : ndarray of shape (n_samples, n_features)
        Standardised features.
    y : ndarray of shape (n_samples,)
        Target with mean 0 and standard deviation 1.
    """
    X, linear = make_regression(
        n_samples=n_samples,
        n_features=n_features,
        n_informative=max(1, n_features // 10),
        random_state=seed,
    )
    rng = np.random.default_rng(seed)
    w1, w2 = rng.standard_normal((2, n_features))
    w1 /= np.linalg.norm(w1)
    w2 /= np.linalg.norm(w2)
    y = np.sin(2.0 * X @ w1) + (X @ w2) ** 2 + 0.5 * linear / linear.std()
    y += 0.1 * rng.standard_normal(n_samples)
    X = StandardScaler().fit_transform(X)
    return X, (y - y.mean()) / y.std()
