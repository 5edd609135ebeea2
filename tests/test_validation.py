"""Bad input gets a clear error that names the problem."""

import functools

import numpy as np
import pytest
import scipy.sparse as sp

from sklearn_so import SOLogisticRegression, SOTwoLayerClassifier, SOTwoLayerRegressor

from ._data import make_classification_data

ESTIMATORS = [SOLogisticRegression, SOTwoLayerClassifier, SOTwoLayerRegressor]
CLASSIFIERS = [SOLogisticRegression, SOTwoLayerClassifier]


@pytest.fixture
def data():
    return make_classification_data(2, n_samples=30)


@pytest.fixture(params=ESTIMATORS, ids=lambda E: E.__name__)
def Estimator(request):
    return request.param


@pytest.fixture(params=CLASSIFIERS, ids=lambda E: E.__name__)
def Classifier(request):
    return request.param


@pytest.mark.parametrize("bad", [np.nan, np.inf, -np.inf])
def test_non_finite_features(Estimator, data, bad):
    X, y = data
    X = X.copy()
    X[3, 1] = bad
    with pytest.raises(ValueError, match="Input X contains (NaN|infinity)"):
        Estimator().fit(X, y)


def test_non_finite_sparse_features(Estimator, data):
    X, y = data
    X = sp.csr_matrix(X)
    X.data[0] = np.nan
    with pytest.raises(ValueError, match="NaN"):
        Estimator().fit(X, y)


def test_empty_data(Estimator):
    with pytest.raises(ValueError, match="0 sample"):
        Estimator().fit(np.empty((0, 3)), np.empty(0))
    with pytest.raises(ValueError, match="0 feature"):
        Estimator().fit(np.empty((5, 0)), np.arange(5) % 2)


def test_one_class(data):
    # As LogisticRegression; the network predicts the class, as MLPClassifier
    # (tests/test_dropin.py).
    X, _ = data
    with pytest.raises(ValueError, match="only one class"):
        SOLogisticRegression().fit(X, np.ones(len(X)))


def test_continuous_target(Classifier, data):
    X, _ = data
    with pytest.raises(ValueError, match="Unknown label type"):
        Classifier().fit(X, np.linspace(0, 1, len(X)))


def test_mismatched_lengths(Estimator, data):
    X, y = data
    with pytest.raises(ValueError, match="inconsistent numbers of samples"):
        Estimator().fit(X, y[:-1])
    with pytest.raises(ValueError, match="sample_weight.shape"):
        Estimator().fit(X, y, sample_weight=np.ones(len(y) + 1))


def test_one_dimensional_X(Estimator, data):
    _, y = data
    with pytest.raises(ValueError, match="Expected 2D array"):
        Estimator().fit(np.arange(len(y), dtype=float), y)


def test_negative_and_zero_sample_weights(Estimator, data):
    X, y = data
    with pytest.raises(ValueError, match="Negative values in data"):
        Estimator().fit(X, y, sample_weight=-np.ones(len(y)))
    with pytest.raises(ValueError, match="at least one non-zero"):
        Estimator().fit(X, y, sample_weight=np.zeros(len(y)))


@pytest.mark.parametrize(
    "params, name",
    [
        ({"solver": "newton"}, "solver"),
        ({"direction": "bfgs"}, "direction"),
        ({"C": 0.0}, "C"),
        ({"C": -1.0}, "C"),
        ({"max_iter": -1}, "max_iter"),
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


def test_predict_before_fit_and_wrong_width(Estimator, data):
    from sklearn.exceptions import NotFittedError

    X, y = data
    with pytest.raises(NotFittedError):
        Estimator().predict(X)
    est = Estimator().fit(X, y)
    with pytest.raises(ValueError, match="features"):
        est.predict(X[:, :-1])


@pytest.mark.parametrize(
    "params, name",
    [
        ({"hidden_units": 0}, "hidden_units"),
        ({"activation": "softplus"}, "activation"),
        ({"alpha": -1.0}, "alpha"),
        ({"validation_fraction": 1.0}, "validation_fraction"),
        ({"n_iter_no_change": 0}, "n_iter_no_change"),
        ({"solver": "adam"}, "solver"),
    ],
)
@pytest.mark.parametrize("Network", [SOTwoLayerClassifier, SOTwoLayerRegressor])
def test_unknown_network_parameter_values(data, Network, params, name):
    X, y = data
    with pytest.raises(ValueError, match=f"'{name}' parameter"):
        Network(**params).fit(X, y)


def test_multiclass_multioutput_targets_are_refused(data):
    # Multilabel indicator targets are supported (tests/test_dropin.py);
    # several multiclass outputs are not, as in MLPClassifier.
    X, _ = data
    Y = np.column_stack([np.arange(len(X)) % 2, np.arange(len(X)) % 3])
    with pytest.raises(ValueError, match="got 'multiclass-multioutput'"):
        SOTwoLayerClassifier().fit(X, Y)
    with pytest.raises(ValueError, match="y should be a 1d array"):
        SOLogisticRegression().fit(X, Y)


def test_non_finite_regression_target(data):
    X, _ = data
    y = np.linspace(0, 1, len(X))
    y[4] = np.nan
    with pytest.raises(ValueError, match="Input y contains NaN"):
        SOTwoLayerRegressor().fit(X, y)


def test_balanced_class_weight_with_a_weightless_class(data):
    X, y = data
    sample_weight = np.where(y == 1, 0.0, 1.0)
    with pytest.raises(ValueError, match=r"these classes have none: \[1\]"):
        SOLogisticRegression(class_weight="balanced").fit(
            X, y, sample_weight=sample_weight
        )


def test_negative_class_weight(data):
    X, y = data
    with pytest.raises(ValueError, match=r"negative weight: \[0\]"):
        SOLogisticRegression(class_weight={0: -1.0, 1: 1.0}).fit(X, y)


def _verdict(validate):
    """The exception type a validation raises, None if it passes."""
    try:
        validate()
    except Exception as error:
        return type(error)
    return None


@pytest.mark.parametrize("Estimator", ESTIMATORS, ids=lambda E: E.__name__)
def test_remembered_parameter_sets_get_scikit_learns_verdict(Estimator):
    # Passing parameter sets are remembered per class and type of value; every
    # set, valid or not, seen before or not, must get scikit-learn's verdict
    # (BaseEstimator._validate_params, which inspects the signature each time).
    from sklearn.base import BaseEstimator

    sequence = [
        {},
        {"tol": 1e-3},
        {"tol": -1.0},
        {"tol": 1e-3},
        {"max_iter": 5},
        {"max_iter": 5.0},
        {"max_iter": True},
        {"max_iter": -5},
        {"max_iter": 5},
        {"solver": "so"},
        {"solver": "nope"},
        {"solver": "lbfgs"},
        {"solver": "so"},
        {"verbose": False},
        {"tol": np.float64(1e-3)},
        {"tol": float("nan")},
        {},
    ]
    for params in sequence * 2:
        estimator = Estimator(**params)
        ours = _verdict(estimator._validate_params)
        oracle = _verdict(functools.partial(BaseEstimator._validate_params, estimator))
        # The foreign solver names get our own message (same exception type).
        assert ours == oracle, params


def test_integer_labels_warn_as_scikit_learn_does(data):
    # The target check is skipped for binary integer labels only: many
    # integer classes still get scikit-learn's warning, boolean labels fit.
    from sklearn.utils.multiclass import check_classification_targets

    X = np.random.default_rng(0).standard_normal((40, 3))
    y = np.arange(40) % 30
    with pytest.warns(UserWarning, match="greater than 50%") as ours:
        SOLogisticRegression(max_iter=2).fit(X, y)
    with pytest.warns(UserWarning, match="greater than 50%") as oracle:
        check_classification_targets(y)
    assert [str(w.message) for w in ours if "50%" in str(w.message)] == [
        str(w.message) for w in oracle
    ]
    fitted = SOLogisticRegression().fit(X, X[:, 0] > 0)
    np.testing.assert_array_equal(fitted.classes_, [False, True])
