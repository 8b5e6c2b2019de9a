"""Load test: gunicorn + PostgreSQL with the demo world, 50 concurrent clients (wrk).

Prints p50/p95/p99 latency, throughput, errors and the gunicorn processes' CPU time per
request (the figure that other work on a shared machine skews least) for the directory page,
a site page and the sites API, after a 3 s warm-up of each (every gunicorn worker loads templates and code). Uses ``DATABASE_URL`` when set, otherwise starts a throw-away PostgreSQL
cluster on a loopback port (needs the Debian ``postgresql`` package and root, as CI has).

    .venv/bin/python bench/load.py [--connections 50] [--duration 15]
"""

from __future__ import annotations

import argparse
import contextlib
import os
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
WRK_SCRIPT = """
done = function(summary, latency, requests)
  local e = summary.errors
  io.write(string.format("RESULT %d %d %d %d %d %d %d\\n",
    latency:percentile(50), latency:percentile(95), latency:percentile(99),
    summary.requests, summary.duration, e.status, e.connect + e.read + e.write + e.timeout))
end
"""


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@contextlib.contextmanager
def postgres() -> Iterator[str]:
    """A DATABASE_URL: the caller's, or a temporary cluster's."""
    if os.environ.get("DATABASE_URL"):
        yield os.environ["DATABASE_URL"]
        return
    bins = sorted(Path("/usr/lib/postgresql").glob("*/bin"))
    if not bins:
        sys.exit("PostgreSQL is not installed: apt-get install postgresql, or set DATABASE_URL")
    pg_bin, port = bins[-1], _free_port()
    folder = Path(tempfile.mkdtemp(prefix="opencdmo-load-pg."))
    shutil.chown(folder, "postgres")
    run_as = ["runuser", "-u", "postgres", "--"]
    subprocess.run(
        [
            *run_as,
            str(pg_bin / "initdb"),
            "-D",
            str(folder / "data"),
            "-A",
            "trust",
            "-U",
            "postgres",
        ],
        check=True,
        capture_output=True,
    )
    options = f"-p {port} -k {folder} -c listen_addresses=127.0.0.1 -c max_connections=200"
    subprocess.run(
        [
            *run_as,
            str(pg_bin / "pg_ctl"),
            "-D",
            str(folder / "data"),
            "-l",
            str(folder / "log"),
            "-w",
            "-o",
            options,
            "start",
        ],
        check=True,
        capture_output=True,
    )
    createdb = [
        str(pg_bin / "createdb"),
        "-h",
        "127.0.0.1",
        "-p",
        str(port),
        "-U",
        "postgres",
        "opencdmo",
    ]
    subprocess.run([*run_as, *createdb], check=True, capture_output=True)
    try:
        yield f"postgres://postgres@127.0.0.1:{port}/opencdmo"
    finally:
        subprocess.run(
            [*run_as, str(pg_bin / "pg_ctl"), "-D", str(folder / "data"), "-m", "fast", "stop"],
            capture_output=True,
        )
        shutil.rmtree(folder, ignore_errors=True)


def _prepare(env: dict[str, str]) -> tuple[str, str, int]:
    """Create the database, seed the demo world; return a session cookie, a token and a site id."""
    python = sys.executable
    subprocess.run(
        [python, "-m", "opencdmo.cli", "demo", "--no-serve"],
        env=env,
        check=True,
        capture_output=True,
    )
    code = """
import django; django.setup()
from django.contrib.sessions.backends.db import SessionStore
from django_scopes import scopes_disabled
from opencdmo.accounts.models import User
from opencdmo.accounts import services
from opencdmo.network.models import Site
with scopes_disabled():
    user = User.objects.filter(role="sponsor_manager").order_by("username").first()
    session = SessionStore()
    session["_auth_user_id"] = str(user.pk)
    session["_auth_user_backend"] = "opencdmo.accounts.backends.LockoutBackend"
    session["_auth_user_hash"] = user.get_session_auth_hash()
    session.set_expiry(3600)
    session.create()
    _, secret = services.issue_token(user, "load test")
    print(session.session_key, secret, Site.objects.order_by("pk").values_list("pk", flat=True)[7])
"""
    env = {**env, "DJANGO_SETTINGS_MODULE": "opencdmo.settings"}
    out = subprocess.run([python, "-c", code], env=env, check=True, capture_output=True, text=True)
    session_key, secret, site_id = out.stdout.split()
    return session_key, secret, int(site_id)


def _cpu_seconds(root_pid: int) -> float:
    """User + system CPU seconds of ``root_pid`` and all its descendants (Linux ``/proc``)."""
    parents: dict[int, int] = {}
    ticks: dict[int, int] = {}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        with contextlib.suppress(OSError, ValueError, IndexError):
            fields = stat.read_text().rsplit(")", 1)[1].split()
            pid = int(stat.parent.name)
            parents[pid], ticks[pid] = int(fields[1]), int(fields[11]) + int(fields[12])
    tree, grown = {root_pid}, True
    while grown:
        children = {pid for pid, parent in parents.items() if parent in tree} - tree
        tree |= children
        grown = bool(children)
    return sum(ticks.get(pid, 0) for pid in tree) / os.sysconf("SC_CLK_TCK")


def _load_average() -> str:
    """The 1, 5 and 15 minute load averages: other work on the machine skews every figure."""
    one, five, fifteen = os.getloadavg()
    return f"{one:.2f} {five:.2f} {fifteen:.2f} on {os.cpu_count()} cores"


def _wait_until_up(url: str, timeout_s: float = 120) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        with contextlib.suppress(OSError):
            urllib.request.urlopen(url, timeout=2)
            return
        time.sleep(0.3)
    sys.exit(f"server at {url} did not come up")


def _wrk(
    url: str, header: str, connections: int, duration_s: int, script: Path
) -> dict[str, float]:
    out = subprocess.run(
        [
            "wrk",
            "-t2",
            f"-c{connections}",
            f"-d{duration_s}s",
            "--timeout",
            "10s",
            "-H",
            header,
            "-s",
            str(script),
            url,
        ],
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    match = re.search(r"RESULT (\d+) (\d+) (\d+) (\d+) (\d+) (\d+) (\d+)", out)
    if match is None:
        sys.exit(f"could not read wrk output:\n{out}")
    p50, p95, p99, requests, duration_us, non2xx, socket_errors = (int(g) for g in match.groups())
    return {
        "p50_ms": p50 / 1000,
        "p95_ms": p95 / 1000,
        "p99_ms": p99 / 1000,
        "rps": requests / (duration_us / 1e6),
        "requests": requests,
        "errors": non2xx + socket_errors,
    }


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--connections", type=int, default=50)
    parser.add_argument("--duration", type=int, default=15, help="seconds per endpoint")
    parser.add_argument("--workers", type=int, default=4, help="gunicorn worker processes")
    parser.add_argument("--threads", type=int, default=2, help="threads per gunicorn worker")
    args = parser.parse_args()
    if shutil.which("wrk") is None:
        sys.exit("wrk is not installed: apt-get install wrk")
    with (
        postgres() as database_url,
        tempfile.TemporaryDirectory(prefix="opencdmo-load.") as data_dir,
    ):
        env = {**os.environ, "DATABASE_URL": database_url, "OPENCDMO_DATA_DIR": data_dir}
        session_key, secret, site_id = _prepare(env)
        port = _free_port()
        server = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "opencdmo.cli",
                "serve",
                "--bind",
                f"127.0.0.1:{port}",
                "--workers",
                str(args.workers),
                "--threads",
                str(args.threads),
            ],
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        try:
            base = f"http://127.0.0.1:{port}"
            _wait_until_up(f"{base}/login/")
            script = Path(data_dir) / "report.lua"
            script.write_text(WRK_SCRIPT)
            cookie, bearer = f"Cookie: sessionid={session_key}", f"Authorization: Bearer {secret}"
            targets = [
                ("directory page  /sites/", f"{base}/sites/", cookie),
                (f"site page       /sites/{site_id}/", f"{base}/sites/{site_id}/", cookie),
                ("sites API       /api/v1/sites", f"{base}/api/v1/sites", bearer),
            ]
            print(
                f"gunicorn {args.workers} workers × {args.threads} threads, PostgreSQL, {args.connections} concurrent clients, {args.duration} s each"
            )
            print(f"load before: {_load_average()}")
            print(
                f"{'endpoint':<34}{'req/s':>8}{'p50 ms':>9}{'p95 ms':>9}{'p99 ms':>9}{'errors':>8}"
                f"{'server CPU ms/req':>19}"
            )
            for _, url, header in targets:
                _wrk(url, header, args.connections, 3, script)
            for label, url, header in targets:
                cpu_before = _cpu_seconds(server.pid)
                r = _wrk(url, header, args.connections, args.duration, script)
                cpu_ms = (_cpu_seconds(server.pid) - cpu_before) * 1000 / max(r["requests"], 1)
                print(
                    f"{label:<34}{r['rps']:>8.0f}{r['p50_ms']:>9.1f}{r['p95_ms']:>9.1f}{r['p99_ms']:>9.1f}{r['errors']:>8}"
                    f"{cpu_ms:>19.1f}"
                )
            print(f"load after: {_load_average()}")
        finally:
            server.terminate()
            server.wait(timeout=20)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
