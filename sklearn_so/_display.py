"""ConvergenceDisplay: a fit's objective and the rates it chose, per iteration."""

import numpy as np
from sklearn.pipeline import Pipeline
from sklearn.utils.validation import check_is_fitted

from ._namespace import to_host

X_OPTIONS = ("iteration", "time")
Y_OPTIONS = ("objective", "suboptimality")
# What a fitted sklearn-so estimator records per iteration.
RECORDS = ("loss_curve_", "learning_rates_", "momentum_rates_", "loss_times_")


def _require_matplotlib(caller):
    """Raise an ImportError naming ``caller`` and the extra if matplotlib is missing.

    Our own check rather than scikit-learn's private helper, whose location
    is not part of its API.
    """
    try:
        import matplotlib  # noqa: F401
    except ImportError as error:
        raise ImportError(
            f"{caller} requires matplotlib. Install it with "
            '`pip install "sklearn-so[plot]"` or `pip install matplotlib`.'
        ) from error


class ConvergenceDisplay:
    """Convergence plot of an sklearn-so fit: objective and chosen rates.

    Draws two panels: the training objective after every iteration, over
    iterations or over wall-clock time, and the learning rate and momentum
    rate chosen on every iteration, one line per rate and layer (solid for
    learning rates, dashed for momentum rates, one colour per layer).

    It is recommended to create one with :meth:`from_estimator`. All
    parameters are stored as attributes.

    Parameters
    ----------
    loss_curve : array-like of shape (n_iter,)
        The objective after every iteration (an estimator's ``loss_curve_``).
    learning_rates : array-like of shape (n_iter, n_layers)
        The learning rate chosen on every iteration for each layer (a
        one-dimensional array means one layer).
    momentum_rates : array-like of shape (n_iter, n_layers)
        The momentum rate chosen on every iteration for each layer.
    loss_times : array-like of shape (n_iter,), default=None
        Seconds elapsed since the first iteration began, after every
        iteration (an estimator's ``loss_times_``); needed for
        ``x="time"``.
    estimator_name : str, default=None
        Label of the objective's line (shown in a legend); no label and no
        legend if None.

    Attributes
    ----------
    objective_line_ : matplotlib Line2D
        The objective (or suboptimality) line.
    learning_rate_lines_ : list of matplotlib Line2D
        One learning-rate line per layer.
    momentum_rate_lines_ : list of matplotlib Line2D
        One momentum-rate line per layer.
    axes_ : ndarray of two matplotlib Axes
        The objective's axes, then the rates' axes.
    figure_ : matplotlib Figure
        The figure holding the axes.

    See Also
    --------
    sklearn.model_selection.LearningCurveDisplay : The same display style
        for learning curves.

    Notes
    -----
    The rates' axes is linear; rates spanning orders of magnitude read
    better after ``display.axes_[1].set_yscale("symlog")`` (a momentum rate
    can be zero or negative, which a log scale cannot show).

    Examples
    --------
    >>> import matplotlib.pyplot as plt
    >>> from sklearn.datasets import load_iris
    >>> from sklearn_so import ConvergenceDisplay, SOTwoLayerClassifier
    >>> X, y = load_iris(return_X_y=True)
    >>> clf = SOTwoLayerClassifier(hidden_units=10, tol=1e-3, random_state=0)
    >>> clf = clf.fit(X, y)
    >>> display = ConvergenceDisplay.from_estimator(clf, x="time")
    >>> [line.get_label() for line in display.learning_rate_lines_]
    ['learning rate, layer 1', 'learning rate, layer 2']
    >>> plt.close(display.figure_)
    """

    def __init__(
        self,
        *,
        loss_curve,
        learning_rates,
        momentum_rates,
        loss_times=None,
        estimator_name=None,
    ):
        self.loss_curve = np.asarray(loss_curve, dtype=np.float64)
        self.learning_rates = _as_columns(learning_rates)
        self.momentum_rates = _as_columns(momentum_rates)
        self.loss_times = (
            None if loss_times is None else np.asarray(loss_times, dtype=np.float64)
        )
        self.estimator_name = estimator_name

    def plot(self, ax=None, *, x="iteration", y="objective"):
        """Draw the objective and the rates.

        Parameters
        ----------
        ax : array-like of two matplotlib Axes, default=None
            Where to draw the objective and the rates; a new figure with two
            side-by-side axes if None.
        x : {"iteration", "time"}, default="iteration"
            The horizontal axis: the iteration number (1 for the first), or
            the seconds elapsed since the first iteration began.
        y : {"objective", "suboptimality"}, default="objective"
            The objective itself, on a linear scale, or the objective minus
            the best (lowest) objective recorded, on a log scale. The best
            iterate's suboptimality is 0, which a log scale cannot show: it
            is left out of the line. For a convex fit run to convergence
            (logistic regression) the suboptimality shows the convergence
            rate; for a network the best recorded objective is only the
            lowest one this fit reached.

        Returns
        -------
        display : ConvergenceDisplay
            Object that stores the computed values.
        """
        if x not in X_OPTIONS:
            raise ValueError(f"x must be one of {X_OPTIONS}, got {x!r}.")
        if y not in Y_OPTIONS:
            raise ValueError(f"y must be one of {Y_OPTIONS}, got {y!r}.")
        if x == "time" and self.loss_times is None:
            raise ValueError(
                "x='time' needs the per-iteration timestamps: pass loss_times "
                "(an sklearn-so estimator's loss_times_)."
            )
        _require_matplotlib(f"{type(self).__name__}.plot")
        import matplotlib.pyplot as plt

        if ax is None:
            _, ax = plt.subplots(1, 2, figsize=(10, 4), layout="constrained")
        axes = np.asarray(ax, dtype=object).ravel()
        if axes.size != 2:
            raise ValueError(
                f"ax must hold 2 axes (objective, rates), got {axes.size}."
            )
        ax_objective, ax_rates = axes

        if x == "time":
            x_values, x_label = self.loss_times, "time since the first iteration [s]"
        else:
            x_values, x_label = np.arange(1, len(self.loss_curve) + 1), "iteration"

        if y == "suboptimality":
            values = self.loss_curve - np.min(self.loss_curve, initial=np.inf)
            values[values <= 0] = np.nan
            y_label, y_scale = "objective - best objective", "log"
        else:
            values, y_label, y_scale = self.loss_curve, "objective", "linear"
        (self.objective_line_,) = ax_objective.plot(
            x_values, values, label=self.estimator_name
        )
        ax_objective.set(xlabel=x_label, ylabel=y_label, yscale=y_scale)
        if self.estimator_name is not None:
            ax_objective.legend()

        n_layers = self.learning_rates.shape[1]
        self.learning_rate_lines_, self.momentum_rate_lines_ = [], []
        for layer in range(n_layers):
            suffix = f", layer {layer + 1}" if n_layers > 1 else ""
            color = f"C{layer}"
            (learning,) = ax_rates.plot(
                x_values,
                self.learning_rates[:, layer],
                color=color,
                label=f"learning rate{suffix}",
            )
            (momentum,) = ax_rates.plot(
                x_values,
                self.momentum_rates[:, layer],
                color=color,
                linestyle="--",
                label=f"momentum rate{suffix}",
            )
            self.learning_rate_lines_.append(learning)
            self.momentum_rate_lines_.append(momentum)
        ax_rates.set(xlabel=x_label, ylabel="rate chosen")
        ax_rates.legend()

        self.axes_ = axes
        self.figure_ = ax_objective.figure
        return self

    @classmethod
    def from_estimator(cls, estimator, *, x="iteration", y="objective", ax=None):
        """Plot the convergence of a fitted sklearn-so estimator.

        Parameters
        ----------
        estimator : estimator instance
            A fitted :class:`~sklearn_so.SOLogisticRegression`,
            :class:`~sklearn_so.SOTwoLayerClassifier` or
            :class:`~sklearn_so.SOTwoLayerRegressor`, or a fitted
            :class:`~sklearn.pipeline.Pipeline` whose last step is one.
        x : {"iteration", "time"}, default="iteration"
            The horizontal axis: iterations, or the estimator's
            ``loss_times_`` (seconds since the first iteration began).
        y : {"objective", "suboptimality"}, default="objective"
            The objective (``loss_curve_``) itself, or its distance to the
            best one recorded on a log scale; see :meth:`plot`.
        ax : array-like of two matplotlib Axes, default=None
            Where to draw; a new figure if None.

        Returns
        -------
        display : ConvergenceDisplay
            Object that stores the computed values.
        """
        _require_matplotlib(f"{cls.__name__}.from_estimator")
        if isinstance(estimator, Pipeline):
            estimator = estimator[-1]
        check_is_fitted(estimator)
        missing = [name for name in RECORDS if not hasattr(estimator, name)]
        if missing:
            raise ValueError(
                f"{cls.__name__} needs a fitted sklearn-so estimator; "
                f"{type(estimator).__name__} has no {', '.join(missing)}."
            )
        return cls(
            loss_curve=estimator.loss_curve_,
            learning_rates=estimator.learning_rates_,
            momentum_rates=estimator.momentum_rates_,
            loss_times=estimator.loss_times_,
            estimator_name=type(estimator).__name__,
        ).plot(ax=ax, x=x, y=y)


def _as_columns(rates):
    """Rates as an (n_iter, n_layers) float array (1-D: one layer)."""
    if hasattr(rates, "__array_namespace__") and not isinstance(rates, np.ndarray):
        rates = to_host(rates)  # fitted on another array library's device
    rates = np.asarray(rates, dtype=np.float64)
    return rates[:, None] if rates.ndim == 1 else rates
