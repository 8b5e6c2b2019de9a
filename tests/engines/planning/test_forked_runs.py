"""Forked runs: every answer comes back, a decisive one stops the rest, failures are named."""

from __future__ import annotations

import functools
import os
import time
from collections.abc import Callable

import pytest

from opencdmo.engines.planning.solvers.forked_runs import can_fork, run_forked

pytestmark = pytest.mark.skipif(not can_fork(), reason="processes cannot be forked here")


def _pid_times(factor: int) -> tuple[int, int]:
    return os.getpid(), factor * 10


def _sleep_then(seconds: float, value: int) -> int:
    time.sleep(seconds)
    return value


def _fail() -> int:
    raise ValueError("bad seed")


def test_each_call_runs_in_its_own_process() -> None:
    results = run_forked([functools.partial(_pid_times, k) for k in range(3)], timeout_s=30)
    assert sorted(value for _, value in results) == [0, 10, 20]
    pids = {pid for pid, _ in results}
    assert len(pids) == 3
    assert os.getpid() not in pids


def test_a_decisive_result_stops_the_slower_runs() -> None:
    started = time.monotonic()
    results = run_forked(
        [functools.partial(_sleep_then, 20.0, 1), functools.partial(_sleep_then, 0.0, 2)],
        timeout_s=30,
        decisive=lambda value: value == 2,
    )
    assert results == [2]
    assert time.monotonic() - started < 10


def test_runs_past_the_timeout_are_left_out() -> None:
    results = run_forked(
        [functools.partial(_sleep_then, 20.0, 1), functools.partial(_sleep_then, 0.0, 2)],
        timeout_s=2,
    )
    assert results == [2]


def test_a_failing_run_is_skipped_and_all_failing_is_an_error() -> None:
    calls: list[Callable[[], int]] = [_fail, functools.partial(_sleep_then, 0.0, 3)]
    assert run_forked(calls, timeout_s=30) == [3]
    with pytest.raises(RuntimeError, match="bad seed"):
        run_forked([_fail], timeout_s=30)
