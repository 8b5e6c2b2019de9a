"""Batch-wise MPCA/MPLS on the nylon and dryer batches, cross-checked with process-improve."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from process_improve.batch import BatchPCA

from opencdmo.engines.monitoring import (
    MPCA,
    MPLS,
    BatchDataset,
    MonitoringInputError,
    align_linear,
)

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning")


def _as_reference_dict(aligned_values: np.ndarray, variables: tuple[str, ...]) -> dict:
    return {
        f"b{i:03d}": pd.DataFrame(aligned_values[i], columns=list(variables))
        for i in range(aligned_values.shape[0])
    }


def test_mpca_matches_reference_on_nylon(nylon: BatchDataset) -> None:
    """MPCA on linearly aligned nylon batches equals process-improve's BatchPCA to 1e-8."""
    aligned = align_linear(nylon, n_samples=100)
    ours = MPCA(3).fit(aligned)
    ref = BatchPCA(3).fit(_as_reference_dict(aligned.values, aligned.variables))
    np.testing.assert_allclose(ours.t2_, ref.hotellings_t2_.to_numpy()[:, -1], rtol=1e-8)
    np.testing.assert_allclose(ours.spe_, ref.spe_.to_numpy()[:, -1] ** 2, rtol=1e-8)
    np.testing.assert_allclose(np.abs(ours.scores_), np.abs(ref.scores_.to_numpy()), rtol=1e-8)
    assert ours.t2_limit(0.95) == pytest.approx(ref.hotellings_t2_limit(0.95), rel=1e-10)


def test_mpca_score_batches_reports_contributions(nylon: BatchDataset) -> None:
    """Batch-level scoring returns limits, alarms and per-variable contributions that sum up."""
    aligned = align_linear(nylon, n_samples=100)
    model = MPCA(3).fit(aligned)
    result = model.score_batches(aligned, confidence=0.99)
    assert result.t2_contributions.shape == (57, 10)
    np.testing.assert_allclose(result.t2, model.t2_)
    np.testing.assert_allclose(result.spe_contributions.sum(axis=1), result.spe)
    np.testing.assert_allclose(result.t2_contributions.sum(axis=1), result.t2)
    assert result.spe_limit == pytest.approx(model.spe_limit(0.99))
    assert set(result.flagged) == {"53", "54"}
    assert result.top_variables("54", "spe", 1)[0] in nylon.variables


def test_mpca_from_long_format_records() -> None:
    """A long table (batch, time, variable, value, unit) trains a model with batch limits."""
    rng = np.random.default_rng(3)
    rows = []
    for b in range(12):
        for k in range(30):
            for v, unit in (("temp", "degC"), ("ph", "1"), ("do", "%")):
                rows.append((f"B{b}", float(k), v, np.sin(k / 5) + rng.normal(0, 0.1), unit))
    batch, time, variable, value, unit = zip(*rows, strict=True)
    data = BatchDataset.from_long(batch, time, variable, value, unit)
    assert data.units == {"temp": "degC", "ph": "1", "do": "%"}
    model = MPCA(2).fit(align_linear(data, 30))
    result = model.score_batches(align_linear(data, 30))
    assert result.spe_contributions.shape == (12, 3)
    assert np.isfinite(result.t2_limit)
    assert np.isfinite(result.spe_limit)


def test_mpls_predicts_end_quality(dryer: BatchDataset) -> None:
    """MPLS fitted on dryer trajectories reproduces a response built from them."""
    aligned = align_linear(dryer.drop(["9", "40"]), n_samples=60)
    y = aligned.values[:, 40, 9] + 0.5 * aligned.values[:, 20, 2]
    model = MPLS(4).fit(aligned, y)
    r2 = 1 - np.sum((model.predict(aligned)[:, 0] - y) ** 2) / np.sum((y - y.mean()) ** 2)
    assert r2 > 0.9


def test_too_few_batches_for_components(nylon: BatchDataset) -> None:
    """Fewer batches than components + 2 are refused with the count."""
    aligned = align_linear(nylon.select(["1", "2", "3", "4"]), 50)
    with pytest.raises(MonitoringInputError, match=r"too few batches \(4\) for 3 components"):
        MPCA(3).fit(aligned)


def test_wrongly_shaped_batches_are_refused(nylon: BatchDataset) -> None:
    """Scoring batches with another aligned length is refused, naming the expected shape."""
    model = MPCA(2).fit(align_linear(nylon, 100))
    with pytest.raises(MonitoringInputError, match="100 samples, 10 variables"):
        model.t2(align_linear(nylon, 90))


def test_mpca_matches_reference_on_dryer(dryer: BatchDataset) -> None:
    """MPCA of the 71 dryer batches (4 components) equals process-improve's to 1e-8."""
    aligned = align_linear(dryer, n_samples=120)
    ours = MPCA(4).fit(aligned)
    ref = BatchPCA(4).fit(_as_reference_dict(aligned.values, aligned.variables))
    np.testing.assert_allclose(ours.t2_, ref.hotellings_t2_.to_numpy()[:, -1], rtol=1e-8)
    np.testing.assert_allclose(ours.spe_, ref.spe_.to_numpy()[:, -1] ** 2, rtol=1e-8)
    assert ours.spe_limit(0.99) == pytest.approx(ref.spe_limit(0.99) ** 2, rel=1e-8)


def test_cross_validated_spe_limit_is_wider_than_the_training_one(nylon: BatchDataset) -> None:
    """Held-out SPE (5 folds) gives a higher limit than the fitted batches' own residuals."""
    aligned = align_linear(nylon.drop(["53", "54"]), n_samples=100)
    model = MPCA(3).fit(aligned, spe_folds=5)
    assert model.spe_cv_ is not None
    assert model.spe_cv_.shape == (55,)
    assert np.all(model.spe_cv_ > 0)
    training = model.spe_limit(0.99)
    held_out = model.spe_limit(0.99, cross_validated=True)
    assert held_out > 1.2 * training
    result = model.score_batches(aligned, 0.99, cross_validated=True)
    assert result.spe_limit == held_out
    with pytest.raises(MonitoringInputError, match="'box' or 'empirical'"):
        model.spe_limit(0.99, "jackson-mudholkar", cross_validated=True)
    with pytest.raises(MonitoringInputError, match="fit with spe_folds"):
        MPCA(3).fit(aligned).spe_limit(0.99, cross_validated=True)


def test_batches_with_reordered_or_missing_variables(nylon: BatchDataset) -> None:
    """Variables are matched by name; a missing one is named."""
    aligned = align_linear(nylon, 50)
    model = MPCA(2).fit(aligned)
    reordered = align_linear(nylon.with_variables(list(reversed(nylon.variables))), 50)
    np.testing.assert_allclose(model.t2(reordered), model.t2_)
    fewer = align_linear(nylon.with_variables(list(nylon.variables[:9])), 50)
    with pytest.raises(MonitoringInputError, match="lack variable 'Tag10'"):
        model.spe(fewer)


def test_mpls_matches_reference_on_dryer(dryer: BatchDataset) -> None:
    """MPLS of the dryer batches equals process-improve's BatchPLS to 1e-8."""
    from process_improve.batch import BatchPLS

    aligned = align_linear(dryer, n_samples=60)
    y = aligned.values[:, -1, 9] + 0.1 * aligned.values[:, 25, 2]
    ours = MPLS(3).fit(aligned, y)
    keys = [f"b{i:03d}" for i in range(aligned.n_batches)]
    ref = BatchPLS(3).fit(
        _as_reference_dict(aligned.values, aligned.variables), pd.DataFrame({"y": y}, index=keys)
    )
    np.testing.assert_allclose(ours.predict(aligned)[:, 0], ref.predictions_.to_numpy()[:, 0])
    np.testing.assert_allclose(ours.t2_, ref.hotellings_t2_.to_numpy()[:, -1], rtol=1e-8)
    np.testing.assert_allclose(ours.spe_, ref.spe_.to_numpy()[:, -1] ** 2, rtol=1e-8)
