"""Shared test data and the hypothesis profiles of the property tests."""

import os

import pytest
from hypothesis import HealthCheck, settings

from ._data import make_classification_data

# The property tests (tests/test_properties.py) run a fixed, bounded set of
# examples by default ("ci": the same 500 per estimator on every run, about
# half a minute on 2 cores); HYPOTHESIS_PROFILE=long runs a randomised search
# of 5,000 per estimator (about 10 minutes on 2 cores;
# HYPOTHESIS_MAX_EXAMPLES overrides the number per test).
_SHARED = {"deadline": None, "suppress_health_check": [HealthCheck.too_slow]}
settings.register_profile(
    "ci", max_examples=500, derandomize=True, database=None, **_SHARED
)
settings.register_profile(
    "long",
    max_examples=int(os.environ.get("HYPOTHESIS_MAX_EXAMPLES", 5_000)),
    **_SHARED,
)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci"))


@pytest.fixture
def binary_data():
    return make_classification_data(2)


@pytest.fixture
def multiclass_data():
    return make_classification_data(3)
