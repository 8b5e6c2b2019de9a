"""Each labelled fault leaves its own signature; before it starts, nothing differs."""

from __future__ import annotations

import numpy as np
import pytest

from opencdmo.engines.bioprocess.errors import InvalidInputError
from opencdmo.engines.bioprocess.faults import FAULT_KINDS, Fault
from opencdmo.engines.bioprocess.simulator import BatchResult

from .conftest import TWIN_FAULTS


def _window(result: BatchResult, start_h: float, end_h: float) -> np.ndarray:
    return (result.time_h >= start_h) & (result.time_h < end_h)


def _mean(result: BatchResult, name: str, start_h: float, end_h: float) -> float:
    return float(result.online[name][_window(result, start_h, end_h)].mean())


@pytest.mark.parametrize("kind", sorted(TWIN_FAULTS))
def test_data_before_the_fault_starts_equal_the_fault_free_twin(
    fault_twins: dict[str, BatchResult], kind: str
) -> None:
    """Up to its labelled start a faulty batch is identical to its twin, and differs after."""
    faulty, twin = fault_twins[kind], fault_twins["normal"]
    before = faulty.time_h < TWIN_FAULTS[kind].start_h
    differs_after = False
    for name, values in faulty.online.items():
        np.testing.assert_array_equal(values[before], twin.online[name][before], err_msg=name)
        differs_after |= not np.array_equal(values[~before], twin.online[name][~before])
    assert differs_after


def test_do_probe_drift_is_hidden_by_the_cascade_but_moves_true_do_and_gas(
    fault_twins: dict[str, BatchResult],
) -> None:
    """A reading drifting low keeps the reading at set point, raising true DO and O2 supply."""
    faulty, twin = fault_twins["do_probe_drift"], fault_twins["normal"]
    last_day = _window(faulty, 312.0, 336.0)
    assert abs(faulty.online["do_pct"][last_day].mean() - 40.0) < 1.0
    assert faulty.true["do_pct"][last_day].mean() > 40.0 + 12.0
    oxygen = _mean(faulty, "o2_flow_slpm", 312.0, 336.0)
    assert oxygen > _mean(twin, "o2_flow_slpm", 312.0, 336.0) + 5.0


def test_ph_probe_bias_moves_co2_and_base_use_while_the_reading_stays_in_band(
    fault_twins: dict[str, BatchResult],
) -> None:
    """A biased reading stays in the dead band; CO2 sparge rises; offline pH shows the offset."""
    faulty, twin = fault_twins["ph_probe_bias"], fault_twins["normal"]
    after = _window(faulty, 126.0, 336.0)
    assert np.abs(faulty.online["ph"][after] - 7.0).mean() < 0.05 + 0.01
    assert _mean(faulty, "co2_flow_slpm", 126.0, 336.0) > 1.3 * _mean(
        twin, "co2_flow_slpm", 126.0, 336.0
    )
    days = faulty.sample_time_h >= 144.0
    offset = faulty.offline["ph_offline"][days] - twin.offline["ph_offline"][days]
    assert offset.mean() == pytest.approx(-0.15, abs=0.05)


def test_feed_pump_failure_delivers_less_feed_and_starves_the_culture(
    fault_twins: dict[str, BatchResult],
) -> None:
    """Feed missing equals 80 % of the four boluses in the window; glucose and titer fall."""
    faulty, twin = fault_twins["feed_pump_failure"], fault_twins["normal"]
    recipe = faulty.spec.recipe
    daily_l = recipe.feed.daily_fraction * recipe.initial_volume_l(faulty.spec.reactor)
    missing = twin.online["feed_added_l"][-1] - faulty.online["feed_added_l"][-1]
    assert missing == pytest.approx(0.8 * 4 * daily_l, rel=0.01)
    window = _window(faulty, 96.0, 192.0)
    assert faulty.true["glucose_g_l"][window].mean() < twin.true["glucose_g_l"][window].mean()
    assert faulty.true["titer_g_l"][-1] < 0.95 * twin.true["titer_g_l"][-1]


def test_over_feed_adds_feed_glucose_and_osmolality(fault_twins: dict[str, BatchResult]) -> None:
    """A 50 % over-feed of two boluses adds half of them; glucose and osmolality rise.

    The daily glucose top-up, decided on the measured glucose, then adds less glucose.
    """
    faulty, twin = fault_twins["over_feed"], fault_twins["normal"]
    recipe = faulty.spec.recipe
    daily_l = recipe.feed.daily_fraction * recipe.initial_volume_l(faulty.spec.reactor)
    extra = faulty.online["feed_added_l"][-1] - twin.online["feed_added_l"][-1]
    assert extra == pytest.approx(0.5 * 2 * daily_l, rel=0.01)
    window = _window(faulty, 96.0, 168.0)
    assert faulty.true["glucose_g_l"][window].mean() > twin.true["glucose_g_l"][window].mean()
    osmolality = faulty.true["osmolality_mosm_kg"][window].mean()
    assert osmolality > twin.true["osmolality_mosm_kg"][window].mean() + 10.0
    assert faulty.glucose_added_l < twin.glucose_added_l


def test_temperature_controller_failure_drifts_then_recovers(
    fault_twins: dict[str, BatchResult],
) -> None:
    """Culture temperature falls toward set point - 4 °C during the failure and recovers after."""
    faulty = fault_twins["temperature_controller_failure"]
    assert _mean(faulty, "temperature_c", 180.0, 200.0) == pytest.approx(29.0, abs=0.3)
    assert _mean(faulty, "jacket_temperature_c", 130.0, 200.0) == pytest.approx(29.0, abs=0.3)
    assert _mean(faulty, "temperature_c", 215.0, 240.0) == pytest.approx(33.0, abs=0.3)


def test_agitation_failure_halves_speed_and_the_cascade_adds_oxygen(
    fault_twins: dict[str, BatchResult],
) -> None:
    """Agitation drops by the fault magnitude; O2 sparge rises; DO stays controlled."""
    faulty, twin = fault_twins["agitation_failure"], fault_twins["normal"]
    ratio = _mean(faulty, "agitation_rpm", 125.0, 200.0) / _mean(
        twin, "agitation_rpm", 125.0, 200.0
    )
    assert ratio == pytest.approx(0.5, abs=0.03)
    assert _mean(faulty, "o2_flow_slpm", 125.0, 200.0) > 3.0 * _mean(
        twin, "o2_flow_slpm", 125.0, 200.0
    )
    assert abs(_mean(faulty, "do_pct", 125.0, 200.0) - 40.0) < 2.0


def test_contamination_raises_oxygen_uptake_acid_and_death(
    fault_twins: dict[str, BatchResult],
) -> None:
    """A contaminant raises OUR, forces base addition and kills the culture."""
    faulty, twin = fault_twins["contamination"], fault_twins["normal"]
    assert _mean(faulty, "our_mmol_l_h", 170.0, 200.0) > 1.5 * _mean(
        twin, "our_mmol_l_h", 170.0, 200.0
    )
    assert faulty.online["base_added_l"][-1] > 5.0 * twin.online["base_added_l"][-1]
    assert faulty.true["viability_pct"][-1] < 70.0


def test_co2_accumulation_is_compensated_by_less_co2_sparge(
    fault_twins: dict[str, BatchResult],
) -> None:
    """With stripping impaired the pH loop sparges far less CO2 to hold pH."""
    faulty, twin = fault_twins["co2_accumulation"], fault_twins["normal"]
    assert _mean(faulty, "co2_flow_slpm", 126.0, 336.0) < 0.5 * _mean(
        twin, "co2_flow_slpm", 126.0, 336.0
    )


def test_every_fault_kind_names_signature_variables_that_are_measured() -> None:
    """Each kind's signature lists online sensor names only."""
    from opencdmo.engines.bioprocess.sensors import ONLINE_SENSORS

    names = {m.name for m in ONLINE_SENSORS}
    for kind in FAULT_KINDS.values():
        assert kind.signature
        assert set(kind.signature) <= names, kind.name


@pytest.mark.parametrize(
    ("fault", "parameter", "reason"),
    [
        (("sensor_gremlin", 10.0, 20.0, 1.0), "fault.kind", "unknown fault 'sensor_gremlin'"),
        (("over_feed", -1.0, 20.0, 1.0), "fault.start_h", "must not be negative"),
        (("over_feed", 30.0, 20.0, 1.0), "fault.end_h", "must be after fault.start_h"),
        (("feed_pump_failure", 10.0, 20.0, 1.5), "fault.magnitude", "outside 0..1"),
        (("ph_probe_bias", 10.0, float("nan"), 0.1), "fault.end_h", "must be finite"),
    ],
)
def test_bad_faults_are_rejected_naming_the_parameter(
    fault: tuple[str, float, float, float], parameter: str, reason: str
) -> None:
    """Unknown kinds, bad timing and out-of-range magnitudes are refused with the reason."""
    with pytest.raises(InvalidInputError) as caught:
        Fault(*fault)
    assert caught.value.parameter == parameter
    assert reason in caught.value.reason
