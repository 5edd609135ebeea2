"""SOLogisticRegression reaches LogisticRegression's optimum: same objective.

Both estimators minimise ``C * sum_i s_i loss_i + ||W||^2 / 2``, so a tight
fit of either is an oracle for the other.
"""

import functools
import itertools
import warnings

import numpy as np
import pytest
import scipy.sparse as sp
from sklearn.exceptions import ConvergenceWarning
from sklearn.linear_model import LogisticRegression

from sklearn_so import SOLogisticRegression

from ._data import make_classification_data

SOLVERS = ["ls", "lo", "ps", "so"]
DIRECTIONS = ["gd", "lbfgs", "adam", "newton", "newton-cg"]
PROBLEMS = list(
    itertools.product(
        [0.01, 1.0, 100.0],  # C
        [2, 3],  # classes
        [False, True],  # sparse
        [False, True],  # sample weights
        [True, False],  # fit_intercept
    )
)


@functools.cache
def _problem(C, n_classes, sparse, weighted, fit_intercept):
    X, y = make_classification_data(n_classes, seed=n_classes)
    rng = np.random.default_rng(7)
    sample_weight = rng.uniform(0.2, 3.0, size=len(y)) if weighted else None
    reference = LogisticRegression(
        C=C, tol=1e-10, max_iter=10_000, fit_intercept=fit_intercept
    ).fit(X, y, sample_weight=sample_weight)
    X_fit = sp.csr_matrix(X) if sparse else X
    return X_fit, y, sample_weight, reference


def _assert_same_model(estimator, reference):
    scale = np.abs(reference.coef_).max()
    np.testing.assert_allclose(
        estimator.coef_, reference.coef_, rtol=1e-4, atol=1e-4 * scale
    )
    np.testing.assert_allclose(
        estimator.intercept_, reference.intercept_, rtol=1e-4, atol=1e-4 * scale
    )


def _problem_id(problem):
    return "C{}-K{}-sparse{}-weights{}-intercept{}".format(*problem)


@pytest.mark.parametrize("problem", PROBLEMS, ids=_problem_id)
@pytest.mark.parametrize("direction", DIRECTIONS)
@pytest.mark.parametrize("solver", SOLVERS)
def test_reaches_logistic_regression_optimum(problem, solver, direction):
    X, y, sample_weight, reference = _problem(*problem)
    C, _, _, _, fit_intercept = problem
    estimator = SOLogisticRegression(
        C=C,
        fit_intercept=fit_intercept,
        solver=solver,
        direction=direction,
        tol=1e-9,
        max_iter=20_000,
    )
    with warnings.catch_warnings():
        # At tol=1e-9 a fit may end on "no further decrease": the objective is
        # then at rounding level, which the assertion below checks anyway.
        warnings.simplefilter("ignore", ConvergenceWarning)
        estimator.fit(X, y, sample_weight=sample_weight)
    _assert_same_model(estimator, reference)


def test_infinite_C_is_the_unpenalised_fit():
    # C=np.inf means no penalty, as in LogisticRegression; on overlapping
    # classes the unpenalised optimum is finite and both reach it.
    rng = np.random.default_rng(0)
    X = rng.standard_normal((300, 4))
    y = (X @ [1.0, -2.0, 0.5, 0.0] + rng.standard_normal(300) > 0).astype(int)
    ours = SOLogisticRegression(C=np.inf, tol=1e-8, max_iter=2000).fit(X, y)
    reference = LogisticRegression(C=np.inf, tol=1e-12, max_iter=10_000).fit(X, y)
    np.testing.assert_allclose(ours.coef_, reference.coef_, rtol=1e-5)
    np.testing.assert_allclose(ours.intercept_, reference.intercept_, atol=1e-6)
    # A finite C pulls the coefficients in: the penalty really is off.
    penalised = SOLogisticRegression(C=0.01, tol=1e-8).fit(X, y)
    assert np.linalg.norm(penalised.coef_) < 0.5 * np.linalg.norm(ours.coef_)
