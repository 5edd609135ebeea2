"""The time a fit took to reach a target objective.

An sklearn-so estimator records its objective after every iteration
(``loss_curve_``) and when its loop reached it (``loss_times_``, seconds
since the loop began). The time to a target is the stamp of the first
iteration at or below the target plus all of the fit's time outside its
loop (input validation, setup products, the final exact refresh): an upper
bound, never in our favour. A fit that records no iterations reaches a
target only if its final objective does, and then in its whole fit time.
"""

import numpy as np


def loop_seconds(loop_stamps):
    """Duration of a fit's loop: its last stamp, 0 if it recorded none.

    Parameters
    ----------
    loop_stamps : array-like of shape (n_iter,)
        Seconds since the loop began, after every iteration.

    Returns
    -------
    seconds : float
        The last stamp, or 0.0.
    """
    return float(loop_stamps[-1]) if len(loop_stamps) else 0.0


def fit_stamps(loop_stamps, fit_seconds):
    """Per-iteration times since ``fit`` began, from the loop's own stamps.

    Parameters
    ----------
    loop_stamps : array-like of shape (n_iter,)
        Seconds since the loop began, after every iteration.
    fit_seconds : float
        Wall time of the whole ``fit``.

    Returns
    -------
    stamps : ndarray of shape (n_iter,)
        Each loop stamp plus ``outside``.
    outside : float
        The fit's time outside its loop: ``fit_seconds`` minus
        :func:`loop_seconds`.
    """
    outside = fit_seconds - loop_seconds(loop_stamps)
    return np.asarray(loop_stamps, dtype=np.float64) + outside, outside


def first_reaching(curve, target):
    """Index of the first objective at or below ``target``.

    Parameters
    ----------
    curve : array-like of shape (n_iter,)
        Objective after every iteration.
    target : float
        Objective to reach.

    Returns
    -------
    index : int or None
        None if no iteration reached it.
    """
    reached = np.flatnonzero(np.asarray(curve) <= target)
    return int(reached[0]) if reached.size else None


def time_to_target(target, seconds, objective, curve=None, stamps=None):
    """Return the seconds a fit took to reach ``target``, None if it did not.

    Parameters
    ----------
    target : float
        Objective to reach.
    seconds : float
        Wall time of the whole fit.
    objective : float
        The fit's final objective.
    curve, stamps : array-like of shape (n_iter,) or None, default=None
        Objective after every iteration and the time since ``fit`` began at
        which it was reached (:func:`fit_stamps`); None (or empty) for a fit
        that records no iterations.

    Returns
    -------
    seconds : float or None
        ``stamps`` at the first iteration at or below ``target``; without a
        curve, ``seconds`` if ``objective`` is at or below it.
    """
    if curve is not None and len(curve):
        index = first_reaching(curve, target)
        return None if index is None else float(stamps[index])
    return seconds if objective <= target else None


def relative_gap(value, reference):
    """``(value - reference) / |reference|``: how far above a reference.

    Parameters
    ----------
    value, reference : float
        Objective values; ``reference`` is not zero.

    Returns
    -------
    gap : float
        Positive above the reference, negative below.
    """
    return (value - reference) / abs(reference)
