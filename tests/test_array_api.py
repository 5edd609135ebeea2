"""SOLogisticRegression on array API inputs (``array_api_dispatch=True``).

Each fit on another namespace is compared with the numpy fit of the same
data: the objective to 1e-10 relative in float64, the iterations, the
products and the predictions equal, the fitted attributes and predictions in
the input's namespace and on its device. ``array_api_strict`` runs on its
``device1``, whose arrays refuse conversion to numpy, so an n-row array that
reached the host would fail the fit. torch (CPU) runs when installed (it is
not in the tests extra: its wheel brings several GB of CUDA libraries);
``python -m pytest tests/test_array_api.py`` with torch installed runs it.
"""

import itertools
import warnings

import numpy as np
import pytest
import sklearn
from sklearn.exceptions import ConvergenceWarning

import sklearn_so._namespace as ns
from sklearn_so import SOLogisticRegression, SOTwoLayerClassifier, SOTwoLayerRegressor
from sklearn_so._optimizer import SubspaceSolver

from ._data import make_classification_data

array_api_compat = pytest.importorskip("array_api_compat")
strict = pytest.importorskip("array_api_strict")

SOLVERS = ["ls", "lo", "ps", "so", "fixed"]
DIRECTIONS = ["lbfgs", "gd", "adam"]
NAMESPACES = ["numpy", "array_api_strict", "torch"]


@pytest.fixture(autouse=True)
def _dispatch_allowed(monkeypatch):
    # scikit-learn checks that SciPy's array API support is requested before
    # it enables dispatch; the package's own code does not depend on it.
    monkeypatch.setenv("SCIPY_ARRAY_API", "1")


def _to_namespace(name, array, dtype=None):
    """``array`` in namespace ``name`` (on array_api_strict's device1)."""
    if name == "numpy":
        return array if dtype is None else array.astype(dtype)
    if name == "array_api_strict":
        dtype = {None: None, np.float32: strict.float32}[dtype]
        return strict.asarray(array, dtype=dtype, device=strict.Device("device1"))
    torch = pytest.importorskip("torch")
    dtype = {None: None, np.float32: torch.float32}[dtype]
    return torch.asarray(array, dtype=dtype)


def _to_numpy(array):
    return ns.to_host(array) if not isinstance(array, np.ndarray) else array


def _assert_in_namespace(array, like):
    assert type(array) is type(like)
    assert array_api_compat.device(array) == array_api_compat.device(like)


def _fit(X, y, sample_weight, **params):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        return SOLogisticRegression(**params).fit(X, y, sample_weight=sample_weight)


@pytest.mark.parametrize("namespace", NAMESPACES)
@pytest.mark.parametrize("n_classes", [2, 3])
@pytest.mark.parametrize(
    "solver, direction", list(itertools.product(SOLVERS, DIRECTIONS))
)
def test_fit_matches_numpy(namespace, n_classes, solver, direction):
    X, y = make_classification_data(n_classes, n_samples=60, n_features=4)
    sample_weight = np.random.default_rng(1).uniform(0.5, 2.0, len(y))
    params = dict(solver=solver, direction=direction, max_iter=40, memory=5)
    reference = _fit(X, y, sample_weight, **params)
    Xn = _to_namespace(namespace, X)
    yn = _to_namespace(namespace, y)
    with sklearn.config_context(array_api_dispatch=True):
        est = _fit(Xn, yn, _to_namespace(namespace, sample_weight), **params)
        predicted = est.predict(Xn)
        proba = est.predict_proba(Xn)
        scores = est.decision_function(Xn)
    assert est.loss_ == pytest.approx(reference.loss_, rel=1e-10)
    assert _to_numpy(est.n_iter_)[0] == reference.n_iter_[0]
    assert est.product_counts_ == reference.product_counts_
    for name in ("coef_", "intercept_", "classes_", "n_iter_", "learning_rates_"):
        _assert_in_namespace(getattr(est, name), Xn)
    for output in (predicted, proba, scores):
        _assert_in_namespace(output, Xn)
    np.testing.assert_array_equal(_to_numpy(predicted), reference.predict(X))
    np.testing.assert_allclose(_to_numpy(est.coef_), reference.coef_, rtol=1e-6)
    np.testing.assert_allclose(
        _to_numpy(proba), reference.predict_proba(X), rtol=1e-8, atol=1e-12
    )


@pytest.mark.parametrize("namespace", NAMESPACES[1:])
@pytest.mark.parametrize("n_classes", [2, 3])
def test_float32_stays_float32(namespace, n_classes):
    X, y = make_classification_data(n_classes, n_samples=80, n_features=5)
    reference = _fit(X, y, None)
    X32 = _to_namespace(namespace, X, np.float32)
    with sklearn.config_context(array_api_dispatch=True):
        est = _fit(X32, y, None)
        proba = est.predict_proba(X32)
    assert est.coef_.dtype == X32.dtype
    assert est.intercept_.dtype == X32.dtype
    assert proba.dtype == X32.dtype
    # The fit runs in float32: the objective agrees to float32's precision.
    assert est.loss_ == pytest.approx(reference.loss_, rel=1e-5)
    assert est.stop_reason_.startswith("gradient criterion")


def test_warm_start_and_no_intercept():
    X, y = make_classification_data(3, n_samples=60, n_features=4)
    reference = _fit(X, y, None, fit_intercept=False)
    Xs = _to_namespace("array_api_strict", X)
    with sklearn.config_context(array_api_dispatch=True):
        est = _fit(Xs, y, None, fit_intercept=False, warm_start=True)
        assert est.loss_ == pytest.approx(reference.loss_, rel=1e-10)
        assert not np.any(_to_numpy(est.intercept_))
        first = _to_numpy(est.n_iter_)[0]
        est.fit(Xs, y)
    assert _to_numpy(est.n_iter_)[0] < first


@pytest.mark.parametrize("n_samples", [500, 5000])
def test_host_transfers_do_not_grow_with_n_samples(monkeypatch, n_samples):
    """Only k-sized quantities cross to the host, and nothing implicitly.

    Every crossing goes through ``_namespace.to_host`` (device to host) and
    ``from_host`` (host to device), which are wrapped to count bytes; while
    the solver runs, ``float()``, ``bool()`` and ``int()`` on an
    array_api_strict array raise, so no crossing bypasses them.
    """
    memory, n_features = 5, 6
    X, y = make_classification_data(3, n_samples=n_samples, n_features=n_features)
    crossings = []
    to_host, from_host = ns.to_host, ns.from_host

    def counted_to_host(x):
        out = to_host(x)
        crossings.append(out.nbytes)
        return out

    def counted_from_host(a, like):
        out = from_host(a, like)
        crossings.append(np.asarray(a).size * 8)
        return out

    def refuse(self, *args):
        raise AssertionError("an implicit conversion of a device array")

    solve = SubspaceSolver.solve

    def guarded_solve(self, theta0):
        with monkeypatch.context() as patch:
            for method in ("__float__", "__bool__", "__int__", "__index__"):
                patch.setattr(type(Xs), method, refuse)
            return solve(self, theta0)

    monkeypatch.setattr(ns, "to_host", counted_to_host)
    monkeypatch.setattr(ns, "from_host", counted_from_host)
    monkeypatch.setattr(SubspaceSolver, "solve", guarded_solve)
    Xs = _to_namespace("array_api_strict", X)
    with sklearn.config_context(array_api_dispatch=True):
        est = _fit(Xs, y, None, solver="so", memory=memory, max_iter=30, tol=0.0)
    n_iter = _to_numpy(est.n_iter_)[0]
    assert n_iter >= 10
    # The largest crossing: L-BFGS's 3 * memory inner products, or a
    # trial's 1 + k + k^2 numbers (k = 3 for "so"): 8 * 15 bytes.
    assert max(crossings) <= 8 * max(3 * memory, 1 + 3 + 9)
    # Per iteration: a few trials, the L-BFGS products and a few scalars.
    # An n-row array would be 8 * n_samples bytes at least.
    assert sum(crossings) / n_iter < 2000


@pytest.mark.parametrize(
    "network", [SOTwoLayerClassifier(hidden_units=3), SOTwoLayerRegressor()]
)
def test_networks_refuse_array_api_inputs(network):
    X, y = make_classification_data(2, n_samples=30, n_features=3)
    with sklearn.config_context(array_api_dispatch=True):
        with pytest.raises(NotImplementedError, match="not support array API"):
            network.fit(_to_namespace("array_api_strict", X), y)


def test_class_weight_not_supported_yet():
    X, y = make_classification_data(2, n_samples=30, n_features=3)
    with sklearn.config_context(array_api_dispatch=True):
        with pytest.raises(ValueError, match="class_weight is not supported yet"):
            SOLogisticRegression(class_weight="balanced").fit(
                _to_namespace("array_api_strict", X), y
            )


def test_sparse_array_of_another_library_is_refused():
    torch = pytest.importorskip("torch")
    X, y = make_classification_data(2, n_samples=30, n_features=3)
    with sklearn.config_context(array_api_dispatch=True):
        with pytest.raises(TypeError, match="scipy.sparse matrix on the host only"):
            SOLogisticRegression().fit(torch.asarray(X).to_sparse(), y)


def test_numpy_and_sparse_inputs_stay_on_numpy():
    """With dispatch on, numpy and scipy.sparse X take the plain numpy path."""
    import scipy.sparse as sp

    X, y = make_classification_data(2, n_samples=60, n_features=4)
    reference = _fit(X, y, None)
    with sklearn.config_context(array_api_dispatch=True):
        dense = _fit(X, y, None)
        sparse = _fit(sp.csr_matrix(X), y, None)
    assert dense.loss_ == reference.loss_
    assert sparse.loss_ == pytest.approx(reference.loss_, rel=1e-12)
    assert isinstance(dense.coef_, np.ndarray)
    assert isinstance(sparse.coef_, np.ndarray)


@pytest.mark.parametrize("direction", ["newton", "newton-cg"])
def test_newton_directions_refuse_other_namespaces_and_auto_is_lbfgs(direction):
    X, y = make_classification_data(2, n_samples=60, n_features=4)
    X = _to_namespace("array_api_strict", X)
    with sklearn.config_context(array_api_dispatch=True):
        with pytest.raises(ValueError, match="not supported yet with array API"):
            SOLogisticRegression(direction=direction).fit(X, y)
        assert _fit(X, y, None, direction="auto").direction_ == "lbfgs"
