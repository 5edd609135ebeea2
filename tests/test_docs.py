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
from decimal import Decimal
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


# The benchmark numbers the user guide quotes, by report: pairs of the text
# that quotes a number in doc/user_guide/*.rst (each run of spaces and line
# breaks read as one space) and the text of the report it comes from. A range
# or a comparison ("1.1 to 1.3", "1630 against 1835") has one pair per
# number. The test checks that each page text occurs exactly once in the user
# guide, that each report text is in its report, and that each number of a
# page text is a number of its report texts rounded to the digits the page
# shows (a time in ms read as seconds). A number changed on a page, or in a
# re-run report, then fails it. It does not find quoted numbers no pair lists,
# nor check what the pages derive from the numbers (percentages, counts of
# datasets).
QUOTED_RESULTS = {
    "logistic.md": [
        # choosing.rst, "In short": so/lbfgs and ls/lbfgs on dense_50k
        ("``so/lbfgs`` reached the target in 2.39 s", "| 2.39 |"),
        ("3.59 s for ``ls/lbfgs``", "| 3.59 |"),
        ("1.28x faster than the best", "| 1.28 |"),
        # choosing.rst, logistic regression: the default's times where first
        ("on digits (2.23 s)", "| 2.23 |"),
        ("breast cancer (7.4 ms)", "| 0.00743 |"),
        ("breast cancer (0.249 s)", "| 0.249 |"),
        ("problem (0.111 s)", "| 0.111 |"),
        # so/lbfgs against ls/lbfgs iterations on digits, standardised
        ("1630 against 1835", "| 1630 |"),
        ("1630 against 1835", "| 1835 |"),
        ("20 against 29 on", "| 0.0149 | 20 |"),
        ("20 against 29 on", "| 0.00743 | 29 |"),
        # dense_50k: lo, ps and so with lbfgs; ls/lbfgs; fast ones vs best
        ("took 69-71 iterations", "| 2.39 | 69 |"),
        ("took 69-71 iterations", "| 2.44 | 71 |"),
        ("iterations and 2.4 s", "| 2.39 |"),
        ("iterations and 2.4 s", "| 2.44 |"),
        ("113 iterations and", "| 3.59 | 113 |"),
        ("iterations and 3.6 s", "| 3.59 |"),
        ("1.22 to 1.28 times faster", "| 1.22 |"),
        ("1.22 to 1.28 times faster", "| 1.28 |"),
        ("was not (0.86x)", "| 0.86 |"),
        # the default against sklearn lbfgs and against the best solver
        ("(1.40x on digits", "| 1.40 |"),
        ("1.88x on unscaled", "| 1.88 |"),
        ("1.19x on the dense", "| 1.19 |"),
        ("6.15x on the sparse", "| 6.15 |"),
        ("breast cancer (0.62x)", "| 0.62 |"),
        ("sparse problem (2.69x", "| 2.69 |"),
        ("at 0.22x on digits", "| 0.22 |"),
        ("0.55x and 0.02x", "| 0.62 | 0.55 |"),
        ("0.55x and 0.02x", "| 1.88 | 0.02 |"),
        ("problem too (0.86x)", "| 0.86 |"),
        # newton-cholesky's iterations on the four small or dense datasets
        # (digits 10, dense_50k 5) and the default's (standardised 29,
        # digits 1835)
        ("5 to 10 iterations", "| 3.07 | 5 |"),
        ("5 to 10 iterations", "| 0.484 | 10 |"),
        ("29 to 1835 iterations", "| 0.00743 | 29 |"),
        ("29 to 1835 iterations", "| 2.23 | 1835 |"),
        # t_iter / 2 products: cost_model.rst, then limitations.rst
        ("1.1 to 1.3 times their time", "| 1.1 |"),
        ("1.1 to 1.3 times their time", "| 1.3 |"),
        ("benchmark, 1.1 for the default", "| 231 | 1.1 |"),
        ("at 5.4 to 73 times", "| 5.4 |"),
        ("at 5.4 to 73 times", "| 73.2 |"),
        ("(1.1 to 1.3 times on", "| 1.1 |"),
        ("(1.1 to 1.3 times on", "| 1.3 |"),
        ("problem, 1.1 for the default", "| 231 | 1.1 |"),
        # limitations.rst: newton-cholesky against the default on digits
        ("in 0.484 s (10 iterations)", "| 0.484 | 10 |"),
        ("against 2.23 s (1835 iterations)", "| 2.23 | 1835 |"),
    ],
    "two_layer.md": [
        # choosing.rst: MLP adam's epochs; the SO fits' time budget
        ("of 400 epochs", "| MLP adam | max_iter | 400 |"),
        ("within the 30 s budget", "after 30 s of loop time"),
        # lo/adam first to T_adam on synthetic_clf, the default
        ("Adam target in 3.85 s", "| 3.85 |"),
        ("``ls/lbfgs`` in 3.94 s", "| 3.94 |"),
        # the default against MLP adam
        ("25.1x (digits)", "25.09"),
        ("14.5x", "14.51"),
        ("7.6x", "7.56"),
        # the default against MLP lbfgs; MLP at max_iter on the regression set
        ("slower: 0.91x and 0.80x", "| 0.91 |"),
        ("slower: 0.91x and 0.80x", "| 0.80 |"),
        ("0.76x on the regression", "| 0.76 |"),
        ("``max_iter=400``", "| MLP lbfgs | max_iter | 400 |"),
        ("needed 411 iterations", "| 26.8 | 411 |"),
        ("(26.8 s against 20.5 s)", "| 26.8 | 411 |"),
        ("(26.8 s against 20.5 s)", "| 20.5 |"),
        # iterations to T_lbfgs, ls/lbfgs against MLP lbfgs
        ("(15 against 14", "| 0.0923 | 15 |"),
        ("(15 against 14", "| 0.0841 | 14 |"),
        ("and 29 against 27", "| 5.07 | 29 |"),
        ("and 29 against 27", "| 4.04 | 27 |"),
        # t_iter / 2 products on synthetic_clf and synthetic_reg: ls/lbfgs, MLP
        ("1.6 and 2.7 times two products", "| 1.6 |"),
        ("1.6 and 2.7 times two products", "| 2.7 |"),
        ("against 1.4 and 2.1 for MLP", "| 1.4 |"),
        ("against 1.4 and 2.1 for MLP", "| 2.1 |"),
        # iterations to T_lbfgs, so/lbfgs against ls/lbfgs
        ("(10 against 15 on digits", "| 0.256 | 10 |"),
        ("(10 against 15 on digits", "| 0.0923 | 15 |"),
        ("23 against 29 on", "| 9.35 | 23 |"),
        ("23 against 29 on", "| 5.07 | 29 |"),
        ("179 against 411", "| 28.4 | 179 |"),
        ("179 against 411", "| 26.8 | 411 |"),
        # t_iter / 2 products of so/lbfgs (synthetic_clf to digits), of ls
        ("3.7 to 20 times two products", "| 3.7 |"),
        ("3.7 to 20 times two products", "| 20.3 |"),
        ("against 1.6 to 4.5 times", "| 1.6 |"),
        ("against 1.6 to 4.5 times", "| 4.5 |"),
        # so/lbfgs and ls/lbfgs to T_lbfgs on the regression set
        ("(28.4 s against 26.8 s", "| 28.4 | 179 |"),
        ("(28.4 s against 26.8 s", "| 26.8 | 411 |"),
    ],
}
# A number as the pages and reports write it, and " ms" after a page's time.
_NUMBER = re.compile(r"(\d+(?:\.\d+)?)( ms\b)?")


def _numbers(text):
    """The numbers in ``text`` as Decimals, times in ms converted to s."""
    return [
        Decimal(digits).scaleb(-3 if ms else 0) for digits, ms in _NUMBER.findall(text)
    ]


def _rounds_to(value, quoted):
    """Whether ``value`` rounded to the decimals of ``quoted`` is ``quoted``."""
    half_unit = Decimal(5).scaleb(quoted.as_tuple().exponent - 1)
    return abs(value - quoted) <= half_unit


@pytest.mark.parametrize("report", sorted(QUOTED_RESULTS))
def test_quoted_benchmark_numbers_are_current(report):
    text = (RESULTS / report).read_text(encoding="utf-8")
    pages = " ".join(
        " ".join(path.read_text(encoding="utf-8").split())
        for path in sorted((DOC / "user_guide").glob("*.rst"))
    )
    pairs = QUOTED_RESULTS[report]
    not_in_report = [in_report for _, in_report in pairs if in_report not in text]
    assert not not_in_report, (
        f"benchmarks/results/{report} no longer has {not_in_report}: update "
        "the numbers doc/user_guide/*.rst quote from it, and QUOTED_RESULTS"
    )
    counts = {in_pages: pages.count(in_pages) for in_pages, _ in pairs}
    not_once = {in_pages: n for in_pages, n in counts.items() if n != 1}
    assert not not_once, (
        "doc/user_guide/*.rst should have each of these texts once (text: "
        f"times found): {not_once}; update the pages or QUOTED_RESULTS"
    )
    # Each number of a page text is one of its report texts', rounded, and
    # each pair has a number in common.
    reported = {}
    for in_pages, in_report in pairs:
        reported.setdefault(in_pages, []).extend(_numbers(in_report))
    wrong = [
        (in_pages, float(number))
        for in_pages, values in reported.items()
        for number in _numbers(in_pages)
        if not any(_rounds_to(value, number) for value in values)
    ]
    wrong += [
        (in_pages, in_report)
        for in_pages, in_report in pairs
        if not any(
            _rounds_to(value, number)
            for value in _numbers(in_report)
            for number in _numbers(in_pages)
        )
    ]
    assert not wrong, (
        f"benchmarks/results/{report} does not have these page numbers, "
        f"rounded to the page's digits: {wrong}"
    )
