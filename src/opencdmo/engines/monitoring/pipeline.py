"""Files in, verdicts out: read → align → fit → save, and load → read → align → score → report.

What ``opencdmo monitor`` does, as functions an app calls with dataclasses:

* :func:`fit_batch_file` reads batch data, aligns it, fits an MPCA with limits for new
  batches and writes the model file; :func:`score_batch_file` scores new batches against it.
* :func:`fit_table_file` and :func:`score_table_file` do the same for a PCA of a
  continuous-process table (one row per observation).

Limits for new batches. With few training batches and many unfolded columns an MPCA fits
its own batches far better than it fits a new one: the training SPE understates a new
normal batch's SPE by a factor of two or more (12 simulated batches: 6 of 6 new batches
alarmed, 4 of them normal). The default limits are therefore **cross-validated**: every
training batch is scored by a model fitted without it (leave one batch out, at most 20
folds), and the limits are Box's ``g·χ²_h`` fitted to those held-out values, widened for
the uncertainty of their mean (:func:`predictive_limit`). A new normal batch is judged like
a held-out batch, not like a fitted one.

Alarm rule. A batch is **alarmed** when, with the model's limits,

* its T² is above the T² limit, or
* its SPE is above the SPE limit (both at ``confidence``, default 99 %), or
* the SPE contribution of one variable (summed over the batch) is above that variable's
  limit, each variable at ``1 − (1 − variable_confidence)/J`` (Bonferroni over the J
  variables; default family-wise 99.999 %). A fault in one sensor or controller shows in a
  few variables and can stay below the batch SPE limit, which sums all of them.

The first alarm time is where the batch's SPE at one aligned sample (summed over the
variables) stays above its time-varying limit (Box's approximation over the held-out
batches in a window of samples, at 99.9 %) for several consecutive samples; it is given for
alarmed batches only, in the data's time unit for linear alignment.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, Literal

import numpy as np

from opencdmo.engines.progress import CancelToken, Progress, ProgressCallback, report

from .alignment import AlignedBatches, align_indicator, align_linear, align_phases
from .batch import MPCA
from .dataset import BatchDataset, read_batch_file
from .errors import MonitoringInputError
from .latent import PCA
from .limits import check_confidence

__all__ = [
    "BatchReport",
    "BatchVerdict",
    "FitOptions",
    "FitResult",
    "Limits",
    "ReadOptions",
    "ScoreResult",
    "TableFit",
    "TableScores",
    "align_batches",
    "fit_batch_file",
    "fit_batch_model",
    "fit_table_file",
    "held_out_limit",
    "judge_batches",
    "limits_metadata",
    "predictive_limit",
    "read_batches",
    "realign_batches",
    "score_batch_file",
    "score_file",
    "score_table_file",
    "stored_limits",
]

LimitsMethod = Literal["cross-validated", "training"]
ALIGNMENTS = "linear, phase, dtw or indicator:VARIABLE"
MAX_FOLDS = 20
SAMPLE_CONFIDENCE = 0.999


@dataclass(frozen=True)
class ReadOptions:
    """How to read a batch or table file (see :func:`.dataset.read_batch_file`)."""

    layout: Literal["auto", "long", "wide"] = "auto"
    batch_column: str | None = None
    time_column: str | None = None
    phase_column: str | None = None
    variables: tuple[str, ...] | None = None
    sheet: str | None = None

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form, stored in the model file so scoring reads new data the same way."""
        return {
            "layout": self.layout,
            "batch_column": self.batch_column,
            "time_column": self.time_column,
            "phase_column": self.phase_column,
        }


@dataclass(frozen=True)
class FitOptions:
    """What to fit.

    Attributes
    ----------
    n_components : int
        Principal components of the MPCA (PCA). Two capture the main batch-to-batch
        variation; the cross-validated limits keep new normal batches in whatever the
        number, so more components mostly move a fault from SPE to T².
    alignment : str
        ``linear`` (stretch each batch to the same length), ``phase`` (linear within each
        phase of a phase column), ``dtw`` (dynamic time warping) or ``indicator:VARIABLE``
        (resample on a monotone variable such as cumulative feed).
    n_samples : int, optional
        Aligned length; default the median batch length.
    confidence : float
        Confidence of the T² and SPE limits.
    limits : {"cross-validated", "training"}
        ``cross-validated`` (default): limits from each training batch scored by a model
        fitted without it, for judging new batches. ``training``: the classical limits (T²
        for new observations, SPE from the fitted batches' residuals), which alarm most
        new normal batches when there are few training batches.
    folds : int, optional
        Cross-validation folds; default one batch per fold up to 20 batches, else 20.
    variable_confidence : float, optional
        Family-wise confidence of the per-variable SPE contribution limits; ``None`` turns
        that part of the alarm rule off.
    scale_floor : float, optional
        Smallest column scale as a fraction of the variable's SD over all samples (see
        :class:`.MPCA`); default 0.1. Where the training batches happen to agree (a
        starting value, a feed not yet begun) plain autoscaling divides by a tiny SD, and a
        batch held out of 12 simulated ones got a T² of 10²⁰; the floor stops that.
        ``None`` is plain autoscaling.
    """

    n_components: int = 2
    alignment: str = "linear"
    n_samples: int | None = None
    confidence: float = 0.99
    limits: LimitsMethod = "cross-validated"
    folds: int | None = None
    variable_confidence: float | None = 0.99999
    scale_floor: float | None = 0.1

    def __post_init__(self) -> None:
        if self.n_components < 1:
            raise MonitoringInputError(f"components must be at least 1; got {self.n_components}.")
        check_confidence(self.confidence)
        if self.variable_confidence is not None:
            check_confidence(self.variable_confidence)
        if self.limits not in ("cross-validated", "training"):
            raise MonitoringInputError(
                f"limits must be 'cross-validated' or 'training'; got {self.limits!r}."
            )
        if self.folds is not None and self.folds < 2:
            raise MonitoringInputError(f"folds must be at least 2; got {self.folds}.")


@dataclass(frozen=True)
class Limits:
    """The limits a batch is judged by, and where they come from.

    Attributes
    ----------
    method : {"cross-validated", "training"}
    confidence : float
    t2, spe : float
        Batch-level T² and SPE limits.
    variable_confidence : float or None
        Family-wise confidence of ``variable_spe``.
    variable_spe : tuple of float
        SPE contribution limit of each model variable (empty when off).
    sample_spe : tuple of float
        SPE limit at each aligned sample, for the first alarm time (empty for training
        limits).
    """

    method: LimitsMethod
    confidence: float
    t2: float
    spe: float
    variable_confidence: float | None = None
    variable_spe: tuple[float, ...] = ()
    sample_spe: tuple[float, ...] = ()

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form (without the per-sample limits)."""
        return {
            "method": self.method,
            "confidence": self.confidence,
            "t2": self.t2,
            "spe": self.spe,
            "variable_confidence": self.variable_confidence,
        }


@dataclass(frozen=True)
class BatchVerdict:
    """One batch judged against the model's limits.

    ``first_alarm`` is on the aligned axis; ``first_alarm_time`` in the batch's own time
    unit (linear alignment only). ``alarmed_variables`` are the variables above their
    contribution limits.
    """

    batch: str
    t2: float
    t2_limit: float
    spe: float
    spe_limit: float
    alarmed_variables: tuple[str, ...]
    top_spe_variables: tuple[str, ...]
    top_t2_variables: tuple[str, ...]
    first_alarm: float | None = None
    first_alarm_time: float | None = None

    @property
    def t2_alarm(self) -> bool:
        return self.t2 > self.t2_limit

    @property
    def spe_alarm(self) -> bool:
        return self.spe > self.spe_limit

    @property
    def alarmed(self) -> bool:
        """The alarm rule of this module's docstring."""
        return self.t2_alarm or self.spe_alarm or bool(self.alarmed_variables)

    @property
    def status(self) -> str:
        return "alarm" if self.alarmed else "normal"

    def to_dict(self) -> dict[str, Any]:
        return {
            "batch": self.batch,
            "status": self.status,
            "t2": self.t2,
            "spe": self.spe,
            "t2_alarm": self.t2_alarm,
            "spe_alarm": self.spe_alarm,
            "alarmed_variables": list(self.alarmed_variables),
            "first_alarm": self.first_alarm,
            "first_alarm_time": self.first_alarm_time,
            "top_spe_variables": list(self.top_spe_variables),
            "top_t2_variables": list(self.top_t2_variables),
        }


@dataclass(frozen=True)
class BatchReport:
    """Verdicts for a set of batches under one set of limits."""

    limits: Limits
    batches: tuple[BatchVerdict, ...]

    @property
    def flagged(self) -> list[str]:
        """Alarmed batches, in order."""
        return [v.batch for v in self.batches if v.alarmed]

    def to_dict(self) -> dict[str, Any]:
        return {
            "confidence": self.limits.confidence,
            "t2_limit": self.limits.t2,
            "spe_limit": self.limits.spe,
            "limits": self.limits.method,
            "variable_confidence": self.limits.variable_confidence,
            "flagged": self.flagged,
            "batches": [v.to_dict() for v in self.batches],
        }


@dataclass(frozen=True)
class FitResult:
    """A fitted batch model, where it was written, and how its training batches were judged.

    With cross-validated limits each training batch is judged by its held-out statistics.
    """

    model_path: Path
    model: MPCA
    source: str
    n_batches: int
    units: Mapping[str, str]
    alignment: Mapping[str, Any]
    report: BatchReport

    def to_dict(self) -> dict[str, Any]:
        return {
            "model": str(self.model_path),
            "kind": "mpca",
            "n_batches": self.n_batches,
            "variables": list(self.model.variables_),
            "units": dict(self.units),
            "aligned_samples": self.model.n_samples_,
            "alignment": self.alignment["method"],
            "n_components": self.model.n_components_,
            "r2_cumulative": self.model.model_.r2_cumulative_.tolist(),
            **self.report.to_dict(),
        }


@dataclass(frozen=True)
class ScoreResult:
    """New batches judged against a model file."""

    model_path: Path
    report: BatchReport

    def to_dict(self) -> dict[str, Any]:
        return {"model": str(self.model_path), "kind": "mpca", **self.report.to_dict()}


@dataclass(frozen=True)
class TableFit:
    """A PCA of a continuous-process table and its training limits."""

    model_path: Path
    model: PCA
    confidence: float
    t2_limit: float
    spe_limit: float

    def to_dict(self) -> dict[str, Any]:
        alarms = (self.model.t2_ > self.t2_limit) | (self.model.spe_ > self.spe_limit)
        return {
            "model": str(self.model_path),
            "kind": "pca",
            "n_observations": int(self.model.n_observations_),
            "variables": list(self.model.variable_names_),
            "n_components": int(self.model.scores_.shape[1]),
            "r2_cumulative": self.model.r2_cumulative_.tolist(),
            "confidence": self.confidence,
            "t2_limit": self.t2_limit,
            "spe_limit": self.spe_limit,
            "training_alarm_rate": float(np.mean(alarms)),
        }


@dataclass(frozen=True)
class TableScores:
    """T² and SPE of each row of a table against a PCA."""

    model_path: Path
    confidence: float
    t2_limit: float
    spe_limit: float
    t2: np.ndarray
    spe: np.ndarray

    def to_dict(self) -> dict[str, Any]:
        return {
            "model": str(self.model_path),
            "kind": "pca",
            "confidence": self.confidence,
            "t2_limit": self.t2_limit,
            "spe_limit": self.spe_limit,
            "n_observations": int(self.t2.size),
            "t2_alarm_rate": float(np.mean(self.t2 > self.t2_limit)),
            "spe_alarm_rate": float(np.mean(self.spe > self.spe_limit)),
            "t2": self.t2.tolist(),
            "spe": self.spe.tolist(),
        }


@dataclass
class _Stages:
    """Maps each stage's own 0–1 progress onto its share of the whole run, always rising."""

    callback: ProgressCallback | None
    cancel: CancelToken | None
    start: float = 0.0
    stop: float = 0.0
    reached: float = field(default=0.0)

    def enter(self, message: str, stop: float) -> None:
        self.check()
        self.start, self.stop = self.reached, stop
        self._send(message, self.start)

    def sub(self) -> ProgressCallback:
        def forward(progress: Progress) -> None:
            fraction = progress.fraction or 0.0
            self._send(progress.message, self.start + (self.stop - self.start) * fraction)

        return forward

    def done(self, message: str) -> None:
        self._send(message, 1.0)

    def check(self) -> None:
        if self.cancel is not None:
            self.cancel.raise_if_cancelled()

    def _send(self, message: str, fraction: float) -> None:
        self.reached = max(self.reached, min(1.0, fraction))
        report(self.callback, Progress(message, self.reached))


def read_batches(path: str | Path, reading: ReadOptions = ReadOptions()) -> BatchDataset:
    """Read batch data (long or wide CSV, Parquet or Excel) and keep ``reading.variables``."""
    wanted = list(reading.variables) if reading.variables else None
    dataset = read_batch_file(
        path,
        layout=reading.layout,
        batch_column=reading.batch_column,
        time_column=reading.time_column,
        phase_column=reading.phase_column,
        variables=None if reading.layout == "long" else wanted,
        sheet=reading.sheet,
    )
    return dataset.with_variables(wanted) if wanted else dataset


def align_batches(
    dataset: BatchDataset,
    method: str = "linear",
    n_samples: int | None = None,
    *,
    progress: ProgressCallback | None = None,
    cancel: CancelToken | None = None,
) -> tuple[AlignedBatches, dict[str, Any]]:
    """Align batches and return the alignment's JSON-ready recipe for :func:`realign_batches`."""
    from .dtw import align_dtw

    if method == "linear":
        aligned = align_linear(dataset, n_samples, progress=progress, cancel=cancel)
        return aligned, {"method": "linear", "n_samples": aligned.n_samples}
    if method == "phase":
        aligned = align_phases(dataset)
        spans = {s.phase: s.stop - s.start for s in aligned.phases}
        return aligned, {"method": "phase", "samples_per_phase": spans}
    if method == "dtw":
        result = align_dtw(dataset, progress=progress, cancel=cancel)
        return result.aligned, {
            "method": "dtw",
            "reference": result.reference.tolist(),
            "weights": result.weights.tolist(),
            "scale": result.scale.tolist(),
        }
    if method.startswith("indicator:"):
        indicator = method.split(":", 1)[1]
        aligned = align_indicator(dataset, indicator, n_samples)
        return aligned, {
            "method": "indicator",
            "indicator": indicator,
            "start": float(aligned.axis[0]),
            "stop": float(aligned.axis[-1]),
            "n_samples": aligned.n_samples,
        }
    raise MonitoringInputError(f"unknown alignment {method!r}: use {ALIGNMENTS}.")


def realign_batches(
    dataset: BatchDataset,
    spec: Mapping[str, Any],
    *,
    progress: ProgressCallback | None = None,
    cancel: CancelToken | None = None,
) -> AlignedBatches:
    """Align new batches the way a model's training batches were (``spec`` from the model)."""
    from .dtw import warp_to_reference

    method = spec.get("method")
    if method == "linear":
        return align_linear(dataset, int(spec["n_samples"]), progress=progress, cancel=cancel)
    if method == "phase":
        return align_phases(
            dataset, spec["samples_per_phase"], phase_order=list(spec["samples_per_phase"])
        )
    if method == "dtw":
        return warp_to_reference(
            dataset, np.array(spec["reference"]), np.array(spec["weights"]), np.array(spec["scale"])
        )
    if method == "indicator":
        return align_indicator(
            dataset,
            spec["indicator"],
            int(spec["n_samples"]),
            start=spec["start"],
            stop=spec["stop"],
        )
    raise MonitoringInputError(f"the model file records an unknown alignment {method!r}.")


def _window_box_limits(values: np.ndarray, confidence: float) -> np.ndarray:
    """Box limit at each column of ``values`` (I, N) from the columns in a ±N/100 window."""
    from scipy.stats import chi2

    n_samples = values.shape[1]
    half = max(1, n_samples // 100)
    kernel = np.ones(2 * half + 1)
    counts = np.convolve(np.ones(n_samples), kernel, "same") * values.shape[0]
    mean = np.convolve(values.sum(axis=0), kernel, "same") / counts
    square = np.convolve((values**2).sum(axis=0), kernel, "same") / counts
    variance = np.maximum(square - mean**2, 0.0) * counts / np.maximum(counts - 1, 1)
    safe = np.where(variance > 0, variance, 1.0)
    g = safe / (2.0 * np.where(mean > 0, mean, 1.0))
    h = 2.0 * mean**2 / safe
    limits = g * chi2.ppf(confidence, np.where(h > 0, h, 1.0))
    return np.where(variance > 0, limits, mean)


def predictive_limit(values: np.ndarray, confidence: float) -> float:
    """Limit for one new value of a statistic distributed as ``g·χ²_h``, from n values of it.

    Box's approximation matches ``g`` and ``h`` to the mean ``m`` and variance of the values
    and takes ``g·χ²_h`` at ``confidence``. With n values the mean is itself uncertain:
    ``m`` is ``g·χ²_{n·h}/n``, so a new value divided by ``m`` follows ``F(h, n·h)`` and the
    limit is ``m·F(h, n·h)`` at ``confidence``, wider than Box's by what estimating ``m``
    costs (about 10 % with 12 batches), as the T² limit for new observations is wider than
    the training one.
    """
    from scipy.stats import f

    level = check_confidence(confidence)
    finite = np.asarray(values, dtype=float)
    finite = finite[np.isfinite(finite)]
    if finite.size < 2:
        raise MonitoringInputError("a limit needs at least two held-out values.")
    mean = float(finite.mean())
    variance = float(finite.var(ddof=1))
    if mean <= 0.0:
        return 0.0
    if np.sqrt(variance) <= np.sqrt(np.finfo(float).eps) * mean:
        return mean
    h = 2.0 * mean**2 / variance
    return float(mean * f.ppf(level, h, finite.size * h))


def held_out_limit(values: np.ndarray, confidence: float) -> float:
    """:func:`predictive_limit` of held-out statistics, without abnormal training batches.

    A training batch that is itself abnormal gets a huge held-out statistic, and one such
    value inflates the mean and variance the limit is matched to (on the nylon batches the
    SPE limit rose three-thousandfold). So the largest value is set aside while it lies
    above the limit of the others at ``1 − (1 − confidence)/n`` (Bonferroni over the n
    batches, so a normal set rarely loses one), keeping at least half of the values.
    """
    ordered = np.sort(np.asarray(values, dtype=float)[np.isfinite(values)])
    n = ordered.size
    strict = 1.0 - (1.0 - confidence) / max(n, 1)
    kept = n
    while 2 * (kept - 1) >= n and kept > 2:
        if ordered[kept - 1] <= predictive_limit(ordered[: kept - 1], strict):
            break
        kept -= 1
    return predictive_limit(ordered[:kept], confidence)


def _cross_validated_limits(
    t2: np.ndarray,
    spe: np.ndarray,
    contributions: np.ndarray,
    sample_spe: tuple[float, ...],
    confidence: float,
    variable_confidence: float | None,
) -> Limits:
    variable_spe: tuple[float, ...] = ()
    if variable_confidence is not None:
        each = 1.0 - (1.0 - variable_confidence) / contributions.shape[1]
        variable_spe = tuple(
            held_out_limit(contributions[:, j], each) for j in range(contributions.shape[1])
        )
    return Limits(
        "cross-validated",
        confidence,
        held_out_limit(t2, confidence),
        held_out_limit(spe, confidence),
        variable_confidence,
        variable_spe,
        sample_spe,
    )


def _limits(model: MPCA, options: FitOptions) -> Limits:
    """Limits of a fitted model by ``options.limits`` (held-out values must be present)."""
    confidence = options.confidence
    if options.limits == "training":
        return Limits(
            "training", confidence, model.t2_limit(confidence), model.spe_limit(confidence)
        )
    t2, spe = model.t2_cv_, model.spe_cv_
    contributions, samples = model.spe_contributions_cv_, model.spe_samples_cv_
    if t2 is None or spe is None or contributions is None or samples is None:
        raise MonitoringInputError("cross-validated limits need a model fitted with folds.")
    limits = _cross_validated_limits(
        t2, spe, contributions, (), confidence, options.variable_confidence
    )
    usual = (t2 <= limits.t2) & (spe <= limits.spe)
    if limits.variable_spe:
        usual &= np.all(contributions <= np.asarray(limits.variable_spe), axis=1)
    sample_limits = _window_box_limits(
        samples[usual] if usual.sum() >= 2 else samples, SAMPLE_CONFIDENCE
    )
    return replace(limits, sample_spe=tuple(sample_limits.tolist()))


def fit_batch_model(
    aligned: AlignedBatches,
    options: FitOptions = FitOptions(),
    *,
    progress: ProgressCallback | None = None,
    cancel: CancelToken | None = None,
) -> tuple[MPCA, Limits]:
    """Fit an MPCA to aligned batches and compute its limits by ``options``.

    Raises :class:`~opencdmo.engines.progress.CancelledError` when ``cancel`` is set.
    """
    n_batches = aligned.n_batches
    folds = None
    if options.limits == "cross-validated":
        folds = options.folds or min(n_batches, MAX_FOLDS)
        if folds > n_batches:
            raise MonitoringInputError(f"folds must be at most {n_batches}; got {folds}.")
    model = MPCA(options.n_components, scale_floor=options.scale_floor).fit(
        aligned, spe_folds=folds, progress=progress, cancel=cancel
    )
    return model, _limits(model, options)


def _first_alarm(sample_spe: np.ndarray, limits: np.ndarray) -> int | None:
    """First sample of a run of ``max(3, N/100)`` samples above their limits."""
    run = max(3, limits.size // 100)
    above = np.concatenate([[0], (sample_spe > limits).astype(int), [0]])
    edges = np.diff(above)
    starts, stops = np.flatnonzero(edges == 1), np.flatnonzero(edges == -1)
    long_enough = np.flatnonzero(stops - starts >= run)
    return int(starts[long_enough[0]]) if long_enough.size else None


def judge_batches(
    model: MPCA,
    aligned: AlignedBatches,
    limits: Limits,
    dataset: BatchDataset | None = None,
    *,
    held_out: bool = False,
) -> BatchReport:
    """Judge aligned batches against ``limits`` by the alarm rule of this module.

    ``dataset`` (the unaligned batches) turns a linear alignment's first alarm into the
    batch's own time. ``held_out=True`` judges the model's training batches by their
    cross-validated statistics instead of their fitted ones.
    """
    scores = model.score_batches(aligned, limits.confidence)
    cells = model.contributions(aligned, "spe")
    t2, spe, variable_spe = scores.t2, scores.spe, scores.spe_contributions
    sample_spe = cells.sum(axis=2)
    if held_out and model.t2_cv_ is not None and model.spe_cv_ is not None:
        t2, spe = model.t2_cv_, model.spe_cv_
        if model.spe_contributions_cv_ is not None and model.spe_samples_cv_ is not None:
            variable_spe, sample_spe = model.spe_contributions_cv_, model.spe_samples_cv_
    sample_limits = np.asarray(limits.sample_spe)
    verdicts = []
    for i, batch_id in enumerate(scores.batch_ids):
        above = tuple(
            model.variables_[j]
            for j, limit in enumerate(limits.variable_spe)
            if variable_spe[i, j] > limit
        )
        verdict = BatchVerdict(
            batch=batch_id,
            t2=float(t2[i]),
            t2_limit=limits.t2,
            spe=float(spe[i]),
            spe_limit=limits.spe,
            alarmed_variables=above,
            top_spe_variables=tuple(scores.top_variables(batch_id, "spe", 3)),
            top_t2_variables=tuple(scores.top_variables(batch_id, "t2", 3)),
        )
        if verdict.alarmed and sample_limits.size:
            first = _first_alarm(sample_spe[i], sample_limits)
            if first is not None:
                position = float(aligned.axis[first])
                time = None
                if dataset is not None and aligned.method == "linear":
                    batch_time = dataset[batch_id].time
                    time = float(batch_time[0] + position * (batch_time[-1] - batch_time[0]))
                verdict = replace(verdict, first_alarm=position, first_alarm_time=time)
        verdicts.append(verdict)
    return BatchReport(limits, tuple(verdicts))


def limits_metadata(limits: Limits, model: MPCA) -> dict[str, Any]:
    """What scoring needs to rebuild the limits at another confidence, as a model file's
    ``limits`` metadata holds it (the platform stores models the same way)."""
    stored = limits.to_dict()
    if model.t2_cv_ is not None and model.spe_contributions_cv_ is not None:
        stored["held_out_t2"] = model.t2_cv_.tolist()
        stored["held_out_variable_spe"] = model.spe_contributions_cv_.tolist()
        stored["sample_spe"] = [float(f"{v:.6g}") for v in limits.sample_spe]
    return stored


def stored_limits(model: MPCA, confidence: float | None) -> Limits:
    """The limits recorded in a model file, recomputed at ``confidence`` when given."""
    stored = model.metadata_.get("limits")
    if not stored:
        level = check_confidence(0.99 if confidence is None else confidence)
        cross_validated = model.spe_cv_ is not None
        return Limits(
            "cross-validated" if cross_validated else "training",
            level,
            model.t2_limit(level),
            model.spe_limit(level, cross_validated=cross_validated),
        )
    level = check_confidence(stored["confidence"] if confidence is None else confidence)
    if stored["method"] == "training":
        return Limits("training", level, model.t2_limit(level), model.spe_limit(level))
    if model.spe_cv_ is None:
        raise MonitoringInputError("the model file lacks the held-out SPE of its batches.")
    model.t2_cv_ = np.asarray(stored["held_out_t2"], dtype=float)
    return _cross_validated_limits(
        model.t2_cv_,
        model.spe_cv_,
        np.asarray(stored["held_out_variable_spe"], dtype=float),
        tuple(float(v) for v in stored.get("sample_spe", ())),
        level,
        stored.get("variable_confidence"),
    )


def fit_batch_file(
    data: str | Path,
    out: str | Path,
    reading: ReadOptions = ReadOptions(),
    options: FitOptions = FitOptions(),
    *,
    progress: ProgressCallback | None = None,
    cancel: CancelToken | None = None,
) -> FitResult:
    """Read batch data, align it, fit an MPCA with its limits and write the model file.

    Parameters
    ----------
    data : path
        Batch data: long (batch, time, variable, value[, unit]) or wide, CSV/Parquet/Excel.
    out : path
        Model file (``.json``, arrays in the ``.npz`` beside it).
    reading, options : ReadOptions, FitOptions
    progress, cancel : optional
        Progress events with rising fractions up to 1; a cancelled fit raises
        :class:`~opencdmo.engines.progress.CancelledError` and writes nothing.
    """
    from .persistence import save_model

    stages = _Stages(progress, cancel)
    stages.enter(f"reading {data}", 0.05)
    dataset = read_batches(data, reading)
    stages.enter(
        f"read {len(dataset)} batches of {len(dataset.variables)} variables from {data}; "
        "aligning them",
        0.2,
    )
    aligned, alignment = align_batches(
        dataset, options.alignment, options.n_samples, progress=stages.sub(), cancel=cancel
    )
    stages.enter("fitting the model", 0.95)
    model, limits = fit_batch_model(aligned, options, progress=stages.sub(), cancel=cancel)
    stages.enter("writing the model", 1.0)
    metadata = {
        "source": str(data),
        "kind": "mpca",
        "alignment": alignment,
        "reading": {**reading.to_dict(), "variables": list(dataset.variables)},
        "limits": limits_metadata(limits, model),
    }
    json_path, _ = save_model(model, out, metadata)
    model.metadata_ = metadata
    stages.done(f"wrote {json_path}")
    return FitResult(
        json_path,
        model,
        str(data),
        len(dataset),
        dict(dataset.units),
        alignment,
        judge_batches(model, aligned, limits, dataset, held_out=limits.method != "training"),
    )


def score_file(
    data: str | Path,
    model_path: str | Path,
    reading: ReadOptions = ReadOptions(),
    confidence: float | None = None,
    *,
    progress: ProgressCallback | None = None,
    cancel: CancelToken | None = None,
) -> ScoreResult | TableScores:
    """Score a file against any model file of :func:`fit_batch_file` or :func:`fit_table_file`."""
    from .persistence import load_model

    report(progress, Progress(f"loading {model_path}", 0.0))
    model = load_model(model_path)
    if isinstance(model, MPCA):
        return _score_batches(
            data, model, Path(model_path), reading, confidence, progress=progress, cancel=cancel
        )
    if isinstance(model, PCA):
        return _score_table(data, model, Path(model_path), reading, confidence)
    raise MonitoringInputError(f"{model_path}: only PCA and MPCA model files can be scored here.")


def score_batch_file(
    data: str | Path,
    model_path: str | Path,
    reading: ReadOptions = ReadOptions(),
    confidence: float | None = None,
    *,
    progress: ProgressCallback | None = None,
    cancel: CancelToken | None = None,
) -> ScoreResult:
    """Score the batches of a file against a model written by :func:`fit_batch_file`.

    Reading options left at their defaults take the model's; ``confidence`` (default the
    model's) recomputes the limits from the held-out values stored with the model.
    """
    from .persistence import load_model

    model = load_model(model_path)
    if not isinstance(model, MPCA):
        raise MonitoringInputError(f"{model_path}: not an MPCA model file.")
    return _score_batches(
        data, model, Path(model_path), reading, confidence, progress=progress, cancel=cancel
    )


def _score_batches(
    data: str | Path,
    model: MPCA,
    model_path: Path,
    reading: ReadOptions,
    confidence: float | None,
    *,
    progress: ProgressCallback | None,
    cancel: CancelToken | None,
) -> ScoreResult:
    stages = _Stages(progress, cancel)
    stored = model.metadata_.get("reading", {})
    layout = reading.layout
    if layout == "auto":
        layout = stored.get("layout") or "auto"
    merged = ReadOptions(
        layout=layout,
        batch_column=reading.batch_column or stored.get("batch_column"),
        time_column=reading.time_column or stored.get("time_column"),
        phase_column=reading.phase_column or stored.get("phase_column"),
        variables=tuple(stored.get("variables") or model.variables_),
        sheet=reading.sheet,
    )
    stages.enter(f"reading {data}", 0.3)
    dataset = read_batches(data, merged)
    stages.enter(f"aligning {len(dataset)} batches", 0.9)
    spec = model.metadata_.get("alignment", {"method": "linear", "n_samples": model.n_samples_})
    aligned = realign_batches(dataset, spec, progress=stages.sub(), cancel=cancel)
    stages.enter("scoring", 1.0)
    result = ScoreResult(
        model_path, judge_batches(model, aligned, stored_limits(model, confidence), dataset)
    )
    stages.done(f"scored {len(dataset)} batches")
    return result


def _read_matrix(
    path: str | Path, names: Sequence[str] | None, sheet: str | None
) -> tuple[np.ndarray, list[str]]:
    from .tables import column_as_float, read_table

    table = read_table(path, sheet=sheet)
    columns = list(names) if names else [c for c, v in table.items() if v.dtype == float]
    if not columns:
        raise MonitoringInputError(f"{path}: no numeric column found.")
    return np.column_stack([column_as_float(table, c, str(path)) for c in columns]), columns


def fit_table_file(
    data: str | Path,
    out: str | Path,
    reading: ReadOptions = ReadOptions(),
    n_components: int = 2,
    confidence: float = 0.99,
    *,
    cancel: CancelToken | None = None,
) -> TableFit:
    """Fit a PCA to the numeric columns (or ``reading.variables``) of a table and save it."""
    from .persistence import save_model

    if cancel is not None:
        cancel.raise_if_cancelled()
    X, names = _read_matrix(data, reading.variables, reading.sheet)
    model = PCA(n_components).fit(X, names)
    if cancel is not None:
        cancel.raise_if_cancelled()
    json_path, _ = save_model(model, out, {"source": str(data), "kind": "pca", "variables": names})
    return TableFit(
        json_path,
        model,
        confidence,
        model.t2_limit(confidence),
        model.spe_limit(confidence, "jackson-mudholkar"),
    )


def score_table_file(
    data: str | Path,
    model_path: str | Path,
    reading: ReadOptions = ReadOptions(),
    confidence: float | None = None,
) -> TableScores:
    """T² and SPE of every row of a table against a PCA model file."""
    from .persistence import load_model

    model = load_model(model_path)
    if not isinstance(model, PCA):
        raise MonitoringInputError(f"{model_path}: not a PCA model file.")
    return _score_table(data, model, Path(model_path), reading, confidence)


def _score_table(
    data: str | Path,
    model: PCA,
    model_path: Path,
    reading: ReadOptions,
    confidence: float | None,
) -> TableScores:
    level = check_confidence(0.99 if confidence is None else confidence)
    X, _ = _read_matrix(data, model.variable_names_, reading.sheet)
    return TableScores(
        model_path,
        level,
        model.t2_limit(level),
        model.spe_limit(level, "jackson-mudholkar"),
        model.t2(X),
        model.spe(X),
    )
