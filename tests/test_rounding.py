"""The rounding ledger: how the cached images' errors follow the rates."""

import numpy as np
import pytest

from sklearn_so._rounding import (
    MAX_SOURCES,
    RoundingLedger,
    objective_uncertainty,
    trusted_digits,
)

EPS32 = float(np.finfo(np.float32).eps)
EPS64 = float(np.finfo(np.float64).eps)


def test_a_product_rounds_at_the_size_of_the_terms_it_sums():
    ledger = RoundingLedger(EPS32, EPS64)
    error = ledger.product(8.0)
    assert error.size == 8.0
    assert ledger.error(error) == pytest.approx(8.0 * EPS32)
    # Terms of 3e5 cancelling to 1e-7 (a constant column beside the
    # intercept) round at eps * 3e5, not eps * 1e-7.
    cancelled = ledger.product(1e-7, scale=3e5)
    assert cancelled.size == 1e-7
    assert ledger.error(cancelled) == pytest.approx(3e5 * EPS32)


def test_opposite_rates_on_one_image_cancel_its_rounding():
    # a V - a V carries none of V's product rounding: only the sum's own.
    ledger = RoundingLedger(EPS32, EPS64)
    image = ledger.product(1.0)
    difference = ledger.combine([1e6, -1e6], [image, image])
    own_rounding = EPS64 * 2 * 2 * 2e6
    assert ledger.error(difference) == pytest.approx(own_rounding)
    # A bound on the recursion instead would carry 2e6 * EPS32.
    assert ledger.error(difference) < 1e-3 * 2e6 * EPS32


def test_a_runaway_momentum_rate_amplifies_the_error_geometrically():
    # m_t = b m_{t-1}: each step multiplies the product's rounding by b.
    ledger = RoundingLedger(EPS32, EPS64)
    move = ledger.product(1.0)
    for _ in range(5):
        move = ledger.combine([10.0], [move])
    assert ledger.error(move) == pytest.approx(1e5 * EPS32, rel=1e-6)


def test_the_bound_holds_on_float32_images_and_is_not_vacuous():
    # The loop's updates replayed on float32 products: a heavy-ball
    # recursion u_t = X d_t + b u_{t-1} with b = 1.5, z += u_t, against
    # the exact float64 arithmetic on the same (float32) X.
    rng = np.random.default_rng(0)
    X = rng.standard_normal((200, 5)).astype(np.float32)
    ledger = RoundingLedger(EPS32, EPS64)
    z = np.zeros(200)
    z_exact = np.zeros(200)
    z_error = ledger.product(0.0)
    u = u_exact = None
    u_error = None
    for _ in range(12):
        d = rng.standard_normal(5)
        image = np.asarray(X @ d.astype(np.float32), dtype=np.float64)
        image_exact = X.astype(np.float64) @ d.astype(np.float32).astype(np.float64)
        d_error = ledger.product(np.max(np.abs(image)))
        if u is None:
            u, u_exact, u_error = image, image_exact, d_error
        else:
            u, u_exact = image + 1.5 * u, image_exact + 1.5 * u_exact
            u_error = ledger.combine([1.0, 1.5], [d_error, u_error])
        z, z_exact = z + u, z_exact + u_exact
        z_error = ledger.plus(z_error, u_error, np.max(np.abs(z)))
        actual = np.max(np.abs(z - z_exact))
        bound = ledger.error(z_error)
        assert actual <= bound
        assert bound <= 1e3 * actual


def test_merging_sources_keeps_the_bound():
    ledger = RoundingLedger(EPS32, EPS64)
    images = [ledger.product(float(j + 1)) for j in range(2 * MAX_SOURCES + 10)]
    rates = list(np.linspace(-1.0, 2.0, len(images)))
    combined = ledger.combine(rates, images)
    assert len(combined.coefficients) == MAX_SOURCES
    expected = sum(
        abs(r) * EPS32 * (j + 1) for j, r in enumerate(rates)
    ) + EPS64 * 2 * len(images) * sum(abs(r) * (j + 1) for j, r in enumerate(rates))
    assert ledger.error(combined) == pytest.approx(expected, rel=1e-12)


def test_settling_folds_what_no_move_carries_and_keeps_the_bound():
    ledger = RoundingLedger(EPS32, EPS64)
    move, gone = ledger.product(1.0), ledger.product(2.0)
    z = ledger.combine([3.0, -1.0], [move, gone])
    before = ledger.error(z)
    settled = ledger.settle(z, live=[move, None])
    assert set(settled.coefficients) == set(move.coefficients)
    assert ledger.error(settled) == pytest.approx(before, rel=1e-15)
    # Only the move's rounding is remembered; a later step that reuses the
    # move can still cancel its share of Z's error.
    assert set(ledger.magnitudes) == set(move.coefficients)
    undone = ledger.combine([1.0, -3.0], [settled, move])
    assert ledger.error(undone) < ledger.error(settled)


def test_the_objective_is_trusted_to_half_its_digits():
    assert objective_uncertainty(0.5, 1e-9) == pytest.approx(5e-10)
    assert trusted_digits(-2.0, EPS64) == pytest.approx(2.0 * EPS64**0.5)


def test_a_refused_step_leaves_the_cached_error_usable():
    # verify() may refuse the step whose error was just computed: the
    # ledger must still know every rounding of the current Z (a KeyError
    # once escaped a fit here).
    ledger = RoundingLedger(EPS32, EPS64)
    z = ledger.product(3.0)
    before = ledger.error(z)
    ledger.add_unkept(z, 4.0, step_scale=5.0)  # computed, then refused
    assert ledger.error(z) == before
    after = ledger.settle(ledger.add_unkept(z, 4.0, step_scale=5.0), live=[])
    assert ledger.error(after) == pytest.approx(
        before + EPS32 * 5.0 + 2 * EPS64 * 7.0, rel=1e-15
    )
    assert ledger.magnitudes == {}
