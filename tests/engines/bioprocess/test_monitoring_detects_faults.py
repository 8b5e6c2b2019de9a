"""The monitoring engine's MPCA finds the simulator's labelled faults.

An MPCA model is trained on 60 normal simulated batches (one operating regime, 2,000 L) and
scores 30 new normal batches and 10 faulty ones (the eight fault kinds, two of them
twice). Batches are summarised at one-day resolution (daily means of the online readings)
and simulated with a 20 min control step to keep the test short.

The SPE limit comes from cross-validated training SPE (six folds of ten batches, each
scored by an MPCA fitted to the other fifty, limit by Box's approximation): a limit from
the fitted batches' own residuals is too tight for new batches when 60 batches span 168
unfolded columns (it flagged 2-6 of 30 new normal batches at 99.5 %).
"""

from __future__ import annotations

import numpy as np
import pytest

from opencdmo.engines.bioprocess.generator import GeneratorConfig, generate
from opencdmo.engines.bioprocess.simulator import BatchResult, SimulationSettings
from opencdmo.engines.monitoring import (
    MPCA,
    AlignedBatches,
    BatchDataset,
    BatchScores,
    align_linear,
    box_spe_limit,
)

SETTINGS = SimulationSettings(control_step_min=20.0, sensor_interval_min=60.0)
CONFIDENCE = 0.995
COMPONENTS = 3
FOLDS = 6


def _batches(n: int, faulty: int, seed: int) -> list[BatchResult]:
    config = GeneratorConfig(
        batches=n, faulty=faulty, seed=seed, regimes=("bolus_shift",), settings=SETTINGS
    )
    return generate(config, workers=2)


def _daily_means(results: list[BatchResult]) -> BatchDataset:
    batch: list[str] = []
    day: list[float] = []
    variable: list[str] = []
    value: list[float] = []
    for result in results:
        index = np.floor(result.time_h[:-1] / 24.0).astype(int)
        counts = np.bincount(index)
        for name, readings in result.online.items():
            means = np.bincount(index, readings[:-1]) / counts
            batch += [result.spec.batch_id] * len(means)
            day += list(range(len(means)))
            variable += [name] * len(means)
            value += means.tolist()
    return BatchDataset.from_long(batch, day, variable, value)


def _cross_validated_spe_limit(training: AlignedBatches) -> float:
    fold = np.arange(len(training.batch_ids)) % FOLDS
    spe = np.empty(len(fold))
    for k in range(FOLDS):
        model = MPCA(n_components=COMPONENTS).fit(training.values[fold != k])
        spe[fold == k] = model.spe(training.values[fold == k])
    return box_spe_limit(spe, CONFIDENCE)


class Verdict:
    """Batch-level alarms of one scored set against the cross-validated SPE limit."""

    def __init__(self, scores: BatchScores, spe_limit: float) -> None:
        self.scores = scores
        self.spe_alarm = scores.spe > spe_limit
        self.alarm = self.spe_alarm | scores.t2_alarm

    def flagged(self) -> list[str]:
        return [b for b, a in zip(self.scores.batch_ids, self.alarm, strict=True) if a]


@pytest.fixture(scope="module")
def scored() -> tuple[Verdict, Verdict, list[BatchResult]]:
    training = align_linear(_daily_means(_batches(60, 0, seed=101)))
    model = MPCA(n_components=COMPONENTS).fit(training)
    spe_limit = _cross_validated_spe_limit(training)
    normal = align_linear(_daily_means(_batches(30, 0, seed=202)))
    faulty_results = _batches(10, 10, seed=303)
    faulty = align_linear(_daily_means(faulty_results))
    return (
        Verdict(model.score_batches(normal, confidence=CONFIDENCE), spe_limit),
        Verdict(model.score_batches(faulty, confidence=CONFIDENCE), spe_limit),
        faulty_results,
    )


@pytest.mark.slow
def test_mpca_flags_faulty_batches_and_spares_normal_ones(
    scored: tuple[Verdict, Verdict, list[BatchResult]],
) -> None:
    """At least 9 of 10 faulty batches and at most 1 of 30 new normal batches are flagged."""
    normal, faulty, results = scored
    assert len({r.spec.faults[0].kind for r in results}) == 8
    assert len(faulty.flagged()) >= 9
    assert len(normal.flagged()) <= 1


@pytest.mark.slow
def test_top_contribution_of_each_detected_fault_is_its_variable_or_controller(
    scored: tuple[Verdict, Verdict, list[BatchResult]],
) -> None:
    """For every flagged faulty batch the largest contribution lies in the fault's signature."""
    _, faulty, results = scored
    for result in results:
        index = faulty.scores.batch_ids.index(result.spec.batch_id)
        if not faulty.alarm[index]:
            continue
        statistic = "spe" if faulty.spe_alarm[index] else "t2"
        top = faulty.scores.top_variables(result.spec.batch_id, statistic, n=1)[0]
        assert top in result.spec.faults[0].signature, (result.spec.faults[0].kind, top)
