"""Progress reports and cancellation for long solves and fits.

A background task hands an engine a callback to show how far it got and a token to stop it
on request. Both are optional, so engines stay plain functions for scripts and tests; an
engine calls the callback from the thread that runs it and checks the token between steps.
On a cancel, a solver returns its best answer so far (a plan is still worth showing), while a
fit raises :class:`CancelledError` (half a model is worth nothing).
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass

__all__ = ["CancelToken", "CancelledError", "Progress", "ProgressCallback", "report"]


@dataclass(frozen=True)
class Progress:
    """How far a long computation has come.

    ``fraction`` lies in [0, 1] where the engine can tell (a fit's step, a time budget used)
    and is ``None`` where it cannot. ``objective`` and ``bound`` are a solver's incumbent and
    proven bound, in the objective's own unit, when it has them.
    """

    message: str
    fraction: float | None = None
    objective: float | None = None
    bound: float | None = None

    def __post_init__(self) -> None:
        if self.fraction is not None and not 0.0 <= self.fraction <= 1.0:
            raise ValueError(f"fraction must lie in [0, 1], got {self.fraction}")


ProgressCallback = Callable[[Progress], None]


class CancelledError(Exception):
    """The caller asked a fit to stop; nothing it was computing is returned or written."""


class CancelToken:
    """A flag one thread sets and the engine polls; safe to share between threads."""

    def __init__(self) -> None:
        self._event = threading.Event()

    def cancel(self) -> None:
        """Ask the engine to stop at its next check."""
        self._event.set()

    @property
    def cancelled(self) -> bool:
        return self._event.is_set()

    def raise_if_cancelled(self) -> None:
        """Raise :class:`CancelledError` once :meth:`cancel` has been called."""
        if self._event.is_set():
            raise CancelledError("stopped on request")


def report(callback: ProgressCallback | None, progress: Progress) -> None:
    """Send ``progress`` to ``callback`` when there is one."""
    if callback is not None:
        callback(progress)
