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

from summary import PLOTS, _by_dataset, _number, default_label, read_rows

from sklearn_so import SOLogisticRegression, SOTwoLayerClassifier

# Our configurations drawn next to scikit-learn's: the default and "so".
LOGISTIC_SHOWN = (default_label(SOLogisticRegression()), "SO so/lbfgs")
NETWORK_SHOWN = (default_label(SOTwoLayerClassifier()), "SO so/lbfgs")
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
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    columns = min(n_panels, 3)
    rows = -(-n_panels // columns)
    figure, axes = plt.subplots(
        rows, columns, figsize=(5.2 * columns, 4 * rows), squeeze=False
    )
    for ax in axes.ravel()[n_panels:]:
        ax.set_visible(False)
    return plt, figure, axes.ravel()


def plot_logistic(results):
    """Gap to f* against fit time, one panel per dataset; returns the path."""
    results = Path(results)
    groups = _by_dataset(read_rows(results / "logistic_trace.csv"))
    plt, figure, axes = _figure(len(groups))
    for ax, (name, fits) in zip(axes, groups.items(), strict=False):
        for label, points in _by_estimator(fits).items():
            if label.startswith("SO ") and label not in LOGISTIC_SHOWN:
                continue
            seconds = [_number(p, "seconds") for p in points]
            gaps = [max(_number(p, "gap"), 1e-16) for p in points]
            style = "-o" if label.startswith("SO ") else "--s"
            ax.plot(seconds, gaps, style, ms=4, label=label, color=COLOURS.get(label))
        ax.axhline(1e-6, color="grey", lw=0.8, ls=":", label="target 1e-6")
        ax.set(xscale="log", yscale="log", title=name, xlabel="fit time [s]")
        ax.set_ylabel("(f - f*) / f*")
        ax.legend(fontsize=7)
    return _save(
        plt,
        figure,
        "Logistic regression: accuracy bought by each fit (tol sequence)",
        results / PLOTS["logistic"],
    )


def plot_two_layer(results):
    """Objective against time, one panel per dataset; returns the path."""
    results = Path(results)
    curves = _by_dataset(read_rows(results / "two_layer_curves.csv"))
    rows = _by_dataset(read_rows(results / "two_layer.csv"))
    plt, figure, axes = _figure(len(rows))
    for ax, (name, group) in zip(axes, rows.items(), strict=False):
        for label, points in _by_estimator(curves.get(name, [])).items():
            if label in NETWORK_SHOWN:
                ax.plot(
                    [_number(p, "seconds") for p in points],
                    [_number(p, "objective") for p in points],
                    label=label,
                    color=COLOURS.get(label),
                )
        for row in group:
            if row["library"] == "sklearn" and _number(row, "fit_s") is not None:
                ax.plot(
                    _number(row, "fit_s"),
                    _number(row, "objective"),
                    "s",
                    ms=7,
                    label=f"{row['estimator']} (end of fit)",
                    color=COLOURS.get(row["estimator"]),
                )
        for key, style in (("target_lbfgs", ":"), ("target_adam", "-.")):
            value = _number(group[0], key)
            if value is not None:
                ax.axhline(value, color="grey", lw=0.8, ls=style, label=key)
        ax.set(
            xscale="log", yscale="log", title=name, xlabel="time since fit began [s]"
        )
        ax.set_ylabel("training objective")
        ax.legend(fontsize=7)
    return _save(
        plt,
        figure,
        "Two-layer networks: training objective against time",
        results / PLOTS["two_layer"],
    )


def _save(plt, figure, title, path):
    figure.suptitle(title)
    figure.tight_layout()
    figure.savefig(path, dpi=100)
    plt.close(figure)
    return path


def _by_estimator(points):
    groups = {}
    for point in points:
        groups.setdefault(point["estimator"], []).append(point)
    return groups
