"""The whole benchmark suite in one command.

Runs ``bench_logistic.py`` and ``bench_two_layer.py`` (each in its own
process, one after the other, so they never compete for the CPUs), then
writes next to their reports in the results folder:

- ``environment.md``: the command, date, duration, machine and library
  versions, BLAS and its thread count (ratios depend on them);
- ``logistic_convergence.png`` and ``two_layer_convergence.png``;
- ``summary.md``: the summary tables, built from the CSVs by
  ``summary.py``; with ``--update-readme`` the README's results section is
  replaced by the same summary.

Run from the repository root (about 25 minutes; ``--quick`` about 2)::

    python benchmarks/run.py [--quick] [--output DIR] [--threads T]
        [--update-readme]
"""

import argparse
import datetime
import os
import platform
import subprocess
import sys
import time
from pathlib import Path

import _common as common
from plots import plot_logistic, plot_two_layer
from summary import (
    ENVIRONMENT_NAME,
    SUMMARY_NAME,
    build_summary,
    replace_readme_block,
)

from sklearn_so._harness.fits import limit_threads

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
SCRIPTS = ("bench_logistic.py", "bench_two_layer.py")


def cpu_model():
    """The CPU's model name (Linux), or the platform's processor string."""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown CPU"


def write_environment(output, args, started, seconds, load_before):
    """``environment.md``: where and how the results were produced."""
    # The command itself is the first bullet of environment_lines.
    lines = [
        f"Run on {started:%Y-%m-%d}, took {seconds / 60:.0f} min; each "
        f"benchmark script with --threads {args.threads}.",
        "",
        f"- machine: {cpu_model()}, {os.cpu_count()} CPUs",
        *common.environment_lines(load_before),
    ]
    (output / ENVIRONMENT_NAME).write_text("\n".join(lines) + "\n")


def _relative(path):
    """``path`` relative to the repository root if it lies inside it."""
    path = Path(path).resolve()
    try:
        return str(path.relative_to(ROOT))
    except ValueError:
        return str(path)


def parse_args(argv=None):
    """Command-line options."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--quick", action="store_true", help="small datasets and budgets"
    )
    parser.add_argument(
        "--output",
        type=Path,
        default=HERE / "results",
        help="results folder (default: benchmarks/results)",
    )
    parser.add_argument(
        "--threads",
        type=int,
        default=1,
        help="BLAS and OpenMP threads of every fit (0: the libraries' default)",
    )
    parser.add_argument(
        "--report-only",
        action="store_true",
        help="do not run the benchmarks: redraw the plots and rewrite the "
        "summary (and README) from the results already in --output",
    )
    parser.add_argument(
        "--update-readme",
        action="store_true",
        help="replace the README's results section by the new summary",
    )
    return parser.parse_args(argv)


def main(argv=None):
    """Run both benchmarks, then write the environment, plots and summary."""
    args = parse_args(argv)
    args.output.mkdir(parents=True, exist_ok=True)
    limit_threads(args.threads)
    load_before = os.getloadavg()
    started = datetime.datetime.now()
    start = time.perf_counter()
    # Paths relative to the repository root, as a user types them: the
    # scripts record their command line in their reports.
    output = _relative(args.output)
    for script in () if args.report_only else SCRIPTS:
        command = [sys.executable, _relative(HERE / script), "--output", output]
        command += ["--threads", str(args.threads)] + (
            ["--quick"] if args.quick else []
        )
        print(f"== python {' '.join(command[1:])}", flush=True)
        subprocess.run(command, check=True, cwd=ROOT)
    if not args.report_only:
        write_environment(
            args.output, args, started, time.perf_counter() - start, load_before
        )
    for plot in (plot_logistic, plot_two_layer):
        print(f"wrote {plot(args.output)}")
    summary = build_summary(args.output)
    (args.output / SUMMARY_NAME).write_text(summary)
    print(summary)
    if args.update_readme:
        readme = ROOT / "README.md"
        prefix = os.path.relpath(args.output, ROOT) + "/"
        block = build_summary(args.output, image_prefix=prefix)
        readme.write_text(replace_readme_block(readme.read_text(), block))
        print(f"updated the results section of {readme}")


if __name__ == "__main__":
    main()
