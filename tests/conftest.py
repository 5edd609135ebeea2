"""Shared test data: small, well-posed problems with a fixed seed."""

import pytest

from ._data import make_classification_data


@pytest.fixture
def binary_data():
    return make_classification_data(2)


@pytest.fixture
def multiclass_data():
    return make_classification_data(3)
