"""Fit SOLogisticRegression and LogisticRegression on the same objective.

Run with ``python examples/quickstart.py``. Both estimators minimise the same
regularised log-loss on the unscaled breast-cancer data, a badly conditioned
problem; the script prints the time, the iterations, the final objective and
the products with X that our estimator performed.
"""

import time
import warnings

import numpy as np
from sklearn.datasets import load_breast_cancer
from sklearn.exceptions import ConvergenceWarning
from sklearn.linear_model import LogisticRegression

from sklearn_so import SOLogisticRegression


def main():
    """Print one line per estimator."""
    X, y = load_breast_cancer(return_X_y=True)
    estimators = {
        "SOLogisticRegression()": SOLogisticRegression(),
        "LogisticRegression(lbfgs)": LogisticRegression(),
        "LogisticRegression(lbfgs, max_iter=10000)": LogisticRegression(
            max_iter=10_000
        ),
    }
    print(f"{'estimator':44s} {'time':>8s} {'iters':>6s} {'objective':>12s}  note")
    for name, estimator in estimators.items():
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always", ConvergenceWarning)
            start = time.perf_counter()
            estimator.fit(X, y)
            elapsed = time.perf_counter() - start
        # Both objectives divided by C * n_samples: mean log-loss + penalty.
        proba = estimator.predict_proba(X)[:, 1]
        log_loss = -(y * np.log(proba) + (1 - y) * np.log1p(-proba)).mean()
        value = log_loss + 0.5 * (estimator.coef_**2).sum() / len(y)
        notes = ["ConvergenceWarning"] if caught else []
        if hasattr(estimator, "n_products_"):
            notes.append(f"{estimator.n_products_} products with X")
        note = "; ".join(notes)
        print(
            f"{name:44s} {elapsed:7.3f}s {int(estimator.n_iter_[0]):6d} "
            f"{value:12.8f}  {note}"
        )


if __name__ == "__main__":
    main()
