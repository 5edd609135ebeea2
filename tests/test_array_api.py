"""The estimators on array API inputs (``array_api_dispatch=True``).

Each fit on another namespace is compared with the numpy fit of the same
data: the objective to 1e-10 relative in float64, the iterations, the
products and the predictions equal, the fitted attributes and predictions in
the input's namespace and on its device. ``array_api_strict`` runs on its
``device1``, whose arrays refuse conversion to numpy, so an n-row array that
reached the host would fail the fit. torch (CPU) runs when installed (it is
not in the tests extra: its wheel brings several GB of CUDA libraries);
``python -m pytest tests/test_array_api.py`` with torch installed runs it.

The main comparisons also run on a GPU: ``"torch-cuda"`` (torch on its
default CUDA device) and ``"cupy"`` (CuPy on its current device), with the
same assertions (results match numpy, attributes in the input's namespace
and on its device, float32 kept). Each is skipped, with the reason, where
the library or a device is missing, before any fit, so a run without a GPU
takes no longer; ``python benchmarks/gpu_check.py`` runs them on a GPU
machine.

The networks are compared over their first 8 iterations: torch's products
round differently from numpy's BLAS, and on the non-convex network problem
the searches amplify such differences ("so" with "gd" on the small
regression by about 3x per iteration: 2e-12 after 8 iterations, 5e-10
after 12), so longer fits drift apart. array_api_strict, which computes with
numpy, agrees with numpy to rounding.
"""

import itertools
import sys
import warnings

import numpy as np
import pytest
import sklearn
from sklearn.base import clone, is_classifier
from sklearn.exceptions import ConvergenceWarning

import sklearn_so._namespace as ns
from sklearn_so import SOLogisticRegression, SOTwoLayerClassifier, SOTwoLayerRegressor
from sklearn_so._optimizer import SubspaceSolver

from ._data import make_classification_data

array_api_compat = pytest.importorskip("array_api_compat")
strict = pytest.importorskip("array_api_strict")

SOLVERS = ["ls", "lo", "ps", "so", "fixed"]
DIRECTIONS = ["lbfgs", "gd", "adam"]
# The logistic model's directions: every model's, and those that use its
# exact Hessian or Hessian-vector products.
LINEAR_DIRECTIONS = [*DIRECTIONS, "newton", "newton-cg", "auto"]
NAMESPACES = ["numpy", "array_api_strict", "torch"]
# Namespaces on a GPU: their tests are skipped unless one is present.
DEVICE_NAMESPACES = ["torch-cuda", "cupy"]


def _device_unavailable(name):
    """Why the GPU namespace ``name`` cannot run here, or None if it can."""
    if name == "torch-cuda":
        try:
            import torch
        except ImportError:
            return "torch is not installed"
        if not torch.cuda.is_available():
            return "no CUDA device (torch.cuda.is_available() is False)"
        return None
    try:
        import cupy
    except ImportError:
        return "cupy is not installed"
    try:
        if cupy.cuda.runtime.getDeviceCount() < 1:
            return "cupy finds no CUDA device"
    except Exception as error:  # cupy raises its own CUDA runtime errors
        return f"cupy finds no CUDA device ({type(error).__name__})"
    return None


@pytest.fixture(autouse=True)
def _skip_missing_device(request):
    # Before the test body: a skipped device costs no numpy reference fit.
    callspec = getattr(request.node, "callspec", None)
    name = callspec.params.get("namespace") if callspec else None
    if name in DEVICE_NAMESPACES:
        reason = _device_unavailable(name)
        if reason is not None:
            pytest.skip(reason)


@pytest.fixture(autouse=True)
def _dispatch_allowed(monkeypatch):
    # scikit-learn checks that SciPy's array API support is requested before
    # it enables dispatch; the package's own code does not depend on it.
    monkeypatch.setenv("SCIPY_ARRAY_API", "1")


@pytest.fixture(autouse=True)
def _one_torch_thread():
    # Tiny tensors: torch's thread pool only adds synchronisation, which on
    # a loaded machine made single fits tens of times slower.
    torch = sys.modules.get("torch")
    if torch is None:
        yield
        return
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


def _to_namespace(name, array, dtype=None):
    """``array`` in namespace ``name`` (array_api_strict: on its device1).

    ``"torch-cuda"`` puts it on torch's default CUDA device, ``"cupy"`` on
    CuPy's current device.
    """
    if name == "numpy":
        return array if dtype is None else array.astype(dtype)
    if name == "array_api_strict":
        dtype = {None: None, np.float32: strict.float32}[dtype]
        return strict.asarray(array, dtype=dtype, device=strict.Device("device1"))
    if name == "cupy":
        import cupy

        return cupy.asarray(array, dtype=dtype)
    torch = pytest.importorskip("torch")
    dtype = {None: None, np.float32: torch.float32}[dtype]
    return torch.asarray(array, dtype=dtype, device="cuda" if "cuda" in name else None)


def _to_numpy(array):
    return ns.to_host(array) if not isinstance(array, np.ndarray) else array


def _assert_in_namespace(array, like):
    assert type(array) is type(like)
    assert array_api_compat.device(array) == array_api_compat.device(like)


def _counting_crossings(monkeypatch, X):
    """Count the bytes crossing between host and device while fits run.

    Every crossing goes through ``_namespace.to_host`` (device to host) and
    ``from_host`` (host to device), which are wrapped to count bytes; while
    the solver runs, ``float()``, ``bool()`` and ``int()`` on an array of
    X's type raise, so no crossing bypasses them. Returns the list the
    bytes are appended to, one entry per crossing.
    """
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
                patch.setattr(type(X), method, refuse)
            return solve(self, theta0)

    monkeypatch.setattr(ns, "to_host", counted_to_host)
    monkeypatch.setattr(ns, "from_host", counted_from_host)
    monkeypatch.setattr(SubspaceSolver, "solve", guarded_solve)
    return crossings


def _fit(X, y, sample_weight, **params):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        return SOLogisticRegression(**params).fit(X, y, sample_weight=sample_weight)


@pytest.mark.parametrize("namespace", NAMESPACES + DEVICE_NAMESPACES)
@pytest.mark.parametrize("n_classes", [2, 3])
@pytest.mark.parametrize(
    "solver, direction", list(itertools.product(SOLVERS, LINEAR_DIRECTIONS))
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


@pytest.mark.parametrize("namespace", NAMESPACES + DEVICE_NAMESPACES)
@pytest.mark.parametrize("n_classes", [2, 3])
@pytest.mark.parametrize("direction", ["lbfgs", "gd"])
def test_centred_preconditioner_matches_numpy(namespace, n_classes, direction):
    # Features away from zero, so the intercepts' elimination matters.
    X, y = make_classification_data(n_classes, n_samples=60, n_features=4)
    X = X + 3.0
    params = dict(direction=direction, preconditioner="centred", max_iter=40, memory=5)
    reference = _fit(X, y, None, **params)
    Xn, yn = _to_namespace(namespace, X), _to_namespace(namespace, y)
    with sklearn.config_context(array_api_dispatch=True):
        est = _fit(Xn, yn, None, **params)
    assert est.loss_ == pytest.approx(reference.loss_, rel=1e-10)
    assert _to_numpy(est.n_iter_)[0] == reference.n_iter_[0]
    assert est.product_counts_ == reference.product_counts_
    np.testing.assert_allclose(_to_numpy(est.coef_), reference.coef_, rtol=1e-6)


@pytest.mark.parametrize("namespace", NAMESPACES[1:] + DEVICE_NAMESPACES)
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
    """Only k-sized quantities cross to the host, and nothing implicitly."""
    memory, n_features = 5, 6
    X, y = make_classification_data(3, n_samples=n_samples, n_features=n_features)
    Xs = _to_namespace("array_api_strict", X)
    crossings = _counting_crossings(monkeypatch, Xs)
    with sklearn.config_context(array_api_dispatch=True):
        est = _fit(
            Xs,
            y,
            None,
            solver="so",
            direction="lbfgs",
            memory=memory,
            max_iter=30,
            tol=0.0,
        )
    n_iter = _to_numpy(est.n_iter_)[0]
    assert n_iter >= 10
    # The largest crossing: L-BFGS's 3 * memory inner products, or a
    # trial's 1 + k + k^2 numbers (k = 3 for "so"): 8 * 15 bytes.
    assert max(crossings) <= 8 * max(3 * memory, 1 + 3 + 9)
    # Per iteration: a few trials, the L-BFGS products and a few scalars.
    # An n-row array would be 8 * n_samples bytes at least.
    assert sum(crossings) / n_iter < 2000


@pytest.mark.parametrize("namespace", NAMESPACES[1:] + DEVICE_NAMESPACES)
@pytest.mark.parametrize("class_weight", ["balanced", {0: 0.3, 1: 2.0}])
@pytest.mark.parametrize("n_classes", [2, 3])
def test_class_weight_matches_numpy(namespace, class_weight, n_classes):
    X, y = make_classification_data(n_classes, n_samples=60, n_features=4)
    sample_weight = np.random.default_rng(1).uniform(0.5, 2.0, len(y))
    reference = _fit(X, y, sample_weight, class_weight=class_weight)
    Xn = _to_namespace(namespace, X)
    with sklearn.config_context(array_api_dispatch=True):
        est = _fit(
            Xn,
            _to_namespace(namespace, y),
            _to_namespace(namespace, sample_weight),
            class_weight=class_weight,
        )
    assert est.loss_ == pytest.approx(reference.loss_, rel=1e-10)
    assert _to_numpy(est.n_iter_)[0] == reference.n_iter_[0]
    _assert_in_namespace(est.coef_, Xn)


def test_class_weight_checks_on_a_device():
    X, y = make_classification_data(2, n_samples=30, n_features=3)
    Xs, ys = _to_namespace("array_api_strict", X), _to_namespace("array_api_strict", y)
    weight = np.where(y == 0, 0.0, 1.0)
    with sklearn.config_context(array_api_dispatch=True):
        with pytest.raises(ValueError, match="these classes have none: \\[0\\]"):
            SOLogisticRegression(class_weight="balanced").fit(
                Xs, ys, _to_namespace("array_api_strict", weight)
            )
        with pytest.raises(ValueError, match="negative weight: \\[1\\]"):
            SOLogisticRegression(class_weight={0: 1.0, 1: -1.0}).fit(Xs, ys)


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


# -- the networks ------------------------------------------------------------

NETWORK = dict(hidden_units=5, max_iter=8, memory=4, random_state=0)
TARGETS = ["binary", "multilabel", "one class", "multi-output regression"]


def _network_data(target, n_samples=50):
    X, y = make_classification_data(3, n_samples=n_samples, n_features=4)
    if target == "binary":
        y = (y == 0).astype(int)
    elif target == "one class":
        y = np.zeros_like(y)
    elif target == "multilabel":
        y = np.column_stack([y == 0, y == 1, X[:, 0] > 0]).astype(int)
    elif target == "regression":
        y = X[:, 0] - np.sin(X[:, 1])
    elif target == "multi-output regression":
        y = np.column_stack([X[:, 0] - np.sin(X[:, 1]), X[:, 2] * X[:, 3]])
    return X, y


def _network(target, **params):
    kind = SOTwoLayerRegressor if "regression" in target else SOTwoLayerClassifier
    return kind(**{**NETWORK, **params})


def _fit_network(estimator, X, y, sample_weight=None):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        return clone(estimator).fit(X, y, sample_weight=sample_weight)


def _check_network_matches_numpy(namespace, estimator, target, weighted=False):
    """Fit in ``namespace`` and with numpy; check they agree. Return both."""
    X, y = _network_data(target)
    rng = np.random.default_rng(1)
    sample_weight = rng.uniform(0.5, 2.0, len(y)) if weighted else None
    reference = _fit_network(estimator, X, y, sample_weight)
    Xn, yn = _to_namespace(namespace, X), _to_namespace(namespace, y)
    wn = None if sample_weight is None else _to_namespace(namespace, sample_weight)
    with sklearn.config_context(array_api_dispatch=True):
        est = _fit_network(estimator, Xn, yn, wn)
        outputs = {"predict": est.predict(Xn)}
        if is_classifier(est):
            outputs["predict_proba"] = est.predict_proba(Xn)
            outputs["decision_function"] = est.decision_function(Xn)
        score = est.score(Xn, yn)
    assert est.loss_ == pytest.approx(reference.loss_, rel=1e-10)
    assert est.n_iter_ == reference.n_iter_
    assert est.product_counts_ == reference.product_counts_
    fitted = [*est.coefs_, *est.intercepts_, est.learning_rates_]
    if is_classifier(est):
        fitted.append(est.classes_)
    for array in fitted:
        _assert_in_namespace(array, Xn)
    for array in (*est.coefs_, *est.intercepts_):
        assert array.dtype == Xn.dtype
    for got, want in zip(
        (*est.coefs_, *est.intercepts_),
        (*reference.coefs_, *reference.intercepts_),
        strict=True,
    ):
        np.testing.assert_allclose(_to_numpy(got), want, rtol=1e-7, atol=1e-9)
    for method, output in outputs.items():
        _assert_in_namespace(output, Xn)
        want = getattr(reference, method)(X)
        if method == "predict" and is_classifier(est):
            np.testing.assert_array_equal(_to_numpy(output), want)
        else:
            np.testing.assert_allclose(_to_numpy(output), want, rtol=1e-8, atol=1e-12)
    assert score == pytest.approx(reference.score(X, y), rel=1e-6)
    return est, reference


@pytest.mark.parametrize("namespace", NAMESPACES[1:] + DEVICE_NAMESPACES)
@pytest.mark.parametrize("target", ["multiclass", "regression"])
@pytest.mark.parametrize(
    "solver, direction", list(itertools.product(SOLVERS, DIRECTIONS))
)
def test_network_fit_matches_numpy(namespace, target, solver, direction):
    estimator = _network(target, solver=solver, direction=direction)
    _check_network_matches_numpy(namespace, estimator, target, weighted=True)


@pytest.mark.parametrize("namespace", NAMESPACES[1:])
@pytest.mark.parametrize("activation", ["identity", "tanh", "logistic", "relu"])
@pytest.mark.parametrize("target", TARGETS)
def test_network_targets_and_activations_match_numpy(namespace, activation, target):
    # "lo": the Gauss-Newton path with derivatives; "so" amplifies rounding
    # differences on some of these small problems (see the module docstring:
    # the logistic activation rounds differently from scipy's expit).
    estimator = _network(target, activation=activation, solver="lo")
    _check_network_matches_numpy(namespace, estimator, target)


@pytest.mark.parametrize("namespace", NAMESPACES[1:] + DEVICE_NAMESPACES)
@pytest.mark.parametrize("target", ["multiclass", "multilabel", "regression"])
def test_network_early_stopping_matches_numpy(namespace, target):
    estimator = _network(
        target, early_stopping=True, n_iter_no_change=2, max_iter=30, tol=1e-3
    )
    est, reference = _check_network_matches_numpy(namespace, estimator, target)
    assert est.validation_scores_ == pytest.approx(reference.validation_scores_)
    assert est.best_validation_score_ == pytest.approx(reference.best_validation_score_)
    assert est.product_counts_["validation"] > 0


@pytest.mark.parametrize("namespace", NAMESPACES[1:])
@pytest.mark.parametrize("target", ["multiclass", "regression"])
def test_network_warm_start_matches_numpy(namespace, target):
    X, y = _network_data(target)
    estimator = _network(target, warm_start=True, max_iter=5)
    reference = _fit_network(estimator, X, y)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        reference.fit(X, y)
    Xn, yn = _to_namespace(namespace, X), _to_namespace(namespace, y)
    with sklearn.config_context(array_api_dispatch=True):
        est = _fit_network(estimator, Xn, yn)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ConvergenceWarning)
            est.fit(Xn, yn)
    assert est.loss_ == pytest.approx(reference.loss_, rel=1e-10)
    assert est.n_iter_ == reference.n_iter_
    _assert_in_namespace(est.coefs_[0], Xn)


@pytest.mark.parametrize("namespace", NAMESPACES[1:] + DEVICE_NAMESPACES)
@pytest.mark.parametrize("target", ["multiclass", "regression"])
def test_network_float32_stays_float32(namespace, target):
    X, y = _network_data(target, n_samples=80)
    estimator = _network(target)
    reference = _fit_network(estimator, X, y)
    X32 = _to_namespace(namespace, X, np.float32)
    with sklearn.config_context(array_api_dispatch=True):
        est = _fit_network(estimator, X32, _to_namespace(namespace, y))
        outputs = [est.predict(X32)] if "regression" in target else []
        if is_classifier(est):
            outputs.append(est.predict_proba(X32))
    for array in (*est.coefs_, *est.intercepts_, *outputs):
        assert array.dtype == X32.dtype
    # The fit runs in float32: the same path to float32's precision.
    assert est.n_iter_ == reference.n_iter_
    assert est.loss_ == pytest.approx(reference.loss_, rel=1e-4)


def test_network_predict_refuses_another_namespace():
    X, y = _network_data("multiclass")
    est = _fit_network(_network("multiclass"), X, y)
    with sklearn.config_context(array_api_dispatch=True):
        with pytest.raises(ValueError, match="same namespace"):
            est.predict(_to_namespace("array_api_strict", X))


@pytest.mark.parametrize("n_samples", [500, 5000])
@pytest.mark.parametrize("target", ["multiclass", "regression"])
def test_network_host_transfers_do_not_grow_with_n_samples(
    monkeypatch, n_samples, target
):
    """Per iteration, O(k^2) numbers cross to the host, whatever n_samples."""
    memory = 5
    X, y = _network_data(target, n_samples=n_samples)
    Xs, ys = _to_namespace("array_api_strict", X), _to_namespace("array_api_strict", y)
    estimator = _network(target, solver="so", memory=memory, max_iter=25, tol=0.0)
    crossings = _counting_crossings(monkeypatch, Xs)
    with sklearn.config_context(array_api_dispatch=True):
        est = _fit_network(estimator, Xs, ys)
    assert est.n_iter_ >= 10
    n_params = sum(_to_numpy(a).size for a in (*est.coefs_, *est.intercepts_))
    # "so" on two layers with one memory direction: k = 6 rates, so a trial
    # is 1 + 6 + 36 numbers; L-BFGS sends 3 * memory; the starting weights
    # (drawn on the host, as MLP draws them) cross once.
    per_trial = 8 * (1 + 6 + 36)
    assert crossings[0] == 8 * n_params
    assert max(crossings[1:]) <= max(per_trial, 8 * 3 * memory)
    # Per iteration: a few trials, the L-BFGS products and a few scalars.
    # An n-row array would be 8 * n_samples bytes at least.
    assert sum(crossings[1:]) / est.n_iter_ < 4000


def test_network_checks_run_on_the_device():
    """The stuck-fit warning and the validation split's checks, on device1."""
    from sklearn.datasets import load_breast_cancer

    X, y = load_breast_cancer(return_X_y=True)  # unscaled: tanh saturates
    Xs = _to_namespace("array_api_strict", X[:50])
    with sklearn.config_context(array_api_dispatch=True):
        with pytest.warns(ConvergenceWarning, match="saturated"):
            SOTwoLayerClassifier(hidden_units=5, random_state=0, max_iter=20).fit(
                Xs, _to_namespace("array_api_strict", y[:50])
            )
        y_rare = np.zeros(50, dtype=int)
        y_rare[:20], y_rare[-1] = 1, 2
        with pytest.raises(ValueError, match="class 2 has one"):
            SOTwoLayerClassifier(early_stopping=True).fit(
                Xs, _to_namespace("array_api_strict", y_rare)
            )


# -- the Newton directions --------------------------------------------------


@pytest.mark.parametrize("namespace", NAMESPACES[1:] + DEVICE_NAMESPACES)
@pytest.mark.parametrize("direction", ["newton", "newton-cg"])
@pytest.mark.parametrize("n_classes", [2, 3])
def test_newton_float32_stays_float32(namespace, direction, n_classes):
    X, y = make_classification_data(n_classes, n_samples=80, n_features=5)
    reference = _fit(X, y, None, direction=direction)
    X32 = _to_namespace(namespace, X, np.float32)
    with sklearn.config_context(array_api_dispatch=True):
        est = _fit(X32, _to_namespace(namespace, y), None, direction=direction)
        proba = est.predict_proba(X32)
    for array in (est.coef_, est.intercept_, proba):
        assert array.dtype == X32.dtype
        _assert_in_namespace(array, X32)
    # The Hessian (or its products) in float32 on the device, its solve in
    # float64 on the host: the objective to float32's precision.
    assert est.loss_ == pytest.approx(reference.loss_, rel=1e-5)
    assert est.stop_reason_.startswith("gradient criterion")
    assert est.product_counts_["hessian"] > 0


@pytest.mark.parametrize("namespace", NAMESPACES[1:])
@pytest.mark.parametrize("direction", ["newton", "newton-cg"])
def test_newton_class_weight_and_no_intercept_match_numpy(namespace, direction):
    X, y = make_classification_data(3, n_samples=60, n_features=4)
    params = dict(direction=direction, class_weight="balanced", fit_intercept=False)
    reference = _fit(X, y, None, **params)
    Xn = _to_namespace(namespace, X)
    with sklearn.config_context(array_api_dispatch=True):
        est = _fit(Xn, _to_namespace(namespace, y), None, **params)
    assert est.loss_ == pytest.approx(reference.loss_, rel=1e-10)
    assert _to_numpy(est.n_iter_)[0] == reference.n_iter_[0]
    assert est.product_counts_ == reference.product_counts_
    assert not np.any(_to_numpy(est.intercept_))


@pytest.mark.parametrize(
    "n_samples, n_features, n_classes, expected",
    [
        (60, 4, 3, "newton"),  # a small model: the exact Hessian
        (600, 70, 3, "lbfgs"),  # 213 coefficients: too many for the Hessian
        (6000, 30, 2, "lbfgs"),  # too many samples for the Hessian, 31 coefficients
    ],
)
def test_auto_chooses_as_on_numpy(n_samples, n_features, n_classes, expected):
    X, y = make_classification_data(
        n_classes, n_samples=n_samples, n_features=n_features
    )
    params = dict(direction="auto", max_iter=3)
    reference = _fit(X, y, None, **params)
    Xs = _to_namespace("array_api_strict", X)
    with sklearn.config_context(array_api_dispatch=True):
        est = _fit(Xs, y, None, **params)
    assert est.direction_ == reference.direction_ == expected
    assert est.product_counts_ == reference.product_counts_
    assert est.loss_ == pytest.approx(reference.loss_, rel=1e-10)


@pytest.mark.parametrize("n_samples", [500, 5000])
@pytest.mark.parametrize("direction", ["newton", "newton-cg"])
def test_newton_host_transfers_do_not_grow_with_n_samples(
    monkeypatch, n_samples, direction
):
    """The Hessian crosses as its Gram blocks (O(n_params^2)), never n rows.

    "newton": the q (q + 1) / 2 weighted Gram matrices of [X, 1] cross once
    per iteration, then the gradient to the host and the direction back
    (n_params numbers each). "newton-cg": two scalars at a time per
    conjugate-gradient step; the vectors stay on the device.
    """
    n_features, n_classes = 6, 3
    X, y = make_classification_data(n_classes, n_samples=n_samples, n_features=6)
    Xs = _to_namespace("array_api_strict", X)
    crossings = _counting_crossings(monkeypatch, Xs)
    with sklearn.config_context(array_api_dispatch=True):
        est = _fit(Xs, y, None, direction=direction, max_iter=6, tol=0.0)
    n_iter = _to_numpy(est.n_iter_)[0]
    assert n_iter >= 3
    width, pairs = n_features + 1, n_classes * (n_classes + 1) // 2
    grams = 8 * pairs * width * width
    if direction == "newton":
        assert max(crossings) == grams
        assert crossings.count(grams) == est.product_counts_["hessian"]
    else:
        # The largest: a trial's 1 + k + k^2 numbers (k = 1 for "ls") or the
        # starting weights' inner products; the CG scalars are 2 numbers.
        assert max(crossings) <= 8 * width * n_classes
        assert crossings.count(16) >= (est.product_counts_["hessian"] - n_iter) // 2
    # An n-row array would be 8 * n_samples bytes at least.
    assert sum(crossings) / n_iter < 2 * grams + 2000
