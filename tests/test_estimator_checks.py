"""scikit-learn's estimator checks for every solver x direction."""

import itertools
import re

import pytest
from sklearn.utils.estimator_checks import parametrize_with_checks

from sklearn_so import SOLogisticRegression, SOTwoLayerClassifier, SOTwoLayerRegressor

SOLVERS = ["ls", "lo", "ps", "so", "fixed"]
DIRECTIONS = ["gd", "lbfgs", "adam"]
# The directions that need the linear model's exact Hessian.
LINEAR_DIRECTIONS = [*DIRECTIONS, "newton", "newton-cg"]


DENSE = "check_sample_weight_equivalence_on_dense_data"
SPARSE = "check_sample_weight_equivalence_on_sparse_data"
# The configurations whose sample-weight equivalence checks fail, measured:
# the checks want equal predictions (rtol=1e-7) after a fit with integer
# weights and one on repeated rows. Both fits minimise the same objective,
# but they stop at tol on the gradient, and where the iterates depend on
# rounding-level differences between the two data layouts (Adam's moments,
# the rates of "lo"/"ps"/"so" on the non-convex networks, chosen by one
# Gauss-Newton step, a fixed step with Adam) they stop at points whose
# predictions differ by more. Every
# other configuration passes (most by a factor 1e3 or more), so an expected
# failure that passes fails the suite (strict): these marks cannot go stale
# silently. The few whose outcome depends on the BLAS kernel are in
# ROUNDING_DEPENDENT instead. scikit-learn marks these checks as expected
# failures of LogisticRegression for the same reason.
SAMPLE_WEIGHT_FAILURES = {
    ("SOLogisticRegression", "ps", "adam"): (DENSE, SPARSE),
    # The truncated Newton direction's conjugate gradients stop on a
    # forcing term, so the two fits' directions differ by more than
    # rounding; with "lo" and "ps" they stop at tol 1e-5 apart (relative).
    ("SOLogisticRegression", "lo", "newton-cg"): (DENSE, SPARSE),
    ("SOLogisticRegression", "ps", "newton-cg"): (DENSE, SPARSE),
    ("SOLogisticRegression", "so", "adam"): (SPARSE,),
    ("SOTwoLayerClassifier", "ls", "adam"): (DENSE, SPARSE),
    ("SOTwoLayerClassifier", "lo", "lbfgs"): (SPARSE,),
    ("SOTwoLayerClassifier", "ps", "gd"): (DENSE, SPARSE),
    ("SOTwoLayerClassifier", "ps", "lbfgs"): (DENSE, SPARSE),
    ("SOTwoLayerClassifier", "ps", "adam"): (DENSE, SPARSE),
    ("SOTwoLayerClassifier", "so", "gd"): (DENSE, SPARSE),
    ("SOTwoLayerClassifier", "so", "lbfgs"): (DENSE, SPARSE),
    ("SOTwoLayerClassifier", "so", "adam"): (DENSE, SPARSE),
    ("SOTwoLayerRegressor", "so", "lbfgs"): (DENSE, SPARSE),
    ("SOTwoLayerRegressor", "fixed", "adam"): (DENSE, SPARSE),
}


# The checks whose outcome depends on the BLAS kernel's rounding (measured:
# they fail with OpenBLAS's SkylakeX kernel and pass with its Haswell one, or
# the reverse): a failure there is expected, a pass is not an error.
ROUNDING_DEPENDENT = {
    ("SOLogisticRegression", "so", "adam"): (DENSE,),
    ("SOTwoLayerRegressor", "ps", "adam"): (DENSE,),
}


# A rounding-dependent check's mismatch must stay this small (relative) to
# count as expected; anything larger is a failure.
ROUNDING_MISMATCH = 1e-5
_RELATIVE = re.compile(r"Max relative difference among violations: ([0-9.e+-]+)")


def run_check(estimator, check):
    """Run a check; a small mismatch of a rounding-dependent one is an xfail."""
    key = (type(estimator).__name__, estimator.solver, estimator.direction)
    name = getattr(check, "func", check).__name__
    try:
        check(estimator)
    except AssertionError as error:
        found = _RELATIVE.search(str(error))
        if (
            name in ROUNDING_DEPENDENT.get(key, ())
            and found is not None
            and float(found.group(1)) < ROUNDING_MISMATCH
        ):
            pytest.xfail(
                "rounding-dependent: the weighted and repeated fits stop within "
                f"tol at iterates whose predictions differ by {found.group(1)} "
                "(relative), above rtol=1e-7"
            )
        raise


def expected_failed_checks(estimator):
    """Checks expected to fail, each with its reason."""
    key = (type(estimator).__name__, estimator.solver, estimator.direction)
    reason = (
        "the weighted and repeated fits stop within tol at iterates whose "
        "predictions differ by more than rtol=1e-7"
    )
    failed = {check: reason for check in SAMPLE_WEIGHT_FAILURES.get(key, ())}
    if (
        isinstance(estimator, SOLogisticRegression)
        and estimator.direction == "adam"
        and estimator.solver in ("ls", "ps", "so")
    ):
        # Run only with SCIPY_ARRAY_API=1. On float32 input the array API fit
        # runs in float32 and the numpy fit in float64: here they take a
        # different number of iterations, so learning_rates_ and
        # momentum_rates_ (one row per iteration) differ in shape.
        failed["check_array_api_input"] = (
            "float32 array API fits run in float32, numpy fits in float64: "
            "the per-iteration records differ in length"
        )
    return failed


@parametrize_with_checks(
    [
        SOLogisticRegression(solver=solver, direction=direction)
        for solver, direction in itertools.product(SOLVERS, LINEAR_DIRECTIONS)
    ],
    expected_failed_checks=expected_failed_checks,
    xfail_strict=True,
)
def test_sklearn_compatible(estimator, check):
    run_check(estimator, check)


@parametrize_with_checks(
    [
        # max_iter capped as scikit-learn caps MLP's own checks (at 100): the
        # checks fit dozens of small noisy problems that never meet tol. A
        # fixed step needs more iterations to fit check_regressors_train.
        Estimator(
            hidden_units=5,
            solver=solver,
            direction=direction,
            max_iter=500 if solver == "fixed" else 50,
            random_state=0,
        )
        for Estimator in (SOTwoLayerClassifier, SOTwoLayerRegressor)
        for solver, direction in itertools.product(SOLVERS, DIRECTIONS)
    ],
    expected_failed_checks=expected_failed_checks,
    xfail_strict=True,
)
def test_two_layer_sklearn_compatible(estimator, check):
    run_check(estimator, check)
