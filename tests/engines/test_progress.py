"""Progress reports and the cancel token shared by every engine."""

from __future__ import annotations

import threading

import pytest

from opencdmo.engines.progress import CancelledError, CancelToken, Progress, report


def test_token_raises_only_after_cancel() -> None:
    """A fresh token lets the engine go on; once cancelled it stops it."""
    token = CancelToken()
    token.raise_if_cancelled()
    assert not token.cancelled
    token.cancel()
    assert token.cancelled
    with pytest.raises(CancelledError):
        token.raise_if_cancelled()


def test_token_set_from_another_thread_is_seen() -> None:
    """A task's control thread cancels; the engine's thread sees it."""
    token = CancelToken()
    thread = threading.Thread(target=token.cancel)
    thread.start()
    thread.join()
    assert token.cancelled


def test_report_reaches_the_callback_and_tolerates_none() -> None:
    """Engines call ``report`` whether or not a caller listens."""
    seen: list[Progress] = []
    report(seen.append, Progress("fitting", fraction=0.5))
    report(None, Progress("ignored"))
    assert seen == [Progress("fitting", fraction=0.5)]


def test_fraction_outside_unit_interval_is_refused() -> None:
    """A fraction of 1.5 is a bug in the engine, not a report."""
    with pytest.raises(ValueError, match="fraction"):
        Progress("bad", fraction=1.5)
