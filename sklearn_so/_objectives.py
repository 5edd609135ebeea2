"""The objectives every estimator is compared on, computed from coefficients.

Independent of the optimiser's own bookkeeping: these functions only read
the fitted coefficients, so they evaluate scikit-learn's estimators and ours
the same way (the demo and the benchmarks compare on them).
"""

import numpy as np
from scipy.special import logsumexp
from sklearn.base import is_classifier
from sklearn.metrics import log_loss


def logistic_objective(estimator, X, y, C=1.0):
    """LogisticRegression's objective divided by ``C * n_samples``.

    Parameters
    ----------
    estimator : fitted linear classifier
        Has ``coef_`` of shape (1, d) or (n_classes, d), ``intercept_`` and
        ``classes_``.
    X : {ndarray, sparse matrix} of shape (n_samples, n_features)
        Training data.
    y : array-like of shape (n_samples,)
        Training labels.
    C : float, default=1.0
        Inverse regularisation strength of the fit.

    Returns
    -------
    value : float
        ``mean_i loss_i + ||W||^2 / (2 C n)``, with the binary loss
        ``log(1 + exp(z)) - y z`` or the multinomial ``logsumexp(z) - z_y``
        (the intercept is not penalised), as ``SOLogisticRegression.loss_``.
    """
    coef = np.asarray(estimator.coef_, dtype=np.float64)
    raw = np.asarray(X @ coef.T) + estimator.intercept_
    index = np.searchsorted(estimator.classes_, y)
    n = raw.shape[0]
    if coef.shape[0] == 1:
        z = raw[:, 0]
        losses = np.logaddexp(0.0, z) - index * z
    else:
        losses = logsumexp(raw, axis=1) - raw[np.arange(n), index]
    return float(losses.mean() + np.sum(coef**2) / (2.0 * C * n))


def network_objective(estimator, X, y):
    """MLPClassifier's or MLPRegressor's objective, from the weights.

    Parameters
    ----------
    estimator : fitted network
        MLPClassifier, MLPRegressor or an SOTwoLayer* estimator: has
        ``coefs_``, ``intercepts_`` and ``alpha``.
    X : {ndarray, sparse matrix} of shape (n_samples, n_features)
        Training data.
    y : array-like of shape (n_samples,) or (n_samples, n_outputs)
        Training targets.

    Returns
    -------
    value : float
        ``log_loss(y, predict_proba(X))`` (classification) or half the mean
        squared error over samples and outputs (regression), plus
        ``alpha / (2 n) * sum ||W||^2`` over the weight matrices: the value
        both MLP estimators report as ``loss_``.
    """
    n = X.shape[0]
    penalty = sum(float(np.sum(coef**2)) for coef in estimator.coefs_)
    penalty *= estimator.alpha / (2.0 * n)
    if is_classifier(estimator):
        loss = log_loss(y, estimator.predict_proba(X), labels=estimator.classes_)
    else:
        y = np.asarray(y, dtype=np.float64).reshape(n, -1)
        loss = 0.5 * float(np.mean((estimator.predict(X).reshape(n, -1) - y) ** 2))
    return float(loss + penalty)
