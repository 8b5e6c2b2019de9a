"""Sustained values per second from the OPC UA twin into the process-data store (not a test).

A throw-away SQLite database (or, with ``--database postgres://…``, a new PostgreSQL
database beside that URL) is migrated and given one CDMO project with ``--lots`` running
batches and one connection whose nodes are every variable of every lot (15 each). Then
``opencdmo twin`` serves the lots (``--speed`` culture seconds per second, a reading every
``--interval-s`` of culture time: lots × 15 × speed / interval values a second offered) and
``opencdmo collect`` stores them. After ``--warm-up-s`` this process reads, every second,
the values the store holds and the connection's lag, for ``--seconds``; it prints the
offered rate, the stored rate and the lag (median and max). The goal: at least 20,000
values a second with a lag of at most 2 s.

    .venv/bin/python bench/opcua.py [--lots 20] [--speed 4000] [--interval-s 60] \\
        [--seconds 60] [--database sqlite|postgres://…/db]

With ``--store-only`` no twin runs: this process writes buffer segments of one flush's
values (``lots`` × 15 × speed / interval, the readings of one second) and times the
collector's delivery of each to the store (``--flushes`` of them), which is what the
collector does every ``flush_interval_s``; the figures are the store's side alone.
"""

from __future__ import annotations

import argparse
import contextlib
import datetime as dt
import io
import json
import os
import signal
import socket
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from scratch import scratch_database

CLI = [sys.executable, "-m", "opencdmo.cli"]
VARIABLES = 15

SEED = """
import datetime as dt, json, sys, django
django.setup()
from django_scopes import scopes_disabled
from opencdmo.accounts.models import Organisation
from opencdmo.manufacturing.models import Batch
from opencdmo.manufacturing.opcua.connections import create_connection
from opencdmo.manufacturing.opcua.twin import TWIN_VARIABLES, node_id
from opencdmo.network.models import Site, Suite
from opencdmo.projects.models import Product, Project
start, endpoint, lots = dt.datetime.fromisoformat(sys.argv[1]), sys.argv[2], json.loads(sys.argv[3])
with scopes_disabled():
    cdmo = Organisation.objects.create(name="Bench CDMO", slug="bench-cdmo", kind="cdmo")
    sponsor = Organisation.objects.create(name="Bench Sponsor", slug="bench-sponsor", kind="sponsor")
    site = Site.objects.create(owner=cdmo, code="main", name="Bench site", country="US",
                               region="north_america", city="Boston", latitude=42, longitude=-71)
    product = Product.objects.create(owner=sponsor, name="mAb", modality="mab", phase="phase_2")
    project = Project.objects.create(name="Bench", sponsor=sponsor, cdmo=cdmo, site=site,
                                     product=product, scope="clinical", phase="phase_2")
    nodes = []
    for lot in lots:
        Batch.objects.create(cdmo=cdmo, project=project, lot=lot, site=site, state="running",
                             actual_start=start)
        nodes += [{"node_id": node_id(lot, m.name), "lot": lot, "variable": m.name,
                   "unit": m.unit} for m in TWIN_VARIABLES]
    print(create_connection(site, actor=None, name="bench", endpoint=endpoint, nodes=nodes).pk)
"""


def query(url: str, folder: Path, sql: str) -> list[tuple[Any, ...]]:
    if url:
        import psycopg

        with psycopg.connect(url, autocommit=True) as connection:
            return list(connection.execute(sql).fetchall())
    with contextlib.closing(sqlite3.connect(folder / "opencdmo.sqlite3", timeout=20)) as db:
        return db.execute(sql).fetchall()


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def store_only(lots: list[str], per_flush: int, flushes: int, url: str) -> None:
    """Time ``Collector._deliver`` on segments of ``per_flush`` readings of every node."""
    with tempfile.TemporaryDirectory() as temporary:
        folder = Path(temporary)
        os.environ.update(
            OPENCDMO_DATA_DIR=str(folder),
            DATABASE_URL=url,
            DJANGO_SETTINGS_MODULE="opencdmo.settings",
        )
        import django

        django.setup()
        from django.core.management import call_command

        from opencdmo.manufacturing.opcua.buffer import BufferedValue
        from opencdmo.manufacturing.opcua.collector import Collector
        from opencdmo.manufacturing.opcua.twin import TWIN_VARIABLES

        call_command("migrate", verbosity=0)
        start = dt.datetime(2026, 12, 1, tzinfo=dt.UTC)
        sys.argv = ["seed", start.isoformat(), "opc.tcp://127.0.0.1:4840", json.dumps(lots)]
        printed = io.StringIO()
        with contextlib.redirect_stdout(printed):
            exec(SEED, {})  # the seed above, run in this process
        collector = Collector(int(printed.getvalue()), folder=folder / "buffer")
        reading = 0
        for flush in range(flushes):
            values = []
            for _ in range(per_flush):
                stamp = (start + dt.timedelta(minutes=reading)).isoformat()
                reading += 1
                values += [
                    BufferedValue(lot, m.name, m.unit, stamp, float(reading))
                    for lot in lots
                    for m in TWIN_VARIABLES
                ]
            began = time.perf_counter()
            collector.buffer.append(values)
            added = collector._deliver(collector.buffer.rotate())
            took = time.perf_counter() - began
            print(
                f"flush {flush + 1}: {added:,} values of {len(lots)} lots stored in "
                f"{took:.2f} s ({added / took:,.0f} values/s)"
            )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--lots", type=int, default=20)
    parser.add_argument("--speed", type=float, default=4000.0)
    parser.add_argument("--interval-s", type=float, default=60.0)
    parser.add_argument("--seconds", type=float, default=60.0)
    parser.add_argument("--warm-up-s", type=float, default=15.0)
    parser.add_argument("--database", default=os.environ.get("DATABASE_URL", "sqlite"))
    parser.add_argument("--store-only", action="store_true")
    parser.add_argument("--flushes", type=int, default=8)
    args = parser.parse_args()
    lots = [f"BENCH-{n + 1:02d}" for n in range(args.lots)]
    offered = args.lots * VARIABLES * args.speed / args.interval_s
    if args.store_only:
        with scratch_database(args.database, "opcua") as url:
            per_flush = max(1, round(args.speed / args.interval_s))
            store_only(lots, per_flush, args.flushes, url)
        return
    with (
        tempfile.TemporaryDirectory() as temporary,
        scratch_database(args.database, "opcua") as url,
    ):
        folder = Path(temporary)
        env = {**os.environ, "OPENCDMO_DATA_DIR": str(folder), "DATABASE_URL": url}
        env.pop("DJANGO_SETTINGS_MODULE", None)
        subprocess.run([*CLI, "migrate", "-v0"], env=env, check=True)
        endpoint = f"opc.tcp://127.0.0.1:{free_port()}"
        start = dt.datetime.now(dt.UTC).replace(microsecond=0) + dt.timedelta(seconds=30)
        seeded = subprocess.run(
            [sys.executable, "-c", SEED, start.isoformat(), endpoint, json.dumps(lots)],
            env={**env, "DJANGO_SETTINGS_MODULE": "opencdmo.settings"},
            check=True,
            capture_output=True,
            text=True,
        )
        connection = int(seeded.stdout)
        lot_args = [a for lot in lots for a in ("--lot", lot)]
        twin = subprocess.Popen(
            [
                *CLI,
                "twin",
                "--endpoint",
                endpoint,
                "--speed",
                str(args.speed),
                "--start",
                start.isoformat(),
                "--interval-s",
                str(args.interval_s),
                *lot_args,
            ],
            env=env,
        )
        collector = subprocess.Popen(
            [*CLI, "collect", "--connection", str(connection)],
            env=env,
            stdout=subprocess.DEVNULL,
        )
        try:
            while dt.datetime.now(dt.UTC) < start + dt.timedelta(seconds=args.warm_up_s):
                time.sleep(0.5)
            samples: list[tuple[float, int, float | None]] = []
            began = time.monotonic()
            while time.monotonic() - began < args.seconds:
                stored = query(
                    url, folder, "SELECT COALESCE(SUM(added), 0) FROM manufacturing_processdatafile"
                )[0][0]
                lag = query(
                    url,
                    folder,
                    f"SELECT lag_s FROM manufacturing_opcconnection WHERE id = {connection}",
                )[0][0]
                samples.append((time.monotonic(), int(stored), lag))
                time.sleep(1.0)
        finally:
            for process in (collector, twin):
                process.send_signal(signal.SIGTERM)
                try:
                    process.wait(60)
                except subprocess.TimeoutExpired:
                    process.kill()
                    process.wait()
    seconds = samples[-1][0] - samples[0][0]
    rate = (samples[-1][1] - samples[0][1]) / seconds if seconds else 0.0
    lags = [lag for _, _, lag in samples if lag is not None]
    print(
        f"lots {args.lots}, {args.lots * VARIABLES} nodes, speed {args.speed:g}, "
        f"interval {args.interval_s:g} s, database {'PostgreSQL' if url else 'SQLite'}"
    )
    print(
        f"offered {offered:,.0f} values/s; stored {rate:,.0f} values/s over {seconds:.0f} s "
        f"(goal >= 20,000/s)"
    )
    if lags:
        print(f"lag median {statistics.median(lags):.2f} s, max {max(lags):.2f} s (goal <= 2 s)")


if __name__ == "__main__":
    main()
