"""The documentation builds with warnings as errors and has its pages.

The build is the documented command, ``python -m sphinx -W --keep-going -b
html doc doc/_build/html``, into a temporary directory. It runs the gallery
(every example is executed, even one whose source has not changed since a
previous build in the checkout), measures the product counts of the cost-model
page and validates the public docstrings with numpydoc.
"""

import doctest
import re
import subprocess
import sys
from html import unescape
from pathlib import Path

import pytest

import sklearn_so

ROOT = Path(__file__).resolve().parents[1]
DOC = ROOT / "doc"
RESULTS = ROOT / "benchmarks" / "results"
USER_GUIDE = [
    "index",
    "problem_class",
    "cost_model",
    "inner_problems",
    "choosing",
    "objectives",
    "limitations",
]
EXAMPLES = sorted(path.stem for path in (ROOT / "examples").glob("plot_*.py"))
# Pages with doctest examples; the docstrings' are run by --doctest-modules.
DOCTEST_PAGES = ["getting_started.rst", "user_guide/objectives.rst"]


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    """Build the HTML documentation once for the module's tests."""
    output = tmp_path_factory.mktemp("html")
    command = [
        sys.executable,
        "-m",
        "sphinx",
        "-W",
        "--keep-going",
        "-b",
        "html",
        # Run every example, so the gallery is checked against the package
        # as it is now, not as it was when the example last changed.
        "-D",
        "sphinx_gallery_conf.run_stale_examples=1",
        str(DOC),
        str(output),
    ]
    build = subprocess.run(
        command, cwd=ROOT, capture_output=True, text=True, timeout=900
    )
    assert build.returncode == 0, (
        f"the documentation build failed:\n{build.stdout[-3000:]}\n"
        f"{build.stderr[-10000:]}"
    )
    return output


def test_api_pages(built):
    assert (built / "api.html").is_file()
    api = (built / "api.html").read_text(encoding="utf-8")
    for name in sklearn_so.__all__:
        page = built / "generated" / f"sklearn_so.{name}.html"
        assert page.is_file(), f"no API page for sklearn_so.{name}"
        assert f"sklearn_so.{name}.html" in api


def test_user_guide_and_top_pages(built):
    for page in ["index", "getting_started", "benchmarks"]:
        assert (built / f"{page}.html").is_file()
    for page in USER_GUIDE:
        assert (built / "user_guide" / f"{page}.html").is_file()


def test_gallery_pages(built):
    assert EXAMPLES, "no plot_*.py example"
    assert (built / "auto_examples" / "index.html").is_file()
    for stem in EXAMPLES:
        assert (built / "auto_examples" / f"{stem}.html").is_file()
        # Each example draws at least one figure.
        assert (built / "_images" / f"sphx_glr_{stem}_001.png").is_file()


def test_cost_model_tables_are_measured(built):
    page = (built / "user_guide" / "cost_model.html").read_text(encoding="utf-8")
    # One table per estimator, written by the product-count-table directive.
    assert page.count("product-counts") == 3
    for name in ["SOLogisticRegression", "SOTwoLayerClassifier", "SOTwoLayerRegressor"]:
        assert name in page


def test_benchmark_page_shows_the_results(built):
    page = (built / "benchmarks.html").read_text(encoding="utf-8")
    reports = [RESULTS / name for name in ("summary.md", "logistic.md", "two_layer.md")]
    present = [path for path in reports if path.is_file()]
    assert present, "no benchmark report to show"
    for path in present:
        # The first heading, or the first line (summary.md starts with text).
        lines = path.read_text(encoding="utf-8").splitlines()
        headings = [line.lstrip("#") for line in lines if line.startswith("#")]
        first = headings[0] if headings else next(line for line in lines if line)
        assert _words(first) in _words(page), f"{path.name} is not on the page"
    for name in ("logistic_convergence.png", "two_layer_convergence.png"):
        if (RESULTS / name).is_file():
            assert (built / "_images" / name).is_file(), f"{name} is not on the page"


def _words(text):
    """The words of Markdown or HTML ``text``, without markup or punctuation.

    Markdown markup in a title (backticks, emphasis) and the HTML that Sphinx
    makes of it (tags, entities, curly quotes) then compare equal.
    """
    text = unescape(re.sub(r"<[^>]+>", " ", text))
    return " ".join(re.findall(r"[0-9a-z]+", text.lower()))


@pytest.mark.parametrize("page", DOCTEST_PAGES)
def test_doc_page_examples(page):
    failures, tests = doctest.testfile(
        str(DOC / page),
        module_relative=False,
        optionflags=doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE,
    )
    assert tests > 0
    assert failures == 0


# Numbers the user guide quotes from the committed benchmark reports, by
# report. A tripwire: when the benchmarks are re-run and a number changes,
# the pages that quote it (choosing.rst, limitations.rst, cost_model.rst)
# must be updated.
QUOTED_RESULTS = {
    "logistic.md": [
        # ls/lbfgs times; so/lbfgs and ls/lbfgs iterations and times
        "| 2.23 |",
        "| 0.00743 |",
        "| 0.249 |",
        "| 0.111 |",
        "| 2.39 |",
        "| 2.44 |",
        "| 3.59 |",
        "| 1630 |",
        "| 1835 |",
        "| 113 |",
        "| 69 |",
        "| 71 |",
        # speed-ups of the default against sklearn lbfgs and the best solver
        "| 1.40 |",
        "| 1.88 |",
        "| 1.19 |",
        "| 6.15 |",
        "| 0.62 |",
        "| 2.69 |",
        "| 0.22 |",
        "| 0.55 |",
        "| 0.86 |",
        # so/lbfgs and the other fast ones against the best solver on dense_50k
        "| 1.28 |",
        "| 1.22 |",
        # newton-cholesky on digits and dense_50k; t_iter / 2 products
        "| 0.484 | 10 |",
        "| 3.07 | 5 |",
        "| 1.1 |",
        "| 1.3 |",
        "| 5.4 |",
        "| 73.2 |",
    ],
    "two_layer.md": [
        # default against MLP adam and MLP lbfgs
        "25.09",
        "14.51",
        "7.56",
        "| 0.91 |",
        "| 0.80 |",
        "| 0.76 |",
        # lo/adam first to T_adam on synthetic_clf; the default's time
        "| 3.85 |",
        "| 3.94 |",
        # regression set: MLP lbfgs at max_iter, ls/lbfgs and so/lbfgs times
        "| MLP lbfgs | max_iter | 400 |",
        "| 20.5 |",
        "| 26.8 | 411 |",
        "| 28.4 | 179 |",
        # iterations to T_lbfgs and t_iter / 2 products (so/lbfgs, ls, MLP)
        "| 0.256 | 10 |",
        "| 9.35 | 23 |",
        "| 5.07 | 29 |",
        "| 0.0923 | 15 |",
        "| 0.0841 | 14 |",
        "| 4.04 | 27 |",
        "| 20.3 |",
        "| 3.7 |",
        "| 4.5 |",
        "| 1.6 |",
        "| 2.7 |",
        "| 2.1 |",
        "| 1.4 |",
    ],
}


@pytest.mark.parametrize("report", sorted(QUOTED_RESULTS))
def test_quoted_benchmark_numbers_are_current(report):
    text = (RESULTS / report).read_text(encoding="utf-8")
    missing = [quote for quote in QUOTED_RESULTS[report] if quote not in text]
    assert not missing, (
        f"benchmarks/results/{report} no longer has {missing}: update the "
        "numbers doc/user_guide/*.rst quote from it"
    )
