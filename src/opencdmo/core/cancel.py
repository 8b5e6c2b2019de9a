"""Stopping a background solve from a page: the page marks the record, the solve sees it.

A task's solver takes a ``CancelToken``; ``cancel_watch`` sets it once a status read from
the database says the job was cancelled, polling from a thread of its own (with its own
database connection, closed when it ends).
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager

from django.db import DatabaseError, connection

from opencdmo.engines.progress import CancelToken


@contextmanager
def cancel_watch(
    read_status: Callable[[], object], cancelled: object, interval_s: float = 0.5
) -> Iterator[CancelToken]:
    """A token set when ``read_status()`` returns ``cancelled``, until the block ends."""
    token = CancelToken()
    done = threading.Event()

    def poll() -> None:
        try:
            while not done.wait(interval_s):
                try:
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
