"""The harness the demo and the benchmarks share: data, fits, timing, tables."""

import subprocess
import sys
import time
import warnings

import numpy as np
import pytest
import scipy.sparse as sp
from numpy.testing import assert_array_equal
from sklearn.exceptions import ConvergenceWarning
from sklearn.linear_model import LogisticRegression
from threadpoolctl import threadpool_info, threadpool_limits

from sklearn_so import SOLogisticRegression
from sklearn_so._harness import datasets, figures, fits, reports, timing

from ._data import make_classification_data

# --------------------------------------------------------------------------
# Datasets
# --------------------------------------------------------------------------

# name -> (generator, arguments, shape of X)
GENERATORS = {
    "dense_binary": (datasets.dense_binary, (200, 40), (200, 40)),
    "dense_multiclass": (datasets.dense_multiclass, (200, 40), (200, 40)),
    "sparse_binary": (datasets.sparse_binary, (300, 100), (300, 100)),
    "sparse_text_like": (datasets.sparse_text_like, (300, 100, 5), (300, 100)),
    "linear_regression": (datasets.linear_regression, (200, 30), (200, 30)),
    "nonlinear_regression": (datasets.nonlinear_regression, (200, 30), (200, 30)),
}


def _same(a, b):
    """Whether two dense or sparse arrays hold the same values and layout."""
    if sp.issparse(a):
        a, b = a.tocsr(), b.tocsr()
        return all(
            np.array_equal(getattr(a, part), getattr(b, part))
            for part in ("data", "indices", "indptr")
        )
    return a.dtype == b.dtype and np.array_equal(a, b)


@pytest.mark.parametrize("name", GENERATORS)
def test_generators_are_deterministic_by_seed(name):
    generator, args, shape = GENERATORS[name]
    X, y = generator(*args, seed=3)
    assert X.shape == shape and y.shape == (shape[0],)
    X_again, y_again = generator(*args, seed=3)
    assert _same(X, X_again) and np.array_equal(y, y_again)
    X_other, y_other = generator(*args, seed=4)
    assert not (_same(X, X_other) and np.array_equal(y, y_other))


def test_sparse_generators_give_csr_matrices_of_the_requested_density():
    X, y = datasets.sparse_binary(2_000, 1_000, nnz_per_row=20)
    assert sp.issparse(X) and X.format == "csr"
    # About 20 stored entries per row: a density of 2%.
    assert X.nnz / np.prod(X.shape) == pytest.approx(0.02, rel=0.05)
    assert set(np.unique(y)) == {0, 1}
    X, y = datasets.sparse_text_like(500, 200, 10, seed=0)
    assert X.format == "csr" and set(np.unique(y)) == {0, 1}
    # At most 10 distinct words per row (duplicates merge), rows of norm 1.
    assert np.diff(X.indptr).max() <= 10
    norms = np.sqrt(np.asarray(X.multiply(X).sum(axis=1)).ravel())
    np.testing.assert_allclose(norms, 1.0, rtol=1e-12)


def test_standardised_sets():
    for X, _ in (
        datasets.dense_multiclass(500, 40),
        datasets.linear_regression(500, 30),
        datasets.nonlinear_regression(500, 30),
        datasets.bundled("digits", standardise=True),
    ):
        np.testing.assert_allclose(X.mean(axis=0), 0.0, atol=1e-12)
    _, y = datasets.dense_multiclass(500, 40)
    assert_array_equal(np.unique(y), np.arange(5))
    for _, y in (
        datasets.linear_regression(500, 30),
        datasets.nonlinear_regression(500, 30),
    ):
        assert y.mean() == pytest.approx(0.0, abs=1e-12)
        assert y.std() == pytest.approx(1.0, rel=1e-12)


@pytest.mark.parametrize(
    "name, shape, n_classes, largest",
    [("digits", (1797, 64), 10, 16.0), ("breast_cancer", (569, 30), 2, 4254.0)],
)
def test_bundled_sets_come_raw(name, shape, n_classes, largest):
    X, y = datasets.bundled(name)
    assert X.shape == shape and len(np.unique(y)) == n_classes
    assert X.max() == largest


def test_dataset_facts():
    X, y = datasets.sparse_binary(1_000, 500, seed=0)
    sparse = datasets.Dataset("s", X, y)
    assert sparse.is_classification
    assert (sparse.n_classes, sparse.n_outputs) == (2, 1)
    assert sparse.density == X.nnz / 500_000
    assert sparse.nbytes == X.data.nbytes + X.indices.nbytes + X.indptr.nbytes
    dense = datasets.Dataset("d", *datasets.bundled("digits"))
    assert (dense.n_classes, dense.n_outputs) == (10, 10)
    assert dense.density == 1.0 and dense.nbytes == 1797 * 64 * 8
    regression = datasets.Dataset("r", *datasets.linear_regression(50, 5), "regression")
    assert not regression.is_classification


# --------------------------------------------------------------------------
# Fits
# --------------------------------------------------------------------------


def test_candidates_know_their_library_and_copy_their_template():
    ours = fits.Candidate("SO", SOLogisticRegression(solver="ps"))
    theirs = fits.Candidate("sk", LogisticRegression())
    assert (ours.ours, ours.library) == (True, "sklearn_so")
    assert (theirs.ours, theirs.library) == (False, "sklearn")
    fresh = ours.fresh(tol=1e-7)
    assert fresh is not ours.estimator
    assert fresh.get_params()["tol"] == 1e-7 and fresh.solver == "ps"
    assert ours.estimator.tol != 1e-7
    label = fits.config_label(SOLogisticRegression(solver="so", direction="adam"))
    assert label == "SO so/adam"


class _Warns:
    """A stand-in estimator whose fit takes 20 ms and warns three times."""

    def fit(self, X, y):
        time.sleep(0.02)
        for _ in range(2):
            warnings.warn("not converged", ConvergenceWarning, stacklevel=1)
        warnings.warn("something else", UserWarning, stacklevel=1)
        self.n_iter_ = np.array([3, 7])
        return self


def test_timed_fit_returns_every_recorded_warning_and_reissues_the_others():
    with pytest.warns(UserWarning, match="something else"):
        seconds, caught = fits.timed_fit(_Warns(), None, None, ConvergenceWarning)
    assert 0.02 <= seconds < 1.0
    # Both, not only the first of their place.
    assert [str(w.message) for w in caught] == ["not converged"] * 2
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        _, caught = fits.timed_fit(_Warns(), None, None)
    assert len(caught) == 3


def test_n_iterations_is_the_largest_count():
    estimator = _Warns()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        estimator.fit(None, None)
    assert fits.n_iterations(estimator) == 7


def test_check_loss_attribute_stops_on_a_different_objective():
    X, y = make_classification_data(2)
    ours = SOLogisticRegression().fit(X, y)
    fits.check_loss_attribute(ours, ours.loss_ * (1 + 1e-11), "ok")
    with pytest.raises(fits.ObjectiveMismatch, match="here: SOLogisticRegression"):
        fits.check_loss_attribute(ours, ours.loss_ * (1 + 1e-6), "here")
    # A SystemExit: a script stops with the message and no traceback.
    assert issubclass(fits.ObjectiveMismatch, SystemExit)
    # scikit-learn's loss_ need not be the common objective: not checked.
    theirs = LogisticRegression()
    theirs.loss_ = 1.0
    fits.check_loss_attribute(theirs, 2.0, "sklearn")


def test_limit_threads_is_lifted_on_exit_and_zero_leaves_the_defaults():
    with threadpool_limits(limits=3):
        outside = [pool["num_threads"] for pool in threadpool_info()]
        with fits.limit_threads(1):
            assert all(pool["num_threads"] == 1 for pool in threadpool_info())
        with fits.limit_threads(0):
            assert [pool["num_threads"] for pool in threadpool_info()] == outside
        assert [pool["num_threads"] for pool in threadpool_info()] == outside


# --------------------------------------------------------------------------
# Time to a target
# --------------------------------------------------------------------------


def test_fit_stamps_charge_the_time_outside_the_loop_to_every_iteration():
    # Binary fractions: the sums are exact.
    stamps, outside = timing.fit_stamps([0.25, 0.5, 1.0], 1.5)
    assert outside == 0.5
    assert_array_equal(stamps, [0.75, 1.0, 1.5])
    assert timing.loop_seconds([0.25, 0.5, 1.0]) == 1.0
    stamps, outside = timing.fit_stamps([], 2.0)
    assert stamps.shape == (0,) and outside == 2.0
    assert timing.loop_seconds([]) == 0.0


def test_first_reaching_is_the_first_iteration_at_or_below():
    curve = [3.0, 1.0, 0.4, 0.6, 0.2]
    assert timing.first_reaching(curve, 1.0) == 1  # equal counts
    # The first crossing, even if a later iteration is above the target.
    assert timing.first_reaching(curve, 0.5) == 2
    assert timing.first_reaching(curve, 0.1) is None


def test_time_to_target_is_read_from_a_recorded_curve():
    curve, stamps = np.array([2.0, 1.0, 0.5]), np.array([0.2, 0.4, 1.0])
    assert timing.time_to_target(1.5, 1.1, 0.5, curve, stamps) == 0.4
    assert timing.time_to_target(0.5, 1.1, 0.5, curve, stamps) == 1.0
    assert timing.time_to_target(0.4, 1.1, 0.5, curve, stamps) is None
    # Without a curve: the whole fit time if the final objective reaches it.
    assert timing.time_to_target(0.7, 2.0, 0.7) == 2.0
    assert timing.time_to_target(0.6, 2.0, 0.7) is None
    assert timing.time_to_target(0.7, 2.0, 0.7, np.array([]), np.array([])) == 2.0


def test_relative_gap():
    assert timing.relative_gap(1.5, 1.0) == 0.5
    # Relative to |reference|: above a negative reference is positive too.
    assert timing.relative_gap(-1.5, -2.0) == 0.25


# --------------------------------------------------------------------------
# Tables and CSV files
# --------------------------------------------------------------------------


def test_fmt():
    assert reports.fmt(None, ".3g") == "" and reports.fmt("", "d") == ""
    assert reports.fmt(0.000123456, ".3g") == "0.000123"
    assert reports.fmt(7, "d") == "7"
    assert reports.fmt(0.0, ".2f") == "0.00"


def test_text_table_aligns_left_without_trailing_spaces():
    text = reports.text_table(("name", "time [s]", "note"), [["ab", 1.5, ""]])
    assert text.splitlines() == [
        "name  time [s]  note",
        "----  --------  ----",
        "ab    1.5",
    ]
    with pytest.raises(ValueError):
        reports.text_table(("a", "b"), [["only one"]])


def test_markdown_table_and_lists():
    assert reports.markdown_table(["a", "b"], [["1", "2"], ["", "x"]]) == (
        "| a | b |\n|---|---|\n| 1 | 2 |\n|  | x |"
    )
    assert reports.bullet_list("Notes:", ["one", "two"]) == "Notes:\n\n- one\n- two"
    messages = ["Warning: long text", "A", "Warning: long text"]
    assert reports.join_warnings(messages, 7) == "A | Warning"


def test_group_by_keeps_the_order_of_appearance():
    rows = [{"d": "b", "v": 1}, {"d": "a", "v": 2}, {"d": "b", "v": 3}]
    groups = reports.group_by(rows, "d")
    assert list(groups) == ["b", "a"]
    assert [row["v"] for row in groups["b"]] == [1, 3]


def test_csv_round_trip(tmp_path):
    path = tmp_path / "t.csv"
    rows = [{"b": 1.5, "a": "x"}, {"a": "y", "c": None, "d": True}]
    reports.write_csv(path, rows, ["a", "b"])
    assert path.read_text().splitlines() == ["a,b,c,d", "x,1.5,,", "y,,,True"]
    read = reports.read_csv(path)
    assert read[0] == {"a": "x", "b": "1.5", "c": "", "d": ""}
    assert reports.number(read[0], "b") == 1.5
    assert reports.number(read[1], "b") is None
    assert reports.number(read[1], "missing") is None


# --------------------------------------------------------------------------
# Figures and imports
# --------------------------------------------------------------------------


def test_save_writes_a_png_and_closes_the_figure(tmp_path):
    pytest.importorskip("matplotlib")
    plt = figures.pyplot()
    figure, ax = plt.subplots()
    ax.plot([1, 2], [3, 4])
    path = figures.save(figure, tmp_path / "f.png", dpi=50, title="t")
    assert path.read_bytes()[:4] == b"\x89PNG"
    assert figure.number not in plt.get_fignums()


def test_the_harness_adds_neither_matplotlib_nor_pandas_to_the_imports():
    # scikit-learn may import pandas itself when it is installed: the
    # harness must add neither to what ``import sklearn_so`` imports.
    code = (
        "import sys\n"
        "import sklearn_so\n"
        "assert 'sklearn_so._harness' not in sys.modules\n"
        "heavy = lambda: {'matplotlib', 'pandas'} & set(sys.modules)\n"
        "before = heavy()\n"
        "import sklearn_so._demo\n"
        "from sklearn_so._harness import datasets, figures, fits, reports, timing\n"
        "assert heavy() == before and 'matplotlib' not in before, heavy()\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True, timeout=120)
