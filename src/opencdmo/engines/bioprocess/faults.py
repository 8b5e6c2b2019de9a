"""Labelled process faults: what each one does, its signature variables, and its timing."""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import NamedTuple

import numpy as np
from numpy.typing import NDArray

from opencdmo.engines.bioprocess.errors import InvalidInputError

__all__ = ["FAULT_KINDS", "Fault", "FaultEffects", "FaultKind", "FaultSchedule"]

FloatArray = NDArray[np.float64]


@dataclass(frozen=True)
class FaultKind:
    """Description of one kind of fault.

    Attributes
    ----------
    name : str
        Identifier used in labels and on the command line.
    description : str
        What goes wrong in the plant.
    magnitude_unit : str
        Meaning and unit of ``Fault.magnitude``.
    magnitude_range : tuple of float
        Allowed magnitudes, inclusive.
    typical_magnitude : tuple of float
        Range the benchmark generator draws from (absolute value).
    signed : bool
        Whether the generator draws either sign.
    signature : tuple of str
        Measured variables in which the fault shows: the faulty variable and the
        manipulated variables of its controller.
    """

    name: str
    description: str
    magnitude_unit: str
    magnitude_range: tuple[float, float]
    typical_magnitude: tuple[float, float]
    signed: bool
    signature: tuple[str, ...]


FAULT_KINDS: dict[str, FaultKind] = {
    kind.name: kind
    for kind in (
        FaultKind(
            "do_probe_drift",
            "DO probe reading drifts linearly over two days from the start, then stays offset "
            "until the end of the fault; the cascade holds the reading, so the true DO moves "
            "the other way.",
            "% air saturation offset reached after the two-day drift",
            (-60.0, 60.0),
            (20.0, 35.0),
            True,
            ("do_pct", "agitation_rpm", "air_flow_slpm", "o2_flow_slpm"),
        ),
        FaultKind(
            "ph_probe_bias",
            "pH probe reads offset by a constant bias; the controller acts on the reading, "
            "changing CO₂ sparge and base use while the reading stays at set point.",
            "pH units added to the reading",
            (-0.5, 0.5),
            (0.1, 0.2),
            True,
            ("ph", "co2_flow_slpm", "base_added_l"),
        ),
        FaultKind(
            "feed_pump_failure",
            "Feed pump delivers only part of the commanded feed.",
            "fraction of the feed not delivered",
            (0.0, 1.0),
            (0.6, 1.0),
            False,
            ("feed_added_l", "volume_l"),
        ),
        FaultKind(
            "over_feed",
            "Feed pump delivers more than commanded (wrong calibration or recipe).",
            "fraction of extra feed delivered",
            (0.0, 3.0),
            (0.8, 1.5),
            False,
            ("feed_added_l", "volume_l"),
        ),
        FaultKind(
            "temperature_controller_failure",
            "Jacket controller fails; the culture drifts towards a wrong jacket temperature.",
            "°C offset of the jacket temperature from set point",
            (-15.0, 5.0),
            (2.0, 4.0),
            True,
            ("temperature_c", "jacket_temperature_c"),
        ),
        FaultKind(
            "agitation_failure",
            "Agitator loses speed (drive fault); kLa falls and the cascade compensates with gas.",
            "fraction of the commanded speed lost",
            (0.0, 0.95),
            (0.4, 0.6),
            False,
            ("agitation_rpm", "do_pct", "air_flow_slpm", "o2_flow_slpm"),
        ),
        FaultKind(
            "contamination",
            "Adventitious organism: glucose and oxygen uptake and acid formation rise within "
            "hours and the culture dies faster.",
            "fold increase of glucose and oxygen uptake rates",
            (0.0, 20.0),
            (1.0, 2.0),
            False,
            (
                "our_mmol_l_h",
                "do_pct",
                "o2_flow_slpm",
                "air_flow_slpm",
                "agitation_rpm",
                "ph",
                "base_added_l",
                "co2_flow_slpm",
            ),
        ),
        FaultKind(
            "co2_accumulation",
            "CO₂ stripping is impaired (blocked exhaust filter, fouled sparger): dissolved "
            "CO₂ rises, pH falls and the controller adds base.",
            "fraction of CO₂ stripping lost",
            (0.0, 0.98),
            (0.6, 0.85),
            False,
            ("ph", "base_added_l", "co2_flow_slpm"),
        ),
    )
}


@dataclass(frozen=True)
class Fault:
    """One labelled fault.

    Attributes
    ----------
    kind : str
        A key of :data:`FAULT_KINDS`.
    start_h, end_h : float
        Start and end of the fault, h of culture time.
    magnitude : float
        Size of the fault, in the unit of its kind.
    """

    kind: str
    start_h: float
    end_h: float
    magnitude: float

    def __post_init__(self) -> None:
        if self.kind not in FAULT_KINDS:
            known = ", ".join(sorted(FAULT_KINDS))
            raise InvalidInputError("fault.kind", f"unknown fault {self.kind!r}; known: {known}")
        for name in ("start_h", "end_h", "magnitude"):
            if not math.isfinite(getattr(self, name)):
                raise InvalidInputError(f"fault.{name}", "must be finite")
        if self.start_h < 0.0:
            raise InvalidInputError("fault.start_h", f"must not be negative, got {self.start_h}")
        if self.end_h <= self.start_h:
            raise InvalidInputError("fault.end_h", "must be after fault.start_h")
        low, high = FAULT_KINDS[self.kind].magnitude_range
        if not low <= self.magnitude <= high:
            raise InvalidInputError(
                "fault.magnitude",
                f"{self.magnitude:g} is outside {low:g}..{high:g} "
                f"({FAULT_KINDS[self.kind].magnitude_unit}) for {self.kind}",
            )

    @property
    def unit(self) -> str:
        """Unit of the magnitude."""
        return FAULT_KINDS[self.kind].magnitude_unit

    @property
    def signature(self) -> tuple[str, ...]:
        """Measured variables in which this fault shows."""
        return FAULT_KINDS[self.kind].signature


class FaultEffects(NamedTuple):
    """Effects of the active faults at one instant, one value per batch.

    Attributes
    ----------
    do_offset_pct : ndarray
        Added to the DO reading, % air saturation.
    ph_bias : ndarray
        Added to the pH reading.
    feed_multiplier : ndarray
        Multiplier of the delivered feed.
    jacket_offset_c : ndarray
        Offset of the jacket target from set point, °C (applies where ``jacket_failed``).
    jacket_failed : ndarray of bool
        Whether the temperature controller is failed.
    agitation_multiplier : ndarray
        Multiplier of the commanded agitation.
    uptake_multiplier : ndarray
        Multiplier of glucose and O₂ uptake (contamination).
    stripping_multiplier : ndarray
        Multiplier of the CO₂ removal constant.
    """

    do_offset_pct: FloatArray
    ph_bias: FloatArray
    feed_multiplier: FloatArray
    jacket_offset_c: FloatArray
    jacket_failed: NDArray[np.bool_]
    agitation_multiplier: FloatArray
    uptake_multiplier: FloatArray
    stripping_multiplier: FloatArray


class FaultSchedule:
    """Faults of a group of batches simulated together, evaluated per time step.

    Parameters
    ----------
    faults_per_batch : sequence of sequences of Fault
        Faults of each batch; at most one fault of each kind per batch.
    """

    CONTAMINATION_RAMP_H = 12.0
    DO_DRIFT_RAMP_H = 48.0

    def __init__(self, faults_per_batch: list[tuple[Fault, ...]]) -> None:
        n = len(faults_per_batch)
        self._start = {k: np.zeros(n) for k in FAULT_KINDS}
        self._end = {k: np.ones(n) for k in FAULT_KINDS}
        self._has = {k: np.zeros(n, dtype=bool) for k in FAULT_KINDS}
        self._magnitude = {k: np.zeros(n) for k in FAULT_KINDS}
        self._present: set[str] = set()
        for index, faults in enumerate(faults_per_batch):
            seen: set[str] = set()
            for fault in faults:
                if fault.kind in seen:
                    raise InvalidInputError(
                        "faults", f"batch {index} has more than one {fault.kind} fault"
                    )
                seen.add(fault.kind)
                self._start[fault.kind][index] = fault.start_h
                self._end[fault.kind][index] = fault.end_h
                self._magnitude[fault.kind][index] = fault.magnitude
                self._has[fault.kind][index] = True
                self._present.add(fault.kind)
        self._ones = np.ones(n)
        self._zeros = np.zeros(n)

    def _on(self, kind: str, time_h: float) -> NDArray[np.bool_]:
        return self._has[kind] & (time_h >= self._start[kind]) & (time_h < self._end[kind])

    def _active(self, kind: str, time_h: float) -> FloatArray:
        if kind not in self._present:
            return self._zeros
        return np.where(self._on(kind, time_h), self._magnitude[kind], 0.0)

    def effects(self, time_h: float) -> FaultEffects:
        """Fault effects at ``time_h`` hours.

        Parameters
        ----------
        time_h : float
            Culture time, h.

        Returns
        -------
        FaultEffects
            One value per batch for each effect.
        """
        drift = self._active("do_probe_drift", time_h)
        if "do_probe_drift" in self._present:
            span = np.minimum(
                self._end["do_probe_drift"] - self._start["do_probe_drift"], self.DO_DRIFT_RAMP_H
            )
            drift = drift * np.clip((time_h - self._start["do_probe_drift"]) / span, 0.0, 1.0)
        contamination = self._active("contamination", time_h)
        if "contamination" in self._present:
            ramp = np.clip(
                (time_h - self._start["contamination"]) / self.CONTAMINATION_RAMP_H, 0.0, 1.0
            )
            contamination = contamination * ramp
        jacket = self._active("temperature_controller_failure", time_h)
        failed = self._on("temperature_controller_failure", time_h)
        return FaultEffects(
            do_offset_pct=drift,
            ph_bias=self._active("ph_probe_bias", time_h),
            feed_multiplier=self._ones
            - self._active("feed_pump_failure", time_h)
            + self._active("over_feed", time_h),
            jacket_offset_c=jacket,
            jacket_failed=failed,
            agitation_multiplier=self._ones - self._active("agitation_failure", time_h),
            uptake_multiplier=self._ones + contamination,
            stripping_multiplier=self._ones - self._active("co2_accumulation", time_h),
        )
