"""Online monitoring of running nylon and dryer batches against batch-wise models."""

from __future__ import annotations

import numpy as np
import pytest

from opencdmo.engines.monitoring import MPCA, MPLS, BatchDataset, MonitoringInputError, align_linear
from opencdmo.engines.monitoring.online import OnlineMonitor


@pytest.fixture(scope="module")
def nylon_reference(nylon: BatchDataset) -> np.ndarray:
    """Linearly aligned nylon batches without the two known outliers (53 and 54)."""
    return align_linear(nylon.drop(["53", "54"]), n_samples=100).values


@pytest.mark.parametrize("method", ["tsr", "projection", "zero", "current"])
def test_completed_batch_reaches_the_offline_t2(nylon_reference: np.ndarray, method: str) -> None:
    """At the last sample every estimator gives the offline T² of the completed batch."""
    model = MPCA(3).fit(nylon_reference)
    monitor = OnlineMonitor(model, nylon_reference, method=method)
    trace = monitor.trace(nylon_reference[4])
    assert trace.t2[-1] == pytest.approx(model.t2(nylon_reference[4:5])[0], rel=1e-9)
    assert trace.t2.shape == (100,)
    assert trace.spe_limit.shape == (100,)


def test_reference_batches_rarely_alarm(nylon_reference: np.ndarray) -> None:
    """The 99 % time-varying SPE limits are exceeded by few reference samples."""
    model = MPCA(3).fit(nylon_reference)
    monitor = OnlineMonitor(model, nylon_reference, method="tsr", confidence=0.99)
    rate = float(np.mean(monitor.reference_spe_ > monitor.spe_limit_))
    assert rate < 0.03


def test_drifting_batch_is_detected_after_the_fault(nylon_reference: np.ndarray) -> None:
    """A sensor drift on one tag from sample 50 is detected within a few samples of it."""
    model = MPCA(3).fit(nylon_reference)
    monitor = OnlineMonitor(model, nylon_reference, method="tsr")
    batch = nylon_reference[10].copy()
    sd = nylon_reference[:, :, 3].std()
    batch[50:, 3] += np.linspace(0.0, 2.0, 50) * sd
    trace = monitor.trace(batch)
    assert trace.first_alarm(run_length=3) is not None
    assert trace.detection_delay(50, run_length=3) is not None
    assert trace.detection_delay(50, run_length=3) <= 15
    assert monitor.trace(nylon_reference[10]).detection_delay(50, run_length=3) is None


def test_outlier_batch_54_alarms_online(nylon: BatchDataset, nylon_reference: np.ndarray) -> None:
    """Batch 54, left out of the reference, raises three consecutive alarms while running."""
    model = MPCA(3).fit(nylon_reference)
    monitor = OnlineMonitor(model, nylon_reference, method="tsr")
    outlier = align_linear(nylon.select(["54"]), n_samples=100).values[0]
    assert monitor.trace(outlier).first_alarm(run_length=3) is not None


def test_running_batch_rejects_wrong_sample_and_overrun(nylon_reference: np.ndarray) -> None:
    """A sample of the wrong width, or one past the model length, is refused."""
    model = MPCA(2).fit(nylon_reference)
    running = OnlineMonitor(model, nylon_reference, method="zero").start()
    with pytest.raises(MonitoringInputError, match="sample 0: expected 10 values"):
        running.update(np.zeros(9))
    for sample in nylon_reference[0]:
        running.update(sample)
    with pytest.raises(MonitoringInputError, match="already has all 100"):
        running.update(nylon_reference[0, 0])


def test_evolving_prediction_converges_with_interval(dryer: BatchDataset) -> None:
    """An MPLS monitor's prediction ends at the offline prediction inside its interval."""
    aligned = align_linear(dryer, n_samples=50)
    values = aligned.values
    y = values[:, -1, 9] + 0.1 * values[:, 25, 2]
    model = MPLS(3).fit(values, y)
    monitor = OnlineMonitor(model, values, method="tsr", confidence=0.95)
    trace = monitor.trace(values[3])
    assert trace.prediction is not None
    assert trace.prediction_low is not None
    assert trace.prediction_high is not None
    assert trace.prediction[-1, 0] == pytest.approx(model.predict(values[3:4])[0, 0], rel=1e-9)
    assert np.all(trace.prediction_low <= trace.prediction)
    assert np.all(trace.prediction <= trace.prediction_high)
    widths = (trace.prediction_high - trace.prediction_low)[:, 0]
    assert widths[-1] < widths[0]


@pytest.mark.filterwarnings("ignore::DeprecationWarning")
@pytest.mark.parametrize(("method", "reference_method"), [("tsr", "tsr"), ("projection", "pmp")])
def test_online_statistics_match_process_improve(
    nylon: BatchDataset, method: str, reference_method: str
) -> None:
    """Scores, T² and instantaneous SPE at every sample equal process-improve's to 1e-8."""
    import pandas as pd
    from process_improve.batch import BatchPCA

    aligned = align_linear(nylon, 116)
    model = MPCA(3).fit(aligned)
    reference = BatchPCA(3).fit(
        {
            b: pd.DataFrame(aligned.values[i], columns=list(aligned.variables))
            for i, b in enumerate(aligned.batch_ids)
        }
    )
    batch = aligned.values[4]
    ours = OnlineMonitor(model, aligned.values, method=method).trace(batch)
    theirs = reference.predict_online_trace(
        pd.DataFrame(batch, columns=list(aligned.variables)), method=reference_method
    )
    np.testing.assert_allclose(
        np.abs(ours.scores), np.abs(np.asarray(theirs.scores)), rtol=1e-8, atol=1e-8
    )
    np.testing.assert_allclose(ours.t2, np.asarray(theirs.hotellings_t2), rtol=1e-8)
    np.testing.assert_allclose(ours.spe, np.asarray(theirs.spe_instantaneous) ** 2, rtol=1e-8)


def test_limits_can_come_from_other_reference_batches(nylon_reference: np.ndarray) -> None:
    """A monitor may take its limits and TSR regression from a subset of good batches."""
    model = MPCA(3).fit(nylon_reference)
    monitor = OnlineMonitor(model, nylon_reference[:30], method="tsr")
    assert monitor.reference_spe_.shape == (30, 100)
    trace = monitor.trace(nylon_reference[40])
    assert trace.t2[-1] == pytest.approx(model.t2(nylon_reference[40:41])[0], rel=1e-9)


def test_batch_aligned_online_by_dtw_is_monitored_as_it_runs(nylon: BatchDataset) -> None:
    """Raw samples warped online reach nearly the offline T²; outlier 53 alarms while running."""
    from opencdmo.engines.monitoring.dtw import OnlineDTW, align_dtw, warp_to_reference
    from opencdmo.engines.monitoring.online import WarpedRunningBatch

    dtw = align_dtw(nylon.drop(["53", "54"]))
    model = MPCA(3, scale_floor=0.05).fit(dtw.aligned)
    monitor = OnlineMonitor(model, dtw.aligned.values, method="tsr")
    traces = {}
    for batch_id in ("20", "53"):
        running = WarpedRunningBatch(monitor, OnlineDTW(dtw.reference, dtw.weights, dtw.scale))
        for sample in nylon[batch_id].values:
            running.update(sample)
        traces[batch_id] = running.finish()
    offline = warp_to_reference(nylon.select(["20"]), dtw.reference, dtw.weights, dtw.scale)
    assert traces["20"].t2.shape[0] == dtw.reference.shape[0]
    assert traces["20"].t2[-1] == pytest.approx(model.t2(offline)[0], abs=0.5)
    assert traces["53"].first_alarm(run_length=3) is not None
    assert traces["53"].alarms.mean() > 2 * traces["20"].alarms.mean()


def test_scale_floor_bounds_the_column_scales(nylon: BatchDataset) -> None:
    """With scale_floor, no unfolded column is scaled by less than the floor × variable SD."""
    aligned = align_linear(nylon, 100)
    model = MPCA(2, scale_floor=0.1).fit(aligned)
    pooled = aligned.values.reshape(-1, 10).std(axis=0, ddof=1)
    scales = model.model_.scaler_.scale_.reshape(100, 10)
    assert np.all(scales >= 0.1 * pooled - 1e-12)
    plain = MPCA(2).fit(aligned).model_.scaler_.scale_.reshape(100, 10)
    assert np.any(plain < 0.1 * pooled)
    with pytest.raises(MonitoringInputError, match="scale_floor must be positive"):
        MPCA(2, scale_floor=0.0).fit(aligned)
