"""
=========================================
Grid search over the solver in a pipeline
=========================================

The estimators are ordinary scikit-learn estimators: they fit in a
:class:`~sklearn.pipeline.Pipeline` behind a
:class:`~sklearn.preprocessing.StandardScaler`, and
:class:`~sklearn.model_selection.GridSearchCV` can tune their parameters,
``solver`` and ``direction`` included.

Every solver and direction minimises the same objective, so they are speed
settings: the cross-validated scores agree wherever the fits converged, and
the search really compares fit times. ``C`` is the parameter that changes the
model.
"""

# %%
# The search
# ----------
import warnings

import matplotlib.pyplot as plt
import numpy as np
from sklearn.datasets import load_breast_cancer
from sklearn.exceptions import ConvergenceWarning
from sklearn.model_selection import GridSearchCV, train_test_split
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import StandardScaler

from sklearn_so import SOLogisticRegression

X, y = load_breast_cancer(return_X_y=True)
X_train, X_test, y_train, y_test = train_test_split(X, y, random_state=0)

pipeline = Pipeline(
    [("scale", StandardScaler()), ("clf", SOLogisticRegression(max_iter=300))]
)
param_grid = {
    "clf__solver": ["ls", "so", "fixed"],
    "clf__direction": ["lbfgs", "gd"],
    "clf__C": [0.1, 1.0],
}


def fastest_of_the_best(cv_results):
    """Index of the fastest configuration among those with the best score.

    The solvers tie on score, and GridSearchCV would keep the first of the
    tied configurations in grid order; this picks by mean fit time instead.
    """
    scores = cv_results["mean_test_score"]
    best = np.flatnonzero(np.isclose(scores, scores.max()))
    return best[np.argmin(cv_results["mean_fit_time"][best])]


search = GridSearchCV(pipeline, param_grid, cv=5, refit=fastest_of_the_best)
# "fixed" with the gradient direction does not converge in 300 iterations:
# its ConvergenceWarning is expected here.
with warnings.catch_warnings():
    warnings.simplefilter("ignore", ConvergenceWarning)
    search.fit(X_train, y_train)

print("best parameters:", search.best_params_)
print(
    f"test accuracy of the refitted best pipeline: {search.score(X_test, y_test):.3f}"
)

# %%
# Scores and fit times
# --------------------
# For each ``C``, the converged configurations have the same score; the fit
# times show what the solver and direction change.
results = search.cv_results_
print(f"{'solver/direction':18s} {'C':>5s} {'mean score':>11s} {'fit [ms]':>9s}")
for params, score, fit_time in zip(
    results["params"],
    results["mean_test_score"],
    results["mean_fit_time"],
    strict=True,
):
    name = f"{params['clf__solver']}/{params['clf__direction']}"
    print(f"{name:18s} {params['clf__C']:5g} {score:11.4f} {1e3 * fit_time:9.2f}")

# %%
# The mean fit time of each configuration, for ``C=1``.
chosen = np.array([params["clf__C"] == 1.0 for params in results["params"]])
labels = [
    f"{params['clf__solver']}/{params['clf__direction']}"
    for params, keep in zip(results["params"], chosen, strict=True)
    if keep
]
fig, ax = plt.subplots(figsize=(7, 3.5))
ax.barh(labels, 1e3 * results["mean_fit_time"][chosen])
ax.set_xlabel("mean fit time over the 5 folds [ms]")
ax.set_title("SOLogisticRegression(C=1) in a pipeline, by solver/direction")
fig.tight_layout()
plt.show()
