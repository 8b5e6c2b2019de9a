"""The numbers behind the monitoring pages: fit, judge and follow batches with the engine.

No database here: batches come in as ``manufacturing.store.ProcessData`` (time in hours from
each batch's hour 0) and results go out as plain dataclasses, so the services, the demo and
``bench/detection.py`` share one path. Batches are aligned linearly (the same recipe, similar
durations), so an aligned sample of a running batch is a fixed hour: sample ``n`` of ``N`` is
at ``n/(N−1)`` of the reference batches' median duration.

Limits of a running batch. The online monitor's own limits come from the reference batches'
fitted statistics, which understate a new batch's as the batch-level training limits do
(``engines.monitoring.pipeline``). Each is therefore widened by the ratio of the model's
cross-validated batch-level limit to its training one, so a new normal batch is judged like
a held-out batch, sample by sample as it is at the end.
"""

from __future__ import annotations

import io
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from opencdmo.engines.monitoring import (
    MPCA,
    MPLS,
    AlignedBatches,
    BatchDataset,
    FitOptions,
    Limits,
    MonitoringInputError,
    OnlineMonitor,
    align_linear,
    fit_batch_model,
    judge_batches,
)
from opencdmo.engines.monitoring.batch import BatchScores
from opencdmo.engines.monitoring.dataset import Batch as EngineBatch
from opencdmo.engines.monitoring.pipeline import limits_metadata, stored_limits
from opencdmo.engines.progress import CancelToken, Progress, ProgressCallback, report
from opencdmo.manufacturing.store import ProcessData

__all__ = [
    "FittedModels",
    "LiveTrace",
    "Loaded",
    "dataset_of",
    "fit_models",
    "follow",
    "judge",
    "load_reference",
    "n_in_a_row",
    "reference_bytes",
]

ALIGNED_SAMPLES = 120
"""Samples per aligned batch: one every 2.8 h of a 14-day batch. The 337 hourly readings
made the fit four times slower (20 s of CPU for 24 batches) and the verdicts no better."""
MAX_FOLDS = 10
"""Cross-validation folds of the limits (each fold holds out every tenth batch).

A batch is judged by its T² and SPE only, without the engine's per-variable limits: on hourly
simulated readings those alarmed 2 of 10 new normal batches (on pH), while T² and SPE alone
alarmed none of them and flagged 10 of 10 faulty ones."""
"""Cross-validation folds of the limits (each fold holds out every tenth batch)."""
MAX_Q2_FOLDS = 5
SAMPLE_CONFIDENCE = 0.999
"""Of the per-sample limits a running batch is followed with: a sample of a normal batch is
above a 99 % limit once in a hundred, so in a 337-sample batch a few times."""


def dataset_of(batches: Sequence[ProcessData], variables: Sequence[str] | None = None) -> Any:
    """The batches as the engine takes them, on the variables every batch has."""
    if not batches:
        raise MonitoringInputError("no batch with process data was given.")
    if variables is None:
        shared = set(batches[0].variables)
        for data in batches[1:]:
            shared &= set(data.variables)
        variables = [v for v in batches[0].variables if v in shared]
    chosen = tuple(variables)
    for data in batches:
        missing = [v for v in chosen if v not in data.variables]
        if missing:
            raise MonitoringInputError(f"batch {data.lot} has no values of {missing[0]}.")
        if data.time_h.shape[0] < 2:
            raise MonitoringInputError(f"batch {data.lot} has fewer than two readings.")
    engine_batches = tuple(d.as_monitoring_batch(chosen) for d in batches)
    units = {v: batches[0].units.get(v, "") for v in chosen}
    return BatchDataset(chosen, engine_batches, units)


def _informative(dataset: Any) -> Any:
    """The dataset without variables constant in every batch (a gas never opened)."""
    stacked = np.concatenate([b.values for b in dataset.batches])
    with np.errstate(invalid="ignore"):
        varying = np.nanmax(stacked, axis=0) > np.nanmin(stacked, axis=0)
    kept = [v for v, keep in zip(dataset.variables, varying, strict=True) if keep]
    if not kept:
        raise MonitoringInputError("every variable is constant in the reference batches.")
    return dataset.with_variables(kept) if len(kept) < len(dataset.variables) else dataset


@dataclass
class FittedModels:
    """An MPCA with its limits, an optional MPLS, and what the model page shows."""

    mpca: MPCA
    limits: Limits
    metadata: dict[str, Any]
    reference: AlignedBatches
    duration_h: float
    mpls: MPLS | None
    summary: dict[str, Any] = field(default_factory=dict)


def _q2_mpca(model: MPCA, aligned: AlignedBatches) -> float:
    """1 − held-out SPE over the total sum of squares of the preprocessed batches."""
    if model.spe_cv_ is None:
        return float("nan")
    seen = model.model_.diagnose(model.unfold(aligned))
    total = float(np.nansum(seen.preprocessed**2))
    return 1.0 - float(np.sum(model.spe_cv_)) / total if total > 0 else float("nan")


def _fit_mpls(
    aligned: AlignedBatches, y: np.ndarray, n_components: int, cancel: CancelToken | None
) -> tuple[MPLS, float]:
    """The MPLS on every batch and its Q² from up to ten folds of held-out predictions."""
    mpls = MPLS(n_components, scale_floor=0.1).fit(aligned, y)
    n = y.shape[0]
    folds = min(n, MAX_Q2_FOLDS)
    fold_of = np.arange(n) % folds
    predicted = np.empty(n)
    for k in range(folds):
        if cancel is not None:
            cancel.raise_if_cancelled()
        keep = fold_of != k
        inner = MPLS(n_components, scale_floor=0.1).fit(aligned.values[keep], y[keep])
        predicted[~keep] = inner.predict(aligned.values[~keep])[:, 0]
    total = float(np.sum((y - y.mean()) ** 2))
    q2 = 1.0 - float(np.sum((y - predicted) ** 2)) / total if total > 0 else float("nan")
    return mpls, q2


def _rounded(values: np.ndarray, digits: int = 4) -> list[Any]:
    return np.round(np.asarray(values, dtype=float), digits).tolist()


def fit_models(
    batches: Sequence[ProcessData],
    *,
    n_components: int = 2,
    confidence: float = 0.99,
    n_samples: int = ALIGNED_SAMPLES,
    folds: int = MAX_FOLDS,
    quality: Sequence[float] | None = None,
    progress: ProgressCallback | None = None,
    cancel: CancelToken | None = None,
) -> FittedModels:
    """Align the reference batches, fit the MPCA with cross-validated limits and, given one
    quality value per batch, an MPLS of it."""
    dataset = _informative(dataset_of(batches))
    report(progress, Progress(f"aligning {len(dataset)} batches", 0.05))
    aligned = align_linear(dataset, n_samples)
    options = FitOptions(
        n_components=n_components,
        confidence=confidence,
        folds=min(folds, len(dataset)),
        variable_confidence=None,
    )

    def fitting(event: Progress) -> None:
        report(progress, Progress(event.message, 0.1 + 0.7 * (event.fraction or 0.0)))

    model, limits = fit_batch_model(aligned, options, progress=fitting, cancel=cancel)
    metadata = {
        "kind": "mpca",
        "alignment": {"method": "linear", "n_samples": aligned.n_samples},
        "reading": {"variables": list(dataset.variables)},
        "limits": limits_metadata(limits, model),
    }
    model.metadata_ = metadata
    durations = [float(d.time_h[-1] - d.time_h[0]) for d in batches]
    report(progress, Progress("judging the reference batches", 0.85))
    verdicts = judge_batches(model, aligned, limits, dataset, held_out=True)
    mpls = None
    q2y = r2y = None
    if quality is not None:
        y = np.asarray(quality, dtype=float)
        report(progress, Progress("fitting the quality model", 0.9))
        mpls, q2y = _fit_mpls(aligned, y, n_components, cancel)
        r2y = float(mpls.model_.r2_cumulative_[-1])
    loadings = model.loadings_
    summary = {
        "n_batches": len(dataset),
        "n_samples": aligned.n_samples,
        "duration_h": float(np.median(durations)),
        "variables": list(dataset.variables),
        "units": dict(dataset.units),
        "r2x": _rounded(model.model_.r2_cumulative_),
        "q2x": round(_q2_mpca(model, aligned), 4),
        "r2y": None if r2y is None else round(r2y, 4),
        "q2y": None if q2y is None else round(q2y, 4),
        "limits": {"t2": limits.t2, "spe": limits.spe, "confidence": limits.confidence},
        "loadings": {
            name: _rounded(np.sqrt(np.sum(loadings[:, j, :] ** 2, axis=0)))
            for j, name in enumerate(model.variables_)
        },
        "reference": [
            {
                "lot": v.batch,
                "t2": round(v.t2, 4),
                "spe": round(v.spe, 4),
                "status": v.status,
                "scores": _rounded(model.scores_[i], 3),
            }
            for i, v in enumerate(verdicts.batches)
        ],
    }
    report(progress, Progress("fitted", 1.0))
    return FittedModels(
        model, limits, metadata, aligned, float(np.median(durations)), mpls, summary
    )


def reference_bytes(reference: AlignedBatches, duration_h: float) -> bytes:
    """The aligned reference batches as an ``.npz`` (no pickle), for the online monitor."""
    buffer = io.BytesIO()
    np.savez_compressed(
        buffer,
        values=reference.values,
        axis=np.asarray(reference.axis, dtype=float),
        duration_h=np.array([duration_h]),
    )
    return buffer.getvalue()


@dataclass
class Loaded:
    """A stored model ready to judge and follow batches."""

    mpca: MPCA
    limits: Limits
    reference: np.ndarray
    duration_h: float
    monitor: OnlineMonitor
    spe_widening: float
    t2_limit: float
    spe_limit: np.ndarray
    mpls_monitor: OnlineMonitor | None = None
    response: str = ""

    @property
    def variables(self) -> tuple[str, ...]:
        return tuple(self.mpca.variables_)

    @property
    def n_samples(self) -> int:
        return int(self.mpca.n_samples_)

    def hours(self) -> np.ndarray:
        """The hour of each aligned sample."""
        return np.linspace(0.0, self.duration_h, self.n_samples)


def load_reference(
    mpca: MPCA,
    reference_npz: bytes,
    mpls: MPLS | None = None,
    response: str = "",
) -> Loaded:
    """Build the online monitors of a stored model (its MPCA, reference batches, MPLS)."""
    with np.load(io.BytesIO(reference_npz), allow_pickle=False) as stored:
        values = stored["values"]
        duration_h = float(stored["duration_h"][0])
    limits = stored_limits(mpca, None)
    monitor = OnlineMonitor(mpca, values, method="tsr", confidence=SAMPLE_CONFIDENCE)
    training_spe = mpca.spe_limit(limits.confidence)
    widening = max(1.0, limits.spe / training_spe) if training_spe > 0 else 1.0
    t2_limit = max(monitor.t2_limit_, float(np.max(monitor.t2_empirical_limit_)))
    mpls_monitor = None
    if mpls is not None:
        mpls_monitor = OnlineMonitor(mpls, values, method="tsr", confidence=0.95)
    return Loaded(
        mpca,
        limits,
        values,
        duration_h,
        monitor,
        widening,
        t2_limit,
        monitor.spe_limit_ * widening,
        mpls_monitor,
        response,
    )


def judge(loaded: Loaded, data: ProcessData) -> tuple[Any, BatchScores]:
    """The verdict of a finished batch (the engine's ``BatchVerdict``) and its scores."""
    dataset = dataset_of([data], loaded.variables)
    aligned = align_linear(dataset, loaded.n_samples)
    report_ = judge_batches(loaded.mpca, aligned, loaded.limits, dataset)
    scores = loaded.mpca.score_batches(aligned, loaded.limits.confidence)
    return report_.batches[0], scores


@dataclass(frozen=True)
class LiveTrace:
    """A batch followed sample by sample up to its latest reading.

    ``time_h`` (K,), the aligned samples known; ``values`` (K, J) the batch at them;
    ``t2``, ``spe`` with ``t2_limit`` and ``spe_limit`` (K,); ``contributions`` (K, J) the
    squared residuals of each variable at each sample (they sum to SPE); ``prediction``,
    ``low``, ``high`` (K,) the end-of-batch quality predicted at each sample, when the model
    has an MPLS.
    """

    time_h: np.ndarray
    values: np.ndarray
    t2: np.ndarray
    spe: np.ndarray
    t2_limit: float
    spe_limit: np.ndarray
    contributions: np.ndarray
    prediction: np.ndarray | None = None
    low: np.ndarray | None = None
    high: np.ndarray | None = None

    @property
    def n_samples(self) -> int:
        return int(self.time_h.shape[0])


def _aligned_so_far(loaded: Loaded, data: ProcessData) -> tuple[np.ndarray, np.ndarray]:
    """The batch at the aligned samples its readings reach, by hour since its start."""
    hours = loaded.hours()
    columns = [data.variables.index(v) for v in loaded.variables]
    start = float(data.time_h[0])
    elapsed = float(data.time_h[-1]) - start
    known = hours[hours <= elapsed + 1e-9]
    batch = EngineBatch(data.lot, data.time_h - start, data.values[:, columns])
    values = np.empty((known.shape[0], len(columns)))
    for j in range(len(columns)):
        column = batch.values[:, j]
        seen = ~np.isnan(column)
        values[:, j] = np.interp(known, batch.time[seen], column[seen]) if seen.any() else np.nan
    return known, values


def follow(loaded: Loaded, data: ProcessData) -> LiveTrace | None:
    """The batch's statistics at every aligned sample its data reach; ``None`` before one."""
    missing = [v for v in loaded.variables if v not in data.variables]
    if missing:
        raise MonitoringInputError(f"batch {data.lot} has no values of {missing[0]}.")
    known, values = _aligned_so_far(loaded, data)
    if known.shape[0] == 0:
        return None
    trace = loaded.monitor.trace(values)
    K = known.shape[0]
    inner = loaded.mpca.model_
    shape = (loaded.n_samples, len(loaded.variables))
    center = inner.scaler_.center_.reshape(shape)[:K]
    scale = inner.scaler_.scale_.reshape(shape)[:K]
    scaled = np.nan_to_num((values - center) / scale)
    residual = scaled - np.einsum("ka,kja->kj", trace.scores, loaded.mpca.loadings_[:K])
    contributions = residual * residual
    prediction = low = high = None
    if loaded.mpls_monitor is not None:
        predicted = loaded.mpls_monitor.trace(values)
        if predicted.prediction is not None:
            prediction = predicted.prediction[:, 0]
            low = None if predicted.prediction_low is None else predicted.prediction_low[:, 0]
            high = None if predicted.prediction_high is None else predicted.prediction_high[:, 0]
    return LiveTrace(
        known,
        values,
        trace.t2,
        trace.spe,
        loaded.t2_limit,
        loaded.spe_limit[:K],
        contributions,
        prediction,
        low,
        high,
    )


def n_in_a_row(above: np.ndarray, run_length: int) -> list[int]:
    """The first sample of every run of at least ``run_length`` consecutive ``True``."""
    padded = np.concatenate([[0], above.astype(int), [0]])
    edges = np.diff(padded)
    starts, stops = np.flatnonzero(edges == 1), np.flatnonzero(edges == -1)
    return [int(s) for s, e in zip(starts, stops, strict=True) if e - s >= run_length]
