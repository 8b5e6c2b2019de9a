"""Observation-wise (batch evolution) and phase-wise models on the film-coating batches."""

from __future__ import annotations

import numpy as np
import pytest

from opencdmo.engines.monitoring import (
    AlignedBatches,
    BatchDataset,
    MonitoringInputError,
    align_phases,
)
from opencdmo.engines.monitoring.evolution import (
    BatchEvolutionModel,
    fit_phase_models,
    phase_part,
)

DEVIATING = ("B1905", "B1805")


@pytest.fixture(scope="module")
def coating(film_coating: BatchDataset) -> AlignedBatches:
    """Phase-aligned film-coating batches."""
    return align_phases(film_coating)


def _normal(aligned: AlignedBatches) -> AlignedBatches:
    return aligned.select([b for b in aligned.batch_ids if b not in DEVIATING])


def test_evolution_model_flags_b1905_much_more_than_normal_batches(
    coating: AlignedBatches,
) -> None:
    """Against limits from the 15 other batches, B1905 alarms at 15 % of its samples."""
    model = BatchEvolutionModel(2, confidence=0.99).fit(_normal(coating))
    deviating = model.trace(coating.select(["B1905"]).values[0]).alarms.mean()
    normal = model.trace(coating.select(["B211"]).values[0]).alarms.mean()
    assert deviating == pytest.approx(0.148, abs=0.01)
    assert normal < 0.05
    assert model.spe_limit_.shape == (357,)


def test_evolution_trace_of_an_unfinished_batch(coating: AlignedBatches) -> None:
    """A running batch is traced over the samples it has, against the same limits."""
    model = BatchEvolutionModel(2).fit(_normal(coating))
    trace = model.trace(coating.values[0, :100])
    assert trace.t2.shape == (100,)
    np.testing.assert_array_equal(trace.spe_limit, model.spe_limit_[:100])
    reference = model.pca_.transform(_normal(coating).values[:, 50]).reshape(15, 2)
    deviation = trace.scores[50] - reference.mean(axis=0)
    expected = deviation @ np.linalg.inv(np.cov(reference, rowvar=False)) @ deviation
    assert trace.t2[50] == pytest.approx(expected, rel=1e-8)
    with pytest.raises(MonitoringInputError, match="at most 357 samples, 7 variables"):
        model.trace(coating.values[0, :, :6])


def test_phase_models_flag_the_deviating_batches(coating: AlignedBatches) -> None:
    """Phase models of the 15 normal batches flag B1905 and B1805 while heating and spraying."""
    models = fit_phase_models(_normal(coating), 2)
    assert list(models) == ["STARTUP", "HEATING", "SPRAYING", "DRYING", "DISCHARGING"]
    assert "SPRAY_RATE" not in models["HEATING"].variables_
    for phase in ("HEATING", "SPRAYING"):
        part = phase_part(coating, phase, models[phase].variables_)
        result = models[phase].score_batches(part, confidence=0.99)
        assert set(result.flagged) == set(DEVIATING)
