"""Behaviour is kept: every configuration's iterates equal the recorded ones.

``tests/reference/iterates.npz`` was recorded by
``tests/reference/record_iterates.py`` before the solver loop was rewritten
as named steps; a refactor must reproduce it (same iterations and product
counts, coefficients and objective curves equal to 1e-10 relative). Both run
at one BLAS thread, on the OpenBLAS kernel the file names: in this process
when it already runs that kernel, else in a child process that asks for it.
"""

import numpy as np
import pytest

from .reference.record_iterates import (
    KERNEL_KEY,
    REFERENCE,
    blas_kernel,
    configurations,
    fit_one_thread,
    run_on_kernel,
)

RTOL = 1e-10


def _by_configuration(stored):
    """``{name: {array: value}}`` from a flat ``name/array`` npz file."""
    arrays = {}
    for key in stored.files:
        if key != KERNEL_KEY:
            name, array = key.split("/")
            arrays.setdefault(name, {})[array] = stored[key]
    return arrays


with np.load(REFERENCE) as _stored:
    RECORDED = _by_configuration(_stored)
    RECORDED_KERNEL = str(_stored[KERNEL_KEY])
CONFIGURATIONS = list(configurations())


@pytest.fixture(scope="module")
def fitted_on_kernel(tmp_path_factory):
    """Every configuration's arrays, fitted on the recorded kernel in a child.

    None when this process already runs that kernel (the test fits itself).
    """
    if blas_kernel() == RECORDED_KERNEL:
        return None
    output = tmp_path_factory.mktemp("iterates") / "iterates.npz"
    run_on_kernel(RECORDED_KERNEL, ["--output", str(output)])
    with np.load(output) as stored:
        kernel = str(stored[KERNEL_KEY])
        if kernel != RECORDED_KERNEL:
            # Another BLAS (MKL, Accelerate) or a CPU without the kernel.
            pytest.skip(
                f"the iterates were recorded on the OpenBLAS {RECORDED_KERNEL} "
                f"kernel; asked for it, this machine's BLAS ran {kernel}"
            )
        return _by_configuration(stored)


def test_every_configuration_is_recorded():
    assert sorted(name for name, *_ in CONFIGURATIONS) == sorted(RECORDED)
    assert len(RECORDED) >= 3 * 5 * 3 * 3


@pytest.mark.parametrize(
    "name, estimator, X, y", CONFIGURATIONS, ids=[c[0] for c in CONFIGURATIONS]
)
@pytest.mark.filterwarnings("ignore")
def test_iterates_match_the_recording(name, estimator, X, y, fitted_on_kernel):
    recorded = RECORDED[name]
    if fitted_on_kernel is None:
        got = fit_one_thread(estimator, X, y)
    else:
        got = fitted_on_kernel[name]
    np.testing.assert_array_equal(got["n_iter"], recorded["n_iter"])
    np.testing.assert_array_equal(got["product_counts"], recorded["product_counts"])
    for key in ("coefficients", "loss_curve", "learning_rates", "momentum_rates"):
        want = recorded[key]
        # Relative to the array's size, so that entries near zero are judged
        # by the rounding of the whole vector.
        scale = max(np.max(np.abs(want), initial=0.0), 1e-300)
        np.testing.assert_allclose(got[key], want, rtol=RTOL, atol=RTOL * scale)
