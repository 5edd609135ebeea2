"""Compatibility with the estimators ours replace: keywords, names, warnings.

A user who swaps ``LogisticRegression`` or ``MLPClassifier``/``MLPRegressor``
for ours keeps their keyword arguments. Those that have no counterpart here
fail at construction with a ``TypeError`` (what Python raises for an unknown
keyword) whose message names our equivalent; the solver names of the
estimators we replace fail parameter validation with a hint.

Warnings are attributed to the first frame outside this package,
scikit-learn and joblib, so they point at the user's line whether ``fit``
was called directly, through a Pipeline or through a search.
"""

import functools
import os
import sys

import joblib
import sklearn
from sklearn.utils._param_validation import (
    InvalidParameterError,
    validate_parameter_constraints,
)

_RATES_CHOSEN = (
    "the learning rate (and with solver='ps'/'so' the momentum rate) is chosen "
    "on every iteration by optimising the objective; solver='fixed' with "
    "learning_rate and momentum is the constant-rate equivalent"
)
_FULL_BATCH = "every iteration uses all the samples (full batch): there are no batches"
_ADAM_FIXED = (
    "direction='adam' uses Adam's direction with MLP's default beta_1=0.9, "
    "beta_2=0.999 and epsilon=1e-8 (not parameters), and its learning rate is "
    "chosen on every iteration"
)

MLP_KEYWORDS = {
    "hidden_layer_sizes": (
        "the network has one hidden layer: use hidden_units=r (or "
        "hidden_units=(r,)) for MLP's hidden_layer_sizes=(r,)"
    ),
    "learning_rate_init": _RATES_CHOSEN,
    "power_t": _RATES_CHOSEN,
    "nesterovs_momentum": _RATES_CHOSEN,
    "batch_size": _FULL_BATCH,
    "shuffle": _FULL_BATCH,
    "beta_1": _ADAM_FIXED,
    "beta_2": _ADAM_FIXED,
    "epsilon": _ADAM_FIXED,
    "max_fun": (
        "max_iter bounds the iterations; the objective evaluations of the rate "
        "search cost no product with X and are not bounded apart"
    ),
}
MLP_REGRESSOR_KEYWORDS = {
    **MLP_KEYWORDS,
    "loss": "the loss is the squared error (MLPRegressor's default); "
    "there is no Poisson loss",
}
LOGISTIC_KEYWORDS = {
    "dual": "the primal problem is solved (dual=True exists for liblinear only)",
    "intercept_scaling": (
        "the intercept is not penalised (as with LogisticRegression's lbfgs), "
        "so it needs no scaling"
    ),
    "n_jobs": (
        "LogisticRegression's n_jobs has had no effect since scikit-learn 1.8; "
        "BLAS threads are set with threadpoolctl"
    ),
}

# Solver names of the estimators we replace: our `solver` chooses how the
# rates are found and `direction` the search direction.
FOREIGN_SOLVERS = {
    "lbfgs": "direction='lbfgs' (the default)",
    "adam": "direction='adam'",
    "sgd": "direction='gd' (full batch)",
    "newton-cg": "direction='lbfgs' (the default)",
    "newton-cholesky": "direction='lbfgs' (the default)",
    "liblinear": "direction='lbfgs' (the default)",
    "sag": "direction='lbfgs' (the default)",
    "saga": "direction='lbfgs' (the default)",
}
# Where the estimator has the Newton directions (SOLogisticRegression), the
# Newton solvers have their own equivalents.
NEWTON_SOLVERS = {
    "newton-cg": "direction='newton-cg'",
    "newton-cholesky": "direction='newton' (exact Hessian, solved by Cholesky)",
}
# MLP's learning-rate schedules, a string where ours is a float.
FOREIGN_LEARNING_RATES = {"constant", "invscaling", "adaptive"}


def refuse_keywords(init):
    """Decorate ``__init__`` to refuse the replaced estimator's keywords we lack.

    The class names them in ``_foreign_keywords`` (keyword to explanation)
    and the estimator they come from in ``_replaces``. The wrapper keeps the
    decorated signature (``functools.wraps`` sets ``__wrapped__``, which
    ``inspect.signature`` follows), so ``get_params``, ``clone`` and
    scikit-learn's estimator checks see exactly our parameters; only a call
    with one of those keywords fails, with a ``TypeError`` (what Python
    raises for any unknown keyword) that says why and what to use instead.
    scikit-learn estimators cannot take ``**kwargs`` themselves: the
    estimator checks build them from their signature.
    """

    @functools.wraps(init)
    def __init__(self, *args, **kwargs):
        refused, replaced = type(self)._foreign_keywords, type(self)._replaces
        foreign = [name for name in kwargs if name in refused]
        if foreign:
            if len(foreign) == 1:
                details = refused[foreign[0]]
            else:
                details = "; ".join(f"{name}: {refused[name]}" for name in foreign)
            raise TypeError(
                f"{type(self).__name__} does not take {replaced}'s keyword "
                f"argument{'s' if len(foreign) > 1 else ''} "
                f"{', '.join(map(repr, foreign))}: {details}."
            )
        init(self, *args, **kwargs)

    return __init__


class ForeignValuesMixin:
    """Parameter validation that recognises the replaced estimators' values.

    ``solver="adam"`` or ``learning_rate="adaptive"`` are valid for MLP and
    ``solver="saga"`` for LogisticRegression; here they fail validation with
    the same ``InvalidParameterError`` as any invalid value, plus the name of
    our equivalent.
    """

    def _validate_params(self):
        # The attributes directly: get_params inspects the signature, which
        # costs as much as a small fit's iteration.
        solver = getattr(self, "solver", None)
        if isinstance(solver, str) and solver in FOREIGN_SOLVERS:
            raise InvalidParameterError(
                f"The 'solver' parameter of {type(self).__name__} must be a str "
                f"among {{'ls', 'lo', 'ps', 'so', 'fixed'}}. Got {solver!r} "
                f"instead. Here `solver` chooses how the rates are found on every "
                f"iteration and `direction` the search direction: for "
                f"solver={solver!r} use {_solver_hint(self, solver)}."
            )
        rate = getattr(self, "learning_rate", None)
        if isinstance(rate, str) and rate in FOREIGN_LEARNING_RATES:
            raise InvalidParameterError(
                f"The 'learning_rate' parameter of {type(self).__name__} must be a "
                f"float in the range (0, inf). Got {rate!r} instead: MLP's "
                f"learning-rate schedules have no equivalent, {_RATES_CHOSEN}."
            )
        params = {name: getattr(self, name) for name in _param_names(type(self))}
        key = _validated_key(type(self), params)
        if key in _VALIDATED:
            return
        # scikit-learn's BaseEstimator._validate_params, with the parameters
        # read as get_params(deep=False) reads them, without its signature
        # inspection.
        validate_parameter_constraints(
            self._parameter_constraints, params, caller_name=type(self).__name__
        )
        if key is not None:
            if len(_VALIDATED) >= _MAX_VALIDATED:
                _VALIDATED.clear()
            _VALIDATED.add(key)


# Parameter sets that passed validation, per class. Checking the constraints
# costs about as much as a small fit's iteration and depends on the values
# alone; only values of these exact (immutable) types are remembered.
_VALIDATED = set()
_MAX_VALIDATED = 256
_REMEMBERED_TYPES = (str, int, float, bool, type(None))


def _solver_hint(estimator, solver):
    """What to use instead of the replaced estimator's ``solver``."""
    directions = estimator._parameter_constraints.get("direction", [])
    options = set().union(*(getattr(c, "options", set()) for c in directions))
    if solver in NEWTON_SOLVERS and "newton" in options:
        return NEWTON_SOLVERS[solver]
    return FOREIGN_SOLVERS[solver]


@functools.cache
def _param_names(cls):
    """The constructor's parameter names, as ``get_params`` lists them."""
    return tuple(cls._get_param_names())


def _validated_key(cls, params):
    """A hashable record of a parameter set, or None when it holds other types."""
    key = [cls]
    for name, value in params.items():
        if type(value) not in _REMEMBERED_TYPES:
            return None
        # The type too: 1, 1.0 and True are equal but not equally valid.
        key.append((name, type(value), value))
    return tuple(key)


# joblib runs the fits of scikit-learn's searches and cross-validation.
_INTERNAL = tuple(
    os.path.dirname(os.path.abspath(module.__file__)) + os.sep
    for module in (sys.modules[__package__], sklearn, joblib)
)


def external_stacklevel():
    """The ``stacklevel`` that attributes a warning to the user's code.

    Call it in the function that calls ``warnings.warn``: level 1 is that
    function, and each level up is one frame further out. Frames in this
    package, in scikit-learn (its ``_fit_context`` wrapper, a Pipeline, a
    search) and in joblib (which runs a search's fits) are skipped, so the
    warning points at the first frame outside them -- the caller's line.
    ``warnings.warn``'s ``skip_file_prefixes`` does this on Python >= 3.12
    only. If every frame is internal (a fit in a joblib worker process), the
    outermost one is used.

    Returns
    -------
    stacklevel : int
    """
    frame = sys._getframe(1)
    level = 1
    while frame.f_back is not None and os.path.abspath(
        frame.f_code.co_filename
    ).startswith(_INTERNAL):
        frame = frame.f_back
        level += 1
    return level
