"""Tablet data loader (Table 7 of Žagar and Mihelič 2022) and grouped CV prediction."""

from __future__ import annotations

import numpy as np
import pytest

from opencdmo.engines.monitoring import BatchDataset, MonitoringInputError
from opencdmo.engines.monitoring.prediction import (
    cross_validate_prediction,
    grouped_folds,
    phase_features,
)
from opencdmo.engines.monitoring.tablet import TabletData, load_tablet_data, table7

from .conftest import TABLET


@pytest.fixture(scope="module")
def tablets() -> TabletData:
    """The 1,005 joined tablet batches."""
    return load_tablet_data(TABLET)


def test_loader_reproduces_table_7(tablets: TabletData) -> None:
    """Drug release average 90.6/3.4/82.5/102.7 and minimum 85.6/4.2/74.0/100.0."""
    stats = table7(tablets)
    average, minimum = stats["drug release average"], stats["drug release minimum"]
    assert average.n == 1005
    assert (round(average.mean, 1), round(average.sd, 1)) == (90.6, 3.4)
    assert (round(average.minimum, 1), round(average.maximum, 1)) == (82.5, 102.7)
    assert (round(minimum.mean, 1), round(minimum.sd, 1)) == (85.6, 4.2)
    assert (round(minimum.minimum, 1), round(minimum.maximum, 1)) == (74.0, 100.0)


def test_loader_joins_press_features(tablets: TabletData) -> None:
    """Laboratory and tablet-press features are joined on the batch number."""
    assert tablets.features.shape == (1005, 66)
    assert np.unique(tablets.product_code).size == 25
    assert "press:main_CompForce mean" in tablets.feature_names
    assert "dissolution_av" not in tablets.feature_names


def test_pls_beats_the_mean_baseline_on_dissolution(tablets: TabletData) -> None:
    """Grouped (by product code) 5-fold PLS: RMSE 2.90 against 3.52 for the mean."""
    report = cross_validate_prediction(
        tablets.features, tablets.quality["dissolution_av"], tablets.product_code, "pls",
        n_components=4, n_folds=5,
    )  # fmt: skip
    assert report.rmse == pytest.approx(2.898, abs=0.01)
    assert report.baseline_rmse == pytest.approx(3.520, abs=0.01)
    assert report.r2 > 0.2
    assert report.baseline_r2 < 0


@pytest.mark.slow
def test_gradient_boosting_beats_the_baseline_on_impurities(tablets: TabletData) -> None:
    """Grouped 5-fold gradient boosting predicts total impurities with R² ≈ 0.74."""
    report = cross_validate_prediction(
        tablets.features, tablets.quality["impurities_total"], tablets.product_code,
        "gradient-boosting", n_folds=5,
    )  # fmt: skip
    assert report.r2 > 0.6
    assert report.rmse < 0.6 * report.baseline_rmse


def test_grouped_folds_keep_groups_together() -> None:
    """No group is split between folds, and every row is held out once."""
    groups = ["a"] * 5 + ["b"] * 3 + ["c"] * 4 + ["d"] * 2
    folds = grouped_folds(groups, 2)
    assert sorted(np.concatenate(folds).tolist()) == list(range(14))
    for fold in folds:
        held = {groups[i] for i in fold}
        for g in held:
            assert all(i in fold for i in range(14) if groups[i] == g)
    with pytest.raises(MonitoringInputError, match="at least two groups"):
        grouped_folds(["a", "a"])


def test_phase_features_of_film_coating(film_coating: BatchDataset) -> None:
    """Min, max, mean, slope and area per phase and variable, per batch."""
    features, names = phase_features(film_coating, ["INLET_AIR_TEMP"])
    assert features.shape == (17, 25)
    assert names[0] == "STARTUP:INLET_AIR_TEMP:min"
    batch = film_coating["B211"]
    spraying = batch.phases == "SPRAYING"
    column = names.index("SPRAYING:INLET_AIR_TEMP:mean")
    assert features[0, column] == pytest.approx(batch.values[spraying, 1].mean())
    area = names.index("SPRAYING:INLET_AIR_TEMP:area")
    t, v = batch.time[spraying], batch.values[spraying, 1]
    assert features[0, area] == pytest.approx(np.sum((v[1:] + v[:-1]) * np.diff(t)) / 2)


def test_mismatched_lengths_are_refused() -> None:
    """X, y and groups of different lengths are refused with the three counts."""
    with pytest.raises(MonitoringInputError, match="X has 4 rows, y 3 values and groups 4"):
        cross_validate_prediction(np.ones((4, 2)), [1.0, 2.0, 3.0], ["a", "a", "b", "b"])


def test_tablet_press_time_series_with_timestamps() -> None:
    """The raw press trajectories read with timestamps as seconds, 10 s apart."""
    from opencdmo.engines.monitoring import read_batch_file

    data = read_batch_file(
        TABLET / "Process_timeseries_code6.csv",
        batch_column="batch",
        time_column="timestamp",
        variables=["tbl_speed", "main_comp", "tbl_fill"],
    )
    assert data.batch_ids == ["368", "369"]
    assert data.lengths.sum() == 35609
    assert np.median(np.diff(data["368"].time)) == pytest.approx(10.0)
    features, names = phase_features(data)
    assert features.shape == (2, 15)
    assert features[0, names.index("batch:tbl_speed:max")] == pytest.approx(120.0)
