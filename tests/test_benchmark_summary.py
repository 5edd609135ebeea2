"""The published benchmark numbers are those of the committed CSVs.

``benchmarks/run.py`` writes ``summary.md`` and the README's results section
from the CSVs through ``benchmarks/summary.py``; these tests rebuild both
from the committed CSVs and compare, and check the summary's arithmetic on
a hand-made CSV.
"""

import csv
import shutil
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "benchmarks" / "results"
sys.path.insert(0, str(ROOT / "benchmarks"))

import plots  # noqa: E402
import summary  # noqa: E402


def test_committed_summary_is_built_from_the_committed_csvs():
    assert (RESULTS / summary.SUMMARY_NAME).read_text() == summary.build_summary(
        RESULTS
    )


def test_readme_results_section_is_the_summary():
    readme = (ROOT / "README.md").read_text()
    expected = summary.build_summary(RESULTS, image_prefix="benchmarks/results/")
    assert summary.readme_block(readme) == expected
    # The README shows the plots, and they exist.
    for name in summary.PLOTS.values():
        assert f"](benchmarks/results/{name})" in readme
        assert (RESULTS / name).read_bytes()[:4] == b"\x89PNG"


def test_replacing_needs_the_markers():
    with pytest.raises(ValueError, match="benchmark-summary:start"):
        summary.replace_readme_block("# no markers\n", "x")
    text = f"a\n{summary.README_START}\nold\n{summary.README_END}\nb\n"
    replaced = summary.replace_readme_block(text, "new\n")
    assert replaced == f"a\n{summary.README_START}\nnew\n{summary.README_END}\nb\n"
    assert summary.readme_block(replaced) == "new\n"


def _write(path, rows):
    with open(path, "w", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)


def test_logistic_summary_arithmetic(tmp_path):
    def row(dataset, estimator, library, time_s, vs_lbfgs="", vs_best="", ratio=""):
        return {
            "dataset": dataset,
            "n_samples": 10,
            "n_features": 3,
            "estimator": estimator,
            "library": library,
            "time_s": time_s,
            "speedup_vs_sklearn_lbfgs": vs_lbfgs,
            "speedup_vs_best_sklearn": vs_best,
            "time_per_iter_over_2_products": ratio,
        }

    rows = []
    for dataset, ours in (("a", 1.0), ("b", 4.0), ("c", "")):
        rows += [
            row(dataset, "sklearn lbfgs", "sklearn", 2.0, 1.0, 0.5),
            row(dataset, "sklearn newton-cg", "sklearn", 1.0, 2.0, 1.0),
        ]
        if ours != "":
            rows.append(
                row(
                    dataset,
                    "SO ls/lbfgs",
                    "sklearn_so",
                    ours,
                    2.0 / ours,
                    1 / ours,
                    1.5,
                )
            )
        else:
            rows.append(row(dataset, "SO ls/lbfgs", "sklearn_so", ""))
    # Dataset d: no scikit-learn solver reached the target, ours did (a win).
    rows += [
        row("d", "sklearn lbfgs", "sklearn", ""),
        row("d", "SO ls/lbfgs", "sklearn_so", 3.0),
    ]
    text = summary.logistic_section(rows)
    assert "| d | 10 x 3 | not reached | none reached | 3 | - |  |  |" in text
    assert "| a | 10 x 3 | 2 | 1 (newton-cg) | 1 | - | 2.00x | 1.00x |" in text
    assert "| b | 10 x 3 | 2 | 1 (newton-cg) | 4 | - | 0.50x | 0.25x |" in text
    # Median of 2.00 and 0.50 over the two datasets both reached; a and b
    # are no strict wins, d is one.
    assert "median speed-up: 1.25x over the 2 datasets where both" in text
    assert "faster than the best scikit-learn solver on 1 of 4 datasets" in text


def test_plots_from_the_committed_results(tmp_path):
    for name in (
        "logistic_trace.csv",
        "two_layer.csv",
        "two_layer_curves.csv",
    ):
        shutil.copy(RESULTS / name, tmp_path / name)
    for draw in (plots.plot_logistic, plots.plot_two_layer):
        path = draw(tmp_path)
        assert path.parent == tmp_path
        assert path.read_bytes()[:4] == b"\x89PNG" and path.stat().st_size > 20_000


# The README's commentary under the generated block quotes these numbers;
# each must be in the README and in the committed report it comes from.
README_QUOTES = [
    # (as in the README, report, as in the report)
    ("(1.97x to 17.24x)", "summary.md", "| 1.97x |"),
    ("(1.97x to 17.24x)", "summary.md", "| 17.24x |"),
    ("(0.65x, a problem of 27 iterations)", "summary.md", "| 0.65x |"),
    ("(0.65x, a problem of 27 iterations)", "logistic.md", "| 0.00478 | 27 |"),
    ("median is 5.71x", "summary.md", "median speed-up: 5.71x"),
    ("three of five", "summary.md", "best scikit-learn solver on 3 of 5"),
    ("digits (1.71x over `newton-cholesky`)", "summary.md", "| 1.71x |"),
    ("(1.33x\n  over `newton-cholesky`)", "summary.md", "| 1.33x |"),
    ("(2.51x over\n  `newton-cg`)", "summary.md", "| 2.51x |"),
    ("at 0.59x and 0.17x", "summary.md", "| 0.59x |"),
    ("at 0.59x and 0.17x", "summary.md", "| 0.17x |"),
    (
        "8 Newton steps",
        "logistic.md",
        "| sklearn newton-cholesky | reached | 0.00282 | 8 |",
    ),
    (
        "8 Newton steps",
        "logistic.md",
        "| sklearn newton-cholesky | reached | 0.00317 | 8 |",
    ),
    ("of 20-25)", "summary.md", "| 19.6, 59.3 |"),
    ("of 20-25)", "summary.md", "| 25.2, 68.9 |"),
    ("1.1x (`ls`) and 1.3x (`so`)", "summary.md", "| 1.1, 1.3 |"),
    ("at most 0.04x the size of X", "logistic.md", "= 0.04 x X.nbytes"),
    ("Adam epochs 8.1-32x faster", "summary.md", "| 8.07x |"),
    ("Adam epochs 8.1-32x faster", "summary.md", "| 32.26x |"),
    ("(0.90-1.07x; we aim for 3x)", "summary.md", "| 0.90x |"),
    ("(0.90-1.07x; we aim for 3x)", "summary.md", "| 1.07x |"),
    (
        "(15\n  vs 14, 29 vs 27, 398 vs 400)",
        "two_layer.md",
        "| MLP lbfgs | gtol | 14 |",
    ),
    (
        "(15\n  vs 14, 29 vs 27, 398 vs 400)",
        "two_layer.md",
        "| MLP lbfgs | gtol | 27 |",
    ),
    ("(15\n  vs 14, 29 vs 27, 398 vs 400)", "two_layer.md", "| 17.4 | 398 |"),
    ("(2.1 vs 1.9 times two products)", "two_layer.md", "| 2.1 | 17.4 |"),
    ("(2.1 vs 1.9 times two products)", "two_layer.md", "| 0.0037954409 | 1.9 |"),
    ("(10 vs 15, 23 vs 29, 180 vs 398)", "two_layer.md", "| 0.208 | 10 |"),
    ("(10 vs 15, 23 vs 29, 180 vs 398)", "two_layer.md", "| 27 | 180 |"),
]


@pytest.mark.parametrize("quoted, report, source", README_QUOTES)
def test_readme_commentary_quotes_the_reports(quoted, report, source):
    assert quoted in (ROOT / "README.md").read_text()
    assert source in (RESULTS / report).read_text()
