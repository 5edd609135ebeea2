"""What is fitted, and one timed fit.

A :class:`Candidate` is an estimator to time under the label the tables
show; :func:`timed_fit` times ``fit`` alone and keeps the warnings it
raised; :func:`check_loss_attribute` makes sure an sklearn-so estimator's
own ``loss_`` is the objective every estimator is compared on, so a change
of objective cannot silently make a comparison unfair.
"""

import time
import warnings
from dataclasses import dataclass

import numpy as np
from sklearn.base import clone
from threadpoolctl import threadpool_limits

# How far an sklearn-so estimator's ``loss_`` may be from the objective
# recomputed from its coefficients: both evaluate the same sums, in another
# order, so only rounding separates them.
LOSS_RTOL = 1e-9


def is_ours(estimator):
    """Whether ``estimator`` is an sklearn-so estimator.

    Parameters
    ----------
    estimator : object
        Any estimator.

    Returns
    -------
    ours : bool
        True if its class comes from the ``sklearn_so`` package.
    """
    return type(estimator).__module__.split(".")[0] == "sklearn_so"


def config_label(estimator):
    """The benchmarks' label of an sklearn-so configuration, e.g. "SO ls/lbfgs".

    Parameters
    ----------
    estimator : sklearn-so estimator
        Has ``solver`` and ``direction`` parameters.

    Returns
    -------
    label : str
        ``"SO <solver>/<direction>"``.
    """
    params = estimator.get_params()
    return f"SO {params['solver']}/{params['direction']}"


@dataclass
class Candidate:
    """One estimator to fit and time.

    Parameters
    ----------
    label : str
        Name in the tables.
    estimator : estimator
        Unfitted estimator (a template when fitted through :meth:`fresh`).
    """

    label: str
    estimator: object

    @property
    def ours(self):
        """Whether it is an sklearn-so estimator (it records its iterations)."""
        return is_ours(self.estimator)

    @property
    def library(self):
        """``"sklearn_so"`` or ``"sklearn"``, as the CSV files name it."""
        return "sklearn_so" if self.ours else "sklearn"

    def fresh(self, **params):
        """An unfitted copy of the estimator with ``params`` set.

        Parameters
        ----------
        **params
            Parameters to change, e.g. ``tol``.

        Returns
        -------
        estimator : estimator
            Unfitted; the template itself is left unchanged.
        """
        return clone(self.estimator).set_params(**params)


def limit_threads(threads):
    """Limit the BLAS and OpenMP threads, of every fit alike.

    Parameters
    ----------
    threads : int or None
        Threads per library; 0 or None leaves the libraries' defaults.

    Returns
    -------
    limiter : threadpoolctl.threadpool_limits
        The limit is in force from the call on (a script calls this once);
        used as a context manager, it is lifted on exit.
    """
    return threadpool_limits(limits=threads or None)


def timed_fit(estimator, X, y, record=Warning):
    """Fit ``estimator``, timing ``fit`` alone, and collect its warnings.

    Parameters
    ----------
    estimator : estimator
        Unfitted estimator; fitted in place.
    X, y : array-like
        Training data.
    record : type of Warning, default=Warning
        Category of the warnings to return, every one of them (not only the
        first of each place); warnings of other categories are issued again
        after the fit, as if it had not been watched.

    Returns
    -------
    seconds : float
        Wall time of ``estimator.fit(X, y)``.
    caught : list of warnings.WarningMessage
        The warnings of category ``record`` that the fit raised.
    """
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", record)
        start = time.perf_counter()
        estimator.fit(X, y)
        seconds = time.perf_counter() - start
    for w in caught:
        if not issubclass(w.category, record):
            warnings.warn_explicit(w.message, w.category, w.filename, w.lineno)
    return seconds, [w for w in caught if issubclass(w.category, record)]


def n_iterations(estimator):
    """Return the iterations of a fitted estimator (``n_iter_`` may be an array).

    Parameters
    ----------
    estimator : fitted estimator
        Has ``n_iter_``.

    Returns
    -------
    n_iter : int
        The largest entry of ``n_iter_``.
    """
    return int(np.max(estimator.n_iter_))


class ObjectiveMismatch(SystemExit):
    """An estimator's ``loss_`` is not the objective it is compared on.

    A SystemExit: the benchmark scripts stop with this one-line message and
    no traceback, since every number they would go on to measure would
    compare something else.
    """


def check_loss_attribute(estimator, value, label):
    """Stop if an sklearn-so estimator's ``loss_`` is not ``value``.

    Other estimators are not checked: scikit-learn's ``loss_`` need not be
    the common objective (MLP adam reports it before its last update).

    Parameters
    ----------
    estimator : fitted estimator
        An sklearn-so estimator is checked, any other passes.
    value : float
        The common objective of that estimator, from its coefficients.
    label : str
        Where the fit came from, for the error message.

    Raises
    ------
    ObjectiveMismatch
        If ``loss_`` and ``value`` differ by more than ``LOSS_RTOL``
        (relative).
    """
    if not is_ours(estimator):
        return
    if not np.isclose(estimator.loss_, value, rtol=LOSS_RTOL, atol=0.0):
        raise ObjectiveMismatch(
            f"{label}: {type(estimator).__name__}.loss_ = {estimator.loss_!r} but "
            f"the benchmark's objective is {value!r} (rtol {LOSS_RTOL:g}); the "
            "benchmark would measure something else."
        )
