"""What every sklearn-so estimator shares: solver parameters and fit results."""

import warnings
from numbers import Integral, Real

import numpy as np
from scipy.special import expit, softmax
from sklearn.callback import CallbackSupportMixin
from sklearn.exceptions import ConvergenceWarning
from sklearn.utils._param_validation import Interval, StrOptions

from ._callbacks import FitTask
from ._compat import external_stacklevel
from ._directions import DIRECTIONS, LINEAR_DIRECTIONS, make_direction
from ._engine import make_engine
from ._namespace import n_bytes, namespace
from ._optimizer import SubspaceSolver
from ._strategies import SOLVERS, make_strategy

# memory="auto": this many L-BFGS pairs, unless they would take more than
# AUTO_MEMORY_BUDGET (the larger of a quarter of X's size and 32 MiB), but
# never fewer than AUTO_MEMORY_MIN. With the compact L-BFGS representation
# 100 pairs cost little more per iteration than 10 on the logistic model, and
# took 1.06-1.86x fewer iterations with L-BFGS on the raw digits, breast
# cancer and wine data and the dense 50,000 x 500 set
# (benchmarks/results/memory.md).
AUTO_MEMORY = 100
AUTO_MEMORY_MIN = 10
AUTO_MEMORY_BUDGET = (0.25, 32 * 2**20)

SOLVER_PARAMETER_CONSTRAINTS = {
    "solver": [StrOptions(set(SOLVERS))],
    "direction": [StrOptions(set(DIRECTIONS))],
    "max_iter": [Interval(Integral, 0, None, closed="left")],
    "tol": [Interval(Real, 0, None, closed="left")],
    "memory": [Interval(Integral, 1, None, closed="left"), StrOptions({"auto"})],
    "memory_directions": [Interval(Integral, 0, None, closed="left")],
    "learning_rate": [Interval(Real, 0, None, closed="neither")],
    "momentum": [Interval(Real, 0, 1, closed="left")],
    "warm_start": ["boolean"],
    "verbose": ["verbose"],
}
# The linear model also takes the directions that need its exact Hessian.
LINEAR_SOLVER_PARAMETER_CONSTRAINTS = {
    **SOLVER_PARAMETER_CONSTRAINTS,
    "direction": [StrOptions(set(LINEAR_DIRECTIONS))],
}


def resolve_memory(memory, X, n_params):
    """The number of L-BFGS pairs for the ``memory`` parameter.

    Parameters
    ----------
    memory : int or "auto"
        The parameter's value.
    X : ndarray or sparse matrix
        The training matrix, whose size sets the budget of "auto".
    n_params : int
        Length of the parameter vector; a pair holds two such vectors.

    Returns
    -------
    int
    """
    if memory != "auto":
        return int(memory)
    x_bytes = n_bytes(X)
    fraction, floor = AUTO_MEMORY_BUDGET
    affordable = int(max(fraction * x_bytes, floor) // (16 * n_params))
    return max(AUTO_MEMORY_MIN, min(AUTO_MEMORY, affordable))


class SubspaceOptimizerMixin(CallbackSupportMixin):
    """Runs the shared outer loop and stores what it reports.

    Sets the attributes every estimator shares (``loss_``, ``loss_curve_``,
    ``loss_times_``, the rates, the product counts, ``stop_reason_``); the
    estimator sets the model-specific ones (``coef_``, ``coefs_``,
    ``n_iter_``...).

    Reports to scikit-learn's callbacks (``set_callbacks``): the estimator
    opens the fit task with :meth:`_begin_fit_task`, passes it to
    :meth:`_run_optimizer` with a function turning parameters into fitted
    attributes, and ends it once fitted.
    """

    def _begin_fit_task(self, X, y, sample_weight=None):
        """Open the fit-level callback task (hooks run only if callbacks are set).

        Call it once the data are validated and before the optimiser runs;
        call the returned task's ``end()`` once the fitted attributes are set.
        """
        return FitTask(self, X, y, sample_weight, max_subtasks=self.max_iter)

    def _run_optimizer(
        self, model, X, theta0, monitor=None, *, task, reconstruct, direction=None
    ):
        """Minimise ``model``'s objective on X from ``theta0``.

        ``monitor`` (early stopping) is called after every iteration and may
        stop the fit and choose the returned parameters. ``task`` (from
        :meth:`_begin_fit_task`) reports every iteration to the callbacks,
        which may stop the fit too, with the fitted attributes
        ``reconstruct(theta)``. ``direction`` is the direction to take
        (``direction="auto"`` resolved); None for the ``direction``
        parameter. Returns the optimiser's result after warning
        if the fit stopped for any reason but the gradient criterion, the
        monitor or a callback.
        """
        hooks = monitor
        if task.has_callbacks:
            hooks = task.iteration_hooks(reconstruct, monitor)
        self.memory_ = resolve_memory(self.memory, X, model.n_params)
        direction = self.direction if direction is None else direction
        solver = SubspaceSolver(
            model,
            make_engine(X),
            make_strategy(
                self.solver,
                direction,
                memory_directions=self.memory_directions,
                learning_rate=self.learning_rate,
                momentum=self.momentum,
                inner_options=model.inner_options,
            ),
            make_direction(direction, self.memory_),
            max_iter=self.max_iter,
            tol=self.tol,
            verbose=self.verbose,
            on_iteration=hooks,
            on_iteration_begin=getattr(hooks, "begin", None),
            choose_final=None if monitor is None else monitor.choose_final,
        )
        try:
            # Overflow and invalid operations are detected and reported by
            # the solver (a ValueError at the start, a stop with the best
            # finite iterate later); numpy's own warnings would only repeat
            # them from inside the package.
            with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
                result = solver.solve(theta0)
        finally:
            # Even when the loop raises, every iteration subtask a callback
            # saw begin gets its end.
            if hooks is not None and hooks is not monitor:
                hooks.close()
        stopped = hooks is not None and hooks.stopped
        if not result.converged and not stopped:
            warnings.warn(
                f"{type(self).__name__} did not converge: {result.stop_reason} "
                f"(solver={self.solver!r}, direction={direction!r}, "
                f"final max|gradient| {result.grad_max:.3g}, tol={self.tol:g}).",
                ConvergenceWarning,
                stacklevel=external_stacklevel(),
            )
        n_blocks = len(model.blocks)
        self.loss_ = float(result.value)
        self.loss_curve_ = list(result.loss_curve)
        self.loss_times_ = list(result.times)
        self.learning_rates_ = np.array(result.learning_rates).reshape(-1, n_blocks)
        self.momentum_rates_ = np.array(result.momentum_rates).reshape(-1, n_blocks)
        self.n_products_ = result.n_products
        self.product_counts_ = dict(result.product_counts)
        self.stop_reason_ = result.stop_reason
        if result.round_trips:
            self.round_trips_ = dict(result.round_trips)
        return result


class LogitProbabilityMixin:
    """Probabilities from ``decision_function``'s logits.

    One logit (binary problems) goes through the logistic function, several
    through the softmax, as LogisticRegression and MLPClassifier do.
    """

    def predict_proba(self, X):
        """Class probabilities.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
            Samples.

        Returns
        -------
        proba : ndarray of shape (n_samples, n_classes)
            Probabilities in the order of ``classes_``.
        """
        scores = self.decision_function(X)
        xp = namespace(scores)
        if xp is not np:
            # Another array library (array_api_dispatch): in its namespace.
            if scores.ndim == 1:
                positive = 1.0 / (1.0 + xp.exp(-scores))
                return xp.stack([1.0 - positive, positive], axis=1)
            exp = xp.exp(scores - xp.max(scores, axis=1, keepdims=True))
            return exp / xp.sum(exp, axis=1, keepdims=True)
        if scores.ndim == 1:
            positive = expit(scores)
            return np.column_stack([1.0 - positive, positive])
        return softmax(scores, axis=1)

    def predict_log_proba(self, X):
        """Logarithm of the class probabilities.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
            Samples.

        Returns
        -------
        log_proba : ndarray of shape (n_samples, n_classes)
            ``log(predict_proba(X))``, as scikit-learn's classifiers define it
            (so a probability that underflows to 0 gives ``-inf``).
        """
        proba = self.predict_proba(X)
        if namespace(proba) is not np:
            return namespace(proba).log(proba)
        with np.errstate(divide="ignore"):
            return np.log(proba)
