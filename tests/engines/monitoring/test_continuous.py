"""PCA monitoring of the Tennessee Eastman process: detection and false-alarm rates."""

from __future__ import annotations

import numpy as np
import pytest

from opencdmo.engines.monitoring import PCA, MonitoringInputError
from opencdmo.engines.monitoring.continuous import detection_report, first_run

from .conftest import te_matrix


@pytest.fixture(scope="module")
def te_model(te_train: np.ndarray) -> PCA:
    """PCA with 9 components on normal operation, as in Chiang, Russell and Braatz."""
    return PCA(9).fit(te_train)


@pytest.mark.parametrize("fault", ["01", "02", "06", "07"])
def test_faults_detected_almost_always(te_model: PCA, fault: str) -> None:
    """Faults 1, 2, 6 and 7 are caught in at least 95 % of faulty samples by SPE."""
    report = detection_report(te_model, te_matrix(f"d{fault}_te.dat"), fault_start=160)
    assert report.spe_detection_rate >= 0.95
    assert report.combined_detection_rate >= 0.95


def test_fault_4_is_seen_by_spe_not_t2(te_model: PCA) -> None:
    """Fault 4 (reactor cooling water step) shows in SPE (≥ 95 %) far more than in T²."""
    report = detection_report(te_model, te_matrix("d04_te.dat"), fault_start=160)
    assert report.spe_detection_rate >= 0.95
    assert report.t2_detection_rate < 0.2
    assert report.spe_detection_rate == pytest.approx(0.995, abs=0.001)


def test_fault_5_is_detected_only_partly(te_model: PCA) -> None:
    """Fault 5 is detected in about a third of the faulty samples with 99 % limits."""
    report = detection_report(te_model, te_matrix("d05_te.dat"), fault_start=160)
    assert 0.2 < report.spe_detection_rate < 0.5
    assert report.t2_detection_rate == pytest.approx(0.263, abs=0.001)


def test_false_alarms_on_normal_test_data(te_model: PCA) -> None:
    """On normal test data the analytic SPE limit alarms more than its nominal 1 %."""
    normal = te_matrix("d00_te.dat")
    analytic = detection_report(te_model, normal, fault_start=normal.shape[0])
    empirical = detection_report(te_model, normal, fault_start=normal.shape[0], limits="empirical")
    assert analytic.t2_false_alarm_rate == pytest.approx(0.0208, abs=0.001)
    assert analytic.spe_false_alarm_rate == pytest.approx(0.0521, abs=0.001)
    assert empirical.t2_false_alarm_rate == pytest.approx(0.0375, abs=0.001)
    assert empirical.spe_false_alarm_rate == pytest.approx(0.0833, abs=0.001)
    assert analytic.spe_detection_rate == 0.0


def test_detection_delay_counts_consecutive_alarms(te_model: PCA) -> None:
    """Fault 1 is flagged with 3 consecutive alarms within 10 samples (30 min)."""
    report = detection_report(te_model, te_matrix("d01_te.dat"), 160, run_length=3)
    assert report.detection_delay is not None
    assert report.detection_delay <= 10
    assert first_run(np.array([0, 1, 1, 0, 1, 1, 1], dtype=bool), 3) == 6


def test_fault_start_out_of_range_is_refused(te_model: PCA, te_train: np.ndarray) -> None:
    """A fault start beyond the run is refused with the valid range."""
    with pytest.raises(MonitoringInputError, match=r"within 0\.\.500"):
        detection_report(te_model, te_train, fault_start=600)
