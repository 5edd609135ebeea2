"""The estimators on dask arrays, on a ``distributed`` cluster of their own.

Each fit on a row-chunked dask X is compared with the numpy fit of the same
data: the objective to 1e-8 relative, the iterations and products equal, the
predictions equal (and lazy). Every round trip to the scheduler is a compute
through ``_namespace.to_host``; the tests count them per iteration and check
that nothing computed on the client has X's size. The fits are short (a few
iterations on tiny data): on a distributed scheduler each round trip costs
milliseconds of scheduling whatever the data, and the file must stay fast.
"""

import itertools
import textwrap
import warnings

import numpy as np
import pytest
from sklearn.base import clone, is_classifier
from sklearn.exceptions import ConvergenceWarning

import sklearn_so._namespace as ns
from sklearn_so import SOLogisticRegression, SOTwoLayerClassifier, SOTwoLayerRegressor
from sklearn_so._optimizer import REFRESH_EVERY, SubspaceSolver
from sklearn_so._strategies import UNIT_STEP_DIRECTIONS

from ._data import make_classification_data

dask = pytest.importorskip("dask")
da = pytest.importorskip("dask.array")
distributed = pytest.importorskip("distributed")

SOLVERS = ["ls", "lo", "ps", "so", "fixed"]
DIRECTIONS = ["lbfgs", "gd", "adam"]
# The logistic model's directions: every model's and the Newton ones.
LINEAR_DIRECTIONS = [*DIRECTIONS, "newton", "newton-cg", "auto"]


@pytest.fixture
def synchronous():
    """The synchronous scheduler: the same graphs, computed in this thread.

    On a distributed scheduler each round trip costs milliseconds (tens on a
    loaded machine) whatever the data; the grids of every solver and
    direction run here, the distributed cluster runs the rest.
    """
    with dask.config.set(scheduler="synchronous"):
        yield


@pytest.fixture(scope="module")
def client():
    """A 2-worker in-process cluster, the active scheduler while the tests run."""
    with warnings.catch_warnings():
        # The in-process cluster's start-up notes are not the package's.
        warnings.simplefilter("ignore")
        cluster = distributed.LocalCluster(
            n_workers=2, threads_per_worker=1, processes=False, dashboard_address=None
        )
        client = distributed.Client(cluster)
    yield client
    client.close()
    cluster.close()


def _dask(X):
    """X in two row chunks: each graph has a few tasks per chunk."""
    return da.from_array(X, chunks=(-(-X.shape[0] // 2), X.shape[1]))


def _fit(estimator, X, y, sample_weight=None):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        return clone(estimator).fit(X, y, sample_weight=sample_weight)


def _check_dask_counts(est, reference):
    """The dask fit's product counts are the numpy ``reference``'s, but for ``ls``.

    With a unit-step direction an ``ls`` search on dask evaluates its first
    step, and the gradient there, in the tasks that form the direction's
    image (``_trial.FirstTrial``); every attempt that does not take it
    writes that backward product off as unused. Those are the attempts
    numpy retried (its unused images) and the iterations that took another
    step, except the ones that refresh ``Z``, where nothing is speculated.
    The logistic model's first step is the unit step; a network's may be
    halved to fit its step limits (not visible from here), so there the
    count is bounded by that prediction.
    """
    counts, want = dict(est.product_counts_), dict(reference.product_counts_)
    direction = getattr(est, "direction_", est.direction)
    if est.solver == "ls" and direction in UNIT_STEP_DIRECTIONS:
        rates = reference.learning_rates_[:, 0]
        iteration = np.arange(1, len(rates) + 1)
        other_steps = np.count_nonzero(
            (rates != 1.0) & (iteration % REFRESH_EVERY != 0)
        )
        refused = want["unused"] + other_steps
        if isinstance(est, SOLogisticRegression):
            want["unused"] += refused
        else:
            assert want["unused"] <= counts["unused"] <= want["unused"] + refused
            want["unused"] = counts["unused"]
    assert counts == want


def _check_matches_numpy(estimator, X, y, sample_weight=None, y_dask=False):
    """Fit on numpy and on dask; check they agree and predictions are lazy."""
    reference = _fit(estimator, X, y, sample_weight)
    Xd = _dask(X)
    yd = da.from_array(y, chunks=Xd.chunks[0]) if y_dask else y
    est = _fit(estimator, Xd, yd, sample_weight)
    assert est.loss_ == pytest.approx(reference.loss_, rel=1e-8)
    assert np.all(est.n_iter_ == reference.n_iter_)
    _check_dask_counts(est, reference)
    methods = ["predict"]
    if is_classifier(est):
        methods += ["predict_proba", "decision_function"]
    for method in methods:
        lazy = getattr(est, method)(Xd)
        assert isinstance(lazy, da.Array), method
        want = getattr(reference, method)(X)
        if method == "predict" and is_classifier(est):
            np.testing.assert_array_equal(lazy.compute(), want)
        else:
            np.testing.assert_allclose(lazy.compute(), want, rtol=1e-7, atol=1e-10)
    return est, reference


@pytest.mark.parametrize("n_classes", [2, 3])
@pytest.mark.parametrize(
    "solver, direction", list(itertools.product(SOLVERS, LINEAR_DIRECTIONS))
)
def test_logistic_matches_numpy(synchronous, n_classes, solver, direction):
    X, y = make_classification_data(n_classes, n_samples=120, n_features=4)
    estimator = SOLogisticRegression(
        solver=solver, direction=direction, max_iter=2, memory=4
    )
    est, _ = _check_matches_numpy(estimator, X, y)
    assert isinstance(est.coef_, np.ndarray)


@pytest.mark.parametrize("n_classes", [2, 3])
@pytest.mark.parametrize("direction", ["lbfgs", "gd"])
def test_centred_preconditioner_matches_numpy(synchronous, n_classes, direction):
    # Features away from zero, so the intercepts' elimination matters.
    X, y = make_classification_data(n_classes, n_samples=120, n_features=4)
    estimator = SOLogisticRegression(
        direction=direction, preconditioner="centred", max_iter=25, memory=4
    )
    est, _ = _check_matches_numpy(estimator, X + 3.0, y)
    assert est.product_counts_["setup"] == 3


@pytest.mark.parametrize("kind", ["classifier", "regressor"])
@pytest.mark.parametrize(
    "solver, direction", list(itertools.product(SOLVERS, DIRECTIONS))
)
def test_network_matches_numpy(synchronous, kind, solver, direction):
    X, y = make_classification_data(3, n_samples=80, n_features=4)
    cls = SOTwoLayerClassifier
    if kind == "regressor":
        y, cls = X[:, 0] - np.sin(X[:, 1]), SOTwoLayerRegressor
    estimator = cls(
        hidden_units=3,
        solver=solver,
        direction=direction,
        max_iter=2,
        memory=3,
        random_state=0,
    )
    _check_matches_numpy(estimator, X, y)


@pytest.mark.parametrize("n_classes", [2, 3])
def test_logistic_on_the_cluster(client, n_classes):
    X, y = make_classification_data(n_classes, n_samples=120, n_features=4)
    estimator = SOLogisticRegression(solver="so", max_iter=4, memory=4)
    _check_matches_numpy(estimator, X, y)


@pytest.mark.parametrize("kind", [SOTwoLayerClassifier, SOTwoLayerRegressor])
def test_networks_on_the_cluster(client, kind):
    X, y = make_classification_data(3, n_samples=80, n_features=4)
    if kind is SOTwoLayerRegressor:
        y = X[:, 0] - np.sin(X[:, 1])
    _check_matches_numpy(kind(hidden_units=3, max_iter=3, random_state=0), X, y)


def test_weights_and_dask_targets(client):
    X, y = make_classification_data(3, n_samples=120, n_features=4)
    sample_weight = np.random.default_rng(1).uniform(0.5, 2.0, len(y))
    estimator = SOLogisticRegression(max_iter=5, class_weight="balanced")
    _check_matches_numpy(estimator, X, y, sample_weight, y_dask=True)
    network = SOTwoLayerClassifier(hidden_units=3, max_iter=3, random_state=0)
    _check_matches_numpy(network, X, (y == 0).astype(int), sample_weight, y_dask=True)


def test_float32_and_column_chunks(client):
    X, y = make_classification_data(2, n_samples=120, n_features=4)
    X32 = X.astype(np.float32)
    reference = _fit(SOLogisticRegression(max_iter=5), X32, y)
    # Column chunks are merged into one block.
    Xd = da.from_array(X32, chunks=(60, 2))
    est = _fit(SOLogisticRegression(max_iter=5), Xd, y)
    assert est.coef_.dtype == np.float32
    assert est.loss_ == pytest.approx(reference.loss_, rel=1e-8)


@pytest.fixture
def round_trips(monkeypatch):
    """Record every compute while a fit's solver runs; refuse other ones.

    Each compute goes through ``_namespace.to_host`` (wrapped to record the
    size of what comes back from a dask array; a numpy array handed to it,
    such as a network's step limits, is no round trip); computing a dask
    array any other way (its ``compute`` method, ``np.asarray``, ``float``,
    ``bool``) raises.
    """
    sizes = []
    to_host = ns.to_host

    def counted(x):
        out = to_host(x)
        if ns.is_dask(x):
            sizes.append(out.size)
        return out

    def refuse(self, *args, **kwargs):
        raise AssertionError("a dask array was computed outside to_host")

    solve = SubspaceSolver.solve

    def guarded_solve(self, theta0):
        with monkeypatch.context() as patch:
            for method in ("compute", "__array__", "__float__", "__bool__"):
                patch.setattr(da.Array, method, refuse)
            patch.setattr(ns, "to_host", counted)
            return solve(self, theta0)

    monkeypatch.setattr(SubspaceSolver, "solve", guarded_solve)
    return sizes


@pytest.mark.parametrize("n_samples", [200, 2000])
def test_round_trips_per_iteration(client, round_trips, n_samples):
    """One round trip per trial point, two more per iteration; all small."""
    X, y = make_classification_data(3, n_samples=n_samples, n_features=4)
    est = _fit(
        SOLogisticRegression(direction="lbfgs", solver="fixed", max_iter=6, tol=0.0),
        _dask(X),
        y,
    )
    n_iter = est.n_iter_[0]
    assert n_iter == 6
    # "fixed": the direction's image with its size, one trial, then the
    # accepted point's and the step's sizes with the gradient and X.T R:
    # three round trips.
    assert est.round_trips_["iterations"] == 3 * n_iter
    assert len(round_trips) == sum(est.round_trips_.values())
    # Setup: the centred preconditioner's two products (the diagonal's and
    # the curvature-weighted means', in the same tasks) and the first
    # gradient; the column scale came with the input check (before the
    # fit's count).
    assert est.round_trips_["setup"] == 2
    assert est.product_counts_["setup"] == 3
    # The largest results: each row chunk's centred preconditioner (the
    # curvature's intercept sums, (X * X).T h and X.T h) and its gradient
    # numbers (its loss, sum |R|, the intercepts' sums, the two sizes and
    # X.T R: one parameter vector and four numbers); an n-row array would
    # have n_samples entries.
    n_chunks = _dask(X).numblocks[0]
    n_classes = len(est.classes_)
    assert max(round_trips) == n_chunks * (2 * est.coef_.size + n_classes)
    assert n_chunks * (est.coef_.size + n_classes + 4) in round_trips


@pytest.mark.parametrize("n_classes", [2, 3])
def test_round_trips_of_a_line_search(client, round_trips, n_classes):
    """``ls`` with L-BFGS: one round trip per iteration that takes the unit step.

    The direction's image, the unit step's trial and the gradient there
    come from the same tasks (``_trial.FirstTrial``); an iteration that
    backtracks m times pays m more trials and a gradient pass.
    """
    # Data whose first iteration backtracks with the diagonal preconditioner
    # (the preconditioned gradient's unit step is too long), the later ones
    # take the unit step.
    X, y = _sparse_data(n_classes)
    estimator = SOLogisticRegression(
        direction="lbfgs", preconditioner="diagonal", max_iter=8, tol=0.0
    )
    est, reference = _check_matches_numpy(estimator, X.toarray(), y)
    rates = est.learning_rates_[:, 0]
    np.testing.assert_array_equal(rates, reference.learning_rates_[:, 0])
    assert 1 <= np.count_nonzero(rates != 1.0) <= 2
    backtracks = np.round(-np.log2(rates)).astype(int)
    np.testing.assert_array_equal(rates, 0.5**backtracks)
    expected = np.where(backtracks == 0, 1, 2 + backtracks).sum()
    assert est.round_trips_["iterations"] == expected
    # The largest numbers: each chunk's image size, phi's value, value,
    # gradient and Hessian (k = 1), sum |R|, the intercepts' sums, max|Z|
    # and X.T R.
    q, d = est.coef_.shape
    n_chunks = _dask(X).numblocks[0]
    assert max(round_trips) == n_chunks * (1 + 4 + 1 + q + 1 + d * q)


def test_round_trips_of_a_search(client, round_trips):
    X, y = make_classification_data(2, n_samples=200, n_features=4)
    est = _fit(
        SOLogisticRegression(direction="lbfgs", solver="so", max_iter=5, tol=0.0),
        _dask(X),
        y,
    )
    n_iter = est.n_iter_[0]
    inner = est.round_trips_["iterations"] - 2 * n_iter
    # Newton in the rates: a few trials per iteration, each one round trip.
    assert n_iter <= inner <= 10 * n_iter
    # Per row chunk: a trial's 1 + k + k^2 numbers (k = 3 rates), or the
    # gradient's loss, sum |R|, intercept sum, two sizes and X.T R.
    n_chunks = _dask(X).numblocks[0]
    assert max(round_trips) <= n_chunks * max(1 + 3 + 9, est.coef_.size + 5)


def test_round_trips_counted_per_fit(synchronous, monkeypatch):
    """Two dask fits in two threads, in lockstep: each counts its own trips."""
    import threading

    X, y = make_classification_data(2, n_samples=120, n_features=4)
    fits = [
        SOLogisticRegression(direction="lbfgs", solver="fixed", max_iter=4, tol=0.0),
        SOLogisticRegression(direction="lbfgs", solver="so", max_iter=4, tol=0.0),
    ]
    alone = [_fit(est, _dask(X), y).round_trips_ for est in fits]
    # Every iteration of one fit ends only when the other's has too: the
    # two fits' round trips interleave.
    barrier = threading.Barrier(2, timeout=60)
    end_iteration = SubspaceSolver.end_iteration

    def in_lockstep(self):
        barrier.wait()
        return end_iteration(self)

    monkeypatch.setattr(SubspaceSolver, "end_iteration", in_lockstep)
    together = [None, None]

    def run(i):
        together[i] = _fit(fits[i], _dask(X), y).round_trips_

    threads = [threading.Thread(target=run, args=(i,)) for i in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert together == alone
    assert alone[0] != alone[1]


@pytest.mark.parametrize("n_classes", [2, 3])
@pytest.mark.parametrize("direction", ["newton", "newton-cg"])
def test_newton_on_the_cluster(client, round_trips, n_classes, direction):
    """The Hessian in one round trip, each Hessian-vector product in one.

    With ``solver="fixed"`` an iteration is three round trips (see
    :func:`test_round_trips_per_iteration`) plus the curvature: for
    "newton" the Hessian (the chunks' weighted Gram matrices, summed on
    the workers); for "newton-cg" the Hessian diagonal, then one per
    product with the Hessian (its two products with X and the intercepts'
    sums together).
    """
    X, y = make_classification_data(n_classes, n_samples=200, n_features=4)
    sample_weight = np.random.default_rng(1).uniform(0.5, 2.0, len(y))
    estimator = SOLogisticRegression(
        solver="fixed", direction=direction, learning_rate=1.0, max_iter=4, tol=0.0
    )
    est, reference = _check_matches_numpy(estimator, X, y, sample_weight)
    n_iter = est.n_iter_[0]
    assert n_iter == 4
    hessian = est.product_counts_["hessian"]
    if direction == "newton":
        curvature_trips = hessian
    else:
        # One diagonal pass per iteration, then two products per H v.
        curvature_trips = n_iter + (hessian - n_iter) // 2
    assert est.round_trips_["iterations"] == 3 * n_iter + curvature_trips
    # Nothing larger than the Hessian's Gram blocks crosses.
    width, q = X.shape[1] + 1, est.coef_.shape[0]
    assert max(round_trips) <= max(q * (q + 1) // 2 * width**2, 2 * width * q + 2)
    assert est.loss_ == pytest.approx(reference.loss_, rel=1e-8)


def _network_problem(kind):
    """A binary classifier's data, or a regressor's with two outputs."""
    X, y = make_classification_data(2, n_samples=200, n_features=4)
    if kind is SOTwoLayerRegressor:
        y = np.column_stack([X[:, 0] - np.sin(X[:, 1]), X[:, 2] * X[:, 3]])
    return X, y


@pytest.mark.parametrize("kind", [SOTwoLayerClassifier, SOTwoLayerRegressor])
@pytest.mark.parametrize(
    "solver, direction", list(itertools.product(["fixed", "ls", "so"], DIRECTIONS))
)
def test_network_round_trips(client, round_trips, kind, solver, direction):
    """A network on the cluster: the numpy fit, in the linear model's round trips.

    Every round trip is one task per row chunk: ``"fixed"`` costs three
    per iteration (the direction's image with its size; the trial; the
    accepted point's sizes with the gradient and ``X.T R``), a search two
    plus one per trial. The largest result is a row chunk's gradient
    numbers (its loss, ``sum |R|``, the two sizes and one parameter
    vector) or a trial's ``1 + k + k^2`` numbers, with k rates (``"so"``:
    two layers times the new direction, the last move and
    ``memory_directions`` older ones); an n-row array would have
    ``n_samples`` entries per output.
    """
    X, y = _network_problem(kind)
    estimator = kind(
        hidden_units=3,
        solver=solver,
        direction=direction,
        max_iter=4,
        tol=0.0,
        memory=3,
        random_state=0,
    )
    est, _ = _check_matches_numpy(estimator, X, y)
    n_iter = est.n_iter_
    assert n_iter == 4
    trips = est.round_trips_["iterations"]
    if solver == "fixed":
        assert trips == 3 * n_iter
    elif solver == "ls" and direction == "lbfgs":
        # The image, the unit step and the gradient there in one round trip
        # (``_trial.FirstTrial``), two plus the trials when it backtracks.
        assert n_iter <= trips <= 15 * n_iter
    else:
        # At least one trial per iteration; at most the inner solver's
        # iteration cap (TwoLayerNetwork.inner_options) and the search's
        # own trials.
        assert 3 * n_iter <= trips <= 15 * n_iter
    assert len(round_trips) == sum(est.round_trips_.values())
    n_params = sum(c.size for c in est.coefs_) + sum(b.size for b in est.intercepts_)
    n_chunks = _dask(X).numblocks[0]
    k = {"fixed": 2, "ls": 1, "so": 2 * (2 + est.memory_directions)}[solver]
    # The first trial's task adds the image's size and the trial's value.
    assert max(round_trips) <= n_chunks * max(n_params + 5, 1 + k + k * k)


def test_network_across_a_refresh(synchronous):
    """Past ``REFRESH_EVERY`` iterations: the exact Z, then the gradient there."""
    X, y = make_classification_data(3, n_samples=80, n_features=4)
    estimator = SOTwoLayerClassifier(
        hidden_units=3, solver="fixed", max_iter=REFRESH_EVERY + 2, tol=0.0
    )
    est, reference = _check_matches_numpy(estimator.set_params(random_state=0), X, y)
    assert est.n_iter_ == REFRESH_EVERY + 2
    # One refresh at REFRESH_EVERY iterations, one at the end.
    assert est.product_counts_["refresh"] == reference.product_counts_["refresh"] == 2
    np.testing.assert_allclose(est.coefs_[0], reference.coefs_[0], rtol=1e-7)


def test_network_model_on_dask_rows(synchronous):
    """The model's own answers on dask rows equal its answers on numpy rows.

    ``objective`` and ``objective_and_gradient`` (the protocol's, which the
    loop replaces by ``gather_gradient`` on a dask X) and a trial with and
    without derivatives, with the rows in two chunks.
    """
    from sklearn_so._losses import MultinomialLogLoss
    from sklearn_so._models import TwoLayerNetwork
    from sklearn_so._strategies import Basis

    X, labels = make_classification_data(3, n_samples=60, n_features=4)
    rng = np.random.default_rng(3)
    Y = np.eye(3)[labels]
    w = rng.uniform(0.5, 2.0, len(Y))
    w /= w.sum()
    models = [
        TwoLayerNetwork(4, 5, 3, "tanh", MultinomialLogLoss(), y_rows, w_rows, 0.01)
        for y_rows, w_rows in [(Y, w), (_dask(Y), da.from_array(w, chunks=30))]
    ]
    theta = rng.standard_normal(models[0].n_params)
    # A new direction, and a move of the second layer only (no image).
    P = rng.standard_normal((2, models[0].n_params))
    P[1, : 4 * 5 + 5] = 0.0
    W1, b1 = models[0].first_layer(theta)
    Z, V = X @ W1 + b1, X @ P[0, : 4 * 5].reshape(4, 5) + P[0, 20:25]
    points = [models[0].point(theta, Z), models[1].point(theta, _dask(Z))]
    values = [
        model.objective(theta, point)
        for model, point in zip(models, points, strict=True)
    ]
    assert values[1] == pytest.approx(values[0], rel=1e-12)
    (f, R, g), (fd, Rd, gd) = [
        model.objective_and_gradient(theta, point)
        for model, point in zip(models, points, strict=True)
    ]
    assert fd == pytest.approx(f, rel=1e-12)
    np.testing.assert_allclose(Rd.compute(), R, rtol=1e-12, atol=1e-15)
    np.testing.assert_allclose(gd, g, rtol=1e-12, atol=1e-15)
    bases = [Basis(P, [V, None], ["lr", "momentum"], [None, 1])]
    bases.append(Basis(P, [_dask(V), None], ["lr", "momentum"], [None, 1]))
    a = np.array([0.3, -0.2])
    for derivatives in (False, True):
        trial, lazy = [
            model.subspace(theta, point, basis)(a, derivatives)
            for model, point, basis in zip(models, points, bases, strict=True)
        ]
        assert lazy.value == pytest.approx(trial.value, rel=1e-12)
        np.testing.assert_allclose(
            lazy.point.pre_activation.compute(), trial.point.pre_activation
        )
        if derivatives:
            np.testing.assert_allclose(lazy.gradient, trial.gradient, rtol=1e-10)
            np.testing.assert_allclose(lazy.hessian, trial.hessian, rtol=1e-10)


def test_invalid_dask_input(client):
    X, y = make_classification_data(2, n_samples=60, n_features=3)
    X_nan = X.copy()
    X_nan[3, 1] = np.nan
    with pytest.raises(ValueError, match="NaN or infinity"):
        SOLogisticRegression().fit(_dask(X_nan), y)
    with pytest.raises(ValueError, match="same number of rows"):
        SOLogisticRegression().fit(_dask(X), y[:-1])
    with pytest.raises(ValueError, match="not supported yet"):
        SOTwoLayerClassifier(early_stopping=True).fit(_dask(X), y)
    est = SOLogisticRegression(max_iter=3).fit(X, y)
    with pytest.raises(ValueError, match="features"):
        est.predict(_dask(X[:, :2]))
    # Sparse chunks in several column chunks: refused before any
    # computation, naming the problem.
    import scipy.sparse as sp

    split = da.from_array(X, chunks=(30, 2)).map_blocks(sp.csr_matrix)
    for estimator in (
        SOLogisticRegression(),
        SOTwoLayerClassifier(),
        SOTwoLayerRegressor(),
    ):
        with pytest.raises(ValueError, match="one chunk; X has 2 column chunks"):
            estimator.fit(split, y)
        with pytest.raises(ValueError, match="NaN or infinity"):
            estimator.fit(_dask(X_nan).map_blocks(sp.csr_array), y)


def _sparse_data(n_classes, n_samples=120, n_features=30, density=0.2, seed=0):
    """A sparse X (CSR, about ``density`` filled) and labels that depend on it."""
    import scipy.sparse as sp

    rng = np.random.default_rng(seed)
    X = sp.random_array((n_samples, n_features), density=density, format="csr", rng=rng)
    teacher = rng.standard_normal((n_features, n_classes))
    y = np.argmax(X @ teacher * 4 + rng.gumbel(size=(n_samples, n_classes)), axis=1)
    return X, y


@pytest.mark.parametrize("chunk_format", ["csr", "csc", "coo"])
@pytest.mark.parametrize(
    "estimator",
    [
        SOLogisticRegression(max_iter=3),
        SOLogisticRegression(solver="so", direction="newton", max_iter=2),
        SOLogisticRegression(direction="newton-cg", max_iter=2),
        SOTwoLayerClassifier(hidden_units=4, max_iter=3, random_state=0),
        SOTwoLayerRegressor(hidden_units=4, max_iter=3, random_state=0),
    ],
    ids=["logistic", "logistic-so-newton", "logistic-newton-cg", "net", "net-reg"],
)
def test_sparse_chunks_match_the_sparse_fit(client, estimator, chunk_format):
    """A dask X of sparse chunks fits as the same CSR matrix in memory."""
    import scipy.sparse as sp

    X, y = _sparse_data(3)
    target = y.astype(float) if not is_classifier(estimator) else y
    reference = _fit(estimator, X, target)
    # COO chunks: dask's meta says numpy (the function is called on an
    # empty array); the tasks convert them to CSR.
    kind = {"csr": sp.csr_array, "csc": sp.csc_array, "coo": sp.coo_matrix}
    kind = kind[chunk_format]
    Xd = da.from_array(X.toarray(), chunks=(40, -1)).map_blocks(kind)
    est = _fit(estimator, Xd, target)
    assert est.loss_ == pytest.approx(reference.loss_, rel=1e-8)
    assert np.all(est.n_iter_ == reference.n_iter_)
    _check_dask_counts(est, reference)
    method = "predict_proba" if is_classifier(est) else "predict"
    lazy = getattr(est, method)(Xd)
    assert isinstance(lazy, da.Array)
    np.testing.assert_allclose(
        lazy.compute(), getattr(reference, method)(X), rtol=1e-7, atol=1e-10
    )


def test_user_guide_example_runs_on_worker_processes(tmp_path):
    """The user guide's example, as a script: a LocalCluster of processes."""
    import re
    import subprocess
    import sys
    from pathlib import Path

    page = Path(__file__).resolve().parents[1] / "doc" / "user_guide" / "dask.rst"
    block = re.search(r"code-block:: python\n\n(.*?)\n\S", page.read_text(), re.S)
    script = tmp_path / "example.py"
    script.write_text(textwrap.dedent(block.group(1)))
    run = subprocess.run(
        [sys.executable, str(script)], capture_output=True, text=True, timeout=300
    )
    assert run.returncode == 0, run.stderr[-2000:]
    assert "'iterations'" in run.stdout


def test_worker_killed_mid_fit(monkeypatch):
    """A worker process killed mid-fit: dask recomputes what it held.

    X is persisted on two worker processes; after the second iteration a
    worker holding X's first chunk is killed (SIGKILL, no goodbye). The
    scheduler recomputes the chunks it held -- of X (from X's graph) and of
    the cached arrays (from theirs) -- on the other worker and on the one
    the nanny restarts, and the fit ends exactly as the numpy fit does.
    """
    import os
    import signal

    X, y = make_classification_data(2, n_samples=400, n_features=4)
    estimator = SOLogisticRegression(
        direction="lbfgs", solver="so", max_iter=6, tol=0.0
    )
    reference = _fit(estimator, X, y)
    killed = []
    end_iteration = SubspaceSolver.end_iteration

    def kill_after_second(self):
        if self.iteration == 2 and not killed:
            # A worker holding X's first chunk (the chunk may have been
            # copied to both, then only the cached arrays there are lost).
            address = sorted(client.who_has(Xd)[Xd.__dask_keys__()[0][0]])[0]
            pid = client.run(os.getpid, workers=[address])[address]
            os.kill(pid, signal.SIGKILL)
            killed.append(pid)
        return end_iteration(self)

    monkeypatch.setattr(SubspaceSolver, "end_iteration", kill_after_second)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        cluster = distributed.LocalCluster(
            n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None
        )
        client = distributed.Client(cluster)
    try:
        Xd = _dask(X).persist()
        distributed.wait(Xd)
        est = _fit(estimator, Xd, y)
        alive = set(client.run(os.getpid).values())
    finally:
        client.close()
        cluster.close()
    assert len(killed) == 1 and killed[0] not in alive
    assert est.n_iter_[0] == reference.n_iter_[0] == 6
    assert est.loss_ == pytest.approx(reference.loss_, rel=1e-8)
    _check_dask_counts(est, reference)
    np.testing.assert_allclose(est.coef_, reference.coef_, rtol=1e-7, atol=1e-10)
