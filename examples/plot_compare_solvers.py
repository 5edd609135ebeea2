"""
================================
Comparing the solvers on one fit
================================

Every ``solver`` of :class:`~sklearn_so.SOLogisticRegression` minimises the
same objective; they differ in how each iteration chooses its step. Here
they are fitted on one multinomial problem with the L-BFGS and the gradient
directions, and compared by the objective reached after every iteration, the
fit time, the iterations and the products with ``X``. scikit-learn's
:class:`~sklearn.linear_model.LogisticRegression` on the same objective gives
the reference optimum and two reference times.
"""

# %%
# Data and objective
# ------------------
# A synthetic three-class problem, standardised. ``loss_curve_`` holds the
# objective divided by ``C`` times the number of samples: the mean log-loss
# plus ``||W||^2 / (2 C n)``. The same function of LogisticRegression's
# coefficients lets us compare the two.
import time
import warnings

import matplotlib.pyplot as plt
import numpy as np
from sklearn.datasets import make_classification
from sklearn.exceptions import ConvergenceWarning
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import log_loss
from sklearn.preprocessing import StandardScaler
from threadpoolctl import threadpool_limits

from sklearn_so import SOLogisticRegression

X, y = make_classification(
    n_samples=2000,
    n_features=60,
    n_informative=30,
    n_classes=3,
    class_sep=0.8,
    random_state=0,
)
X = StandardScaler().fit_transform(X)
C = 1.0


def objective(estimator):
    """Mean log-loss plus the penalty scaled as in ``loss_``."""
    penalty = (estimator.coef_**2).sum() / (2 * C * len(y))
    return log_loss(y, estimator.predict_proba(X)) + penalty


# %%
# The fits
# --------
# ``tol=1e-6`` asks for a tight fit; ``max_iter=300`` bounds the slow
# configurations, which then stop with a ConvergenceWarning (silenced here:
# the table shows where they stopped). Every fit runs on one thread, as in
# the benchmarks, so that the times do not depend on what else the machine
# is doing.
fits = {}
references = {}
with threadpool_limits(limits=1), warnings.catch_warnings():
    warnings.simplefilter("ignore", ConvergenceWarning)
    for direction in ("lbfgs", "gd"):
        for solver in ("ls", "lo", "ps", "so", "fixed"):
            estimator = SOLogisticRegression(
                C=C, solver=solver, direction=direction, tol=1e-6, max_iter=300
            )
            start = time.perf_counter()
            estimator.fit(X, y)
            fits[solver, direction] = (estimator, time.perf_counter() - start)
    for sk_solver in ("lbfgs", "newton-cholesky"):
        estimator = LogisticRegression(C=C, solver=sk_solver, tol=1e-10, max_iter=1000)
        start = time.perf_counter()
        estimator.fit(X, y)
        references[sk_solver] = (estimator, time.perf_counter() - start)

# The best objective any fit reached stands for the optimum.
f_star = min(
    [objective(est) for est, _ in references.values()]
    + [min(est.loss_curve_) for est, _ in fits.values()]
)

# %%
# Objective against iterations and time
# -------------------------------------
# The relative distance to the optimum after every iteration, over the
# iterations (left) and over the time since the first iteration began
# (right, from each fit's ``loss_times_``). With the L-BFGS direction every
# searched solver converges in a few dozen iterations; with the plain
# gradient, searching a momentum rate too (``ps``, ``so``) is what makes the
# difference. ``fixed`` uses the constant ``learning_rate=0.1`` and no
# momentum: the baseline the others improve on.
fig, axes = plt.subplots(2, 2, figsize=(10, 7), sharey=True, layout="constrained")
for row, direction in zip(axes, ("lbfgs", "gd"), strict=True):
    for solver in ("ls", "lo", "ps", "so", "fixed"):
        estimator, _ = fits[solver, direction]
        gap = np.maximum((np.array(estimator.loss_curve_) - f_star) / f_star, 1e-16)
        iterations = np.arange(1, len(gap) + 1)
        row[0].semilogy(iterations, gap, label=solver)
        row[1].semilogy(1e3 * np.array(estimator.loss_times_), gap, label=solver)
    row[0].set_ylabel(f'direction="{direction}"\n(f - f*) / f*')
    row[0].set_xlabel("iteration")
    row[1].set_xlabel("time since the first iteration [ms]")
    for ax in row:
        ax.grid(True, alpha=0.3)
axes[0, 0].legend(title="solver")
plt.show()

# %%
# Time, iterations and products
# -----------------------------
# Each iteration costs two products with ``X``, whatever the solver;
# ``n_products_`` adds the setup (starting gradient, preconditioner) and
# the exact refreshes of the cached product. On a problem this small an
# iteration's time is mostly Python overhead, not products, and scikit-learn's
# solvers are hard to beat: compare iterations and products here, and see the
# benchmarks (in the documentation) for times on problems where the products
# dominate.
header = f"{'estimator':34s} {'time [s]':>9s} {'n_iter':>7s} {'products':>9s}"
print(f"{header} {'gap':>9s}")
for (solver, direction), (estimator, seconds) in fits.items():
    gap = (estimator.loss_ - f_star) / f_star
    print(
        f"{'SO ' + solver + '/' + direction:34s} {seconds:9.3f} "
        f"{estimator.n_iter_[0]:7d} {estimator.n_products_:9d} {gap:9.1e}"
    )
for sk_solver, (estimator, seconds) in references.items():
    gap = (objective(estimator) - f_star) / f_star
    print(
        f"{'LogisticRegression ' + sk_solver:34s} {seconds:9.3f} "
        f"{estimator.n_iter_[0]:7d} {'':>9s} {gap:9.1e}"
    )
