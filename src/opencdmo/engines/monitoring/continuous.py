"""Monitoring a continuous process with PCA: detection and false-alarm rates per fault."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import numpy as np

from .errors import MonitoringInputError
from .latent import PCA
from .limits import SpeLimitMethod, empirical_limit

__all__ = ["DetectionReport", "detection_report"]


@dataclass(frozen=True)
class DetectionReport:
    """How a PCA model's T² and SPE charts react to a test run with a fault.

    Attributes
    ----------
    t2_limit, spe_limit : float
    t2_detection_rate, spe_detection_rate, combined_detection_rate : float
        Fraction of samples from ``fault_start`` on above the limit (combined: either).
    t2_false_alarm_rate, spe_false_alarm_rate, combined_false_alarm_rate : float
        Fraction of samples before ``fault_start`` above the limit (NaN-free; 0 when there
        are no samples before the fault is reported as ``None``).
    detection_delay : int or None
        Samples from ``fault_start`` to the first of ``run_length`` consecutive combined
        alarms; ``None`` if never.
    """

    t2_limit: float
    spe_limit: float
    t2_detection_rate: float
    spe_detection_rate: float
    combined_detection_rate: float
    t2_false_alarm_rate: float | None
    spe_false_alarm_rate: float | None
    combined_false_alarm_rate: float | None
    detection_delay: int | None


def first_run(alarms: np.ndarray, run_length: int) -> int | None:
    """Index of the first sample that completes ``run_length`` consecutive alarms, or None."""
    if run_length < 1:
        raise MonitoringInputError(f"run_length must be at least 1; got {run_length}.")
    count = 0
    for index, alarm in enumerate(alarms):
        count = count + 1 if alarm else 0
        if count >= run_length:
            return index
    return None


def detection_report(
    model: PCA,
    X: object,
    fault_start: int,
    confidence: float = 0.99,
    *,
    limits: Literal["analytic", "empirical"] = "analytic",
    spe_method: SpeLimitMethod = "jackson-mudholkar",
    run_length: int = 1,
) -> DetectionReport:
    """Score a test run and report detection and false-alarm rates.

    Parameters
    ----------
    model : PCA
        Model fitted on normal operation.
    X : array-like (n, K)
        Test run, samples in time order.
    fault_start : int
        Index of the first faulty sample (0 for a run that is faulty throughout; ``n`` for a
        normal run, whose rates are then all false alarms).
    confidence : float
        Confidence of the limits.
    limits : {"analytic", "empirical"}
        Analytic: F-distribution T² limit and ``spe_method``; empirical: the ``confidence``
        quantiles of the training T² and SPE.
    spe_method : {"jackson-mudholkar", "box", "empirical"}
        Analytic SPE limit.
    run_length : int
        Consecutive alarms that count as a detection for ``detection_delay``.
    """
    t2 = model.t2(X)
    spe = model.spe(X)
    n = t2.shape[0]
    if not 0 <= fault_start <= n:
        raise MonitoringInputError(f"fault_start must lie within 0..{n}; got {fault_start}.")
    if limits == "analytic":
        t2_lim = model.t2_limit(confidence)
        spe_lim = model.spe_limit(confidence, spe_method)
    elif limits == "empirical":
        t2_lim = empirical_limit(model.t2_, confidence)
        spe_lim = empirical_limit(model.spe_, confidence)
    else:
        raise MonitoringInputError(f"limits must be 'analytic' or 'empirical'; got {limits!r}.")
    t2_alarm = t2 > t2_lim
    spe_alarm = spe > spe_lim
    either = t2_alarm | spe_alarm

    def rate(alarms: np.ndarray) -> float:
        return float(alarms.mean()) if alarms.size else 0.0

    def false_rate(alarms: np.ndarray) -> float | None:
        return float(alarms.mean()) if alarms.size else None

    before, after = slice(0, fault_start), slice(fault_start, n)
    delay = first_run(either[after], run_length)
    return DetectionReport(
        t2_limit=t2_lim,
        spe_limit=spe_lim,
        t2_detection_rate=rate(t2_alarm[after]),
        spe_detection_rate=rate(spe_alarm[after]),
        combined_detection_rate=rate(either[after]),
        t2_false_alarm_rate=false_rate(t2_alarm[before]),
        spe_false_alarm_rate=false_rate(spe_alarm[before]),
        combined_false_alarm_rate=false_rate(either[before]),
        detection_delay=None if delay is None else delay - run_length + 1,
    )
