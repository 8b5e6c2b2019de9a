"""Rows per second of ``import_file`` and the logins of other users while it runs (not a test).

For each size, a throw-away database (an SQLite file, or a new PostgreSQL database beside the
URL given) is migrated and given two CDMOs: ``alpha-bio`` with an administrator, who imports
a CSV file of that many sites, and a planner; ``beta-pharma`` with an administrator. The
import runs in a process of its own and times ``import_file`` alone. Meanwhile this process
logs in every 0.2 s through Django's test client (the whole middleware stack, the session
and the audit entry of a login; the password is checked with a fast hasher, so that the
figure is the wait for the database and not Argon2's deliberate cost, which takes every
core), taking turns between beta-pharma's administrator
(another organisation) and alpha-bio's planner (the importing one, whose audit chain the
import appends to). Printed per size: rows/s of wall time and of the importing process's CPU
time (on a shared machine the first depends on what else runs; PostgreSQL's own work is not
in the second), and the p50 and max latency of those logins and their statuses.

    .venv/bin/python bench/import_sites.py [--database sqlite|postgres://…/db] \\
        [--sizes 5000 20000 100000]

Measured in December on the shared two-core development machine: see docs/import.md.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

from scratch import scratch_database

PASSWORD = "bench-password-long-enough"
HEADER = "owner,code,name,country,region,city,latitude,longitude,description"
LOGIN_EVERY_S = 0.2


def _write_sites(path: Path, rows: int) -> None:
    lines = [HEADER]
    lines += (
        f"alpha-bio,s{i},Alpha site {i},FR,europe,Lyon,{45 + i % 900 / 100:.2f},4.84,"
        f"Plant number {i} of the bench network"
        for i in range(rows)
    )
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")


def _setup_world() -> None:
    from django_scopes import scopes_disabled

    from opencdmo.accounts.models import Organisation, User

    with scopes_disabled():
        for slug, roles in (
            ("alpha-bio", ("cdmo_admin", "cdmo_planner")),
            ("beta-pharma", ("cdmo_admin",)),
        ):
            organisation = Organisation.objects.create(
                name=slug.replace("-", " ").title(), slug=slug, kind="cdmo"
            )
            for role in roles:
                user = User(username=f"{slug}.{role}", organisation=organisation, role=role)
                user.set_password(PASSWORD)
                user.save()


def _child(path: str) -> None:
    """The importing process: announce the start, import, print the seconds and the counts."""
    import django

    django.setup()
    from django_scopes import scopes_disabled

    from opencdmo.accounts.models import User
    from opencdmo.network.importer import import_file

    with scopes_disabled():
        actor = User.objects.select_related("organisation").get(username="alpha-bio.cdmo_admin")
    print("ready", flush=True)
    started, cpu_started = time.perf_counter(), time.process_time()
    report = import_file(path, actor=actor)
    seconds, cpu_s = time.perf_counter() - started, time.process_time() - cpu_started
    print(json.dumps({"seconds": seconds, "cpu_s": cpu_s, "ok": report.ok}))


def _logins(stop: threading.Event, results: list[tuple[str, int, float]]) -> None:
    """Log in every LOGIN_EVERY_S, by turns as another organisation's and the importer's."""
    from django.db import connection
    from django.test import Client

    users = ("beta-pharma.cdmo_admin", "alpha-bio.cdmo_planner")
    turn = 0
    try:
        while not stop.is_set():
            username = users[turn % 2]
            turn += 1
            client = Client(HTTP_HOST="localhost", raise_request_exception=False)
            started = time.perf_counter()
            response = client.post(
                "/login/", {"username": username, "password": PASSWORD}, secure=True
            )
            results.append((username, response.status_code, time.perf_counter() - started))
            stop.wait(max(0.0, LOGIN_EVERY_S - (time.perf_counter() - started)))
    finally:
        connection.close()


def _measure(rows: int, folder: str) -> dict[str, object]:
    """One size, in a process whose settings point at its fresh database."""
    import django

    django.setup()
    from django.conf import settings

    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    from opencdmo.network.importer import MAX_ROWS

    _setup_world()
    path = Path(folder) / "sites.csv"
    rows = min(rows, MAX_ROWS - 1)  # the header is a row too
    _write_sites(path, rows)
    from django.test import Client

    for username in ("beta-pharma.cdmo_admin", "alpha-bio.cdmo_planner"):
        # The first requests of a process load code and templates: not what is measured.
        Client(HTTP_HOST="localhost").post("/login/", {"username": username}, secure=True)
    child = subprocess.Popen(
        [sys.executable, __file__, "--child", str(path)], stdout=subprocess.PIPE, text=True
    )
    assert child.stdout is not None
    if child.stdout.readline().strip() != "ready":
        sys.exit("the importing process did not start")
    stop = threading.Event()
    results: list[tuple[str, int, float]] = []
    thread = threading.Thread(target=_logins, args=(stop, results))
    thread.start()
    outcome = json.loads(child.stdout.read())
    child.wait()
    stop.set()
    thread.join()
    latencies = [seconds for _, _, seconds in results]
    return {
        "rows": rows,
        "rows_per_s": rows / outcome["seconds"],
        "seconds": outcome["seconds"],
        "rows_per_cpu_s": rows / outcome["cpu_s"],
        "ok": outcome["ok"],
        "logins": len(results),
        "p50_s": statistics.median(latencies) if latencies else float("nan"),
        "max_s": max(latencies) if latencies else float("nan"),
        "statuses": sorted({status for _, status, _ in results}),
    }


def _run_size(database: str, rows: int) -> dict[str, object]:
    """Migrate a fresh database and measure one size against it in a process of its own."""
    with tempfile.TemporaryDirectory() as folder, scratch_database(database, "import") as url:
        env = {**os.environ, "OPENCDMO_DATA_DIR": folder, "DATABASE_URL": url}
        env["DJANGO_SETTINGS_MODULE"] = "opencdmo.settings"
        cli = [sys.executable, "-m", "opencdmo.cli"]
        subprocess.run([*cli, "migrate", "-v0"], env=env, check=True)
        out = subprocess.run(
            [sys.executable, __file__, "--measure", str(rows), "--folder", folder],
            env=env,
            check=True,
            capture_output=True,
            text=True,
        ).stdout
    return dict(json.loads(out.strip().splitlines()[-1]))


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--database", default="sqlite", help="sqlite or a PostgreSQL URL")
    parser.add_argument("--sizes", type=int, nargs="+", default=[5000, 20000, 100000])
    parser.add_argument("--child", help=argparse.SUPPRESS)
    parser.add_argument("--measure", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--folder", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        _child(args.child)
        return
    if args.measure:
        print(json.dumps(_measure(args.measure, args.folder)))
        return
    print(f"database: {'SQLite' if args.database == 'sqlite' else 'PostgreSQL'}")
    print(
        f"{'rows':>8} {'seconds':>8} {'rows/s':>8} {'rows/cpu-s':>11} {'logins':>7} "
        f"{'p50 s':>7} {'max s':>7}"
    )
    for rows in args.sizes:
        result = _run_size(args.database, rows)
        rejected = "" if result["ok"] else "  (import rejected!)"
        print(
            f"{result['rows']:>8} {result['seconds']:>8.1f} {result['rows_per_s']:>8.0f} "
            f"{result['rows_per_cpu_s']:>11.0f} "
            f"{result['logins']:>7} {result['p50_s']:>7.3f} {result['max_s']:>7.3f}  "
            f"statuses {result['statuses']}{rejected}",
            flush=True,
        )


if __name__ == "__main__":
    main()
