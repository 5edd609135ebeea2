"""Command line: ``python -m sklearn_so demo`` (also ``sklearn-so demo``)."""

import argparse
import sys

from . import __version__


def build_parser():
    """The argument parser of the ``sklearn-so`` command."""
    parser = argparse.ArgumentParser(
        prog="sklearn-so",
        description="Estimators that choose their learning and momentum rates "
        "exactly on every iteration, for the price of a fixed step.",
    )
    parser.add_argument("--version", action="version", version=__version__)
    commands = parser.add_subparsers(dest="command", metavar="COMMAND")
    commands.required = True
    demo = commands.add_parser(
        "demo",
        help="compare our estimators with scikit-learn's on three problems",
        description="Fit SOLogisticRegression and SOTwoLayerClassifier (default "
        "and alternative solvers) and scikit-learn's LogisticRegression(lbfgs) "
        "and MLPClassifier(lbfgs, adam) on the same objectives; print a table "
        "of time, iterations, products with X, training objective, test "
        "accuracy and speed-up to the same objective; write the table as CSV "
        "and a plot of the objective gap and the chosen rates as PNG "
        "(the plot needs matplotlib: pip install 'sklearn-so[plot]'). "
        "No download: the data ship with scikit-learn or are synthetic.",
    )
    demo.add_argument(
        "--quick",
        action="store_true",
        help="small data and networks: a few seconds instead of about ten",
    )
    demo.add_argument(
        "--output",
        default="sklearn-so-demo",
        metavar="DIR",
        help="folder for demo.csv and demo.png (created if needed; "
        "default: %(default)s)",
    )
    demo.add_argument(
        "--seed",
        type=int,
        default=0,
        help="seed of the data splits, the synthetic data and the networks' "
        "initialisation (default: %(default)s)",
    )
    demo.add_argument(
        "--threads",
        type=_non_negative,
        default=1,
        help="BLAS and OpenMP threads of every fit, ours and scikit-learn's "
        "alike; 0 keeps the libraries' defaults (default: %(default)s, as in "
        "the benchmarks: threaded BLAS on small problems can be many times "
        "slower and would decide the comparison)",
    )
    return parser


def _non_negative(text):
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"must be an integer, 0 or more, got {text!r}"
        ) from None
    if value < 0:
        raise argparse.ArgumentTypeError(f"must be 0 or more, got {value}")
    return value


def main(argv=None):
    """Run the command line and return the exit status.

    Parameters
    ----------
    argv : list of str or None
        Arguments without the program name; None reads ``sys.argv``.

    Returns
    -------
    status : int
        0 on success, 1 on an error the user can fix (one line on stderr);
        argparse exits with 2 on a usage error.
    """
    args = build_parser().parse_args(argv)
    from ._demo import DemoError, run_demo

    try:
        run_demo(
            quick=args.quick,
            output=args.output,
            seed=args.seed,
            threads=args.threads,
            log=_log,
        )
    except DemoError as exc:
        print(f"sklearn-so: error: {exc}", file=sys.stderr)
        return 1
    return 0


def _log(message):
    print(message, flush=True)
