"""Convergence plots of the benchmark results (matplotlib, Agg).

``logistic_trace.csv`` holds every fit of the tol sequences: each point of
the logistic plot is one complete fit (its wall time and its gap to f*), so
a solver's line shows what accuracy each fit time bought.
``two_layer_curves.csv`` holds the per-iteration objective of every
SOTwoLayer* fit against its time since ``fit`` began; MLP's fits are points
(their fit time and final objective), and the two targets are horizontal
lines.
"""

from pathlib import Path

from summary import PLOTS

from sklearn_so import SOLogisticRegression, SOTwoLayerClassifier
from sklearn_so._harness import figures
from sklearn_so._harness.fits import config_label
from sklearn_so._harness.reports import group_by, number, read_csv

# Our configurations drawn next to scikit-learn's: the default and "so".
LOGISTIC_SHOWN = (config_label(SOLogisticRegression()), "SO so/lbfgs")
NETWORK_SHOWN = (config_label(SOTwoLayerClassifier()), "SO so/lbfgs")
# One colour per estimator in every panel, whichever ran on a dataset.
COLOURS = {
    "sklearn lbfgs": "tab:blue",
    "sklearn newton-cg": "tab:orange",
    "sklearn newton-cholesky": "tab:green",
    "MLP lbfgs": "tab:green",
    "MLP adam": "tab:orange",
    LOGISTIC_SHOWN[0]: "tab:red",
    LOGISTIC_SHOWN[1]: "tab:purple",
    NETWORK_SHOWN[0]: "tab:red",
    NETWORK_SHOWN[1]: "tab:purple",
}


def _figure(n_panels):
    """A figure of ``n_panels`` panels, three per row; returns it and them."""
    plt = figures.pyplot()
    columns = min(n_panels, 3)
    rows = -(-n_panels // columns)
    figure, axes = plt.subplots(
        rows, columns, figsize=(5.2 * columns, 4 * rows), squeeze=False
    )
    for ax in axes.ravel()[n_panels:]:
        ax.set_visible(False)
    return figure, axes.ravel()


def _finish(ax, title, xlabel, ylabel):
    """Log axes, titles and the legend of one panel."""
    ax.set(xscale="log", yscale="log", title=title, xlabel=xlabel, ylabel=ylabel)
    ax.legend(fontsize=7)


def plot_logistic(results):
    """Gap to f* against fit time, one panel per dataset; returns the path."""
    results = Path(results)
    groups = group_by(read_csv(results / "logistic_trace.csv"), "dataset")
    figure, axes = _figure(len(groups))
    for ax, (name, fits) in zip(axes, groups.items(), strict=False):
        for label, points in group_by(fits, "estimator").items():
            if label.startswith("SO ") and label not in LOGISTIC_SHOWN:
                continue
            seconds = [number(p, "seconds") for p in points]
            gaps = [max(number(p, "gap"), 1e-16) for p in points]
            style = "-o" if label.startswith("SO ") else "--s"
            ax.plot(seconds, gaps, style, ms=4, label=label, color=COLOURS.get(label))
        ax.axhline(1e-6, color="grey", lw=0.8, ls=":", label="target 1e-6")
        _finish(ax, name, "fit time [s]", "(f - f*) / f*")
    title = "Logistic regression: accuracy bought by each fit (tol sequence)"
    return figures.save(figure, results / PLOTS["logistic"], dpi=100, title=title)


def plot_two_layer(results):
    """Objective against time, one panel per dataset; returns the path."""
    results = Path(results)
    curves = group_by(read_csv(results / "two_layer_curves.csv"), "dataset")
    rows = group_by(read_csv(results / "two_layer.csv"), "dataset")
    figure, axes = _figure(len(rows))
    for ax, (name, group) in zip(axes, rows.items(), strict=False):
        for label, points in group_by(curves.get(name, []), "estimator").items():
            if label in NETWORK_SHOWN:
                ax.plot(
                    [number(p, "seconds") for p in points],
                    [number(p, "objective") for p in points],
                    label=label,
                    color=COLOURS.get(label),
                )
        for row in group:
            if row["library"] == "sklearn" and number(row, "fit_s") is not None:
                ax.plot(
                    number(row, "fit_s"),
                    number(row, "objective"),
                    "s",
                    ms=7,
                    label=f"{row['estimator']} (end of fit)",
                    color=COLOURS.get(row["estimator"]),
                )
        for key, style in (("target_lbfgs", ":"), ("target_adam", "-.")):
            value = number(group[0], key)
            if value is not None:
                ax.axhline(value, color="grey", lw=0.8, ls=style, label=key)
        _finish(ax, name, "time since fit began [s]", "training objective")
    title = "Two-layer networks: training objective against time"
    return figures.save(figure, results / PLOTS["two_layer"], dpi=100, title=title)
