"""Record (or compare) the iterates of every estimator x solver x direction.

A refactor must keep behaviour: ``python tests/reference/record_iterates.py``
writes ``iterates.npz`` beside this file from the code as it is (given
configuration names, re-records only those), and
``tests/test_reference_iterates.py`` compares every later version with it
(same ``n_iter_`` and product counts, coefficients and ``loss_curve_`` equal
to 1e-10 relative). Re-record only on purpose, when a change is meant to
alter the iterates, and say so in the commit.

Iterates that long depend on the rounding of the BLAS kernel: OpenBLAS picks
its kernel by CPU (measured: its Haswell and SkylakeX kernels give different
network and L-BFGS iterates after a few dozen iterations). So the fits run
on one named kernel (``KERNEL``, through ``OPENBLAS_CORETYPE``, which every
x86-64 CPU with AVX2 can run), which the file records, and the test
compares on that kernel whatever CPU it runs on. They depend on the number
of BLAS threads too (three L-BFGS configurations differ between one and
two), so every fit runs at one thread (``fit_one_thread``).
"""

import argparse
import os
import platform
import subprocess
import sys
import warnings
from pathlib import Path

import numpy as np
import scipy.sparse as sp
from sklearn.datasets import load_breast_cancer, load_digits
from sklearn.preprocessing import StandardScaler
from threadpoolctl import threadpool_info, threadpool_limits

from sklearn_so import SOLogisticRegression, SOTwoLayerClassifier, SOTwoLayerRegressor

REFERENCE = Path(__file__).with_name("iterates.npz")
# The OpenBLAS kernel the iterates are recorded and compared on (x86-64).
KERNEL = "Haswell" if platform.machine().lower() in ("x86_64", "amd64") else None
# The file's entry that names the kernel (not a configuration).
KERNEL_KEY = "blas/kernel"
SOLVERS = ("ls", "lo", "ps", "so", "fixed")
DIRECTIONS = ("lbfgs", "gd", "adam")
# Enough iterations to pass a preconditioner re-estimate (20, 40) and an
# exact refresh of the cached product (50) for the linear model.
LOGISTIC_ITER = 60
NETWORK_ITER = 25


def datasets():
    """Digits (10 classes), breast cancer (binary, raw) and a sparse set."""
    X_digits, y_digits = load_digits(return_X_y=True)
    X_digits = StandardScaler().fit_transform(X_digits[:600])
    y_digits = y_digits[:600]
    X_cancer, y_cancer = load_breast_cancer(return_X_y=True)
    rng = np.random.default_rng(0)
    X_sparse = sp.random(400, 300, density=0.02, format="csr", random_state=1)
    X_sparse.data = rng.standard_normal(X_sparse.nnz)
    y_sparse = np.argmax(
        X_sparse @ rng.standard_normal((300, 3)) + rng.gumbel(size=(400, 3)), axis=1
    )
    return {
        "digits": (X_digits, y_digits),
        "cancer": (X_cancer, y_cancer),
        "sparse": (X_sparse, y_sparse),
    }


def regression_target(X, seed=0):
    """A smooth non-linear target of X, two outputs."""
    rng = np.random.default_rng(seed)
    V = rng.standard_normal((X.shape[1], 2)) / np.sqrt(X.shape[1])
    scale = abs(X).max(axis=0)
    scale = np.asarray(scale.todense() if sp.issparse(scale) else scale).ravel()
    return np.tanh(np.asarray(X @ (V / np.maximum(scale, 1e-12)[:, None])) * 3.0)


def configurations():
    """Yield ``(name, estimator, X, y)`` for every configuration recorded."""
    for data_name, (X, y) in datasets().items():
        y_reg = regression_target(X)
        for solver in SOLVERS:
            for direction in DIRECTIONS:
                rates = {"learning_rate": 0.05} if solver == "fixed" else {}
                suffix = f"{data_name}-{solver}-{direction}"
                yield (
                    f"logistic-{suffix}",
                    SOLogisticRegression(
                        solver=solver,
                        direction=direction,
                        max_iter=LOGISTIC_ITER,
                        tol=1e-10,
                        **rates,
                    ),
                    X,
                    y,
                )
                network = {
                    "hidden_units": 8,
                    "solver": solver,
                    "direction": direction,
                    "max_iter": NETWORK_ITER,
                    "tol": 1e-10,
                    "random_state": 0,
                    **rates,
                }
                yield f"classifier-{suffix}", SOTwoLayerClassifier(**network), X, y
                yield f"regressor-{suffix}", SOTwoLayerRegressor(**network), X, y_reg
    X, y = datasets()["digits"]
    yield (
        "classifier-digits-early-stopping",
        SOTwoLayerClassifier(
            hidden_units=8, early_stopping=True, max_iter=40, random_state=0
        ),
        X,
        y,
    )
    yield (
        "logistic-digits-float32",
        SOLogisticRegression(max_iter=LOGISTIC_ITER, tol=1e-10),
        X.astype(np.float32),
        y,
    )


def fitted_arrays(estimator):
    """The recorded arrays of a fitted estimator, by name."""
    if hasattr(estimator, "coef_"):
        coefficients = [estimator.coef_, estimator.intercept_]
    else:
        coefficients = [*estimator.coefs_, *estimator.intercepts_]
    counts = estimator.product_counts_
    return {
        "n_iter": np.atleast_1d(estimator.n_iter_),
        "coefficients": np.concatenate([np.ravel(c) for c in coefficients]),
        "loss_curve": np.asarray(estimator.loss_curve_),
        "learning_rates": np.ravel(estimator.learning_rates_),
        "momentum_rates": np.ravel(estimator.momentum_rates_),
        "product_counts": np.array([counts[key] for key in sorted(counts)]),
    }


def blas_kernel():
    """The kernel of the BLAS that numpy and scipy use, e.g. "Haswell".

    One name when every loaded OpenBLAS runs the same kernel, else the names
    joined by "+" (another BLAS gives its own name).
    """
    import scipy.linalg  # noqa: F401  (loads scipy's BLAS)

    names = {
        info.get("architecture") or info["internal_api"]
        for info in threadpool_info()
        if info["user_api"] == "blas"
    }
    return "+".join(sorted(names))


def run_on_kernel(kernel, arguments):
    """Run this script with ``arguments`` on the OpenBLAS ``kernel``.

    The child imports the package this script sits beside (not another
    installed copy) and has ten minutes.
    """
    root = str(Path(__file__).resolve().parents[2])
    path = os.pathsep.join(filter(None, [root, os.environ.get("PYTHONPATH")]))
    env = {**os.environ, "OPENBLAS_CORETYPE": kernel, "PYTHONPATH": path}
    subprocess.run(
        [sys.executable, __file__, *arguments], env=env, check=True, timeout=600
    )


def fit_one_thread(estimator, X, y):
    """Fit at one BLAS thread, warnings silenced; return the fitted arrays."""
    with threadpool_limits(1), warnings.catch_warnings():
        warnings.simplefilter("ignore")
        estimator.fit(X, y)
    return fitted_arrays(estimator)


def fit_all(names=None):
    """Fit every configuration (or those named); return ``{name: arrays}``."""
    results = {}
    for name, estimator, X, y in configurations():
        if names is not None and name not in names:
            continue
        results[name] = fit_one_thread(estimator, X, y)
    return results


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "names",
        nargs="*",
        help="re-record only these configurations, keeping the others",
    )
    parser.add_argument(
        "--output",
        type=Path,
        help="write every configuration's arrays here instead (for the test)",
    )
    args = parser.parse_args(argv)
    if args.output is not None and args.names:
        parser.error("--output writes every configuration: give no names")
    if args.output is not None:
        # The caller chose the kernel (and reads which one ran).
        flat = {
            f"{name}/{key}": value
            for name, arrays in fit_all().items()
            for key, value in arrays.items()
        }
        np.savez(args.output, **flat, **{KERNEL_KEY: np.array(blas_kernel())})
        return
    pinned = os.environ.get("OPENBLAS_CORETYPE") == KERNEL
    if KERNEL is not None and blas_kernel() != KERNEL and not pinned:
        # OPENBLAS_CORETYPE is read when the library loads: start over. (A
        # CPU that cannot run KERNEL records the one it ran.)
        run_on_kernel(KERNEL, sys.argv[1:] if argv is None else argv)
        return
    names = args.names or None
    flat = {}
    if names is not None:
        with np.load(REFERENCE) as recorded:
            flat = {key: recorded[key] for key in recorded.files}
        unknown = set(names) - {key.split("/")[0] for key in flat}
        if unknown:
            parser.error(f"unknown configurations: {sorted(unknown)}")
        if str(flat[KERNEL_KEY]) != blas_kernel():
            parser.error(
                f"the file was recorded on {flat[KERNEL_KEY]}, this runs on "
                f"{blas_kernel()}: re-record every configuration"
            )
    for name, arrays in fit_all(names).items():
        for key, value in arrays.items():
            flat[f"{name}/{key}"] = value
    flat[KERNEL_KEY] = np.array(blas_kernel())
    np.savez_compressed(REFERENCE, **flat)
    print(f"recorded {len(flat)} arrays to {REFERENCE.name}")


if __name__ == "__main__":
    main()
