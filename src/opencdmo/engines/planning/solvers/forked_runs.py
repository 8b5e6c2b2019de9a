"""Run independent searches on several cores, each in a forked process.

Our searches are single-threaded (HiGHS branch and bound, the pure-Python order search), and
their outcome varies a lot with the random seed. Forking one per core and keeping the best
(or the first that settles the question) turns ``n`` cores into the best of ``n`` draws.
"""

from __future__ import annotations

import dataclasses
import multiprocessing
import time
from collections.abc import Callable, Sequence
from multiprocessing.connection import Connection, wait
from typing import Any, TypeVar, cast

from opencdmo.engines.planning.solvers.control import SolveControl
from opencdmo.engines.progress import Progress

T = TypeVar("T")


def can_fork() -> bool:
    """Whether searches can be forked here (POSIX, and not inside a daemonic worker process)."""
    return (
        "fork" in multiprocessing.get_all_start_methods()
        and not multiprocessing.current_process().daemon
    )


CANCEL_GRACE_S = 0.5
"""After a cancel, the time the runs have to answer with what they found: then those that
have not are stopped, once one has answered (until then all are awaited, up to the timeout,
so that a cancel never loses every plan)."""
POLL_S = 0.05
"""How often the parent looks at the cancel token while the runs work."""


class NoAnswerError(RuntimeError):
    """No run answered within the time limit, and none failed: each was still working."""


class _SharedFlag:
    """A cancel flag that forked processes see: the parent sets it when its token is cancelled."""

    def __init__(self, event: Any) -> None:
        self._event = event

    @property
    def cancelled(self) -> bool:
        return bool(self._event.is_set())


def run_forked(
    calls: Sequence[Callable[..., T]],
    *,
    timeout_s: float,
    decisive: Callable[[T], bool] | None = None,
    control: SolveControl | None = None,
) -> list[T]:
    """Run every call in its own forked process and collect what they return.

    Parameters
    ----------
    calls
        Functions without arguments; what they return must pickle. With a ``control`` they
        are called with the keyword ``control``: the run's own control, whose reports travel
        to the parent and whose cancel flag the parent sets.
    timeout_s
        Wall-clock time after which runs that have not answered are stopped and left out.
    decisive
        When a result satisfies this, the other runs are stopped and only it is returned.
    control
        Progress and cancel of the solve: the runs' reports reach its callback from this
        process (the best objective and bound so far), and once it is cancelled the runs are
        asked to stop and given :data:`CANCEL_GRACE_S` to answer (longer, while none has).

    Returns
    -------
    list[T]
        The results in the order they arrived.

    Raises
    ------
    RuntimeError
        When no run answered and some failed: the runs' own errors.
    NoAnswerError
        When no run answered in time and none failed.
    """
    context = multiprocessing.get_context("fork")
    stop = context.Event()
    child = (
        None
        if control is None
        else dataclasses.replace(control, progress=None, cancel=_SharedFlag(stop))
    )
    runs: dict[Connection, Any] = {}
    for index, call in enumerate(calls):
        receiver, sender = context.Pipe(duplex=False)
        process = context.Process(target=_run, args=(call, index, sender, child), daemon=True)
        process.start()
        sender.close()
        runs[receiver] = process
    deadline = time.monotonic() + timeout_s
    results: list[T] = []
    errors: list[str] = []
    best = _Best(control)
    try:
        pending = list(runs)
        cancelled_by: float | None = None
        while pending:
            if control is not None and control.stopped and cancelled_by is None:
                stop.set()
                cancelled_by = time.monotonic() + CANCEL_GRACE_S
            if cancelled_by is not None and results and time.monotonic() >= cancelled_by:
                break
            left = max(0.0, deadline - time.monotonic())
            ready = wait(pending, timeout=left if control is None else min(left, POLL_S))
            if not ready:
                if time.monotonic() >= deadline:
                    break
                continue
            for connection in cast(list[Connection], ready):
                try:
                    kind, payload = connection.recv()
                except EOFError:
                    pending.remove(connection)
                    errors.append("a run ended without an answer")
                    continue
                if kind == "progress":
                    best.forward(payload)
                    continue
                pending.remove(connection)
                if kind == "failed":
                    errors.append(payload)
                    continue
                if decisive is not None and decisive(payload):
                    return [payload]
                results.append(payload)
    finally:
        for process in runs.values():
            process.kill()
        for process in runs.values():
            process.join()
    if not results and errors:
        raise RuntimeError("; ".join(errors))
    if not results:
        raise NoAnswerError("no run answered within the time limit")
    return results


class _Best:
    """Forwards the runs' reports with the best objective and the tightest bound of all."""

    def __init__(self, control: SolveControl | None) -> None:
        self._control = control
        self._objective: float | None = None
        self._bound: float | None = None

    def forward(self, report: Progress) -> None:
        control = self._control
        if control is None:
            return
        if report.objective is not None and control.better(report.objective, self._objective):
            self._objective = report.objective
        if report.bound is not None and (
            self._bound is None or control.better(self._bound, report.bound)
        ):
            self._bound = report.bound
        control.report(report.message, self._objective, self._bound)


def _run(
    call: Callable[..., Any], index: int, sender: Connection, control: SolveControl | None
) -> None:
    """One run, in its own process: send its reports as ``("progress", Progress)``, then
    ``("result", result)`` or ``("failed", why)``."""
    try:
        if control is None:
            result = call()
        else:
            reporting = dataclasses.replace(
                control, progress=lambda report: sender.send(("progress", report))
            )
            result = call(control=reporting)
        message: tuple[str, Any] = ("result", result)
    except Exception as error:  # reported to the parent, which raises it
        message = ("failed", f"run {index} failed: {error}")
    sender.send(message)
    sender.close()
