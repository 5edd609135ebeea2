"""Sphinx extension of the sklearn-so documentation.

Three things the documentation must not type by hand:

- :func:`write_api_page` writes the API reference page from
  ``sklearn_so.__all__``, so every public object gets a generated page;
- the ``product-count-table`` directive fits every solver x direction of an
  estimator on a small dataset while the page is read and tabulates the
  products with X that the fits report (``n_iter_``, ``n_products_``,
  ``product_counts_``); a count that breaks the cost model fails the build;
- the ``benchmark-results`` directive renders the Markdown reports and the
  figures found in ``benchmarks/results`` by name, so the page shows whatever
  the benchmark command last wrote.
"""

import re
import warnings
from pathlib import Path

import numpy as np
from docutils import nodes
from docutils.parsers.rst import Directive, directives
from docutils.statemachine import StringList
from docutils.utils import new_document
from sphinx.util import logging

logger = logging.getLogger(__name__)

# --------------------------------------------------------------------------
# API reference
# --------------------------------------------------------------------------

API_HEADER = """\
..
   Written by doc/sphinxext/sklearn_so_docs.py from sklearn_so.__all__ on
   every build: edit that file, not this one.

.. _api:

API reference
=============

Every public object of ``sklearn_so``. The estimators follow scikit-learn's
API (``fit``, ``predict``, ``get_params``...) and work in pipelines, grid
searches and cross-validation.

.. currentmodule:: sklearn_so
"""

# (title, introduction, predicate on (name, object)); the first match wins.
API_SECTIONS = [
    (
        "Estimators",
        "Linear models and two-layer networks whose learning and momentum "
        "rates are chosen on every iteration.",
        lambda name, obj: _is_estimator(obj),
    ),
    (
        "Plotting",
        "Display objects, in scikit-learn's ``from_estimator`` / ``plot`` style.",
        lambda name, obj: name.endswith("Display"),
    ),
    ("Other", "", lambda name, obj: True),
]


def _is_estimator(obj):
    from sklearn.base import BaseEstimator

    return isinstance(obj, type) and issubclass(obj, BaseEstimator)


def write_api_page(doc_dir, package):
    """Write ``api.rst`` listing every name of ``package.__all__``.

    The file is rewritten only when its content changes (Sphinx would
    otherwise re-read it), and stub pages of names no longer public are
    removed, so autosummary does not try to import them.

    Parameters
    ----------
    doc_dir : pathlib.Path
        The documentation's source directory.
    package : module
        The package whose ``__all__`` is documented.
    """
    names = list(package.__all__)
    sections = {title: [] for title, _, _ in API_SECTIONS}
    for name in names:
        obj = getattr(package, name)
        for title, _, belongs in API_SECTIONS:
            if belongs(name, obj):
                sections[title].append((name, obj))
                break
    lines = [API_HEADER]
    for title, introduction, _ in API_SECTIONS:
        members = sections[title]
        if not members:
            continue
        lines += ["", title, "-" * len(title), ""]
        if introduction:
            lines += [introduction, ""]
        # Classes get doc/_templates/autosummary/class.rst, autosummary's
        # template for their object type.
        lines += [
            ".. autosummary::",
            "   :toctree: generated/",
            "   :nosignatures:",
            "",
        ]
        lines += [f"   {name}" for name, _ in members] + [""]
    _write_if_changed(Path(doc_dir) / "api.rst", "\n".join(lines))

    generated = Path(doc_dir) / "generated"
    public = {f"{package.__name__}.{name}.rst" for name in names}
    for stub in generated.glob(f"{package.__name__}.*.rst"):
        if stub.name not in public:
            stub.unlink()


def _write_if_changed(path, text):
    if not path.exists() or path.read_text(encoding="utf-8") != text:
        path.write_text(text, encoding="utf-8")


# --------------------------------------------------------------------------
# Products per iteration, measured
# --------------------------------------------------------------------------


def _logistic_case():
    from sklearn.datasets import load_breast_cancer
    from sklearn.preprocessing import StandardScaler

    from sklearn_so import SOLogisticRegression

    X, y = load_breast_cancer(return_X_y=True)
    return (
        SOLogisticRegression(max_iter=60),
        StandardScaler().fit_transform(X),
        y,
        "breast cancer data, standardised (569 x 30, 2 classes)",
    )


def _classifier_case():
    from sklearn.datasets import load_digits
    from sklearn.preprocessing import StandardScaler

    from sklearn_so import SOTwoLayerClassifier

    X, y = load_digits(return_X_y=True)
    return (
        SOTwoLayerClassifier(hidden_units=20, max_iter=60, random_state=0),
        StandardScaler().fit_transform(X[:600]),
        y[:600],
        "the first 600 digits, standardised (600 x 64, 10 classes)",
    )


def _regressor_case():
    from sklearn.datasets import load_diabetes
    from sklearn.preprocessing import StandardScaler

    from sklearn_so import SOTwoLayerRegressor

    X, y = load_diabetes(return_X_y=True)
    return (
        SOTwoLayerRegressor(hidden_units=20, max_iter=60, random_state=0),
        StandardScaler().fit_transform(X),
        (y - y.mean()) / y.std(),
        "diabetes data, standardised (442 x 10, 1 output)",
    )


PRODUCT_CASES = {
    "logistic": _logistic_case,
    "classifier": _classifier_case,
    "regressor": _regressor_case,
}


def _stop_label(reason):
    if reason.startswith("gradient criterion"):
        return "tol reached"
    if reason.startswith("max_iter"):
        return "max_iter"
    return reason


def measure_products(case):
    """Fit every solver x direction of one case and count the products.

    Parameters
    ----------
    case : str
        A key of ``PRODUCT_CASES``.

    Returns
    -------
    rows : list of dict
        One row per solver and direction.
    estimator_name, data_description : str
        What was fitted on what.
    settings : str
        The parameters that differ from the defaults.
    """
    from sklearn.base import clone
    from sklearn.exceptions import ConvergenceWarning

    from sklearn_so._directions import DIRECTIONS
    from sklearn_so._strategies import SOLVERS

    base, X, y, description = PRODUCT_CASES[case]()
    rows = []
    for solver in SOLVERS:
        for direction in DIRECTIONS:
            estimator = clone(base).set_params(solver=solver, direction=direction)
            with warnings.catch_warnings():
                # max_iter is small on purpose: the counts, not the fits,
                # are the point, and 60 iterations show a periodic refresh.
                warnings.simplefilter("ignore", ConvergenceWarning)
                estimator.fit(X, y)
            # LogisticRegression-style estimators report an array of one.
            n_iter = int(np.ravel(estimator.n_iter_)[0])
            counts = dict(estimator.product_counts_)
            rows.append(
                {
                    "solver": solver,
                    "direction": direction,
                    "n_iter": n_iter,
                    "counts": counts,
                    "n_products": int(estimator.n_products_),
                    "stop": _stop_label(estimator.stop_reason_),
                }
            )
    changed = {
        key: value
        for key, value in base.get_params().items()
        if value != type(base)().get_params()[key]
    }
    settings = ", ".join(f"{key}={value!r}" for key, value in changed.items())
    return rows, type(base).__name__, description, settings


def check_cost_model(rows):
    """Return the rows that break the cost model, with the reason.

    An iteration costs exactly two products; everything the fit performs is
    accounted for in ``product_counts_``.
    """
    problems = []
    for row in rows:
        counts, n_iter = row["counts"], row["n_iter"]
        if counts.get("iterations") != 2 * n_iter:
            problems.append((row, "product_counts_['iterations'] != 2 * n_iter_"))
        if sum(counts.values()) != row["n_products"]:
            problems.append((row, "sum(product_counts_) != n_products_"))
    return problems


class ProductCountTable(Directive):
    """``.. product-count-table:: logistic`` (or classifier, regressor)."""

    required_arguments = 1
    has_content = False

    def run(self):
        case = self.arguments[0]
        if case not in PRODUCT_CASES:
            raise self.error(
                f"unknown case {case!r}; expected one of {sorted(PRODUCT_CASES)}"
            )
        env = self.state.document.settings.env
        import sklearn_so

        # Re-measure whenever the package changes.
        for source in sorted(Path(sklearn_so.__file__).parent.glob("*.py")):
            env.note_dependency(str(source))
        rows, name, description, settings = measure_products(case)
        for row, reason in check_cost_model(rows):
            logger.warning(
                "cost model broken: %s solver=%s direction=%s: %s (%s)",
                name,
                row["solver"],
                row["direction"],
                reason,
                row,
                location=(env.docname, self.lineno),
            )
        caption = (
            f"``{name}({settings})`` on the {description}: products with X "
            "reported by each fit."
        )
        lines = [
            f".. list-table:: {caption}",
            "   :header-rows: 1",
            "   :class: product-counts",
            "",
            "   * - solver",
            "     - direction",
            "     - ``n_iter_``",
            "     - setup",
            "     - iterations",
            "     - refresh",
            "     - preconditioner",
            "     - unused",
            "     - ``n_products_``",
            "     - per iteration",
            "     - stopped by",
        ]
        for row in rows:
            counts = row["counts"]
            per_iteration = (
                row["n_products"]
                - counts["setup"]
                - counts["refresh"]
                - counts.get("preconditioner", 0)
                - counts.get("unused", 0)
            ) / max(row["n_iter"], 1)
            lines += [
                f"   * - ``{row['solver']}``",
                f"     - ``{row['direction']}``",
                f"     - {row['n_iter']}",
                f"     - {counts['setup']}",
                f"     - {counts['iterations']}",
                f"     - {counts['refresh']}",
                f"     - {counts.get('preconditioner', 0)}",
                f"     - {counts.get('unused', 0)}",
                f"     - {row['n_products']}",
                f"     - {per_iteration:g}",
                f"     - {row['stop']}",
            ]
        container = nodes.container()
        self.state.nested_parse(
            StringList(lines, source=f"<product-count-table {case}>"),
            self.content_offset,
            container,
        )
        return container.children


# --------------------------------------------------------------------------
# Benchmark results
# --------------------------------------------------------------------------

# The files the benchmark page shows, by name, when they exist.
BENCHMARK_SUMMARY = "summary.md"
BENCHMARK_FIGURES = [
    ("logistic_convergence.png", "Logistic regression: objective against time."),
    ("two_layer_convergence.png", "Two-layer networks: objective against time."),
]
BENCHMARK_REPORTS = [
    "logistic.md",
    "newton.md",
    "newton_large.md",
    "newton_std.md",
    "fused.md",
    "preconditioner.md",
    "two_layer.md",
    "dask.md",
]

_LINK = re.compile(r"(!?)\[([^\]]*)\]\(([^)\s]+)\)")


def _rewrite_links(text, results_dir, doc_dir):
    """Point local images at their files; turn other local links into text.

    The reports link to their neighbours (``logistic.md``, CSV files) by
    relative paths that mean nothing once the Markdown is part of this page.
    """

    def replace(match):
        bang, label, target = match.groups()
        if re.match(r"^[a-z][a-z0-9+.-]*:|^#", target):
            return match.group(0)
        if bang:
            path = (results_dir / target).resolve()
            relative = Path(_relpath(path, doc_dir)).as_posix()
            return f"![{label}]({relative})"
        return label

    return _LINK.sub(replace, text)


def _relpath(path, start):
    import os

    return os.path.relpath(path, start)


class BenchmarkResults(Directive):
    """``.. benchmark-results:: ../benchmarks/results``.

    Renders, from that directory, ``summary.md`` (in a "Summary" section),
    the convergence figures of ``BENCHMARK_FIGURES`` (unless the summary
    shows them) and the full reports of ``BENCHMARK_REPORTS`` (in a "Full
    reports" section): each one that exists. No file at all is a build
    warning.
    """

    required_arguments = 1
    has_content = False
    option_spec = {"reports-title": directives.unchanged}

    def run(self):
        env = self.state.document.settings.env
        doc_dir = Path(env.doc2path(env.docname)).parent
        results_dir = (doc_dir / self.arguments[0]).resolve()
        env.benchmark_docs = getattr(env, "benchmark_docs", set()) | {env.docname}
        output = []
        summary_text = ""
        summary = results_dir / BENCHMARK_SUMMARY
        if summary.is_file():
            summary_text = summary.read_text(encoding="utf-8")
            section = self._section("Summary")
            section += self._markdown(summary, results_dir, doc_dir)
            output.append(section)
        figures = [
            (name, caption)
            for name, caption in BENCHMARK_FIGURES
            if (results_dir / name).is_file() and name not in summary_text
        ]
        if figures:
            section = self._section("Convergence plots")
            for name, caption in figures:
                env.note_dependency(str(results_dir / name))
                uri = Path(_relpath(results_dir / name, doc_dir)).as_posix()
                figure = nodes.figure()
                figure += nodes.image(uri=uri, alt=caption)
                figure += nodes.caption(text=caption)
                section += figure
            output.append(section)
        reports = [results_dir / name for name in BENCHMARK_REPORTS]
        reports = [path for path in reports if path.is_file()]
        if reports:
            section = self._section(self.options.get("reports-title", "Full reports"))
            for path in reports:
                section += self._markdown(path, results_dir, doc_dir)
            output.append(section)
        if not output:
            logger.warning(
                "no benchmark results in %s (expected %s)",
                results_dir,
                ", ".join([BENCHMARK_SUMMARY] + BENCHMARK_REPORTS),
                location=(env.docname, self.lineno),
            )
        return output

    def _section(self, title):
        section = nodes.section(ids=[nodes.make_id(title)], names=[title.lower()])
        section += nodes.title(text=title)
        return section

    def _markdown(self, path, results_dir, doc_dir):
        from myst_parser.parsers.sphinx_ import MystParser

        env = self.state.document.settings.env
        env.note_dependency(str(path))
        text = _rewrite_links(path.read_text(encoding="utf-8"), results_dir, doc_dir)
        document = new_document(str(path), self.state.document.settings)
        parser = MystParser()
        parser.parse(text, document)
        document.transformer.populate_from_components((parser,))
        document.transformer.apply_transforms()
        return document.children


def _always_reread(app, env, added, changed, removed):
    """Re-read the benchmark page: new result files must appear on it."""
    return sorted(getattr(env, "benchmark_docs", set()) & env.found_docs)


def _purge(app, env, docname):
    if hasattr(env, "benchmark_docs"):
        env.benchmark_docs.discard(docname)


def _merge(app, env, docnames, other):
    env.benchmark_docs = getattr(env, "benchmark_docs", set()) | getattr(
        other, "benchmark_docs", set()
    )


# --------------------------------------------------------------------------
# References inside scikit-learn's docstrings
# --------------------------------------------------------------------------

SKLEARN_DOCS = "https://scikit-learn.org/stable/"
# Labels of scikit-learn's documentation that its inherited docstrings use.
SKLEARN_LABELS = {
    "metadata_routing": "metadata_routing.html",
    "accuracy_score": "modules/model_evaluation.html#accuracy-score",
    "r2_score": "modules/model_evaluation.html#r2-score",
}


def _sklearn_reference(app, env, node, contnode):
    """Resolve the ``:ref:`` and ``:term:`` of inherited scikit-learn docstrings.

    Methods such as ``score`` or ``set_fit_request`` come from scikit-learn's
    mixins, whose docstrings point into scikit-learn's own documentation. There
    is no intersphinx (the build needs no network), so they link to
    scikit-learn's website: glossary terms by their anchor, labels by
    ``SKLEARN_LABELS``, any other label as plain text.
    """
    if "docstring of sklearn." not in (node.source or ""):
        return None
    target = node.get("reftarget", "")
    if node.get("reftype") == "term":
        anchor = "term-" + re.sub(r"[^a-z0-9]+", "-", target.lower()).strip("-")
        uri = f"{SKLEARN_DOCS}glossary.html#{anchor}"
    elif node.get("reftype") == "ref" and target in SKLEARN_LABELS:
        uri = SKLEARN_DOCS + SKLEARN_LABELS[target]
    else:
        return contnode
    reference = nodes.reference("", "", internal=False, refuri=uri)
    reference += contnode
    return reference


def setup(app):
    """Register the directives and the reference resolver."""
    app.connect("missing-reference", _sklearn_reference)
    app.add_directive("product-count-table", ProductCountTable)
    app.add_directive("benchmark-results", BenchmarkResults)
    app.connect("env-get-outdated", _always_reread)
    app.connect("env-purge-doc", _purge)
    app.connect("env-merge-info", _merge)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
