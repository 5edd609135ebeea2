"""Behaviour is kept: every configuration's iterates equal the recorded ones.

``tests/reference/iterates.npz`` was recorded by
``tests/reference/record_iterates.py`` before the solver loop was rewritten
as named steps; a refactor must reproduce it (same iterations and product
counts, coefficients and objective curves equal to 1e-10 relative).
"""

import numpy as np
import pytest

from .reference.record_iterates import REFERENCE, configurations, fitted_arrays

RTOL = 1e-10


def _recorded():
    with np.load(REFERENCE) as stored:
        recorded = {}
        for key in stored.files:
            name, array = key.split("/")
            recorded.setdefault(name, {})[array] = stored[key]
    return recorded


RECORDED = _recorded()
CONFIGURATIONS = list(configurations())


def test_every_configuration_is_recorded():
    assert sorted(name for name, *_ in CONFIGURATIONS) == sorted(RECORDED)
    assert len(RECORDED) >= 3 * 5 * 3 * 3


@pytest.mark.parametrize(
    "name, estimator, X, y", CONFIGURATIONS, ids=[c[0] for c in CONFIGURATIONS]
)
@pytest.mark.filterwarnings("ignore")
def test_iterates_match_the_recording(name, estimator, X, y):
    recorded = RECORDED[name]
    got = fitted_arrays(estimator.fit(X, y))
    np.testing.assert_array_equal(got["n_iter"], recorded["n_iter"])
    np.testing.assert_array_equal(got["product_counts"], recorded["product_counts"])
    for key in ("coefficients", "loss_curve", "learning_rates", "momentum_rates"):
        want = recorded[key]
        # Relative to the array's size, so that entries near zero are judged
        # by the rounding of the whole vector.
        scale = max(np.max(np.abs(want), initial=0.0), 1e-300)
        np.testing.assert_allclose(got[key], want, rtol=RTOL, atol=RTOL * scale)
