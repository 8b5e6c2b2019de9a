"""The progress callback and cancel token of one solve, as the searches inside it see them.

A solve that was given neither gets no :class:`SolveControl` at all (``None``), so the
searches keep their hot loops free of callbacks: the published timings are measured that way.
Given one, every search reports its incumbent and bound with the share of the time budget
used, and stops at its next check once the token is cancelled, keeping what it found.
"""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Protocol

from opencdmo.engines.progress import CancelToken, Progress, ProgressCallback

REPORT_EVERY_S = 0.5
"""Least time between two reports of a bound alone (an improved incumbent is always sent)."""


class StopFlag(Protocol):
    """What a search polls to learn that it should stop: a :class:`CancelToken`, or its
    copy shared with a forked process."""

    @property
    def cancelled(self) -> bool:
        """Whether the caller asked to stop."""
        ...


@dataclass(frozen=True)
class SolveControl:
    """Progress reports and the stop check of one solve.

    Attributes
    ----------
    progress
        Called with every report; ``None``: reports are dropped.
    cancel
        Polled between steps; ``None``: the solve runs to its limit.
    time_limit_s
        The solve's budget, against which ``fraction`` is measured.
    maximise
        Direction of the objective, to tell a better incumbent from a worse one.
    objective_valid
        ``False`` while a search solves a relaxation whose incumbents are no plans: only its
        bounds are reported then.
    started
        ``time.monotonic()`` when the solve began (the clock is shared with forked processes).
    """

    progress: ProgressCallback | None
    cancel: StopFlag | None
    time_limit_s: float
    maximise: bool
    objective_valid: bool = True
    started: float = field(default_factory=time.monotonic)

    @classmethod
    def of(
        cls,
        progress: ProgressCallback | None,
        cancel: CancelToken | None,
        *,
        time_limit_s: float,
        maximise: bool,
    ) -> SolveControl | None:
        """The control of a solve, or ``None`` when the caller gave neither callback nor token."""
        if progress is None and cancel is None:
            return None
        return cls(progress, cancel, time_limit_s, maximise)

    @property
    def stopped(self) -> bool:
        """Whether the caller asked the solve to stop."""
        return self.cancel is not None and self.cancel.cancelled

    def fraction(self) -> float:
        """Share of the time budget used so far, in [0, 1]."""
        if self.time_limit_s <= 0:
            return 1.0
        return min(1.0, max(0.0, (time.monotonic() - self.started) / self.time_limit_s))

    def report(
        self, message: str, objective: float | None = None, bound: float | None = None
    ) -> None:
        """Send a progress report with the share of the budget used."""
        if self.progress is None:
            return
        self.progress(
            Progress(message, self.fraction(), objective if self.objective_valid else None, bound)
        )

    def bounds_only(self) -> SolveControl:
        """This control for a relaxation: its incumbents are not reported as objectives."""
        return dataclasses.replace(self, objective_valid=False)

    def shifted(self, objective_offset: float, *, with_bound: bool) -> SolveControl:
        """This control for one part of a sum: reports add ``objective_offset`` (what the
        parts already solved contribute); bounds are dropped unless ``with_bound``."""
        progress = self.progress
        if progress is None:
            return self

        def shift(report: Progress) -> None:
            progress(
                Progress(
                    report.message,
                    report.fraction,
                    None if report.objective is None else report.objective + objective_offset,
                    None
                    if report.bound is None or not with_bound
                    else report.bound + objective_offset,
                )
            )

        return dataclasses.replace(self, progress=shift)

    def better(self, candidate: float, incumbent: float | None) -> bool:
        """Whether ``candidate`` improves on ``incumbent`` in the objective's direction."""
        if incumbent is None:
            return True
        return candidate > incumbent if self.maximise else candidate < incumbent


class Throttle:
    """Lets a report of a bound alone through at most every :data:`REPORT_EVERY_S` seconds."""

    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self._clock = clock
        self._last = -REPORT_EVERY_S

    def due(self) -> bool:
        """Whether a report may go now (and count it as sent)."""
        now = self._clock()
        if now - self._last < REPORT_EVERY_S:
            return False
        self._last = now
        return True


def stopped(control: SolveControl | None) -> bool:
    """Whether a solve with this control (or none) was asked to stop."""
    return control is not None and control.stopped
