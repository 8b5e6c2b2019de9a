"""Running the web server and the task worker side by side until Ctrl-C or SIGTERM.

The children get their own process groups, so a Ctrl-C in the terminal reaches only this
process, which then stops each child with SIGTERM (gunicorn and the worker finish what they
are doing), and kills one that has not stopped after a grace period.
"""

from __future__ import annotations

import signal
import subprocess
import threading
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from types import FrameType

GRACE_SECONDS = 15.0
POLL_SECONDS = 0.5


@contextmanager
def _stop_on_signals(stop: threading.Event) -> Iterator[None]:
    """Turn SIGINT and SIGTERM into ``stop`` while the block runs."""

    def handler(signum: int, frame: FrameType | None) -> None:
        stop.set()

    previous = {sig: signal.signal(sig, handler) for sig in (signal.SIGINT, signal.SIGTERM)}
    try:
        yield
    finally:
        for sig, old in previous.items():
            signal.signal(sig, old)


def run_until_stopped(
    commands: Mapping[str, Sequence[str]],
    *,
    say: Callable[[str], None] = print,
    grace_seconds: float = GRACE_SECONDS,
) -> int:
    """Start every command and wait; stop all when a signal arrives or one of them exits.

    Returns 0 after a signal; when a child ends by itself the demo is broken, so its exit
    status, and at least 1.
    """
    stop = threading.Event()
    children: dict[str, subprocess.Popen[bytes]] = {}
    status = 0
    with _stop_on_signals(stop):
        try:
            for name, argv in commands.items():
                children[name] = subprocess.Popen(list(argv), start_new_session=True)
            while not stop.wait(POLL_SECONDS):
                ended = [
                    (name, child) for name, child in children.items() if child.poll() is not None
                ]
                if ended:
                    name, child = ended[0]
                    status = child.returncode or 1
                    say(f"The {name} stopped (exit status {child.returncode}); stopping the rest.")
                    break
        finally:
            _stop_all(children, say, grace_seconds)
    return status


def _stop_all(
    children: Mapping[str, subprocess.Popen[bytes]],
    say: Callable[[str], None],
    grace_seconds: float,
) -> None:
    for child in children.values():
        if child.poll() is None:
            child.terminate()
    for name, child in children.items():
        try:
            child.wait(timeout=grace_seconds)
        except subprocess.TimeoutExpired:
            say(f"The {name} did not stop within {grace_seconds:g} s; killing it.")
            child.kill()
            child.wait()
