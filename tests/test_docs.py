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
            "cluster 3.26 s (7 iterations",
            "| SO ls/lbfgs | dask | reached | 3.26 | 1.00 | 7 |",
        ),
        ("Spark 8.06 s (2.47x)", "| Spark lbfgs | spark | reached | 8.06 | 2.47 |"),
        ("in memory 3.33 s", "| SO ls/lbfgs | memory | reached | 3.33 |"),
        ("``so`` in memory 2.52 s", "| SO so/lbfgs | memory | reached | 2.52 |"),
        ("memory 18.2 s", "| sklearn newton-cg | memory | reached | 18.2 |"),
        (
            "``lbfgs`` 58.8 s in 289",
            "| sklearn lbfgs | memory | reached | 58.8 | 18.04 | 289 |",
        ),
        ("``saga`` 33.6 s", "| sklearn saga | memory | reached | 33.6 |"),
    ],
    "dask_2m_sparse_10/dask.md": [
        # dask.rst: the sparse text-like problem, 10 classes, centred
        (
            "reached the target in 12 s (14 iterations, one round",
            "| SO ls/lbfgs | dask | reached | 12 | 1.00 | 14 |",
        ),
        (
            "in 34.5 s (16 iterations), 2.87x slower",
            "| Spark lbfgs | spark | reached | 34.5 | 2.87 | 16 |",
        ),
        ("ours in memory took 14 s", "| SO ls/lbfgs | memory | reached | 14 | 1.16 |"),
        ("(the cluster run is the faster: 0.86x", "= 0.86)"),
        ("``saga`` 60 s", "| sklearn saga | memory | reached | 60 |"),
        ("``newton-cg`` 113 s", "| sklearn newton-cg | memory | reached | 113 |"),
        (
            "``lbfgs`` (298 iterations)",
            "| sklearn lbfgs | memory | not reached (budget) |  |  | 298 |",
        ),
        ("the 150 s budget", "--budget 150"),
        ("ours took 0.858 s,", "0.858 s per iteration = 2.56 x two bare"),
        ("2.56 times two bare", "0.858 s per iteration = 2.56 x two bare"),
    ],
    "dask_200k_sparse_10/dask.md": [
        # dask.rst: the same problem, 200,000 rows, centred and diagonal
        (
            "reached the target in 4.36 s and 11 iterations",
            "| SO ls/lbfgs | dask | reached | 4.36 | 1.00 | 11 |",
        ),
        (
            "Spark in 8.18 s and 25",
            "| Spark lbfgs | spark | reached | 8.18 | 1.88 | 25 |",
        ),
        (
            "iterations (1.88x slower)",
            "| Spark lbfgs | spark | reached | 8.18 | 1.88 |",
        ),
        (
            "13.7 s and 38 iterations",
            "| SO ls/lbfgs diagonal | dask | reached | 13.7 | 3.15 | 38 |",
        ),
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
        # inner_problems.rst: 100 pairs against 10, logistic (digits to dense)
        ("1.06 to 1.86 times fewer", "| 100 | 98 | 1.06 |"),
        ("1.06 to 1.86 times fewer", "| 100 | 64 | 1.86 |"),
        # networks: time and objective ratios of 50 and 100 pairs against 10
        ("1.08 to 1.35 times slower", "| 1.66 | 1.08 |"),
        ("1.08 to 1.35 times slower", "| 0.664 | 1.35 |"),
        ("objective 1.01 times lower", "| 1.006e-05 | 1.01 |"),
        ("1.85 to 2.70 times lower", "| 5.387e-05 | 1.85 |"),
        ("1.85 to 2.70 times lower", "| 3.681e-05 | 2.70 |"),
    ],
    "logistic.md": [
        # choosing.rst, "In short": lo/ps/so against ls on dense_50k
        ("they needed 49 iterations against 64", "| 0.987 | 49 |"),
        ("they needed 49 iterations against 64", "| 1.32 | 64 |"),
        ("target in 0.987 s against", "| 0.987 | 49 |"),
        ("1.32 s. Both beat", "| 1.32 | 64 |"),
        # choosing.rst: the short fits' timing
        ("a fit under 0.1 s is timed", "(a fit under 0.1 s: best of"),
        # choosing.rst, logistic regression: the default's times where first
        ("(1.79 ms standardised", "| 0.00179 | 8 |"),
        ("1.94 ms unscaled", "| 0.00194 | 8 |"),
        ("against 30 and 46 for ``ls/lbfgs``", "| 0.0043 | 30 |"),
        ("against 30 and 46 for ``ls/lbfgs``", "| 0.00634 | 46 |"),
        # ls/lbfgs first among ours on digits, the default on the sparse one
        ("(0.0461 s, the default's own fit 0.0476 s)", "| 0.0461 | 98 |"),
        ("(0.0461 s, the default's own fit 0.0476 s)", "| 0.0476 | 98 |"),
        ("problem (0.107 s, ``ls/lbfgs``", "| 0.107 | 10 |"),
        ("0.117 s).", "| 0.117 | 10 |"),
        # so/lbfgs against ls/lbfgs iterations on digits, standardised
        ("(79 against 98 on digits", "| 0.111 | 79 |"),
        ("(79 against 98 on digits", "| 0.0461 | 98 |"),
        ("19 against 30 on", "| 0.00774 | 19 |"),
        ("19 against 30 on", "| 0.0043 | 30 |"),
        # dense_50k: lo, ps and so with lbfgs; ls/lbfgs; against the best
        ("iterations and 0.987-1.13 s", "| 0.987 | 49 |"),
        ("iterations and 0.987-1.13 s", "| 1.13 | 49 |"),
        ("``ls/lbfgs`` 64 iterations and 1.32 s", "| 1.32 | 64 |"),
        ("(1.81x for ``ls/lbfgs``", "| 1.81 | 1.81 |"),
        ("2.11x to 2.41x for", "| 2.11 | 2.11 |"),
        ("2.11x to 2.41x for", "| 2.41 | 2.41 |"),
        # ps/adam and so/adam on unscaled breast cancer
        ("after 17123 and 6193 iterations", "| 4.36 | 17123 |"),
        ("after 17123 and 6193 iterations", "| 2.3 | 6193 |"),
        # the default (ls/auto) against sklearn lbfgs and the best solver
        ("(30.77x on digits", "| 30.77 |"),
        ("1.66x on standardised", "| 1.66 |"),
        ("111.85x", "| 111.85 |"),
        ("1.97x on the dense", "| 1.21 | 64 | 1e-06 | 137 | 1.1 | 1.97 |"),
        ("6.84x on the sparse", "| 6.84 |"),
        ("digits (6.05x over", "| 30.77 | 6.05 |"),
        ("breast cancer (1.14x over", "| 1.66 | 1.14 |"),
        ("dense problem (1.97x", "| 1.97 | 1.97 |"),
        ("sparse one (2.83x over", "| 6.84 | 2.83 |"),
        ("(0.98x, both 8 iterations)", "| 111.85 | 0.98 |"),
        ("(0.98x, both 8 iterations)", "| 0.0019 | 8 |"),
        ("(0.98x, both 8 iterations)", "| 0.00194 | 8 |"),
        # ls/lbfgs on the breast cancer sets
        ("sets took 30 and 46", "| 0.0043 | 30 |"),
        ("sets took 30 and 46", "| 0.00634 | 46 |"),
        # t_iter / 2 products: cost_model.rst, then limitations.rst
        ("0.9 to 1.3", "| 2.74 | 170 | 1e-04 | 345 | 0.9 |"),
        ("0.9 to 1.3", "| 1.13 | 49 | 1e-06 | 106 | 1.3 |"),
        ("1.1 for the default.", "| 1.21 | 64 | 1e-06 | 137 | 1.1 |"),
        ('"lbfgs"`` at 3.0 to', "| 98 | 1e-06 | 209 | 3.0 |"),
        ("72 times the time", "| 37 | 1e-03 | 80 | 71.8 |"),
        ("(1.2 to 1.3 times on", "| 1.32 | 64 | 1e-06 | 137 | 1.2 |"),
        ("(1.2 to 1.3 times on", "| 1.13 | 49 | 1e-06 | 106 | 1.3 |"),
        ("problem, 1.1 for the default", "| 1.21 | 64 | 1e-06 | 137 | 1.1 |"),
        # limitations.rst: newton-cholesky against ls/lbfgs, unscaled
        ("in 1.9 ms (8", "| 0.0019 | 8 |"),
        ("against 6.3 ms (46 iterations)", "| 0.00634 | 46 |"),
    ],
    "newton.md": [
        # choosing.rst, the Newton directions' table and bullets: ratios
        # against the best scikit-learn solver of ls/lbfgs, ls/newton, ls/newton-cg
        ("over 7 interleaved fits", "median of 7 interleaved fits"),
        (
            "standardised - 569 x 30, 2 - ``newton`` - 0.50 - 1.09 - 0.99",
            "breast_cancer_std: n=569, d=30, classes=2",
        ),
        (
            "standardised - 569 x 30, 2 - ``newton`` - 0.50 - 1.09 - 0.99",
            "| 0.50 | 5.6e-09 |",
        ),
        (
            "standardised - 569 x 30, 2 - ``newton`` - 0.50 - 1.09 - 0.99",
            "| 1.09 | 9.7e-12 |",
        ),
        (
            "standardised - 569 x 30, 2 - ``newton`` - 0.50 - 1.09 - 0.99",
            "| 0.99 | 4.2e-08 |",
        ),
        (
            "unscaled - 569 x 30, 2 - ``newton`` - 0.37 - 1.19 - 0.51",
            "breast_cancer_raw: n=569, d=30, classes=2",
        ),
        (
            "unscaled - 569 x 30, 2 - ``newton`` - 0.37 - 1.19 - 0.51",
            "| 0.37 | 5.6e-07 |",
        ),
        (
            "unscaled - 569 x 30, 2 - ``newton`` - 0.37 - 1.19 - 0.51",
            "| 1.19 | 8.4e-10 |",
        ),
        (
            "unscaled - 569 x 30, 2 - ``newton`` - 0.37 - 1.19 - 0.51",
            "| 0.51 | 4.9e-10 |",
        ),
        (
            "178 x 13, 3 - ``newton`` - 0.64 - 1.14 - 0.53",
            "wine_raw: n=178, d=13, classes=3",
        ),
        ("178 x 13, 3 - ``newton`` - 0.64 - 1.14 - 0.53", "| 0.64 | 2.0e-09 |"),
        ("178 x 13, 3 - ``newton`` - 0.64 - 1.14 - 0.53", "| 1.14 | 3.3e-10 |"),
        ("178 x 13, 3 - ``newton`` - 0.64 - 1.14 - 0.53", "| 0.53 | 6.3e-07 |"),
        (
            "1797 x 64, 10 - ``lbfgs`` - 6.04 - 0.97 - 2.25",
            "digits: n=1797, d=64, classes=10",
        ),
        ("1797 x 64, 10 - ``lbfgs`` - 6.04 - 0.97 - 2.25", "| 6.04 | 1.7e-07 |"),
        ("1797 x 64, 10 - ``lbfgs`` - 6.04 - 0.97 - 2.25", "| 0.97 | 3.1e-08 |"),
        ("1797 x 64, 10 - ``lbfgs`` - 6.04 - 0.97 - 2.25", "| 2.25 | 1.8e-09 |"),
        (
            "5000 x 100, 2 - ``lbfgs`` - 0.98 - 0.85 - 0.89",
            "dense_5k: n=5000, d=100, classes=2",
        ),
        ("5000 x 100, 2 - ``lbfgs`` - 0.98 - 0.85 - 0.89", "| 0.98 | 4.7e-07 |"),
        ("5000 x 100, 2 - ``lbfgs`` - 0.98 - 0.85 - 0.89", "| 0.85 | 7.5e-07 |"),
        ("5000 x 100, 2 - ``lbfgs`` - 0.98 - 0.85 - 0.89", "| 0.89 | 1.1e-08 |"),
        (
            "5000 x 300, 2 - ``lbfgs`` - 1.24 - 0.50 - 1.16",
            "dense_5k_300: n=5000, d=300, classes=2",
        ),
        ("5000 x 300, 2 - ``lbfgs`` - 1.24 - 0.50 - 1.16", "| 1.24 | 2.5e-07 |"),
        ("5000 x 300, 2 - ``lbfgs`` - 1.24 - 0.50 - 1.16", "| 0.50 | 2.0e-08 |"),
        ("5000 x 300, 2 - ``lbfgs`` - 1.24 - 0.50 - 1.16", "| 1.16 | 1.9e-08 |"),
        (
            "5000 x 784, 10 - ``lbfgs`` - 2.83 - (not run) - 1.01",
            "image_5k: n=5000, d=784, classes=10",
        ),
        ("5000 x 784, 10 - ``lbfgs`` - 2.83 - (not run) - 1.01", "| 2.83 | 2.3e-07 |"),
        ("5000 x 784, 10 - ``lbfgs`` - 2.83 - (not run) - 1.01", "| 1.01 | 9.9e-08 |"),
        # ls/newton against ls/lbfgs on unscaled breast cancer, in ms
        ("2.27 milliseconds against 7.19", "| 8 | 26 | 8 | 2.27 |"),
        ("2.27 milliseconds against 7.19", "| 46 | 100 | 0 | 7.19 |"),
        # ls/newton against newton-cholesky on the three small problems
        ("(1.09x to 1.19x)", "| 1.09 | 9.7e-12 |"),
        ("(1.09x to 1.19x)", "| 1.19 | 8.4e-10 |"),
        # choosing.rst, logistic regression: the same, unscaled breast cancer
        (
            "benchmark below put the Newton direction ahead (1.19x)",
            "| 1.19 | 8.4e-10 |",
        ),
        # digits: L-BFGS iterations
        ("more than 98 L-BFGS", "| 1e-06 | 98 | 209 |"),
        # image_5k: ls/lbfgs against ls/newton-cg
        ("(2.83x against 1.01x", "| 2.83 | 2.3e-07 |"),
        ("(2.83x against 1.01x", "| 1.01 | 9.9e-08 |"),
        ("106 iterations against 12", "| 1e-06 | 106 | 226 |"),
        ("106 iterations against 12", "| 1e-05 | 12 | 750 |"),
        ("226 products against 750", "| 1e-06 | 106 | 226 |"),
        ("226 products against 750", "| 1e-05 | 12 | 750 |"),
        # digits: ls/lbfgs against ls/newton-cg
        ("(6.04x against 2.25x)", "| 6.04 | 1.7e-07 |"),
        ("(6.04x against 2.25x)", "| 2.25 | 1.8e-09 |"),
    ],
    "newton_large.md": [
        # choosing.rst, the Newton directions' table: the two large sets
        ("(5 on the two largest sets", "median of 5 interleaved fits"),
        (
            "50000 x 500, 2 - ``lbfgs`` - 1.99 - 0.96 - 2.46",
            "dense_50k: n=50000, d=500, classes=2",
        ),
        ("50000 x 500, 2 - ``lbfgs`` - 1.99 - 0.96 - 2.46", "| 1.99 | 2.5e-08 |"),
        ("50000 x 500, 2 - ``lbfgs`` - 1.99 - 0.96 - 2.46", "| 0.96 | 5.6e-11 |"),
        ("50000 x 500, 2 - ``lbfgs`` - 1.99 - 0.96 - 2.46", "| 2.46 | 1.8e-07 |"),
        (
            "100000 x 20000, 2 - ``lbfgs`` - 2.67 - (not run) - 1.92",
            "sparse_100k: n=100000, d=20000, classes=2",
        ),
        (
            "100000 x 20000, 2 - ``lbfgs`` - 2.67 - (not run) - 1.92",
            "| 2.67 | 6.2e-07 |",
        ),
        (
            "100000 x 20000, 2 - ``lbfgs`` - 2.67 - (not run) - 1.92",
            "| 1.92 | 1.4e-09 |",
        ),
        # dense_50k: ls/newton-cg against ls/lbfgs; ps/newton and ls/newton
        (
            "50000 x 500 set with redundant, unscaled features (2.46x against 1.99x)",
            "dense_50k: n=50000, d=500",
        ),
        (
            "50000 x 500 set with redundant, unscaled features (2.46x against 1.99x)",
            "| 2.46 | 1.8e-07 |",
        ),
        (
            "50000 x 500 set with redundant, unscaled features (2.46x against 1.99x)",
            "| 1.99 | 2.5e-08 |",
        ),
        ("scikit-learn there (2.31x)", "| 2.31 | 9.0e-07 |"),
        ("needed five (0.96x)", "| 0.96 | 5.6e-11 |"),
    ],
    "newton_std.md": [
        # choosing.rst, the Newton directions' table: standardised problems
        (
            "(5 on the two largest sets and on the standardised",
            "median of 5 interleaved fits",
        ),
        (
            "standardised - 1797 x 64, 10 - ``lbfgs`` - 1.30 - 0.16 - 0.58",
            "digits_std: n=1797, d=64, classes=10",
        ),
        (
            "standardised - 1797 x 64, 10 - ``lbfgs`` - 1.30 - 0.16 - 0.58",
            "| 1.30 | 3.1e-08 |",
        ),
        (
            "standardised - 1797 x 64, 10 - ``lbfgs`` - 1.30 - 0.16 - 0.58",
            "| 0.16 | 3.6e-09 |",
        ),
        (
            "standardised - 1797 x 64, 10 - ``lbfgs`` - 1.30 - 0.16 - 0.58",
            "| 0.58 | 2.8e-09 |",
        ),
        (
            "standardised - 20000 x 300, 2 - ``lbfgs`` - 0.93 - 0.20 - 0.68",
            "dense_20k_300_std: n=20000, d=300, classes=2",
        ),
        (
            "standardised - 20000 x 300, 2 - ``lbfgs`` - 0.93 - 0.20 - 0.68",
            "| 0.93 | 1.0e-07 |",
        ),
        (
            "standardised - 20000 x 300, 2 - ``lbfgs`` - 0.93 - 0.20 - 0.68",
            "| 0.20 | 2.1e-09 |",
        ),
        (
            "standardised - 20000 x 300, 2 - ``lbfgs`` - 0.93 - 0.20 - 0.68",
            "| 0.68 | 7.5e-07 |",
        ),
        (
            "standardised - 20000 x 300, 5 - ``lbfgs`` - 1.08 - 0.05 - 0.65",
            "multiclass_20k_300: n=20000, d=300, classes=5",
        ),
        (
            "standardised - 20000 x 300, 5 - ``lbfgs`` - 1.08 - 0.05 - 0.65",
            "| 1.08 | 1.7e-07 |",
        ),
        (
            "standardised - 20000 x 300, 5 - ``lbfgs`` - 1.08 - 0.05 - 0.65",
            "| 0.05 | 7.7e-09 |",
        ),
        (
            "standardised - 20000 x 300, 5 - ``lbfgs`` - 1.08 - 0.05 - 0.65",
            "| 0.65 | 8.5e-09 |",
        ),
        # ls/lbfgs against ls/newton-cg on the three
        ("(0.93x to 1.30x against 0.58x to 0.68x)", "| 0.93 | 1.0e-07 |"),
        ("(0.93x to 1.30x against 0.58x to 0.68x)", "| 1.30 | 3.1e-08 |"),
        ("(0.93x to 1.30x against 0.58x to 0.68x)", "| 0.58 | 2.8e-09 |"),
        ("(0.93x to 1.30x against 0.58x to 0.68x)", "| 0.68 | 7.5e-07 |"),
        # ls/lbfgs against sklearn lbfgs, binary and 5 classes
        ("(0.93x; both need the same 13 iterations", "| 0.93 | 1.0e-07 |"),
        (
            "(0.93x; both need the same 13 iterations",
            "| sklearn lbfgs | reached | 1e-04 | 13 |",
        ),
        ("(0.93x; both need the same 13 iterations", "| 1e-04 | 13 | 30 | 0 |"),
        ("1.08x faster with the same 15", "| 1.08 | 1.7e-07 |"),
        ("1.08x faster with the same 15", "| sklearn lbfgs | reached | 1e-04 | 15 |"),
        ("1.08x faster with the same 15", "| 1e-04 | 15 | 34 | 0 |"),
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
        ('1.04x faster with ``"lbfgs"``', "| 1.04 | 15 / 15 |"),
        ('1.10x with ``"newton-cg"``', "| 1.10 | 7 / 7 |"),
        ("0.99x on the 10-class", "| 0.99 | 13 / 13 |"),
        ("0.99x on the 10-class", "| 10 classes, 100000 x 200 (153 MiB) | lbfgs | 1 |"),
        # below 32 MiB, forced on: 3000 x 300 and image-like at one thread
        ("0.92x to 0.95x with the Haswell", "| 0.92 | 45 / 45 |"),
        ("0.92x to 0.95x with the Haswell", "| 0.95 | 25 / 25 |"),
        ("(binary problems: 0.93x and 0.95x", "| 0.93 | 18 / 18 |"),
        ("(binary problems: 0.93x and 0.95x", "| 0.95 | 17 / 17 |"),
        ("(at two, forced on: 0.71x to 1.00x)", "| 0.71 | 18 / 18 |"),
        ("(at two, forced on: 0.71x to 1.00x)", "| 1.00 | 11 / 10 |"),
        ("medians of 5 interleaved rounds", "5 rounds, the two variants"),
    ],
    "fused_skylakex/fused.md": [
        # cost_model.rst: the same, OpenBLAS's SkylakeX kernel
        ("were 1.49x, 1.68x and 1.42x faster", "| 1.49 | 15 / 15 |"),
        ("were 1.49x, 1.68x and 1.42x faster", "| 1.68 | 7 / 7 |"),
        ("were 1.49x, 1.68x and 1.42x faster", "| 1.42 | 13 / 13 |"),
        ("and 1.01x to 1.14x with the SkylakeX", "| 1.01 | 45 / 45 |"),
        ("and 1.01x to 1.14x with the SkylakeX", "| 1.14 | 25 / 25 |"),
    ],
    "two_layer.md": [
        # choosing.rst: MLP adam's epochs; the SO fits' time budget
        ("of 400 epochs", "| MLP adam | max_iter | 400 |"),
        ("within the 30 s budget", "after 30 s of loop time"),
        # the first to each target on synthetic_clf, and ls/lbfgs there
        ("first (in 3.44 s,", "| 3.44 | 21 | 0.94 |"),
        ("``ls/lbfgs`` in 3.58 s)", "| 3.58 | 29 | 0.90 |"),
        ("target (in 2.28 s,", "| 2.28 | 14 | 19.05 |"),
        ("``ls/lbfgs`` in 2.77 s)", "| 2.77 | 22 | 15.71 |"),
        # the regression set: so/gd first, ls/lbfgs and MLP lbfgs
        ("objective first, in 14.2 s", "| 14.2 | 223 | 0.96 |"),
        ("in 413 iterations and 15.5 s", "| 15.5 | 413 |"),
        ("400 iterations and 13.7 s", "| 13.7 | 400 |"),
        # the default against MLP adam
        ("33.6x (digits)", "| 0.0336 | 8 | 33.57 |"),
        ("15.7x (", "| 2.77 | 22 | 15.71 |"),
        ("and 8.7x (", "| 1.39 | 37 | 8.73 |"),
        # the default against MLP lbfgs
        ("behind on digits (0.96x)", "| 0.0498 | 15 | 0.96 |"),
        ("classification set (0.90x)", "| 3.58 | 29 | 0.90 |"),
        ("regression set (0.88x)", "| 15.5 | 413 | 0.88 |"),
        # iterations to T_lbfgs, ls/lbfgs against MLP lbfgs
        ("(15 against 14,", "| 0.0498 | 15 |"),
        ("(15 against 14,", "| 0.0477 | 14 |"),
        ("29 against 27 and 413 against 400", "| 3.58 | 29 |"),
        ("29 against 27 and 413 against 400", "| 3.23 | 27 |"),
        ("29 against 27 and 413 against 400", "| 15.5 | 413 |"),
        ("29 against 27 and 413 against 400", "| 13.7 | 400 |"),
        # t_iter / 2 products on synthetic_reg: ls/lbfgs, MLP lbfgs
        ("(1.9 times two products", "| 413 | 0.0037425613 | 1.9 |"),
        ("against 1.8 for MLP", "| 400 | 0.0037460306 | 1.8 |"),
        # limitations.rst: the default against MLP lbfgs
        ("(our default at 0.96x", "| 0.0498 | 15 | 0.96 |"),
        ("0.90x and 0.88x on the", "| 3.58 | 29 | 0.90 |"),
        ("0.90x and 0.88x on the", "| 15.5 | 413 | 0.88 |"),
        # iterations to T_lbfgs, so/lbfgs against ls/lbfgs
        ("(11 against 15 on digits", "| 0.0849 | 11 |"),
        ("(11 against 15 on digits", "| 0.0498 | 15 |"),
        ("22 against 29 on", "| 3.96 | 22 |"),
        ("22 against 29 on", "| 3.58 | 29 |"),
        ("235 against 413 on", "| 14.7 | 235 |"),
        ("235 against 413 on", "| 15.5 | 413 |"),
        # t_iter / 2 products of so/lbfgs (synthetic_clf to digits), of ls
        ("cost 1.9 to 6.6 times two", "| 0.00090905515 | 1.9 |"),
        ("cost 1.9 to 6.6 times two", "| 0.00034898428 | 6.6 |"),
        ("against 1.3 to 2.5 times", "| 0.00067350698 | 1.3 |"),
        ("against 1.3 to 2.5 times", "| 0.00030120362 | 2.5 |"),
        ("and 1.47x one of ``ls``", "so/lbfgs over ls/lbfgs per iteration 1.47"),
        # so/lbfgs against ls/lbfgs to T_lbfgs: classification, regression
        ("(3.96 s against 3.58 s)", "| 3.96 | 22 |"),
        ("(3.96 s against 3.58 s)", "| 3.58 | 29 |"),
        ("(14.7 s against 15.5 s)", "| 14.7 | 235 |"),
        ("(14.7 s against 15.5 s)", "| 15.5 | 413 |"),
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
