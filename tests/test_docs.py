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
    "dask_200k_sparse_10/dask.md": [
        # dask.rst: the same problem, 200,000 rows, centred against Spark
        (
            "reached the target in 5.19 s and 11 iterations",
            "| SO ls/lbfgs centred | dask | reached | 5.19 | 1.00 | 11 |",
        ),
        (
            "Spark in 13.7 s and 25",
            "| Spark lbfgs | spark | reached | 13.7 | 2.65 | 25 |",
        ),
        (
            "iterations (2.65x slower)",
            "| Spark lbfgs | spark | reached | 13.7 | 2.65 |",
        ),
        (
            "preconditioner in 18.7 s",
            "| SO ls/lbfgs | dask | reached | 18.7 | 3.60 | 38 |",
        ),
        ("and 38 iterations. The", "| 18.7 | 3.60 | 38 |"),
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
        ("they needed 49 iterations against 65", "| 1.75 | 49 |"),
        ("they needed 49 iterations against 65", "| 2.19 | 65 |"),
        ("target in 1.75 s against 2.19 s", "| 1.75 | 49 |"),
        ("target in 1.75 s against 2.19 s", "| 2.19 | 65 |"),
        # choosing.rst, logistic regression: the default's times where first
        ("(3.5 ms standardised", "| 0.00348 | 8 |"),
        ("5.6 ms unscaled", "| 0.00556 | 8 |"),
        ("against 27 and 93 for ``ls/lbfgs``", "| 0.0131 | 27 |"),
        ("against 27 and 93 for ``ls/lbfgs``", "| 0.029 | 93 |"),
        ("(0.199 s, the default's own fit 0.205 s)", "| 0.199 | 260 |"),
        ("(0.199 s, the default's own fit 0.205 s)", "| 0.205 | 260 |"),
        ("problem (0.189 s)", "| 0.189 | 12 |"),
        # so/lbfgs against ls/lbfgs iterations on digits, standardised
        ("(198 against 260 on digits", "| 0.452 | 198 |"),
        ("(198 against 260 on digits", "| 0.199 | 260 |"),
        ("19 against 27 on", "| 0.0178 | 19 |"),
        ("19 against 27 on", "| 0.0131 | 27 |"),
        # dense_50k: lo, ps and so with lbfgs; ls/lbfgs; against the best
        ("iterations and 1.75-1.88 s", "| 1.75 | 49 |"),
        ("iterations and 1.75-1.88 s", "| 1.88 | 49 |"),
        ("``ls/lbfgs`` 65 iterations and 2.19 s", "| 2.19 | 65 |"),
        ("(1.65x for ``ls/lbfgs``", "| 2.22 | 1.65 |"),
        ("1.92x to 2.06x for", "| 2.58 | 1.92 |"),
        ("1.92x to 2.06x for", "| 2.78 | 2.06 |"),
        # so/gd on unscaled breast cancer
        ("after 7463 iterations", "| 3.63 | 7463 |"),
        # the default (ls/auto) against sklearn lbfgs and the best solver
        ("(14.98x on digits", "| 14.98 |"),
        ("1.44x on standardised", "| 1.44 |"),
        ("101.44x on unscaled", "| 101.44 |"),
        ("2.19x on the dense", "| 2.19 | 1.62 |"),
        ("5.51x on the sparse", "| 5.51 |"),
        ("digits (2.34x over", "| 14.98 | 2.34 |"),
        ("breast cancer (1.17x over", "| 1.44 | 1.17 |"),
        ("dense problem (1.62x", "| 2.19 | 1.62 |"),
        ("sparse one (2.10x over", "| 5.51 | 2.10 |"),
        ("(0.98x, both 8 iterations)", "| 101.44 | 0.98 |"),
        ("(0.98x, both 8 iterations)", "| 0.00544 | 8 |"),
        # ls/lbfgs against newton-cholesky on the breast cancer sets
        ("(0.31x and 0.19x of", "| 0.38 | 0.31 |"),
        ("(0.31x and 0.19x of", "| 19.48 | 0.19 |"),
        # t_iter / 2 products: cost_model.rst, then limitations.rst
        ("1.2 to 1.4 times their time", "| 5.78 | 170 | 1e-04 | 345 | 1.2 |"),
        ("1.2 to 1.4 times their time", "| 1.88 | 49 | 1e-06 | 103 | 1.4 |"),
        ("1.2 for the default.", "| 2.22 | 65 | 1e-06 | 136 | 1.2 |"),
        ('"lbfgs"`` at 3.3 to 108 times', "| 260 | 1e-06 | 536 | 3.3 |"),
        ('"lbfgs"`` at 3.3 to 108 times', "| 19 | 1e-05 | 41 | 108.3 |"),
        ("(1.2 to 1.3 times on", "| 2.19 | 65 | 1e-06 | 136 | 1.2 |"),
        ("(1.2 to 1.3 times on", "| 1.84 | 49 | 1e-06 | 103 | 1.3 |"),
        ("problem, 1.2 for the default", "| 2.22 | 65 | 1e-06 | 136 | 1.2 |"),
        # limitations.rst: newton-cholesky against ls/lbfgs, unscaled
        ("in 5.4 ms (8 iterations)", "| 0.00544 | 8 |"),
        ("against 29 ms (93 iterations)", "| 0.029 | 93 |"),
    ],
    "newton.md": [
        # choosing.rst, the Newton directions' table and bullets: ratios
        # against the best scikit-learn solver of ls/lbfgs, ls/newton, ls/newton-cg
        ("over 7 interleaved fits", "median of 7 interleaved fits"),
        (
            "standardised - 569 x 30, 2 - ``newton`` - 0.57 - 1.08 - 0.95",
            "breast_cancer_std: n=569, d=30, classes=2",
        ),
        (
            "standardised - 569 x 30, 2 - ``newton`` - 0.57 - 1.08 - 0.95",
            "| 0.57 | 1.7e-07 |",
        ),
        (
            "standardised - 569 x 30, 2 - ``newton`` - 0.57 - 1.08 - 0.95",
            "| 1.08 | 9.7e-12 |",
        ),
        (
            "standardised - 569 x 30, 2 - ``newton`` - 0.57 - 1.08 - 0.95",
            "| 0.95 | 4.2e-08 |",
        ),
        (
            "unscaled - 569 x 30, 2 - ``newton`` - 0.19 - 1.15 - 0.41",
            "breast_cancer_raw: n=569, d=30, classes=2",
        ),
        (
            "unscaled - 569 x 30, 2 - ``newton`` - 0.19 - 1.15 - 0.41",
            "| 0.19 | 2.5e-07 |",
        ),
        (
            "unscaled - 569 x 30, 2 - ``newton`` - 0.19 - 1.15 - 0.41",
            "| 1.15 | 8.4e-10 |",
        ),
        (
            "unscaled - 569 x 30, 2 - ``newton`` - 0.19 - 1.15 - 0.41",
            "| 0.41 | 4.9e-10 |",
        ),
        (
            "178 x 13, 3 - ``newton`` - 0.29 - 1.07 - 0.54",
            "wine_raw: n=178, d=13, classes=3",
        ),
        ("178 x 13, 3 - ``newton`` - 0.29 - 1.07 - 0.54", "| 0.29 | 3.0e-07 |"),
        ("178 x 13, 3 - ``newton`` - 0.29 - 1.07 - 0.54", "| 1.07 | 3.3e-10 |"),
        ("178 x 13, 3 - ``newton`` - 0.29 - 1.07 - 0.54", "| 0.54 | 3.2e-07 |"),
        (
            "1797 x 64, 10 - ``lbfgs`` - 2.10 - 1.12 - 2.18",
            "digits: n=1797, d=64, classes=10",
        ),
        ("1797 x 64, 10 - ``lbfgs`` - 2.10 - 1.12 - 2.18", "| 2.10 | 4.3e-07 |"),
        ("1797 x 64, 10 - ``lbfgs`` - 2.10 - 1.12 - 2.18", "| 1.12 | 3.1e-08 |"),
        ("1797 x 64, 10 - ``lbfgs`` - 2.10 - 1.12 - 2.18", "| 2.18 | 2.0e-09 |"),
        (
            "5000 x 100, 2 - ``lbfgs`` - 0.98 - 0.93 - 0.95",
            "dense_5k: n=5000, d=100, classes=2",
        ),
        ("5000 x 100, 2 - ``lbfgs`` - 0.98 - 0.93 - 0.95", "| 0.98 | 3.7e-07 |"),
        ("5000 x 100, 2 - ``lbfgs`` - 0.98 - 0.93 - 0.95", "| 0.93 | 7.5e-07 |"),
        ("5000 x 100, 2 - ``lbfgs`` - 0.98 - 0.93 - 0.95", "| 0.95 | 1.1e-08 |"),
        (
            "5000 x 300, 2 - ``lbfgs`` - 1.05 - 0.78 - 1.59",
            "dense_5k_300: n=5000, d=300, classes=2",
        ),
        ("5000 x 300, 2 - ``lbfgs`` - 1.05 - 0.78 - 1.59", "| 1.05 | 2.5e-07 |"),
        ("5000 x 300, 2 - ``lbfgs`` - 1.05 - 0.78 - 1.59", "| 0.78 | 2.0e-08 |"),
        ("5000 x 300, 2 - ``lbfgs`` - 1.05 - 0.78 - 1.59", "| 1.59 | 1.9e-08 |"),
        (
            "5000 x 784, 10 - ``lbfgs`` - 0.64 - (not run) - 1.12",
            "image_5k: n=5000, d=784, classes=10",
        ),
        ("5000 x 784, 10 - ``lbfgs`` - 0.64 - (not run) - 1.12", "| 0.64 | 1.9e-07 |"),
        ("5000 x 784, 10 - ``lbfgs`` - 0.64 - (not run) - 1.12", "| 1.12 | 3.7e-08 |"),
        ("4.27 milliseconds against 25.7", "| 8 | 26 | 8 | 4.27 |"),
        ("4.27 milliseconds against 25.7", "| 93 | 194 | 0 | 25.7 |"),
        ("(1.07x to 1.15x)", "| 1.15 | 8.4e-10 |"),
        ("(1.07x to 1.15x)", "| 1.07 | 3.3e-10 |"),
        ("more than 260 L-BFGS", "| 1e-06 | 260 | 536 |"),
        ("(1.12x against 0.64x", "| 1.12 | 3.7e-08 |"),
        ("(1.12x against 0.64x", "| 0.64 | 1.9e-07 |"),
        ("13 iterations against 504", "| 1e-06 | 13 | 793 |"),
        ("13 iterations against 504", "| 1e-06 | 504 | 1053 |"),
        ("793 products against 1053", "| 1e-06 | 13 | 793 |"),
        ("793 products against 1053", "| 1e-06 | 504 | 1053 |"),
        ("(2.18x against 2.10x)", "| 2.18 | 2.0e-09 |"),
        ("(2.18x against 2.10x)", "| 2.10 | 4.3e-07 |"),
        ("(5000 x 300: 1.59x against 1.05x;", "dense_5k_300: n=5000, d=300"),
        ("(5000 x 300: 1.59x against 1.05x;", "| 1.59 | 1.9e-08 |"),
        ("(5000 x 300: 1.59x against 1.05x;", "| 1.05 | 2.5e-07 |"),
        ("(0.95x against 0.98x; L-BFGS needs 26", "| 0.95 | 1.1e-08 |"),
        ("(0.95x against 0.98x; L-BFGS needs 26", "| 0.98 | 3.7e-07 |"),
        ("(0.95x against 0.98x; L-BFGS needs 26", "| 1e-05 | 26 | 56 |"),
    ],
    "newton_large.md": [
        # choosing.rst, the Newton directions' table: the two large sets
        ("(5 on the two largest sets", "median of 5 interleaved fits"),
        (
            "50000 x 500, 2 - ``lbfgs`` - 1.73 - 1.07 - 2.10",
            "dense_50k: n=50000, d=500, classes=2",
        ),
        ("50000 x 500, 2 - ``lbfgs`` - 1.73 - 1.07 - 2.10", "| 1.73 | 2.6e-08 |"),
        ("50000 x 500, 2 - ``lbfgs`` - 1.73 - 1.07 - 2.10", "| 1.07 | 5.6e-11 |"),
        ("50000 x 500, 2 - ``lbfgs`` - 1.73 - 1.07 - 2.10", "| 2.10 | 1.8e-07 |"),
        (
            "100000 x 20000, 2 - ``lbfgs`` - 2.33 - (not run) - 1.85",
            "sparse_100k: n=100000, d=20000, classes=2",
        ),
        (
            "100000 x 20000, 2 - ``lbfgs`` - 2.33 - (not run) - 1.85",
            "| 2.33 | 5.7e-08 |",
        ),
        (
            "100000 x 20000, 2 - ``lbfgs`` - 2.33 - (not run) - 1.85",
            "| 1.85 | 1.4e-09 |",
        ),
        ("50000 x 500: 2.10x against 1.73x)", "dense_50k: n=50000, d=500"),
        ("50000 x 500: 2.10x against 1.73x)", "| 2.10 | 1.8e-07 |"),
        ("50000 x 500: 2.10x against 1.73x)", "| 1.73 | 2.6e-08 |"),
        ("(where L-BFGS needs 12 iterations)", "| 1e-06 | 12 | 27 |"),
        ("fastest of all there (2.68x)", "| 2.68 | 9.0e-07 |"),
        ("needed five (1.07x)", "| 1.07 | 5.6e-11 |"),
    ],
    "newton_std.md": [
        # choosing.rst, the Newton directions' table: standardised problems
        (
            "(5 on the two largest sets and on the standardised",
            "median of 5 interleaved fits",
        ),
        (
            "standardised - 1797 x 64, 10 - ``lbfgs`` - 1.34 - 0.19 - 0.58",
            "digits_std: n=1797, d=64, classes=10",
        ),
        (
            "standardised - 1797 x 64, 10 - ``lbfgs`` - 1.34 - 0.19 - 0.58",
            "| 1.34 | 1.3e-07 |",
        ),
        (
            "standardised - 1797 x 64, 10 - ``lbfgs`` - 1.34 - 0.19 - 0.58",
            "| 0.19 | 3.6e-09 |",
        ),
        (
            "standardised - 1797 x 64, 10 - ``lbfgs`` - 1.34 - 0.19 - 0.58",
            "| 0.58 | 2.8e-09 |",
        ),
        (
            "standardised - 20000 x 300, 2 - ``lbfgs`` - 0.91 - 0.30 - 0.72",
            "dense_20k_300_std: n=20000, d=300, classes=2",
        ),
        (
            "standardised - 20000 x 300, 2 - ``lbfgs`` - 0.91 - 0.30 - 0.72",
            "| 0.91 | 1.0e-07 |",
        ),
        (
            "standardised - 20000 x 300, 2 - ``lbfgs`` - 0.91 - 0.30 - 0.72",
            "| 0.30 | 2.1e-09 |",
        ),
        (
            "standardised - 20000 x 300, 2 - ``lbfgs`` - 0.91 - 0.30 - 0.72",
            "| 0.72 | 7.5e-07 |",
        ),
        (
            "standardised - 20000 x 300, 5 - ``lbfgs`` - 1.33 - 0.05 - 0.83",
            "multiclass_20k_300: n=20000, d=300, classes=5",
        ),
        (
            "standardised - 20000 x 300, 5 - ``lbfgs`` - 1.33 - 0.05 - 0.83",
            "| 1.33 | 1.7e-07 |",
        ),
        (
            "standardised - 20000 x 300, 5 - ``lbfgs`` - 1.33 - 0.05 - 0.83",
            "| 0.05 | 7.7e-09 |",
        ),
        (
            "standardised - 20000 x 300, 5 - ``lbfgs`` - 1.33 - 0.05 - 0.83",
            "| 0.83 | 8.5e-09 |",
        ),
        ("needs 13 to 63 iterations", "| 1e-04 | 13 | 29 | 0 |"),
        ("needs 13 to 63 iterations", "| 1e-06 | 63 | 133 | 0 |"),
        ("(0.58x to 0.83x against 0.91x to 1.34x)", "| 0.58 | 2.8e-09 |"),
        ("(0.58x to 0.83x against 0.91x to 1.34x)", "| 0.83 | 8.5e-09 |"),
        ("(0.58x to 0.83x against 0.91x to 1.34x)", "| 0.91 | 1.0e-07 |"),
        ("(0.58x to 0.83x against 0.91x to 1.34x)", "| 1.34 | 1.3e-07 |"),
        ("(0.91x; both need the same 13 iterations", "| 0.91 | 1.0e-07 |"),
        (
            "(0.91x; both need the same 13 iterations",
            "| sklearn lbfgs | reached | 1e-04 | 13 |",
        ),
        ("(0.91x; both need the same 13 iterations", "| 1e-04 | 13 | 29 | 0 |"),
        ("1.33x faster with the same 15", "| 1.33 | 1.7e-07 |"),
        ("1.33x faster with the same 15", "| sklearn lbfgs | reached | 1e-04 | 15 |"),
        ("1.33x faster with the same 15", "| 1e-04 | 15 | 33 | 0 |"),
    ],
    "preconditioner.md": [
        # choosing.rst, the preconditioner's table and paragraph
        ("median of 9 interleaved fits", "median of 9 fits stopped there"),
        (
            "unscaled - 1797 x 64, 10 - 242 - 92 - 2.57",
            "| digits | 1797 x 64, 10 | 242 | 162.5 | 92 | 63.3 | 2.57 |",
        ),
        (
            "unscaled - 569 x 30, 2 - 91 - 45 - 1.54",
            "| breast_cancer_raw | 569 x 30, 2 | 91 | 14.3 | 45 | 9.3 | 1.54 |",
        ),
        (
            "unscaled - 178 x 13, 3 - 79 - 25 - 2.28",
            "| wine_raw | 178 x 13, 3 | 79 | 14.7 | 25 | 6.4 | 2.28 |",
        ),
        (
            "unscaled - 5000 x 784, 10 - 465 - 96 - 4.99",
            "| image_5k | 5000 x 784, 10 | 465 | 8014.0 | 96 | 1605.1 | 4.99 |",
        ),
        (
            "200000 x 20000, 10 - 46 - 11 - 3.73",
            "| sparse_tfidf_10 | 200000 x 20000, 10 | 46 | "
            "6867.3 | 11 | 1842.2 | 3.73 |",
        ),
        (
            "standardised - 1797 x 64, 10 - 56 - 44 - 1.22",
            "| digits_std | 1797 x 64, 10 | 56 | 37.5 | 44 | 30.7 | 1.22 |",
        ),
        (
            "standardised - 569 x 30, 2 - 25 - 25 - 0.76",
            "| breast_cancer_std | 569 x 30, 2 | 25 | 5.2 | 25 | 6.8 | 0.76 |",
        ),
        (
            "5000 x 300, 2 - 44 - 44 - 1.13",
            "| dense_5k_300 | 5000 x 300, 2 | 44 | 58.5 | 44 | 51.5 | 1.13 |",
        ),
        (
            "20000 x 300, 5 - 14 - 14 - 1.12",
            "| multiclass_20k_300 | 20000 x 300, 5 | 14 | 252.3 | 14 | 226.1 | 1.12 |",
        ),
        (
            "50000 x 500, 2 - 36 - 35 - 1.00",
            "| dense_50k | 50000 x 500, 2 | 36 | 1258.4 | 35 | 1260.9 | 1.00 |",
        ),
        (
            "100000 x 20000, 2 - 10 - 10 - 0.94",
            "| sparse_100k | 100000 x 20000, 2 | 10 | 151.8 | 10 | 162.1 | 0.94 |",
        ),
        ("was 1.54x to 4.99x faster", "| 1.54 |"),
        ("was 1.54x to 4.99x faster", "| 4.99 |"),
        ("(44 against 56 on standardised digits)", "| 56 | 37.5 | 44 |"),
        ("(0.76x on standardised breast cancer", "| 0.76 |"),
    ],
    "fused.md": [
        # cost_model.rst: fused against separate products, side by side
        ('1.39x faster with ``"lbfgs"``', "| 1.39 | 15 / 15 |"),
        ('1.53x with ``"newton-cg"``', "| 1.53 | 7 / 7 |"),
        ("1.16x on the 10-class", "| 1.16 | 13 / 13 |"),
        ("1.16x on the 10-class", "| 10 classes, 100000 x 200 (153 MiB) | lbfgs |"),
        ("1.03x to 1.12x on", "| 1.03 | 29 / 29 |"),
        ("1.03x to 1.12x on", "| 1.12 | 10 / 11 |"),
        ("(binary problems: 0.96x and 0.99x", "| 0.96 | 17 / 17 |"),
        ("(binary problems: 0.96x and 0.99x", "| 0.99 | 18 / 18 |"),
        ("(at two, forced on: 0.85x to 1.22x)", "| 0.85 | 10 / 10 |"),
        ("(at two, forced on: 0.85x to 1.22x)", "| 1.22 | 7 / 7 |"),
        ("medians of 5 interleaved rounds", "5 rounds, the two variants"),
    ],
    "two_layer.md": [
        # choosing.rst: MLP adam's epochs; the SO fits' time budget
        ("of 400 epochs", "| MLP adam | max_iter | 400 |"),
        ("within the 30 s budget", "after 30 s of loop time"),
        # the default and lo/adam to T_adam on synthetic_clf
        ("the Adam target in 3.89 s", "| 3.89 | 22 |"),
        ("next in 4.37 s", "| 4.37 | 17 |"),
        # the default on the regression set, stopped by the budget; MLP lbfgs
        ("stopped after 350 iterations, 3.8%", "| SO ls/lbfgs | budget | 350 |"),
        ("stopped after 350 iterations, 3.8%", "(gap +3.8e-02)"),
        ("took 400 iterations and 22.4 s", "| 22.4 | 400 |"),
        # the default against MLP adam
        ("27.6x (digits)", "27.62"),
        ("17.8x", "17.77"),
        ("and 8.0x", "7.98"),
        # the default against MLP lbfgs on the classification sets
        ("at best: 1.11x on digits", "| 1.11 |"),
        ("digits, 1.16x on the", "| 1.16 |"),
        # iterations to T_lbfgs, ls/lbfgs against MLP lbfgs
        ("(15 against 14", "| 0.099 | 15 |"),
        ("(15 against 14", "| 0.11 | 14 |"),
        ("and 29 against 27", "| 4.98 | 29 |"),
        ("and 29 against 27", "| 5.78 | 27 |"),
        # t_iter / 2 products on synthetic_reg: ls/lbfgs, MLP lbfgs
        ("(2.4 times two products", "| 350 | 0.0039392865 | 2.4 |"),
        ("against 1.6 for MLP", "| 400 | 0.0037954409 | 1.6 |"),
        # limitations.rst: the default against MLP lbfgs
        ("ours at 1.11x and 1.16x", "| 1.11 |"),
        ("ours at 1.11x and 1.16x", "| 1.16 |"),
        # iterations to T_lbfgs, so/lbfgs against ls/lbfgs
        ("(10 against 15 on digits", "| 0.287 | 10 |"),
        ("(10 against 15 on digits", "| 0.099 | 15 |"),
        ("23 against 29 on", "| 9.25 | 23 |"),
        ("23 against 29 on", "| 4.98 | 29 |"),
        # t_iter / 2 products of so/lbfgs (synthetic_clf to digits), of ls
        ("2.5 to 21 times two products", "| 0.00024701537 | 2.5 |"),
        ("2.5 to 21 times two products", "| 0.00023220186 | 21.0 |"),
        ("against 1.0 to 4.4 times", "| 0.00067350698 | 1.0 |"),
        ("against 1.0 to 4.4 times", "| 0.00030120362 | 4.4 |"),
        # so/lbfgs and ls/lbfgs to T_lbfgs on the classification set
        ("(9.25 s against 4.98 s", "| 9.25 | 23 |"),
        ("(9.25 s against 4.98 s", "| 4.98 | 29 |"),
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
