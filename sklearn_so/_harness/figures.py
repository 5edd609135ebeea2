"""matplotlib, set up to draw into files.

Imported on call, so that the rest of the harness (and the demo, which only
draws if matplotlib is installed) works without it.
"""


def pyplot():
    """``matplotlib.pyplot`` with the file-only Agg backend.

    Agg, so that drawing never opens a window nor needs a display (the demo
    and the benchmarks run in terminals and on servers).

    Returns
    -------
    plt : module
        ``matplotlib.pyplot``.

    Raises
    ------
    ImportError
        If matplotlib is not installed.
    """
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def save(figure, path, dpi, title=None):
    """Lay a figure out, write it to ``path`` and free it.

    Parameters
    ----------
    figure : matplotlib.figure.Figure
        The figure.
    path : path-like
        The PNG file.
    dpi : int
        Resolution.
    title : str or None, default=None
        Title above all panels; None for none.

    Returns
    -------
    path : path-like
        ``path``, as given.
    """
    if title is not None:
        figure.suptitle(title)
    figure.tight_layout()
    figure.savefig(path, dpi=dpi)
    # Closed, or pyplot keeps every figure alive until the process ends.
    pyplot().close(figure)
    return path
