"""Running the web server and the task worker side by side until Ctrl-C or SIGTERM.

The children get their own process groups, so a Ctrl-C in the terminal reaches only this
process, which then stops each child with SIGTERM (gunicorn and the worker finish what they
are doing), sends a second SIGTERM to one still running near the end of the grace period (the
worker then hands its job back to the queue), and kills one that has not stopped after it.
A supervised child (the worker) that ends by itself is started again after a back-off
instead of stopping the rest: the web server keeps answering when a worker dies.
"""

from __future__ import annotations

import signal
import subprocess
import threading
import time
from collections.abc import Callable, Collection, Iterator, Mapping, Sequence
from contextlib import contextmanager
from types import FrameType

GRACE_SECONDS = 15.0
HAND_BACK_SECONDS = 5.0
POLL_SECONDS = 0.5
FIRST_RESTART_SECONDS = 1.0
MAX_RESTART_SECONDS = 30.0
# A child that ran this long before it ended is restarted after the first back-off again.
STEADY_SECONDS = 60.0


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
    supervise: Collection[str] = (),
) -> int:
    """Start every command and wait; stop all when a signal arrives or one of them exits.

    A child named in ``supervise`` that exits is started again, after 1 s, then twice as
    long each time up to 30 s. Returns 0 after a signal; when another child ends by itself
    the demo is broken, so its exit status, and at least 1.
    """
    stop = threading.Event()
    children: dict[str, subprocess.Popen[bytes]] = {}
    started_at: dict[str, float] = {}
    backoff = dict.fromkeys(supervise, FIRST_RESTART_SECONDS)
    restart_at: dict[str, float] = {}
    status = 0

    def start(name: str) -> None:
        children[name] = subprocess.Popen(list(commands[name]), start_new_session=True)
        started_at[name] = time.monotonic()

    with _stop_on_signals(stop):
        try:
            for name in commands:
                start(name)
            while not stop.wait(POLL_SECONDS):
                now = time.monotonic()
                for name in [n for n, at in restart_at.items() if at <= now]:
                    del restart_at[name]
                    say(f"Starting the {name} again.")
                    start(name)
                ended = [
                    (name, child)
                    for name, child in children.items()
                    if name not in restart_at and child.poll() is not None
                ]
                fatal = [(name, child) for name, child in ended if name not in backoff]
                if fatal:
                    name, child = fatal[0]
                    status = child.returncode or 1
                    say(f"The {name} stopped (exit status {child.returncode}); stopping the rest.")
                    break
                for name, child in ended:
                    if now - started_at[name] >= STEADY_SECONDS:
                        backoff[name] = FIRST_RESTART_SECONDS
                    delay = backoff[name]
                    backoff[name] = min(delay * 2, MAX_RESTART_SECONDS)
                    restart_at[name] = now + delay
                    say(
                        f"The {name} stopped (exit status {child.returncode}); "
                        f"starting it again in {delay:g} s."
                    )
        finally:
            _stop_all(children, say, grace_seconds)
    return status


def _stop_all(
    children: Mapping[str, subprocess.Popen[bytes]],
    say: Callable[[str], None],
    grace_seconds: float,
) -> None:
    """SIGTERM, a second SIGTERM shortly before the grace period ends, then SIGKILL."""
    deadline = time.monotonic() + grace_seconds
    second_at = deadline - min(HAND_BACK_SECONDS, grace_seconds / 3)
    for child in children.values():
        if child.poll() is None:
            child.terminate()
    for child in children.values():
        _wait(child, second_at)
    for child in children.values():
        if child.poll() is None:
            child.terminate()
    for name, child in children.items():
        if not _wait(child, deadline):
            say(f"The {name} did not stop within {grace_seconds:g} s; killing it.")
            child.kill()
            child.wait()


def _wait(child: subprocess.Popen[bytes], until: float) -> bool:
    """Wait for ``child`` to end until the monotonic time ``until``; True if it ended."""
    try:
        child.wait(timeout=max(until - time.monotonic(), 0))
    except subprocess.TimeoutExpired:
        return False
    return True
