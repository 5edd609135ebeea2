"""The array API benchmark and the GPU check, run end to end at tiny sizes.

Both scripts run in a child process: they limit BLAS and torch threads and
wrap the optimiser's solver class for the whole process, which must not
leak into the other tests.
"""

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

ROOT = Path(__file__).resolve().parents[1]
BENCHMARKS = ROOT / "benchmarks"

LOGISTIC = {
    ("sklearn lbfgs", "numpy"),
    ("sklearn newton-cg", "numpy"),
    ("sklearn newton-cholesky", "numpy"),
    ("SO ls/lbfgs", "numpy"),
    ("sklearn lbfgs", "torch cpu"),
    ("SO ls/lbfgs", "torch cpu"),
}
NETWORK = {
    ("MLP lbfgs", "numpy"),
    ("SO ls/lbfgs", "numpy"),
    ("SO ls/lbfgs", "torch cpu"),
}


def _run(script, *args, timeout=300):
    env = {**os.environ, "SCIPY_ARRAY_API": "1"}
    return subprocess.run(
        [sys.executable, str(BENCHMARKS / script), *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=True,
    )


def test_bench_array_api_runs_every_contestant(tmp_path):
    pytest.importorskip("torch")
    _run(
        "bench_array_api.py",
        *("--n-samples", "600", "--n-features", "40", "--budget", "30"),
        *("--output", str(tmp_path)),
    )
    document = json.loads((tmp_path / "array_api.json").read_text())
    rows = document["rows"]
    found = {(r["problem"], r["contestant"], r["placement"]) for r in rows}
    expected = {("logistic", *c) for c in LOGISTIC} | {("network", *c) for c in NETWORK}
    # A CUDA machine adds its contestants; none is missing here.
    assert expected <= found
    for row in rows:
        assert row["status"] == "reached" or row["status"].startswith("not reached")
        if row["status"] == "reached":
            assert row["time_s"] > 0 and row["n_iter"] >= 1
            assert row["gap"] <= 1e-6
        assert row["fit_seconds_total"] > 0
    assert document["facts"]["logistic"]["f_star"] > 0
    assert document["facts"]["network"]["target"] > 0
    report = (tmp_path / "array_api.md").read_text()
    assert "### Logistic regression" in report and "### Two-layer network" in report
    assert "ours torch cpu / ours numpy" in report


def test_gpu_check_without_a_gpu_says_so_and_runs_the_cpu_variant(tmp_path):
    torch = pytest.importorskip("torch")
    if torch.cuda.is_available():
        pytest.skip("a CUDA device is present: this checks the path without one")
    start = time.perf_counter()
    result = _run("gpu_check.py", "--output", str(tmp_path))
    seconds = time.perf_counter() - start
    out = result.stdout
    assert out.startswith("No GPU found")
    assert "(CPU only, no GPU)" in out
    assert "device tests" not in out.split("== summary")[1]
    for estimator in ("SOLogisticRegression", "SOTwoLayerClassifier"):
        line = next(line for line in out.splitlines() if line.startswith(estimator))
        assert "numpy" in line and "torch cpu" in line and "cuda" not in line
    assert (tmp_path / "array_api.json").exists()
    # The small CPU variant: seconds here (7 s on 2 loaded cores).
    assert seconds < 120


def test_bench_torch_cpu_times_the_same_fits_interleaved(tmp_path):
    pytest.importorskip("torch")
    _run(
        "bench_torch_cpu.py",
        *("--n-samples", "3000", "--n-features", "30", "--rounds", "3"),
        *("--network-iterations", "2", "--output", str(tmp_path)),
    )
    document = json.loads((tmp_path / "torch_cpu.json").read_text())
    rows = {(r["problem"], r["contestant"]): r for r in document["rows"]}
    assert set(rows) == {
        ("logistic", "sklearn lbfgs numpy"),
        ("logistic", "numpy"),
        ("logistic", "torch cpu"),
        ("network", "numpy"),
        ("network", "torch cpu"),
    }
    for problem in ("logistic", "network"):
        numpy_row, torch_row = rows[problem, "numpy"], rows[problem, "torch cpu"]
        # The same work on both sides: same iterations, same objective.
        assert numpy_row["n_iter"] == torch_row["n_iter"]
        assert torch_row["objective"] == pytest.approx(numpy_row["objective"], 1e-5)
        assert len(numpy_row["cpu_s"]) == len(torch_row["cpu_s"]) == 3
        ratios = np.asarray(torch_row["cpu_s"]) / np.asarray(numpy_row["cpu_s"])
        assert numpy_row["torch_over_this"] == pytest.approx(np.median(ratios))
        assert torch_row["torch_over_this"] == 1.0
    assert rows["network", "numpy"]["n_iter"] == 2
    report = (tmp_path / "torch_cpu.md").read_text()
    assert "torch cpu / numpy =" in report
