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
    "memory.md": [
        # inner_problems.rst: 100 pairs against 10, logistic (dense to wine)
        ("1.40 to 9.27 times fewer", "| 100 | 65 | 1.40 |"),
        ("1.40 to 9.27 times fewer", "| 100 | 177 | 9.27 |"),
        # networks: time and objective ratios of 50 and 100 pairs against 10
        ("1.09 to 1.36 times slower", "| 2.67 | 1.09 |"),
        ("1.09 to 1.36 times slower", "| 1.27 | 1.36 |"),
        ("objective 1.01 times lower", "| 1.006e-05 | 1.01 |"),
        ("1.85 to 2.72 times lower", "| 5.407e-05 | 1.85 |"),
        ("1.85 to 2.72 times lower", "| 3.682e-05 | 2.72 |"),
    ],
    "logistic.md": [
        # choosing.rst, "In short": so/lbfgs and ls/lbfgs on dense_50k
        ("``so/lbfgs`` reached the target in 2.67 s", "| 2.67 |"),
        ("3.62 s for ``ls/lbfgs``", "| 3.62 |"),
        # choosing.rst, logistic regression: the default's times where first
        ("on digits (0.432 s)", "| 0.432 |"),
        ("breast cancer (5.6 ms)", "| 0.00557 |"),
        ("breast cancer (0.0859 s)", "| 0.0859 |"),
        ("problem (0.113 s)", "| 0.113 |"),
        # so/lbfgs against ls/lbfgs iterations on digits, standardised
        ("(491 against 519 on digits", "| 1.03 | 491 |"),
        ("(491 against 519 on digits", "| 0.432 | 519 |"),
        ("20 against 28 on", "| 0.0106 | 20 |"),
        ("20 against 28 on", "| 0.00557 | 28 |"),
        # dense_50k: ps and so with lbfgs; ls/lbfgs; the fast ones vs best
        ("took 71 iterations", "| 2.64 | 71 |"),
        ("took 71 iterations", "| 2.67 | 71 |"),
        ("``ls/lbfgs`` 121.", "| 3.62 | 121 |"),
        ("1.01 to 1.04 times as fast", "| 1.01 |"),
        ("1.01 to 1.04 times as fast", "| 1.04 |"),
        ("was not (0.75x)", "| 0.75 |"),
        # so/gd on unscaled breast cancer
        ("after 7439 iterations", "| 2.55 | 7439 |"),
        # the default against sklearn lbfgs and against the best solver
        ("(6.47x on digits", "| 6.47 |"),
        ("2.86x on unscaled", "| 2.86 |"),
        ("1.14x on the dense", "| 1.14 |"),
        ("5.36x on the sparse", "| 5.36 |"),
        ("breast cancer (0.64x)", "| 0.64 |"),
        ("sparse problem (2.48x", "| 2.48 |"),
        ("at 0.89x on digits", "| 0.89 |"),
        ("0.55x and 0.03x", "| 0.64 | 0.55 |"),
        ("0.55x and 0.03x", "| 2.86 | 0.03 |"),
        ("problem too (0.75x)", "| 0.75 |"),
        # newton-cholesky's iterations on the four small or dense datasets
        # (digits 10, dense_50k 5) and the default's (standardised 28,
        # digits 519)
        ("5 to 10 iterations", "| 2.7 | 5 |"),
        ("5 to 10 iterations", "| 0.387 | 10 |"),
        ("28 to 519 iterations", "| 0.00557 | 28 |"),
        ("28 to 519 iterations", "| 0.432 | 519 |"),
        # t_iter / 2 products: cost_model.rst, then limitations.rst
        ("1.2 to 1.4 times their time", "| 1.2 |"),
        ("1.2 to 1.4 times their time", "| 1.4 |"),
        ("1.2 for the default.", "| 253 | 1.2 |"),
        ("at 4.2 to 67 times", "| 4.2 |"),
        ("at 4.2 to 67 times", "| 66.6 |"),
        ("(1.2 to 1.4 times on", "| 1.2 |"),
        ("(1.2 to 1.4 times on", "| 1.4 |"),
        ("problem, 1.2 for the default", "| 253 | 1.2 |"),
        # limitations.rst: newton-cholesky against the default on digits
        ("in 0.387 s (10 iterations)", "| 0.387 | 10 |"),
        ("against 0.432 s (519 iterations)", "| 0.432 | 519 |"),
    ],
    "two_layer.md": [
        # choosing.rst: MLP adam's epochs; the SO fits' time budget
        ("of 400 epochs", "| MLP adam | max_iter | 400 |"),
        ("within the 30 s budget", "after 30 s of loop time"),
        # lo/adam first to T_adam on synthetic_clf, the default
        ("Adam target in 3.25 s", "| 3.25 |"),
        ("``ls/lbfgs`` in 3.44 s", "| 3.44 |"),
        # the default against MLP adam
        ("28.7x (digits)", "28.72"),
        ("14.8x", "14.83"),
        ("and 7.8x", "7.81"),
        # the default against MLP lbfgs; MLP at max_iter on the regression set
        ("slower: 0.93x and 0.85x", "| 0.93 |"),
        ("slower: 0.93x and 0.85x", "| 0.85 |"),
        ("0.79x on the regression", "| 0.79 |"),
        ("``max_iter=400``", "| MLP lbfgs | max_iter | 400 |"),
        ("needed 412 iterations", "| 21.6 | 412 |"),
        ("(21.6 s against 17 s)", "| 21.6 | 412 |"),
        ("(21.6 s against 17 s)", "| 17 | 400 |"),
        # iterations to T_lbfgs, ls/lbfgs against MLP lbfgs
        ("(15 against 14", "| 0.0802 | 15 |"),
        ("(15 against 14", "| 0.0743 | 14 |"),
        ("and 29 against 27", "| 4.42 | 29 |"),
        ("and 29 against 27", "| 3.75 | 27 |"),
        # t_iter / 2 products on synthetic_clf and synthetic_reg: ls/lbfgs, MLP
        ("1.5 and 2.5 times two products", "| 1.5 | 4.42 |"),
        ("1.5 and 2.5 times two products", "| 2.5 | 21.6 |"),
        ("against 1.4 and 2.1 for MLP", "| 1.4 | 3.75 |"),
        ("against 1.4 and 2.1 for MLP", "| 2.1 | 17 |"),
        # iterations to T_lbfgs, so/lbfgs against ls/lbfgs
        ("(10 against 15 on digits", "| 0.222 | 10 |"),
        ("(10 against 15 on digits", "| 0.0802 | 15 |"),
        ("23 against 29 on", "| 7.41 | 23 |"),
        ("23 against 29 on", "| 4.42 | 29 |"),
        ("179 against 412", "| 26.1 | 179 |"),
        ("179 against 412", "| 21.6 | 412 |"),
        # t_iter / 2 products of so/lbfgs (synthetic_clf to digits), of ls
        ("3.3 to 18 times two products", "| 3.3 |"),
        ("3.3 to 18 times two products", "| 18.2 |"),
        ("against 1.5 to 4.1 times", "| 1.5 |"),
        ("against 1.5 to 4.1 times", "| 4.1 |"),
        # so/lbfgs and ls/lbfgs to T_lbfgs on the regression set
        ("(26.1 s against 21.6 s", "| 26.1 | 179 |"),
        ("(26.1 s against 21.6 s", "| 21.6 | 412 |"),
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
