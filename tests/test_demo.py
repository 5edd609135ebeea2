"""The demo and the command line: ``python -m sklearn_so demo``."""

import csv
import subprocess
import sys
from importlib.metadata import entry_points

import pytest

from sklearn_so import _demo
from sklearn_so._cli import main
from sklearn_so._objectives import logistic_objective, network_objective

# Every row the demo promises, per problem.
LOGISTIC_ROWS = [
    "LogisticRegression(lbfgs)",
    "LogisticRegression(lbfgs, max_iter=10000)",
    "SOLogisticRegression(solver='ls') (default)",
    "SOLogisticRegression(solver='ps')",
    "SOLogisticRegression(solver='so')",
]
NETWORK_ROWS = [
    "MLPClassifier(lbfgs)",
    "MLPClassifier(adam, full batch, 100 epochs)",
    "SOTwoLayerClassifier(solver='ls') (default)",
    "SOTwoLayerClassifier(solver='ps')",
    "SOTwoLayerClassifier(solver='so')",
]


@pytest.fixture(scope="module")
def quick_demo(tmp_path_factory):
    """One quick demo run through the command line, shared by the tests."""
    output = tmp_path_factory.mktemp("demo")
    lines = []
    status = None
    capture = pytest.MonkeyPatch()
    capture.setattr("sklearn_so._cli._log", lines.append)
    try:
        status = main(["demo", "--quick", "--output", str(output), "--seed", "3"])
    finally:
        capture.undo()
    return status, "\n".join(lines), output


def _table(text, title_start):
    """The table rows (as lists of cells) printed under a problem's title."""
    # The last occurrence: the title also opens the problem's progress lines.
    block = text[text.rindex(title_start) :].split("\n\n")[0].splitlines()
    return [line for line in block[4:] if not line.startswith("  ")]


def test_quick_demo_prints_every_promised_row(quick_demo):
    status, text, _ = quick_demo
    assert status == 0
    for title, labels in (
        ("Logistic regression, digits", LOGISTIC_ROWS),
        ("Logistic regression, sparse text-like", LOGISTIC_ROWS),
        ("Two-layer network", NETWORK_ROWS),
    ):
        rows = _table(text, title)
        assert [row[: len(label)] for row, label in zip(rows, labels, strict=True)] == (
            labels
        )
    for column in ("time [s]", "iterations", "products with X", "training objective"):
        assert column in text
    assert "test accuracy" in text and "speed-up" in text
    # Progress lines come before the tables.
    assert text.index("[1/3]") < text.index("[2/3]") < text.index("[3/3]")
    assert text.index("[3/3]") < text.index("target: the objective of")


def test_quick_demo_csv_has_every_fit(quick_demo):
    _, text, output = quick_demo
    with open(output / "demo.csv", newline="") as handle:
        rows = list(csv.DictReader(handle))
    assert [row["estimator"] for row in rows] == 2 * LOGISTIC_ROWS + NETWORK_ROWS
    for row in rows:
        ours = row["estimator"].startswith("SO")
        assert (row["n_products"] != "") == ours
        if ours:
            # 2 products per iteration, plus setup and refreshes: at least 2n.
            assert int(row["n_products"]) >= 2 * int(row["n_iter"])
        assert 0.0 <= float(row["test_accuracy"]) <= 1.0
        # The printed objective is the CSV's, to the 8 digits shown.
        assert f"{float(row['objective']):.8g}" in text


def test_quick_demo_writes_a_png(quick_demo):
    _, text, output = quick_demo
    data = (output / "demo.png").read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n" and len(data) > 10_000
    assert f"wrote {output / 'demo.png'}" in text


def test_demo_records_agree_with_the_estimators(tmp_path):
    """Objectives, curves, products and speed-ups of a direct quick run."""
    records = _demo.run_demo(quick=True, output=tmp_path, seed=1, log=lambda m: None)
    problems = _demo.build_problems(quick=True, seed=1)
    assert len(records) == len(problems) == 3
    for problem, fits in zip(problems, records, strict=True):
        target = next(r for r in fits if r.label == problem.targets[0])
        assert target.time_to_target[target.label] == target.seconds
        for record in fits:
            if not record.ours:
                continue
            # loss_curve_ ends at the final objective, recomputed independently.
            assert record.curve[-1] == pytest.approx(record.objective, rel=1e-9)
            assert record.learning_rates.shape[0] == record.n_iter
            # A fit that ends below the target has reached it, and no later
            # than its whole fit time.
            reached = record.time_to_target[target.label]
            if record.objective <= target.objective * (1 - 1e-9):
                assert reached is not None and 0 < reached <= record.seconds
    # The network problem carries a second target (MLP adam).
    assert len(problems[2].targets) == 2


def test_objectives_match_the_reported_losses():
    from sklearn.datasets import load_digits
    from sklearn.neural_network import MLPClassifier

    from sklearn_so import SOLogisticRegression, SOTwoLayerClassifier

    X, y = load_digits(return_X_y=True)
    X, y = X[:300] / 16.0, y[:300]
    logistic = SOLogisticRegression(C=0.5).fit(X, y)
    assert logistic_objective(logistic, X, y, C=0.5) == pytest.approx(
        logistic.loss_, rel=1e-9
    )
    network = SOTwoLayerClassifier(10, max_iter=200, random_state=0).fit(X, y)
    assert network_objective(network, X, y) == pytest.approx(network.loss_, rel=1e-9)
    mlp = MLPClassifier((10,), solver="lbfgs", max_iter=20, random_state=0)
    with pytest.warns(Warning):
        mlp.fit(X, y)
    assert network_objective(mlp, X, y) == pytest.approx(mlp.loss_, rel=1e-9)


def test_without_matplotlib_the_demo_says_how_to_install_it(
    quick_demo, monkeypatch, tmp_path
):
    monkeypatch.setitem(sys.modules, "matplotlib", None)
    assert not _demo.plot(tmp_path / "demo.png", [], [])
    assert not (tmp_path / "demo.png").exists()
    lines = []
    monkeypatch.setattr(_demo, "build_problems", lambda quick, seed: [])
    _demo.run_demo(quick=True, output=tmp_path, log=lines.append)
    assert "pip install 'sklearn-so[plot]'" in "\n".join(lines)


@pytest.mark.parametrize("threads", [1, 2, 0])
def test_fits_run_with_the_requested_threads(monkeypatch, tmp_path, threads):
    from threadpoolctl import threadpool_info, threadpool_limits

    inside = []

    def record_limits(*args):
        inside.extend(pool["num_threads"] for pool in threadpool_info())

    # One stand-in problem whose "fit" records the thread limits in force.
    monkeypatch.setattr(_demo, "build_problems", lambda quick, seed: [None])
    monkeypatch.setattr(_demo, "run_problem", record_limits)
    monkeypatch.setattr(_demo, "report", lambda problems, records: "")
    monkeypatch.setattr(_demo, "write_csv", lambda path, records: None)
    monkeypatch.setattr(_demo, "plot", lambda path, problems, records: True)
    # Start from 3 threads, a value neither requested limit equals, so each
    # outcome is told apart on any machine.
    with threadpool_limits(limits=3):
        outside = [pool["num_threads"] for pool in threadpool_info()]
        run = _demo.run_demo
        run(quick=True, output=tmp_path, threads=threads, log=lambda m: None)
        assert inside == ([threads] * len(outside) if threads else outside)
        # The limits are lifted after the fits.
        assert [pool["num_threads"] for pool in threadpool_info()] == outside


def test_unwritable_output_is_one_line_error(tmp_path, capsys):
    blocker = tmp_path / "a-file"
    blocker.write_text("")
    status = main(["demo", "--quick", "--output", str(blocker / "sub")])
    err = capsys.readouterr().err
    assert status == 1
    assert err.startswith("sklearn-so: error: cannot write to the output folder")
    assert len(err.strip().splitlines()) == 1


@pytest.mark.parametrize(
    "argv, message",
    [
        ([], "the following arguments are required: COMMAND"),
        (["dance"], "invalid choice: 'dance'"),
        (["demo", "--seed", "x"], "argument --seed: invalid int value: 'x'"),
        (["demo", "--fast"], "unrecognized arguments: --fast"),
        (["demo", "--threads", "-1"], "argument --threads: must be 0 or more"),
        (["demo", "--threads", "x"], "argument --threads: must be an integer"),
    ],
)
def test_bad_arguments_are_a_usage_error(argv, message):
    completed = subprocess.run(
        [sys.executable, "-m", "sklearn_so", *argv],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert completed.returncode == 2
    assert completed.stderr.startswith("usage: sklearn-so")
    assert message in completed.stderr
    assert "Traceback" not in completed.stderr


def test_help_explains_the_options():
    completed = subprocess.run(
        [sys.executable, "-m", "sklearn_so", "demo", "--help"],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert completed.returncode == 0
    for option in ("--quick", "--output DIR", "--seed SEED"):
        assert option in completed.stdout


def test_console_script_points_to_the_cli():
    (script,) = entry_points(group="console_scripts", name="sklearn-so")
    assert script.value == "sklearn_so._cli:main"
