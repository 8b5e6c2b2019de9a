"""``opencdmo demo`` keeps its web server up when the worker dies: the worker is started
again after a back-off, and on a signal it is asked twice to stop before it is killed."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
import urllib.request
from pathlib import Path

import pytest

from opencdmo.demo.processes import run_until_stopped
from tests.jobs.conftest import JobWorld

QUITTER = [sys.executable, "-c", "import time; time.sleep(0.3); raise SystemExit(5)"]
SLEEPER = [sys.executable, "-c", "import time; time.sleep(60)"]

DEMO_SCRIPT = """
import sys, django
django.setup()
from opencdmo.demo.management.commands.demo import run_web_and_worker
sys.exit(run_web_and_worker(sys.argv[1], say=lambda line: print(line, flush=True)))
"""


def _signal_self_after(seconds: float) -> threading.Timer:
    timer = threading.Timer(seconds, os.kill, (os.getpid(), signal.SIGTERM))
    timer.start()
    return timer


def test_a_supervised_child_that_ends_is_started_again_with_a_growing_back_off() -> None:
    """The worker ending does not stop the web server; it restarts after 1 s, then 2 s."""
    said: list[str] = []
    _signal_self_after(4.5)
    status = run_until_stopped(
        {"web server": SLEEPER, "task worker": QUITTER}, say=said.append, supervise={"task worker"}
    )
    assert status == 0
    assert said[:4] == [
        "The task worker stopped (exit status 5); starting it again in 1 s.",
        "Starting the task worker again.",
        "The task worker stopped (exit status 5); starting it again in 2 s.",
        "Starting the task worker again.",
    ]


def test_a_child_still_busy_near_the_end_of_the_grace_period_is_asked_again(
    tmp_path: Path,
) -> None:
    """A worker that finishes its job on the first SIGTERM gets a second one (to hand the
    job back) before the grace period ends, and is not killed when it then stops."""
    marker = tmp_path / "signals"
    busy = [
        sys.executable,
        "-c",
        "import signal, sys, time\n"
        "count = 0\n"
        "def stop(signum, frame):\n"
        "    global count\n"
        "    count += 1\n"
        f"    open({str(marker)!r}, 'w').write(str(count))\n"
        "    if count == 2: sys.exit(0)\n"
        "signal.signal(signal.SIGTERM, stop)\n"
        "while True: time.sleep(0.05)\n",
    ]
    said: list[str] = []
    _signal_self_after(1.0)
    started = time.monotonic()
    status = run_until_stopped({"task worker": busy}, say=said.append, grace_seconds=3)
    assert status == 0
    assert said == []
    assert marker.read_text() == "2"
    assert time.monotonic() - started < 5


def _children(pid: int) -> dict[int, str]:
    """Child process ids of ``pid`` with their command lines."""
    found = {}
    for task in Path(f"/proc/{pid}/task").iterdir():
        for child in (task / "children").read_text().split():
            cmdline = Path(f"/proc/{child}/cmdline").read_bytes().replace(b"\0", b" ")
            found[int(child)] = cmdline.decode()
    return found


def _worker_pid(pid: int) -> int | None:
    return next((c for c, cmd in _children(pid).items() if "worker" in cmd.split()), None)


def _answers(url: str) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=2) as response:
            return bool(response.status == 200)
    except OSError:
        return False


@pytest.mark.slow
def test_the_demo_server_keeps_answering_after_its_worker_is_killed(job_world: JobWorld) -> None:
    """kill -9 of the demo's worker: pages still load, and a new worker is started."""
    port = 8100 + os.getpid() % 100
    url = f"http://127.0.0.1:{port}/login/"
    log = job_world.folder / "demo.log"
    with log.open("w") as out:
        demo = subprocess.Popen(
            [sys.executable, "-c", DEMO_SCRIPT, f"127.0.0.1:{port}"],
            env={**job_world.env, "DJANGO_SETTINGS_MODULE": "opencdmo.settings"},
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    job_world.workers.append(demo)
    job_world.wait_for("The demo's web server answering", lambda: _answers(url), 20)
    job_world.wait_for("The demo's worker starting", lambda: _worker_pid(demo.pid) is not None, 5)
    first = _worker_pid(demo.pid)
    assert first is not None
    os.kill(first, signal.SIGKILL)
    deadline = time.monotonic() + 3
    while time.monotonic() < deadline:
        assert _answers(url), "the web server stopped answering after its worker was killed"
        time.sleep(0.3)
    second = _worker_pid(demo.pid)
    assert second not in (None, first)
    assert "The task worker stopped (exit status -9); starting it again in 1 s." in log.read_text()
    demo.send_signal(signal.SIGTERM)
    assert demo.wait(timeout=20) == 0
    assert not _answers(url)
