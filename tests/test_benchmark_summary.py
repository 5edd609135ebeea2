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

    # The default configuration's label (direction "auto").
    default = "SO ls/auto"
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
                    default,
                    "sklearn_so",
                    ours,
                    2.0 / ours,
                    1 / ours,
                    1.5,
                )
            )
        else:
            rows.append(row(dataset, default, "sklearn_so", ""))
    # Dataset d: no scikit-learn solver reached the target, ours did (a win).
    rows += [
        row("d", "sklearn lbfgs", "sklearn", ""),
        row("d", default, "sklearn_so", 3.0),
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
    (
        "took 12 s in 14 iterations",
        "dask_2m_sparse_10/dask.md",
        "| SO ls/lbfgs | dask | reached | 12 | 1.00 | 14 |",
    ),
    (
        "Spark 34.5 s in 16",
        "dask_2m_sparse_10/dask.md",
        "| Spark lbfgs | spark | reached | 34.5 | 2.87 | 16 |",
    ),
    (
        "in memory 14 s.",
        "dask_2m_sparse_10/dask.md",
        "| SO ls/lbfgs | memory | reached | 14 |",
    ),
    (
        "ours took 13.7 s in\n38 iterations",
        "dask_200k_sparse_10/dask.md",
        "| SO ls/lbfgs diagonal | dask | reached | 13.7 | 3.15 | 38 |",
    ),
    (
        "against 4.36 s in 11",
        "dask_200k_sparse_10/dask.md",
        "| SO ls/lbfgs | dask | reached | 4.36 | 1.00 | 11 |",
    ),
    (
        "Spark's 8.18 s",
        "dask_200k_sparse_10/dask.md",
        "| Spark lbfgs | spark | reached | 8.18 | 1.88 | 25 |",
    ),
    ("1.54x to 4.99x faster", "preconditioner.md", "| 9.3 | 1.54 |"),
    ("1.54x to 4.99x faster", "preconditioner.md", "| 1605.1 | 4.99 |"),
    ("smallest (0.76x)", "preconditioner.md", "| 6.8 | 0.76 |"),
    ("0.99x to 1.10x over separate", "fused.md", "| 0.99 | 13 / 13 |"),
    ("0.99x to 1.10x over separate", "fused.md", "| 1.10 | 7 / 7 |"),
    ("1.42x to\n  1.68x with its SkylakeX", "fused_skylakex/fused.md", "| 1.42 |"),
    ("1.42x to\n  1.68x with its SkylakeX", "fused_skylakex/fused.md", "| 1.68 |"),
    ("(1.66x to\n  112x)", "summary.md", "| 1.66x |"),
    ("(1.66x to\n  112x)", "summary.md", "| 111.85x |"),
    ("median is 6.84x", "summary.md", "median speed-up: 6.84x"),
    ("wins on four of five", "summary.md", "best scikit-learn solver on 4 of 5"),
    ("digits (6.05x over `newton-cholesky`)", "summary.md", "| 6.05x |"),
    ("(1.14x\n  over `newton-cholesky`)", "summary.md", "| 1.14x |"),
    ("(1.97x over `lbfgs`)", "summary.md", "| 2.38 (lbfgs) | 1.21 |"),
    ("(1.97x over `lbfgs`)", "summary.md", "| 1.97x | 1.97x |"),
    ("(2.83x over `newton-cg`)", "summary.md", "| 2.83x |"),
    ("`newton-cholesky` is level (0.98x)", "summary.md", "| 0.98x |"),
    (
        "8 iterations, as\n  `newton-cholesky`",
        "logistic.md",
        "| sklearn newton-cholesky | reached | 0.00203 | 8 |",
    ),
    (
        "8 iterations, as\n  `newton-cholesky`",
        "logistic.md",
        "| sklearn newton-cholesky | reached | 0.0019 | 8 |",
    ),
    ("where L-BFGS needs 30 and 46", "logistic.md", "| 0.0043 | 30 |"),
    ("where L-BFGS needs 30 and 46", "logistic.md", "| 0.00634 | 46 |"),
    ("1.1x (`ls`) and 1.3x (`so`)", "summary.md", "| 1.1, 1.3 |"),
    ("at most 0.04x the size of X", "logistic.md", "= 0.04 x X.nbytes"),
    ("Adam epochs 8.7-34x faster", "summary.md", "| 8.73x |"),
    ("Adam epochs 8.7-34x faster", "summary.md", "| 33.57x |"),
    ("(0.96x on digits, 0.90x and 0.88x", "summary.md", "| 0.96x |"),
    ("(0.96x on digits, 0.90x and 0.88x", "summary.md", "| 0.90x |"),
    ("(0.96x on digits, 0.90x and 0.88x", "summary.md", "| 0.88x |"),
    (
        "(15 vs 14, 29\n  vs 27, 413 vs 400)",
        "two_layer.md",
        "| MLP lbfgs | gtol | 14 |",
    ),
    (
        "(15 vs 14, 29\n  vs 27, 413 vs 400)",
        "two_layer.md",
        "| MLP lbfgs | gtol | 27 |",
    ),
    (
        "(15 vs 14, 29\n  vs 27, 413 vs 400)",
        "two_layer.md",
        "| MLP lbfgs | max_iter | 400 |",
    ),
    ("(15 vs 14, 29\n  vs 27, 413 vs 400)", "two_layer.md", "| 0.0498 | 15 |"),
    ("(15 vs 14, 29\n  vs 27, 413 vs 400)", "two_layer.md", "| 3.58 | 29 |"),
    ("(15 vs 14, 29\n  vs 27, 413 vs 400)", "two_layer.md", "| 15.5 | 413 |"),
    ("(1.9 vs 1.8 times two products)", "two_layer.md", "| 0.0037425613 | 1.9 |"),
    ("(1.9 vs 1.8 times two products)", "two_layer.md", "| 0.0037460306 | 1.8 |"),
    ("(11 vs\n  15, 22 vs 29, 235 vs 413)", "two_layer.md", "| 0.0849 | 11 |"),
    ("(11 vs\n  15, 22 vs 29, 235 vs 413)", "two_layer.md", "| 3.96 | 22 |"),
    ("(11 vs\n  15, 22 vs 29, 235 vs 413)", "two_layer.md", "| 14.7 | 235 |"),
    (
        "1.47x one of `ls`",
        "two_layer.md",
        "so/lbfgs over ls/lbfgs per iteration 1.47",
    ),
    ("(0.56x, 0.82x and 0.93x of MLP's", "summary.md", "| 0.96x | 0.56x |"),
    ("(0.56x, 0.82x and 0.93x of MLP's", "summary.md", "| 0.90x | 0.82x |"),
    ("(0.56x, 0.82x and 0.93x of MLP's", "summary.md", "| 0.88x | 0.93x |"),
]


@pytest.mark.parametrize("quoted, report, source", README_QUOTES)
def test_readme_commentary_quotes_the_reports(quoted, report, source):
    assert quoted in (ROOT / "README.md").read_text()
    assert source in (RESULTS / report).read_text()
