"""Stopping a background solve from a page: the page marks the record, the solve sees it.

A task's solver takes a ``CancelToken``; ``cancel_watch`` sets it once a status read from
the database says the job was cancelled, polling from a thread of its own (with its own
database connection, closed when it ends). The same thread renews the job's lease.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager

from django.db import DatabaseError, connection

from opencdmo.engines.progress import CancelToken


@contextmanager
def cancel_watch(
    read_status: Callable[[], object],
    cancelled: object,
    interval_s: float = 0.5,
    beat: Callable[[], None] | None = None,
    beat_every_s: float = 15.0,
) -> Iterator[CancelToken]:
    """A token set when ``read_status()`` returns ``cancelled``, until the block ends;
    ``beat`` (a lease's renewal) is called every ``beat_every_s`` meanwhile."""
    token = CancelToken()
    done = threading.Event()

    def poll() -> None:
        last_beat = time.monotonic()
        try:
            while not done.wait(min(interval_s, beat_every_s)):
                try:
                    if beat is not None and time.monotonic() - last_beat >= beat_every_s:
                        beat()
                        last_beat = time.monotonic()
                    status = read_status()
                except DatabaseError:
                    # Busy or locked (SQLite while the solve's own transaction writes):
                    # the next poll asks again.
                    continue
                if status == cancelled:
                    token.cancel()
                    return
        finally:
            connection.close()

    watcher = threading.Thread(target=poll, name="cancel-watch", daemon=True)
    watcher.start()
    try:
        yield token
    finally:
        done.set()
        watcher.join()
