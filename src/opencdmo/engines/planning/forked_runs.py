"""Run independent searches on several cores, each in a forked process.

Our searches are single-threaded (HiGHS branch and bound, the pure-Python order search), and
their outcome varies a lot with the random seed. Forking one per core and keeping the best
(or the first that settles the question) turns ``n`` cores into the best of ``n`` draws.
"""

from __future__ import annotations

import multiprocessing
import time
from collections.abc import Callable, Sequence
from multiprocessing.connection import Connection, wait
from typing import Any, TypeVar, cast

T = TypeVar("T")


def can_fork() -> bool:
    """Whether searches can be forked here (POSIX, and not inside a daemonic worker process)."""
    return (
        "fork" in multiprocessing.get_all_start_methods()
        and not multiprocessing.current_process().daemon
    )


def run_forked(
    calls: Sequence[Callable[[], T]],
    *,
    timeout_s: float,
    decisive: Callable[[T], bool] | None = None,
) -> list[T]:
    """Run every call in its own forked process and collect what they return.

    Parameters
    ----------
    calls
        Functions without arguments; what they return must pickle.
    timeout_s
        Wall-clock time after which runs that have not answered are stopped and left out.
    decisive
        When a result satisfies this, the other runs are stopped and only it is returned.

    Returns
    -------
    list[T]
        The results in the order they arrived.

    Raises
    ------
    RuntimeError
        When no run answered: the runs' own errors, or that none answered in time.
    """
    context = multiprocessing.get_context("fork")
    runs: dict[Connection, Any] = {}
    for index, call in enumerate(calls):
        receiver, sender = context.Pipe(duplex=False)
        process = context.Process(target=_run, args=(call, index, sender), daemon=True)
        process.start()
        sender.close()
        runs[receiver] = process
    deadline = time.monotonic() + timeout_s
    results: list[T] = []
    errors: list[str] = []
    try:
        pending = list(runs)
        while pending:
            ready = wait(pending, timeout=max(0.0, deadline - time.monotonic()))
            if not ready:
                break
            for connection in cast(list[Connection], ready):
                pending.remove(connection)
                try:
                    message: tuple[bool, Any] = connection.recv()
                except EOFError:
                    errors.append("a run ended without an answer")
                    continue
                answered, payload = message
                if not answered:
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
    if not results:
        raise RuntimeError("; ".join(errors) or "no run answered within the time limit")
    return results


def _run(call: Callable[[], Any], index: int, sender: Connection) -> None:
    """One run, in its own process: send ``(True, result)`` or ``(False, why it failed)``."""
    try:
        message: tuple[bool, Any] = (True, call())
    except Exception as error:  # reported to the parent, which raises it
        message = (False, f"run {index} failed: {error}")
    sender.send(message)
    sender.close()
