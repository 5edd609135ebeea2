"""Test data generators shared by the test modules."""

import numpy as np


def make_classification_data(n_classes, n_samples=90, n_features=6, seed=0):
    """Gaussian features, labels drawn from a random linear (softmax) model."""
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((n_samples, n_features))
    W = rng.standard_normal((n_features, n_classes))
    if n_classes == 2:
        y = (X @ W[:, 0] + rng.logistic(size=n_samples) > 0).astype(int)
    else:
        y = np.argmax(X @ W + rng.gumbel(size=(n_samples, n_classes)), axis=1)
    return X, y
