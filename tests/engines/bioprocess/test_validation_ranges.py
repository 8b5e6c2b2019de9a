"""Normal batches fall in the ranges published for industrial CHO fed-batch mAb processes."""

from __future__ import annotations

import numpy as np

from opencdmo.engines.bioprocess.simulator import BatchResult


def _days(result: BatchResult) -> np.ndarray:
    return result.time_h / 24.0


def test_peak_viable_cell_density_is_10_to_25_e6_per_ml_around_day_6_to_9(
    normal_batches: list[BatchResult],
) -> None:
    """Peak VCD lies in 10-25 x 10^6 cells/mL and is reached between day 6 and day 9."""
    for result in normal_batches:
        vcd = result.true["vcd_e6_per_ml"]
        peak_day = _days(result)[int(vcd.argmax())]
        assert 10.0 <= vcd.max() <= 25.0, result.spec.batch_id
        assert 6.0 <= peak_day <= 9.5, (result.spec.batch_id, peak_day)


def test_harvest_titer_is_1_to_6_g_per_l(normal_batches: list[BatchResult]) -> None:
    """Titer at the day-14 harvest lies in 1-6 g/L and rises through the run."""
    for result in normal_batches:
        titer = result.true["titer_g_l"]
        assert 1.0 <= titer[-1] <= 6.0, result.spec.batch_id
        by_day = np.interp([7.0, 10.0, 14.0], _days(result), titer)
        assert np.all(np.diff(by_day) > 0.0)


def test_lactate_is_produced_then_consumed_after_the_metabolic_shift(
    normal_batches: list[BatchResult],
) -> None:
    """Lactate peaks at 1-3 g/L in the growth phase and falls below half its peak by harvest."""
    for result in normal_batches:
        lactate = result.true["lactate_g_l"]
        peak_day = _days(result)[int(lactate.argmax())]
        assert 1.0 <= lactate.max() <= 3.0
        assert 3.0 <= peak_day <= 9.0
        assert lactate[-1] < 0.5 * lactate.max()


def test_harvest_viability_is_above_80_percent(normal_batches: list[BatchResult]) -> None:
    """Viability at harvest stays above 80 % in normal batches."""
    for result in normal_batches:
        assert result.true["viability_pct"][-1] > 80.0, result.spec.batch_id
        assert result.offline["viability_pct"][-1] > 78.0


def test_do_is_held_at_set_point_within_sensor_noise(normal_batches: list[BatchResult]) -> None:
    """From day 2 (once uptake pulls DO down) the DO reading stays at set point within noise."""
    for result in normal_batches:
        setpoint = result.spec.recipe.do_setpoint_pct
        reading = result.online["do_pct"][_days(result) >= 2.0]
        assert abs(reading.mean() - setpoint) < 0.5
        assert reading.std() < 2.0 * 0.5
        assert np.quantile(np.abs(reading - setpoint), 0.99) < 5.0 * 0.5


def test_ph_is_held_within_the_dead_band_plus_sensor_noise(
    normal_batches: list[BatchResult],
) -> None:
    """From day 1 the pH reading stays within set point +/- (dead band + 4 sigma noise)."""
    for result in normal_batches:
        recipe = result.spec.recipe
        after = _days(result) >= 1.0
        reading = result.online["ph"][after]
        band = recipe.ph_deadband + 4 * 0.01
        inside = np.abs(reading - recipe.ph_setpoint) <= band
        assert inside.mean() > 0.99, result.spec.batch_id
        assert abs(result.true["ph"][after].mean() - recipe.ph_setpoint) < recipe.ph_deadband


def test_metabolites_and_gases_stay_in_typical_ranges(normal_batches: list[BatchResult]) -> None:
    """Osmolality 270-500 mOsm/kg, ammonium below 10 mM, glucose fed but never exhausted."""
    for result in normal_batches:
        true = result.true
        assert true["osmolality_mosm_kg"].min() >= 270.0
        assert true["osmolality_mosm_kg"].max() <= 500.0
        assert true["ammonium_mm"].max() < 10.0
        assert true["glucose_g_l"].min() > 0.5
        assert true["glucose_g_l"].max() < 10.0
        assert true["pco2_mmhg"][_days(result) >= 1.0].max() < 150.0
