"""Check the estimators on a GPU: the device tests, then the GPU benchmark.

On a machine with a CUDA device (torch or CuPy), runs

1. the device tests of ``tests/test_array_api.py`` (``torch-cuda`` and
   ``cupy``: results match numpy, attributes on the input's device and in
   its namespace, float32 kept), through pytest;
2. ``bench_array_api.py`` at ``--n-samples`` (default 100,000 x 500: the
   numpy contestants run on one CPU core, so the full 1,000,000 rows would
   take far longer than the 5 minutes this check aims at);

and prints one summary line per estimator: its time to the target on each
placement and its speed-ups against the baselines.

Without a GPU it says so, skips the device tests (they would all be
skipped) and runs the benchmark's torch-CPU variant at a small size
(default 5,000 rows), so the script itself is exercised; no GPU result is
printed, since none was measured.

Run from the repository root::

    python benchmarks/gpu_check.py [--n-samples N] [--output DIR]
"""

import argparse
import os
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
GPU_N_SAMPLES = 100_000
CPU_N_SAMPLES = 5_000
NO_GPU = "No GPU found"
ESTIMATORS = {"logistic": "SOLogisticRegression", "network": "SOTwoLayerClassifier"}


def gpu_status():
    """Which GPU libraries can run here, and why the others cannot.

    Returns
    -------
    available : list of str
        Among ``"torch-cuda"`` and ``"cupy"``.
    reasons : list of str
        One sentence per library that cannot run.
    """
    available, reasons = [], []
    try:
        import torch

        if torch.cuda.is_available():
            available.append("torch-cuda")
        else:
            reasons.append("torch.cuda.is_available() is False")
    except ImportError:
        reasons.append("torch is not installed")
    try:
        import cupy

        if cupy.cuda.runtime.getDeviceCount() > 0:
            available.append("cupy")
        else:
            reasons.append("cupy finds no CUDA device")
    except ImportError:
        reasons.append("cupy is not installed")
    except Exception as error:  # cupy raises its own CUDA runtime errors
        reasons.append(f"cupy finds no CUDA device ({type(error).__name__})")
    return available, reasons


def run_device_tests(available):
    """Run the device tests of ``tests/test_array_api.py``; return pytest's code."""
    command = [
        sys.executable,
        "-m",
        "pytest",
        "-q",
        "-p",
        "no:cacheprovider",
        str(ROOT / "tests" / "test_array_api.py"),
        "-k",
        " or ".join(available),
    ]
    env = {**os.environ, "SCIPY_ARRAY_API": "1"}
    print("== " + " ".join(["python", *command[1:]]), flush=True)
    return subprocess.run(command, cwd=ROOT, env=env).returncode


def summary_lines(document):
    """One line per estimator: time to target per placement, and speed-ups."""
    lines = []
    for problem, estimator in ESTIMATORS.items():
        rows = [r for r in document["rows"] if r["problem"] == problem]
        ours = [r for r in rows if r["library"] == "sklearn_so"]
        if not ours:
            continue
        cells = [_cell(row) for row in ours]
        ratio = document["torch_cpu_over_numpy"].get(problem)
        if ratio is not None:
            cells.append(f"torch cpu / numpy time {ratio:.2f} (goal <= 1.3)")
        lines.append(f"{estimator}: " + "; ".join(cells))
    return lines


def _cell(row):
    """Time to target and speed-ups of one of our rows."""
    if "time_s" not in row:
        return f"{row['placement']} {row['status']}"
    ratios = [
        f"{ratio:.2f}x vs {name}"
        for key, name in (
            ("speedup_vs_best_sklearn_numpy", "best sklearn numpy"),
            ("speedup_vs_sklearn_array_api", "sklearn array API"),
            ("speedup_vs_cuml", "cuML"),
        )
        if (ratio := row.get(key)) is not None
    ]
    shown = f"{row['placement']} {row['time_s']:.3g} s ({row['n_iter']} iter"
    return shown + "".join(f", {r}" for r in ratios) + ")"


def parse_args(argv=None):
    """Command-line options."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--n-samples",
        type=int,
        help=f"rows of X (default {GPU_N_SAMPLES} with a GPU, {CPU_N_SAMPLES} without)",
    )
    parser.add_argument(
        "--output",
        type=Path,
        default=HERE / "results" / "gpu_check",
        help="folder of the benchmark's array_api.json and array_api.md",
    )
    parser.add_argument(
        "--budget",
        type=float,
        default=60.0,
        help="seconds of fitting per contestant and problem (default 60)",
    )
    return parser.parse_args(argv)


def main(argv=None):
    """Run the check; return 0 if the device tests passed (or did not run)."""
    args = parse_args(argv)
    start = time.perf_counter()
    available, reasons = gpu_status()
    if available:
        print(f"GPU found: {', '.join(available)}.", flush=True)
        tests_code = run_device_tests(available)
        n_samples = args.n_samples or GPU_N_SAMPLES
    else:
        print(
            f"{NO_GPU} ({'; '.join(reasons)}): the device tests are not run and "
            f"no GPU result is measured. Running the torch-CPU variant of the "
            f"benchmark at a small size instead.",
            flush=True,
        )
        tests_code = 0
        n_samples = args.n_samples or CPU_N_SAMPLES
    sys.path.insert(0, str(HERE))
    import bench_array_api

    document = bench_array_api.main(
        [
            "--n-samples",
            str(n_samples),
            "--budget",
            str(args.budget),
            "--output",
            str(args.output),
        ]
    )
    print("== summary", flush=True)
    where = "GPU" if available else "CPU only, no GPU"
    print(f"{n_samples} x {document['n_features']} float32 ({where}):")
    for line in summary_lines(document):
        print(line)
    if available:
        verdict = "passed" if tests_code == 0 else f"FAILED (pytest code {tests_code})"
        print(f"device tests: {verdict}")
    print(f"gpu_check took {time.perf_counter() - start:.0f} s", flush=True)
    return tests_code


if __name__ == "__main__":
    sys.exit(main())
