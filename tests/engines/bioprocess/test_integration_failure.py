"""A failing integration reports the batch, the time and the state where it failed."""

from __future__ import annotations

import pytest

from opencdmo.engines.bioprocess.errors import IntegrationError
from opencdmo.engines.bioprocess.kinetics import KineticParameters
from opencdmo.engines.bioprocess.reactor import bioreactor
from opencdmo.engines.bioprocess.recipe import ProcessRecipe
from opencdmo.engines.bioprocess.simulator import BatchSpec, SimulationSettings, simulate


def test_runaway_kinetics_with_a_coarse_step_report_where_they_failed() -> None:
    """Absurd uptake with a 60 min step drives glucose negative; the error says when and what."""
    kinetics = KineticParameters(m_glc_pmol_per_cell_h=40.0)
    spec = BatchSpec(
        "RUNAWAY",
        bioreactor(2.0),
        recipe=ProcessRecipe(duration_days=3.0, temperature_shift_day=None),
        kinetics=kinetics,
    )
    with pytest.raises(IntegrationError) as caught:
        simulate([spec], SimulationSettings(control_step_min=60.0, sensor_interval_min=60.0))
    error = caught.value
    assert error.batch_id == "RUNAWAY"
    assert error.variable == "glucose"
    assert 0.0 < error.time_h <= 72.0
    assert error.value < 0.0
    assert "batch RUNAWAY at t = " in str(error)
    assert "glucose" in str(error)
