"""
============================================
Learning and momentum rates chosen per layer
============================================

With ``solver="so"``, :class:`~sklearn_so.SOTwoLayerClassifier` chooses on
every iteration a learning rate and a momentum rate for each of its two
layers, by minimising the training objective over them (and over the rate of
each layer's previous move). The fitted estimator keeps them in
``learning_rates_`` and ``momentum_rates_``, arrays of shape
``(n_iter_, 2)``: column 0 is the hidden layer, column 1 the output layer.
:class:`~sklearn_so.ConvergenceDisplay` draws them next to the objective.

The direction here is the plain gradient (``direction="gd"``), so the rates
alone have to adapt the step to each layer. ``solver="ps"``, which chooses
one learning rate and one momentum rate shared by both layers, is fitted too,
from the same initial weights, for comparison.
"""

# %%
# The fits
# --------
import matplotlib.pyplot as plt
from sklearn.datasets import load_digits
from sklearn.preprocessing import StandardScaler

from sklearn_so import ConvergenceDisplay, SOTwoLayerClassifier

X, y = load_digits(return_X_y=True)
X = StandardScaler().fit_transform(X)

fits = {}
for solver in ("so", "ps"):
    fits[solver] = SOTwoLayerClassifier(
        hidden_units=50, solver=solver, direction="gd", tol=1e-4, random_state=0
    ).fit(X, y)
    print(
        f"{solver}: {fits[solver].n_iter_} iterations, "
        f"{fits[solver].n_products_} products with X, "
        f"final objective {fits[solver].loss_:.3g}"
    )

# %%
# The rates over the fit
# ----------------------
# Solid lines are learning rates, dashed lines momentum rates; layer 1 is the
# hidden layer, layer 2 the output layer. For ``ps`` the two layers' lines
# coincide: one rate serves both.
#
# The first iteration has no previous move, so its momentum rates are 0.
# The per-layer rates of ``so`` move independently of each other from one
# iteration to the next, and can be negative: the subspace also holds each
# layer's momentum and older move, and the best combination of the three may
# go back along one of them. The rates' axes are logarithmic away from zero.
fig, axes = plt.subplots(2, 2, figsize=(11, 7), layout="constrained")
for row, solver in zip(axes, ("so", "ps"), strict=True):
    display = ConvergenceDisplay.from_estimator(fits[solver], y="suboptimality", ax=row)
    display.axes_[1].set_yscale("symlog", linthresh=1.0)
    display.axes_[0].set_title(f'solver="{solver}": objective')
    display.axes_[1].set_title(f'solver="{solver}": rates chosen')
plt.show()

# %%
# Large rates are not large steps: every searched step is checked against a
# per-layer bound, a layer moving by at most the norm of its parameters (and
# at least 1) per iteration, so that no rate can run away with one layer.
# And each iteration, however many rates it chooses, costs two products with
# X:
print(fits["so"].product_counts_)
