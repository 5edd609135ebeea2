"""Bad input gets a clear error that names the problem."""

import numpy as np
import pytest
import scipy.sparse as sp

from sklearn_so import SOLogisticRegression

from ._data import make_classification_data


@pytest.fixture
def data():
    return make_classification_data(2, n_samples=30)


@pytest.mark.parametrize("bad", [np.nan, np.inf, -np.inf])
def test_non_finite_features(data, bad):
    X, y = data
    X = X.copy()
    X[3, 1] = bad
    with pytest.raises(ValueError, match="Input X contains (NaN|infinity)"):
        SOLogisticRegression().fit(X, y)


def test_non_finite_sparse_features(data):
    X, y = data
    X = sp.csr_matrix(X)
    X.data[0] = np.nan
    with pytest.raises(ValueError, match="NaN"):
        SOLogisticRegression().fit(X, y)


def test_empty_data():
    with pytest.raises(ValueError, match="0 sample"):
        SOLogisticRegression().fit(np.empty((0, 3)), np.empty(0))
    with pytest.raises(ValueError, match="0 feature"):
        SOLogisticRegression().fit(np.empty((5, 0)), np.arange(5) % 2)


def test_one_class(data):
    X, _ = data
    with pytest.raises(ValueError, match="only one class"):
        SOLogisticRegression().fit(X, np.ones(len(X)))


def test_continuous_target(data):
    X, _ = data
    with pytest.raises(ValueError, match="Unknown label type"):
        SOLogisticRegression().fit(X, np.linspace(0, 1, len(X)))


def test_mismatched_lengths(data):
    X, y = data
    with pytest.raises(ValueError, match="inconsistent numbers of samples"):
        SOLogisticRegression().fit(X, y[:-1])
    with pytest.raises(ValueError, match="sample_weight.shape"):
        SOLogisticRegression().fit(X, y, sample_weight=np.ones(len(y) + 1))


def test_one_dimensional_X(data):
    _, y = data
    with pytest.raises(ValueError, match="Expected 2D array"):
        SOLogisticRegression().fit(np.arange(len(y), dtype=float), y)


def test_negative_and_zero_sample_weights(data):
    X, y = data
    with pytest.raises(ValueError, match="Negative values in data"):
        SOLogisticRegression().fit(X, y, sample_weight=-np.ones(len(y)))
    with pytest.raises(ValueError, match="at least one non-zero"):
        SOLogisticRegression().fit(X, y, sample_weight=np.zeros(len(y)))


@pytest.mark.parametrize(
    "params, name",
    [
        ({"solver": "newton"}, "solver"),
        ({"direction": "bfgs"}, "direction"),
        ({"C": 0.0}, "C"),
        ({"C": -1.0}, "C"),
        ({"max_iter": 0}, "max_iter"),
        ({"tol": -1.0}, "tol"),
        ({"memory": 0}, "memory"),
        ({"memory_directions": -1}, "memory_directions"),
        ({"learning_rate": 0.0}, "learning_rate"),
        ({"momentum": 1.0}, "momentum"),
        ({"class_weight": "auto"}, "class_weight"),
    ],
)
def test_unknown_parameter_values(data, params, name):
    X, y = data
    with pytest.raises(ValueError, match=f"'{name}' parameter"):
        SOLogisticRegression(**params).fit(X, y)


def test_predict_before_fit_and_wrong_width(data):
    from sklearn.exceptions import NotFittedError

    X, y = data
    with pytest.raises(NotFittedError):
        SOLogisticRegression().predict(X)
    est = SOLogisticRegression().fit(X, y)
    with pytest.raises(ValueError, match="features"):
        est.predict_proba(X[:, :-1])
