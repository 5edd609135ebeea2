"""``verbose``: what the progress lines say and how often they are printed."""

import re
import warnings

import numpy as np
import pytest
from sklearn.exceptions import ConvergenceWarning

from sklearn_so import SOLogisticRegression, SOTwoLayerClassifier, SOTwoLayerRegressor
from sklearn_so._optimizer import REFRESH_EVERY
from sklearn_so._preconditioner import PRECONDITION_EVERY

from ._data import make_classification_data

PROGRESS = re.compile(
    r"^\[sklearn-so\] iter +(\d+)  objective (\S+)  max\|g\| (\S+)  "
    r"(.*)  products (\d+)$"
)
RATES = re.compile(r"lr=([^\s,]+) mom=([^\s,]+)")


def fit_quietly(est, X, y):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        return est.fit(X, y)


@pytest.mark.parametrize(
    "est",
    [
        SOLogisticRegression(),
        SOLogisticRegression(solver="so", direction="adam", max_iter=50),
        SOTwoLayerClassifier(hidden_units=5, max_iter=50, random_state=0),
        SOTwoLayerRegressor(hidden_units=5, max_iter=50, early_stopping=True),
    ],
)
def test_verbose_0_prints_nothing(est, capsys):
    X, y = make_classification_data(3)
    fit_quietly(est, X, y)
    assert len(est.loss_curve_) > 0
    assert capsys.readouterr() == ("", "")


def check_lines(out, est, every):
    """Every printed line against the fitted estimator's records."""
    *progress, last = out.splitlines()
    n_iter = len(est.loss_curve_)
    expected_iterations = list(range(every, n_iter + 1, every))
    assert len(progress) == len(expected_iterations) == n_iter // every
    n_blocks = est.learning_rates_.shape[1]
    setup = est.product_counts_["setup"]
    assert est.product_counts_["unused"] == 0
    preconditioned = hasattr(est, "coef_") and est.direction in ("gd", "lbfgs")
    previous_passes = 0
    for line, k in zip(progress, expected_iterations, strict=True):
        match = PROGRESS.match(line)
        assert match, line
        iteration, objective, grad_max, rates, products = match.groups()
        assert int(iteration) == k
        assert objective == f"{est.loss_curve_[k - 1]:.10g}"
        assert float(grad_max) > 0
        rates = RATES.findall(rates)
        assert len(rates) == n_blocks
        for j, (lr, mom) in enumerate(rates):
            assert lr == f"{est.learning_rates_[k - 1, j]:.3g}"
            assert mom == f"{est.momentum_rates_[k - 1, j]:.3g}"
        # Setup, two per iteration, the exact refreshes and the logistic
        # model's preconditioner passes done by then (at most one estimate
        # per PRECONDITION_EVERY iterations, two passes each with the
        # centred preconditioner; never undone).
        passes = int(products) - setup - 2 * k - k // REFRESH_EVERY
        assert passes >= previous_passes
        per_estimate = 2 if getattr(est, "preconditioner", "") == "centred" else 1
        estimates = k // PRECONDITION_EVERY if preconditioned else 0
        assert passes <= per_estimate * estimates
        previous_passes = passes
    assert previous_passes <= est.product_counts_["preconditioner"]
    assert last == f"[sklearn-so] stopped after {n_iter} iterations: {est.stop_reason_}"


def test_verbose_1_prints_every_100th_iteration(capsys):
    X, y = make_classification_data(3)
    est = SOLogisticRegression(
        solver="fixed", direction="gd", tol=0.0, max_iter=250, verbose=1
    )
    fit_quietly(est, X, y)
    assert est.n_iter_[0] == 250
    out, err = capsys.readouterr()
    assert err == ""
    assert len(out.splitlines()) == 3
    check_lines(out, est, every=100)


@pytest.mark.parametrize("verbose, every", [(1, 100), (10, 10), (100, 1), (250, 1)])
def test_verbose_network_lines(verbose, every, capsys):
    X, y = make_classification_data(3)
    est = SOTwoLayerClassifier(
        hidden_units=5,
        solver="so",
        tol=0.0,
        max_iter=120,
        verbose=verbose,
        random_state=0,
    )
    fit_quietly(est, X, y)
    assert est.n_iter_ == 120
    out, err = capsys.readouterr()
    assert err == ""
    check_lines(out, est, every)
    # Two layers: two rate pairs per line, and the rates are not all equal.
    assert np.ptp(est.learning_rates_) > 0 and np.ptp(est.momentum_rates_) > 0
