"""Linear, indicator, phase-wise and DTW alignment on the nylon, dryer and film-coating data."""

from __future__ import annotations

import numpy as np
import pytest

from opencdmo.engines.monitoring import (
    MPCA,
    Batch,
    BatchDataset,
    MonitoringInputError,
    align_indicator,
    align_linear,
    align_phases,
)
from opencdmo.engines.monitoring.dtw import OnlineDTW, align_dtw


def _ramp_dataset() -> BatchDataset:
    batches = []
    for b, length in enumerate((20, 30, 25)):
        time = np.arange(length, dtype=float)
        level = np.linspace(0.0, 10.0, length)
        batches.append(Batch(f"B{b}", time, np.column_stack([level, level**2])))
    return BatchDataset(("level", "square"), tuple(batches), {"level": "m", "square": "m2"})


def test_linear_alignment_keeps_ends_and_length(nylon: BatchDataset) -> None:
    """Each batch is stretched to the same length with its first and last samples kept."""
    aligned = align_linear(nylon, n_samples=80)
    assert aligned.values.shape == (57, 80, 10)
    first = nylon.batches[0]
    np.testing.assert_allclose(aligned.values[0, 0], first.values[0])
    np.testing.assert_allclose(aligned.values[0, -1], first.values[-1])


def test_indicator_alignment_puts_batches_on_the_indicator_axis() -> None:
    """Resampled on a monotonic indicator, a function of the indicator is the same in all."""
    aligned = align_indicator(_ramp_dataset(), "level", n_samples=11)
    assert aligned.variables == ("square",)
    np.testing.assert_allclose(aligned.axis, np.linspace(0, 10, 11))
    spread = aligned.values[:, :, 0].max(axis=0) - aligned.values[:, :, 0].min(axis=0)
    assert spread.max() < 0.2


def test_indicator_that_decreases_is_refused_naming_batch_and_sample() -> None:
    """A decreasing indicator is an error naming the batch and the sample."""
    data = _ramp_dataset()
    values = data.batches[1].values.copy()
    values[7, 0] = 0.5
    broken = BatchDataset(
        data.variables,
        (data.batches[0], Batch("B1", data.batches[1].time, values), data.batches[2]),
    )
    with pytest.raises(
        MonitoringInputError, match=r"batch 'B1': indicator 'level' decreases at sample 7"
    ):
        align_indicator(broken, "level")


def test_phase_alignment_of_film_coating(film_coating: BatchDataset) -> None:
    """Phase-wise alignment keeps the five phases in order with their median lengths."""
    aligned = align_phases(film_coating)
    assert [s.phase for s in aligned.phases] == [
        "STARTUP",
        "HEATING",
        "SPRAYING",
        "DRYING",
        "DISCHARGING",
    ]
    assert aligned.values.shape == (17, 357, 7)
    assert aligned.phase_slice("SPRAYING") == slice(52, 238)


def test_film_coating_deviating_batches_stand_out(film_coating: BatchDataset) -> None:
    """B1905 and B1805 have the two largest T² of the 17 batches; B1905 is above the limit."""
    aligned = align_phases(film_coating)
    result = MPCA(2).fit(aligned).score_batches(aligned, confidence=0.95)
    top_two = {result.batch_ids[i] for i in np.argsort(result.t2)[-2:]}
    assert top_two == {"B1905", "B1805"}
    assert result.flagged == ["B1905"]
    assert result.t2[result.batch_ids.index("B1905")] == pytest.approx(14.3, abs=0.1)


def test_film_coating_deviating_batches_fail_a_model_of_the_others(
    film_coating: BatchDataset,
) -> None:
    """Scored against a model of the 15 other batches, both exceed the 99 % SPE limit."""
    aligned = align_phases(film_coating)
    normal = [b for b in aligned.batch_ids if b not in {"B1905", "B1805"}]
    model = MPCA(2).fit(aligned.select(normal))
    result = model.score_batches(aligned.select(["B1905", "B1805"]), confidence=0.99)
    assert result.spe_alarm.all()
    assert result.spe[1] > 2.5 * result.spe_limit
    assert not np.any(model.spe_ > result.spe_limit)


def test_phase_missing_in_a_batch_is_refused(film_coating: BatchDataset) -> None:
    """A batch without one of the phases is named in the error."""
    batch = film_coating["B211"]
    keep = batch.phases != "DRYING"
    cut = Batch("B211", batch.time[keep], batch.values[keep], batch.phases[keep])
    data = BatchDataset(film_coating.variables, (film_coating["B311"], cut))
    with pytest.raises(MonitoringInputError, match=r"batch 'B211' lacks phase 'DRYING'"):
        align_phases(data)


def test_dtw_aligns_nylon_to_the_median_batch(nylon: BatchDataset) -> None:
    """DTW maps every batch onto the reference length with monotonic, complete paths."""
    result = align_dtw(nylon)
    m = result.reference.shape[0]
    assert result.aligned.values.shape == (57, m, 10)
    assert result.weights.sum() == pytest.approx(10.0)
    for batch in nylon.batches:
        path = result.paths[batch.batch_id]
        assert tuple(path[0]) == (0, 0)
        assert tuple(path[-1]) == (batch.n_samples - 1, m - 1)
        assert np.all(np.diff(path, axis=0) >= 0)
        assert np.all(np.diff(path, axis=0).sum(axis=1) >= 1)


def test_dtw_reduces_the_spread_around_the_average(nylon: BatchDataset) -> None:
    """After DTW the batches lie closer to their average trajectory than after linear stretching."""
    dtw = align_dtw(nylon)
    linear = align_linear(nylon, dtw.reference.shape[0])

    def spread(values: np.ndarray) -> float:
        scaled = values / dtw.scale
        return float(np.sum((scaled - scaled.mean(axis=0)) ** 2))

    assert spread(dtw.aligned.values) < 0.7 * spread(linear.values)


def test_online_dtw_follows_the_offline_alignment(nylon: BatchDataset) -> None:
    """Fed sample by sample, a batch reaches the end of the reference as offline DTW does."""
    result = align_dtw(nylon)
    online = OnlineDTW(result.reference, result.weights, result.scale)
    batch = nylon["5"]
    positions = [online.update(sample) for sample in batch.values]
    assert np.all(np.diff(positions) >= 0)
    assert positions[-1] >= result.reference.shape[0] - 3
    with pytest.raises(MonitoringInputError, match="10 observed values"):
        online.update(batch.values[0, :9])
