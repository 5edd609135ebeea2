"""
=======================================================
A regression network without a learning rate to choose
=======================================================

:class:`~sklearn_so.SOTwoLayerRegressor` fits the one-hidden-layer network of
:class:`~sklearn.neural_network.MLPRegressor` (same objective: half the mean
squared error plus ``alpha / (2 n)`` times the squared weights; same Glorot
initialisation for the same ``random_state``), but chooses its step on every
iteration instead of taking ``learning_rate_init``. Here it sits in a
:class:`~sklearn.pipeline.Pipeline` after a scaler, on Friedman's nonlinear
regression problem, next to ``MLPRegressor`` with its ``lbfgs`` solver and
its default ``adam`` (minibatches of 200, ``learning_rate_init=1e-3``; an
iteration is an epoch), all with 50 tanh units and at most 300 iterations.
"""

# %%
# The fits
# --------
# Each line prints the iterations, the final training objective ``loss_``
# (for the minibatch ``adam``, ``MLPRegressor`` reports the mean over its last
# epoch's batches instead) and the test R^2. Timings belong to the
# benchmarks (``benchmarks/bench_two_layer.py``), which pin the BLAS threads:
# on matrices this small, thread start-up can dominate a fit.
import matplotlib.pyplot as plt
from sklearn.datasets import make_friedman1
from sklearn.model_selection import train_test_split
from sklearn.neural_network import MLPRegressor
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from sklearn_so import SOTwoLayerRegressor

X, y = make_friedman1(n_samples=3000, noise=0.5, random_state=0)
X_train, X_test, y_train, y_test = train_test_split(X, y, random_state=0)

shared = {"activation": "tanh", "alpha": 1e-4, "max_iter": 300, "random_state": 0}
models = {
    "SOTwoLayerRegressor": SOTwoLayerRegressor(hidden_units=50, **shared),
    "MLPRegressor lbfgs": MLPRegressor(
        hidden_layer_sizes=(50,), solver="lbfgs", **shared
    ),
    "MLPRegressor adam": MLPRegressor(
        hidden_layer_sizes=(50,), solver="adam", **shared
    ),
}
pipelines = {}
for name, model in models.items():
    pipeline = make_pipeline(StandardScaler(), model)
    pipeline.fit(X_train, y_train)
    pipelines[name] = pipeline
    fitted = pipeline[-1]
    print(
        f"{name:20s} {fitted.n_iter_:4d} iterations  "
        f"objective {fitted.loss_:.4f}  test R^2 {pipeline.score(X_test, y_test):.3f}"
    )

# %%
# The objective over the iterations, and the predictions
# ------------------------------------------------------
# Left: ``MLPRegressor`` keeps no curve with ``solver="lbfgs"``, so its final
# objective is drawn as a line. The three fits stop at ``max_iter`` here and
# warn about it; ``tol`` can stop ours earlier, and so can
# ``early_stopping=True`` on a held-out fraction, which ``MLPRegressor``'s
# lbfgs solver does not offer. Right: predictions on the held-out quarter,
# closer to the diagonal is better.
fig, (left, right) = plt.subplots(1, 2, figsize=(11, 4), layout="constrained")
for name in ("SOTwoLayerRegressor", "MLPRegressor adam"):
    left.plot(pipelines[name][-1].loss_curve_, label=name)
left.axhline(
    pipelines["MLPRegressor lbfgs"][-1].loss_,
    color="gray",
    linestyle="--",
    label="MLPRegressor lbfgs, final",
)
left.set(xlabel="iteration", ylabel="training objective", yscale="log")
left.legend()

for name, pipeline in pipelines.items():
    right.scatter(y_test, pipeline.predict(X_test), s=4, alpha=0.5, label=name)
right.plot([y.min(), y.max()], [y.min(), y.max()], color="black", linewidth=1)
right.set(xlabel="true target", ylabel="predicted", title="test set")
right.legend(markerscale=3)
plt.show()
