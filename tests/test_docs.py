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
    "array_api",
    "dask",
]
EXAMPLES = sorted(path.stem for path in (ROOT / "examples").glob("plot_*.py"))
# Pages with doctest examples; the docstrings' are run by --doctest-modules.
DOCTEST_PAGES = [
    "getting_started.rst",
    "user_guide/objectives.rst",
    "user_guide/array_api.rst",
]


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
    for page in ["index", "getting_started", "benchmarks", "contributing"]:
        assert (built / f"{page}.html").is_file()
    for page in USER_GUIDE:
        assert (built / "user_guide" / f"{page}.html").is_file()


def test_contributing_page_names_every_contract_member():
    # The page's table of protocols is the written contract: every member of
    # every protocol in _contracts.py must appear on it.
    from sklearn_so import _contracts

    page = (DOC / "contributing.rst").read_text(encoding="utf-8")
    protocols = [
        _contracts.Engine,
        _contracts.Model,
        _contracts.PreconditionedModel,
        _contracts.CurvatureModel,
        _contracts.Loss,
        _contracts.PreconditionedLoss,
        _contracts.CurvatureLoss,
        _contracts.Direction,
        _contracts.CurvatureDirection,
        _contracts.Strategy,
    ]
    for protocol in protocols:
        assert f"``{protocol.__name__}``" in page
        for member in _contracts.protocol_members(protocol):
            assert f"``{member}``" in page, f"{protocol.__name__}.{member}"


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
def test_doc_page_examples(page, monkeypatch):
    # scikit-learn's array_api_dispatch (user_guide/array_api.rst) checks
    # that SciPy's array API support is requested; numpy code is unaffected.
    monkeypatch.setenv("SCIPY_ARRAY_API", "1")
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
    "dask_2m/dask.md": [
        # dask.rst, Benchmark: ours on the cluster against dask-ml, Spark and
        # the in-memory fits, 2,000,000 x 200 float32
        (
            "the target in 7.5 s, 8 iterations",
            "| SO ls/lbfgs | dask | reached | 7.5 | 1.00 | 8 |",
        ),
        ("of 3.12 round trips", "(3.12 per iteration)"),
        (
            "took 37.3 s at its defaults",
            "| dask-ml lbfgs defaults | dask | reached | 37.3 |",
        ),
        ("and 18.2 s at its best", "| dask-ml lbfgs best | dask | reached | 18.2 |"),
        ("Spark 46.6 s", "| Spark lbfgs | spark | reached | 46.6 |"),
        ("ours in memory 4.57 s", "| SO ls/lbfgs | memory | reached | 4.57 |"),
        ("in memory: 3.23 s", "| sklearn lbfgs | memory | reached | 3.23 |"),
        ("4.97 times faster", "= 4.97)"),
        ("2.43 times than at", "= 2.43)"),
        ("6.21 times than Spark", "= 6.21)"),
        ("1.64 times the in-memory", "= 1.64)"),
        (
            "ours on the cluster 35 s (17 iterations)",
            "| SO ls/lbfgs | dask | reached | 35 | 1.00 | 17 |",
        ),
        ("Spark 53.5 s", "| Spark lbfgs | spark | reached | 53.5 |"),
        ("ours in memory 38.6 s", "| SO ls/lbfgs | memory | reached | 38.6 |"),
    ],
    "dask_2m_float64/dask.md": [
        # dask.rst, Benchmark: float64, binary and 10 classes
        (
            "reached the target in 6.43 s (8 iterations",
            "| SO ls/lbfgs | dask | reached | 6.43 | 1.00 | 8 |",
        ),
        ("1.25 round trips each", "(1.25 per iteration)"),
        (
            "33.4 s at its defaults (5.20x)",
            "| dask-ml lbfgs defaults | dask | reached | 33.4 |",
        ),
        ("33.4 s at its defaults (5.20x)", "= 5.20)"),
        (
            "7.72 s at its best settings (1.20x)",
            "| dask-ml lbfgs best | dask | reached | 7.72 |",
        ),
        ("7.72 s at its best settings (1.20x)", "= 1.20)"),
        ("Spark in 38.1 s (5.92x)", "| Spark lbfgs | spark | reached | 38.1 |"),
        ("Spark in 38.1 s (5.92x)", "= 5.92)"),
        (
            "ours in memory in 5.74 s (1.12x)",
            "| SO ls/lbfgs | memory | reached | 5.74 |",
        ),
        ("ours in memory in 5.74 s (1.12x)", "= 1.12)"),
        ("in memory in 4.81 s", "| sklearn lbfgs | memory | reached | 4.81 |"),
        (
            "cluster 41.5 s (17 iterations)",
            "| SO ls/lbfgs | dask | reached | 41.5 | 1.00 | 17 |",
        ),
        ("Spark 63.7 s", "| Spark lbfgs | spark | reached | 63.7 |"),
        ("ours in memory 58.2 s", "| SO ls/lbfgs | memory | reached | 58.2 |"),
        ("in memory 37.1 s", "| sklearn lbfgs | memory | reached | 37.1 |"),
    ],
    "dask_2m_sparse/dask.md": [
        # dask.rst, Benchmark: the sparse text-like problem, binary
        (
            "cluster 8.2 s (13 iterations",
            "| SO ls/lbfgs | dask | reached | 8.2 | 1.00 | 13 |",
        ),
        ("Spark 11.5 s (1.40x)", "| Spark lbfgs | spark | reached | 11.5 |"),
        ("Spark 11.5 s (1.40x)", "= 1.40)"),
        ("5.03 s (1.63x)", "| SO ls/lbfgs | memory | reached | 5.03 |"),
        ("5.03 s (1.63x)", "= 1.63)"),
        ("memory 22.5 s", "| sklearn newton-cg | memory | reached | 22.5 |"),
        (
            "``lbfgs`` 72.7 s in 277",
            "| sklearn lbfgs | memory | reached | 72.7 | 8.86 | 277 |",
        ),
        ("``saga`` 45.6 s", "| sklearn saga | memory | reached | 45.6 |"),
        ("0.199 s now", "0.199 s on the cluster"),
    ],
    "dask_2m_sparse_10/dask.md": [
        # dask.rst: the sparse text-like problem, 10 classes
        (
            "Spark reached the target in 63.9 s (16",
            "| Spark lbfgs | spark | reached | 63.9 | 0.55 | 16 |",
        ),
        (
            "cluster in 115 s (49 iterations, 1.29",
            "| SO ls/lbfgs | dask | reached | 115 | 1.00 | 49 |",
        ),
        ("cluster in 115 s (49 iterations, 1.29", "(1.29 per iteration)"),
        ("0.55x Spark's speed", "= 0.55)"),
        ("Ours in memory took 115 s too", "| SO ls/lbfgs | memory | reached | 115 |"),
        ("``saga`` 89.6 s", "| sklearn saga | memory | reached | 89.6 |"),
        (
            "``lbfgs`` (309 iterations)",
            "| sklearn lbfgs | memory | not reached (budget) |  |  | 309 |",
        ),
        (
            "``newton-cg`` (7 iterations)",
            "| sklearn newton-cg | memory | not reached (budget) |  |  | 7 |",
        ),
        ("(2.36 s, against", "2.36 s per iteration = 4.06 x two bare"),
        ("4.06 times two bare", "2.36 s per iteration = 4.06 x two bare"),
    ],
    "torch_cpu.md": [
        # array_api.rst: torch CPU against numpy on 1,000,000 x 500 float32
        ("torch / numpy = 1.13", "| 1.13 |"),
        ("(4.56 s against 4.02 s", "| 4.56 |"),
        ("(4.56 s against 4.02 s", "| 4.02 |"),
        ("numpy 3.57 s)", "| 3.57 |"),
        ("torch / numpy = 0.81", "| 0.81 |"),
        ("(25.9 s against 32.8 s)", "| 25.9 |"),
        ("(25.9 s against 32.8 s)", "| 32.8 |"),
    ],
    "memory.md": [
        # inner_problems.rst: 100 pairs against 10, logistic (dense to wine)
        ("1.40 to 9.27 times fewer", "| 100 | 65 | 1.40 |"),
        ("1.40 to 9.27 times fewer", "| 100 | 177 | 9.27 |"),
        # networks: time and objective ratios of 50 and 100 pairs against 10
        ("1.10 to 1.40 times slower", "| 2.35 | 1.10 |"),
        ("1.10 to 1.40 times slower", "| 1.09 | 1.40 |"),
        ("objective 1.01 times lower", "| 1.006e-05 | 1.01 |"),
        ("1.85 to 2.72 times lower", "| 5.407e-05 | 1.85 |"),
        ("1.85 to 2.72 times lower", "| 3.682e-05 | 2.72 |"),
    ],
    "logistic.md": [
        # choosing.rst, "In short": lo/ps/so against ls on dense_50k
        ("they needed 49 iterations against 65", "| 1.49 | 49 |"),
        ("they needed 49 iterations against 65", "| 1.82 | 65 |"),
        ("target in 1.49 s against 1.82 s", "| 1.49 | 49 |"),
        ("target in 1.49 s against 1.82 s", "| 1.82 | 65 |"),
        # choosing.rst, logistic regression: the default's times where first
        ("on digits (0.238 s)", "| 0.238 |"),
        ("breast cancer (4.8 ms)", "| 0.00478 |"),
        ("breast cancer (0.018 s)", "| 0.0183 | 93 |"),
        ("problem (0.111 s)", "| 0.111 |"),
        # so/lbfgs against ls/lbfgs iterations on digits, standardised
        ("(197 against 268 on digits", "| 0.431 | 197 |"),
        ("(197 against 268 on digits", "| 0.238 | 268 |"),
        ("19 against 27 on", "| 0.0101 | 19 |"),
        ("19 against 27 on", "| 0.00478 | 27 |"),
        # dense_50k: lo, ps and so with lbfgs; ls/lbfgs; against the best
        ("``lbfgs`` took 49", "| 1.66 | 49 |"),
        ("iterations and 1.49-1.66 s", "| 1.49 | 49 |"),
        ("iterations and 1.49-1.66 s", "| 1.66 | 49 |"),
        ("``ls/lbfgs`` 65 iterations and 1.82 s", "| 1.82 | 65 |"),
        ("(1.33x for ``ls/lbfgs``", "| 1.97 | 1.33 |"),
        ("1.46x to 1.62x for", "| 2.16 | 1.46 |"),
        ("1.46x to 1.62x for", "| 2.39 | 1.62 |"),
        # so/gd on unscaled breast cancer
        ("after 7463 iterations", "| 2.39 | 7463 |"),
        # the default against sklearn lbfgs and against the best solver
        ("(11.13x on digits", "| 11.13 |"),
        ("17.24x on unscaled", "| 17.24 |"),
        ("1.97x on the dense", "| 1.97 |"),
        ("5.71x on the sparse", "| 5.71 |"),
        ("breast cancer (0.65x)", "| 0.65 |"),
        ("digits (1.71x over", "| 11.13 | 1.71 |"),
        ("dense problem (1.33x over", "| 1.97 | 1.33 |"),
        ("sparse one (2.51x over", "| 5.71 | 2.51 |"),
        ("0.59x and 0.17x", "| 0.65 | 0.59 |"),
        ("0.59x and 0.17x", "| 17.24 | 0.17 |"),
        # newton-cholesky's 8 iterations on both breast cancer sets; ours
        ("8 iterations of a Newton", "| 0.00282 | 8 |"),
        ("8 iterations of a Newton", "| 0.00317 | 8 |"),
        ("default's 27 and 93 iterations", "| 0.00478 | 27 |"),
        ("default's 27 and 93 iterations", "| 0.0183 | 93 |"),
        # t_iter / 2 products: cost_model.rst, then limitations.rst
        ("1.1 to 1.3 times their time", "| 4.53 | 170 | 1e-04 | 345 | 1.1 |"),
        ("1.1 to 1.3 times their time", "| 1.66 | 49 | 1e-06 | 103 | 1.3 |"),
        ("1.1 for the default.", "| 1.82 | 65 | 1e-06 | 136 | 1.1 |"),
        ("at 4.2 to 69 times", "| 268 | 1e-06 | 552 | 4.2 |"),
        ("at 4.2 to 69 times", "| 51 | 1e-03 | 108 | 68.9 |"),
        ("(1.1 to 1.3 times on", "| 4.53 | 170 | 1e-04 | 345 | 1.1 |"),
        ("(1.1 to 1.3 times on", "| 1.66 | 49 | 1e-06 | 103 | 1.3 |"),
        ("problem, 1.1 for the default", "| 1.82 | 65 | 1e-06 | 136 | 1.1 |"),
        # limitations.rst: newton-cholesky against the default, unscaled
        ("in 3.2 ms (8 iterations)", "| 0.00317 | 8 |"),
        ("against 18 ms (93 iterations)", "| 0.0183 | 93 |"),
    ],
    "newton.md": [
        # choosing.rst, the Newton directions' table: time ratios against
        # the best scikit-learn solver of ls/lbfgs, ls/newton, ls/newton-cg
        ("over 7 interleaved fits", "median of 7 interleaved fits"),
        (
            "standardised - 569 x 30, 2 - ``newton`` - 0.67 - 1.16 - 1.06",
            "breast_cancer_std: n=569, d=30, classes=2",
        ),
        (
            "standardised - 569 x 30, 2 - ``newton`` - 0.67 - 1.16 - 1.06",
            "| 0.67 | 1.7e-07 |",
        ),
        (
            "standardised - 569 x 30, 2 - ``newton`` - 0.67 - 1.16 - 1.06",
            "| 1.16 | 9.7e-12 |",
        ),
        (
            "standardised - 569 x 30, 2 - ``newton`` - 0.67 - 1.16 - 1.06",
            "| 1.06 | 4.2e-08 |",
        ),
        (
            "unscaled - 569 x 30, 2 - ``newton`` - 0.23 - 1.17 - 0.54",
            "breast_cancer_raw: n=569, d=30, classes=2",
        ),
        (
            "unscaled - 569 x 30, 2 - ``newton`` - 0.23 - 1.17 - 0.54",
            "| 0.23 | 2.5e-07 |",
        ),
        (
            "unscaled - 569 x 30, 2 - ``newton`` - 0.23 - 1.17 - 0.54",
            "| 1.17 | 8.4e-10 |",
        ),
        (
            "unscaled - 569 x 30, 2 - ``newton`` - 0.23 - 1.17 - 0.54",
            "| 0.54 | 4.9e-10 |",
        ),
        (
            "178 x 13, 3 - ``newton`` - 0.28 - 0.96 - 0.47",
            "wine_raw: n=178, d=13, classes=3",
        ),
        ("178 x 13, 3 - ``newton`` - 0.28 - 0.96 - 0.47", "| 0.28 | 3.0e-07 |"),
        ("178 x 13, 3 - ``newton`` - 0.28 - 0.96 - 0.47", "| 0.96 | 3.3e-10 |"),
        ("178 x 13, 3 - ``newton`` - 0.28 - 0.96 - 0.47", "| 0.47 | 3.2e-07 |"),
        (
            "1797 x 64, 10 - ``newton-cg`` - 1.94 - 1.09 - 2.31",
            "digits: n=1797, d=64, classes=10",
        ),
        ("1797 x 64, 10 - ``newton-cg`` - 1.94 - 1.09 - 2.31", "| 1.94 | 4.3e-07 |"),
        ("1797 x 64, 10 - ``newton-cg`` - 1.94 - 1.09 - 2.31", "| 1.09 | 3.1e-08 |"),
        ("1797 x 64, 10 - ``newton-cg`` - 1.94 - 1.09 - 2.31", "| 2.31 | 2.0e-09 |"),
        (
            "5000 x 100, 2 - ``lbfgs`` - 1.02 - 0.65 - 1.06",
            "dense_5k: n=5000, d=100, classes=2",
        ),
        ("5000 x 100, 2 - ``lbfgs`` - 1.02 - 0.65 - 1.06", "| 1.02 | 3.7e-07 |"),
        ("5000 x 100, 2 - ``lbfgs`` - 1.02 - 0.65 - 1.06", "| 0.65 | 7.5e-07 |"),
        ("5000 x 100, 2 - ``lbfgs`` - 1.02 - 0.65 - 1.06", "| 1.06 | 1.1e-08 |"),
        (
            "5000 x 300, 2 - ``newton-cg`` - 1.41 - 0.87 - 2.02",
            "dense_5k_300: n=5000, d=300, classes=2",
        ),
        ("5000 x 300, 2 - ``newton-cg`` - 1.41 - 0.87 - 2.02", "| 1.41 | 2.5e-07 |"),
        ("5000 x 300, 2 - ``newton-cg`` - 1.41 - 0.87 - 2.02", "| 0.87 | 2.0e-08 |"),
        ("5000 x 300, 2 - ``newton-cg`` - 1.41 - 0.87 - 2.02", "| 2.02 | 1.9e-08 |"),
        (
            "5000 x 784, 10 - ``newton-cg`` - 0.66 - (not run) - 0.97",
            "image_5k: n=5000, d=784, classes=10",
        ),
        (
            "5000 x 784, 10 - ``newton-cg`` - 0.66 - (not run) - 0.97",
            "| 0.66 | 4.8e-07 |",
        ),
        (
            "5000 x 784, 10 - ``newton-cg`` - 0.66 - (not run) - 0.97",
            "| 0.97 | 6.1e-08 |",
        ),
        # the bullets below the table
        ("Newton's 8 iterations beat", "| SO ls/newton | reached | 1e-05 | 8 |"),
        ("L-BFGS's 27 to 93", "| SO ls/lbfgs | reached | 1e-05 | 27 |"),
        ("L-BFGS's 27 to 93", "| SO ls/lbfgs | reached | 1e-03 | 93 |"),
        ("took 5.2 milliseconds against 26", "| 8 | 26 | 8 | 5.22 |"),
        ("took 5.2 milliseconds against 26", "| 93 | 194 | 0 | 26 |"),
        ("(0.96x to 1.17x)", "| 0.96 | 3.3e-10 |"),
        ("(0.96x to 1.17x)", "| 1.17 | 8.4e-10 |"),
        ("more than 260 L-BFGS iterations", "| 1e-06 | 260 | 536 |"),
        ("(0.97x against 0.66x", "| 0.97 | 6.1e-08 |"),
        ("(0.97x against 0.66x", "| 0.66 | 4.8e-07 |"),
        ("12 iterations against 478", "| 1e-05 | 12 | 766 |"),
        ("12 iterations against 478", "| 1e-06 | 478 | 977 |"),
        ("766 products against 977", "| 1e-05 | 12 | 766 |"),
        ("766 products against 977", "| 1e-06 | 478 | 977 |"),
        ("(2.31x against 1.94x, 2.02x", "| 2.31 | 2.0e-09 |"),
        ("(2.31x against 1.94x, 2.02x", "| 1.94 | 4.3e-07 |"),
        ("(2.31x against 1.94x, 2.02x", "| 2.02 | 1.9e-08 |"),
        ("against 1.41x)", "| 1.41 | 2.5e-07 |"),
        ("(1.06x against 1.02x;", "| 1.06 | 1.1e-08 |"),
        ("(1.06x against 1.02x;", "| 1.02 | 3.7e-07 |"),
        ("L-BFGS needs 26 iterations", "| 1e-05 | 26 | 56 |"),
    ],
    "newton_large.md": [
        # choosing.rst, the Newton directions' table: the two large sets
        ("(5 on the two largest sets)", "median of 5 interleaved fits"),
        (
            "50000 x 500, 2 - ``newton-cg`` - 1.89 - 1.02 - 2.24",
            "dense_50k: n=50000, d=500, classes=2",
        ),
        ("50000 x 500, 2 - ``newton-cg`` - 1.89 - 1.02 - 2.24", "| 1.89 | 2.6e-08 |"),
        ("50000 x 500, 2 - ``newton-cg`` - 1.89 - 1.02 - 2.24", "| 1.02 | 5.6e-11 |"),
        ("50000 x 500, 2 - ``newton-cg`` - 1.89 - 1.02 - 2.24", "| 2.24 | 1.8e-07 |"),
        (
            "100000 x 20000, 2 - ``lbfgs`` - 2.54 - (not run) - 1.97",
            "sparse_100k: n=100000, d=20000, classes=2",
        ),
        (
            "100000 x 20000, 2 - ``lbfgs`` - 2.54 - (not run) - 1.97",
            "| 2.54 | 5.7e-08 |",
        ),
        (
            "100000 x 20000, 2 - ``lbfgs`` - 2.54 - (not run) - 1.97",
            "| 1.97 | 1.4e-09 |",
        ),
        ("set (2.24x against 1.89x)", "| 2.24 | 1.8e-07 |"),
        ("set (2.24x against 1.89x)", "| 1.89 | 2.6e-08 |"),
        ("where L-BFGS needs 12", "| 1e-06 | 12 | 27 |"),
        ("fastest of all there (2.47x)", "| 2.47 | 9.0e-07 |"),
        ("needed five (1.02x)", "| 1.02 | 5.6e-11 |"),
    ],
    "two_layer.md": [
        # choosing.rst: MLP adam's epochs; the SO fits' time budget
        ("of 400 epochs", "| MLP adam | max_iter | 400 |"),
        ("within the 30 s budget", "after 30 s of loop time"),
        # the default and lo/adam to T_adam on synthetic_clf
        ("the Adam target in 2.99 s", "| 2.99 |"),
        ("next in 3.25 s", "| 3.25 |"),
        # the default against MLP adam
        ("32.3x (digits)", "32.26"),
        ("16.6x", "16.57"),
        ("and 8.1x", "8.07"),
        # the default against MLP lbfgs; MLP at max_iter on the regression set
        ("at best: 1.07x on digits", "| 1.07 |"),
        ("digits, 0.95x on the", "| 0.95 |"),
        ("0.90x on the regression", "| 0.90 |"),
        ("``max_iter=400``", "| MLP lbfgs | max_iter | 400 |"),
        ("needed 398 iterations", "| 17.4 | 398 |"),
        ("(17.4 s against 15.6 s)", "| 17.4 | 398 |"),
        ("(17.4 s against 15.6 s)", "| 15.6 | 400 |"),
        # iterations to T_lbfgs, ls/lbfgs against MLP lbfgs
        ("(15 against 14", "| 0.0666 | 15 |"),
        ("(15 against 14", "| 0.0709 | 14 |"),
        ("and 29 against 27", "| 3.85 | 29 |"),
        ("and 29 against 27", "| 3.67 | 27 |"),
        # t_iter / 2 products on synthetic_reg: ls/lbfgs, MLP lbfgs
        ("(2.1 times two products", "| 2.1 | 17.4 |"),
        ("against 1.9 for MLP", "| 1.9 | 15.6 |"),
        # limitations.rst: the default against MLP lbfgs, range
        ("ours at 0.90x to 1.07x", "| 0.90 |"),
        ("ours at 0.90x to 1.07x", "| 1.07 |"),
        # iterations to T_lbfgs, so/lbfgs against ls/lbfgs
        ("(10 against 15 on digits", "| 0.208 | 10 |"),
        ("(10 against 15 on digits", "| 0.0666 | 15 |"),
        ("23 against 29 on", "| 7.6 | 23 |"),
        ("23 against 29 on", "| 3.85 | 29 |"),
        ("180 against 398", "| 27 | 180 |"),
        ("180 against 398", "| 17.4 | 398 |"),
        # t_iter / 2 products of so/lbfgs (synthetic_clf to digits), of ls
        ("3.4 to 19 times two products", "| 3.4 | 7.6 |"),
        ("3.4 to 19 times two products", "| 18.6 | 0.208 |"),
        ("against 1.3 to 3.5 times", "| 1.3 | 3.85 |"),
        ("against 1.3 to 3.5 times", "| 3.5 | 0.0666 |"),
        # so/lbfgs and ls/lbfgs to T_lbfgs on the regression set
        ("(27 s against 17.4 s", "| 27 | 180 |"),
        ("(27 s against 17.4 s", "| 17.4 | 398 |"),
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
