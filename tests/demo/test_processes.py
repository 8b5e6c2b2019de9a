"""Web server and worker run side by side and stop together, cleanly."""

from __future__ import annotations

import os
import signal
import sys
import threading
import time

from opencdmo.demo.management.commands.demo import server_commands
from opencdmo.demo.processes import run_until_stopped

SLEEPER = [sys.executable, "-c", "import time; time.sleep(60)"]


def test_sigterm_stops_every_child_and_returns_zero() -> None:
    """A signal to the demo stops both children well before they would end."""
    said: list[str] = []
    timer = threading.Timer(1.0, os.kill, (os.getpid(), signal.SIGTERM))
    started = time.monotonic()
    timer.start()
    status = run_until_stopped({"web": SLEEPER, "worker": SLEEPER}, say=said.append)
    assert status == 0
    assert time.monotonic() - started < 10
    assert said == []


def test_a_child_that_ends_stops_the_others_with_its_status() -> None:
    """If the web server dies the worker is stopped too and the failure is reported."""
    said: list[str] = []
    failing = [sys.executable, "-c", "raise SystemExit(3)"]
    started = time.monotonic()
    status = run_until_stopped({"web server": failing, "worker": SLEEPER}, say=said.append)
    assert status == 3
    assert time.monotonic() - started < 10
    assert said == ["The web server stopped (exit status 3); stopping the rest."]


def test_a_child_ignoring_sigterm_is_killed_after_the_grace_period() -> None:
    """A stuck child does not keep the demo from stopping."""
    said: list[str] = []
    stubborn = [
        sys.executable,
        "-c",
        "import signal, time; signal.signal(signal.SIGTERM, signal.SIG_IGN); time.sleep(60)",
    ]
    quitter = [sys.executable, "-c", "import time; time.sleep(1.5)"]
    status = run_until_stopped(
        {"worker": quitter, "web": stubborn}, say=said.append, grace_seconds=1
    )
    assert status == 1
    assert said[-1] == "The web did not stop within 1 s; killing it."


def test_the_demo_runs_the_serve_and_worker_commands() -> None:
    """Both children are this installation's opencdmo commands."""
    commands = server_commands("127.0.0.1:9999")
    assert commands["web server"][-4:] == ["opencdmo.cli", "serve", "--bind", "127.0.0.1:9999"]
    assert commands["task worker"][-2:] == ["opencdmo.cli", "worker"]
