"""``opencdmo ingest`` killed (SIGKILL) while it writes leaves nothing half-written: run again,
the batch holds every value of the file exactly once."""

from __future__ import annotations

import contextlib
import json
import os
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pyarrow.parquet as pq
import pytest

from tests.databases import fresh_database

pytestmark = pytest.mark.slow

CLI = [sys.executable, "-m", "opencdmo.cli"]
ROOT = Path(__file__).resolve().parents[2]
SEED = """
import django
django.setup()
from django_scopes import scopes_disabled
from tests.conftest import build_world
from tests.manufacturing.conftest import add_projects_and_batches
with scopes_disabled():
    add_projects_and_batches(build_world())
"""


def query(url: str, folder: Path, sql: str) -> list[tuple[object, ...]]:
    if url:
        import psycopg

        with psycopg.connect(url, autocommit=True) as connection:
            return list(connection.execute(sql).fetchall())
    with contextlib.closing(sqlite3.connect(folder / "opencdmo.sqlite3", timeout=20)) as db:
        return db.execute(sql).fetchall()


def test_a_killed_ingestion_leaves_nothing_half_written(tmp_path: Path) -> None:
    rows, tags = 8_000, 30
    values = np.round(np.random.default_rng(3).normal(50, 5, size=(rows, tags)), 3)
    lines = ["time," + ",".join(f"t{k}" for k in range(tags))]
    lines += [f"{i / 60!r}," + ",".join(map(repr, row)) for i, row in enumerate(values.tolist())]
    csv = tmp_path / "run.csv"
    csv.write_text("\n".join(lines) + "\n")
    with fresh_database("killed") as url:
        env = {**os.environ, "OPENCDMO_DATA_DIR": str(tmp_path), "DATABASE_URL": url}
        env.pop("DJANGO_SETTINGS_MODULE", None)
        subprocess.run([*CLI, "migrate", "-v0"], env=env, check=True, capture_output=True)
        subprocess.run(
            [sys.executable, "-c", SEED],
            env={**env, "DJANGO_SETTINGS_MODULE": "opencdmo.settings"},
            cwd=ROOT,
            check=True,
            capture_output=True,
        )
        ingest = [*CLI, "ingest", str(csv), "--as", "alpha-bio-cdmo_msat", "--batch", "A-101"]
        # Killed the moment its file starts to appear in the store: after the checks, while
        # the file is written or before its version is committed.
        store = tmp_path / "process-data"
        process = subprocess.Popen(ingest, env=env, stdout=subprocess.DEVNULL)
        while process.poll() is None and not any(store.rglob("*")):
            time.sleep(0.002)
        process.send_signal(signal.SIGKILL)
        assert process.wait() == -signal.SIGKILL, "the ingestion ended before it was killed"
        left = [p.name for p in store.rglob("*") if p.is_file()]
        subprocess.run(ingest, env=env, check=True, capture_output=True)
        registered = query(
            url,
            tmp_path,
            "SELECT f.version, f.path, f.parts, f.rows, f.added FROM "
            "manufacturing_processdatafile f ORDER BY f.version",
        )
    assert [row[0] for row in registered] == [1], "the killed run registered nothing"
    # What the killed run may have left (its file, never registered) is read by nobody.
    assert Path(str(registered[0][1])).name not in left
    added = sum(int(str(row[4])) for row in registered)
    assert added == int(str(registered[-1][3])) == rows * tags
    paths = {row[0]: str(row[1]) for row in registered}
    parts = registered[-1][2]
    parts = parts if isinstance(parts, list) else json.loads(str(parts))
    read = [pq.read_table(tmp_path / "process-data" / paths[version]) for version in parts]
    keys = np.concatenate(
        [
            np.char.add(
                np.array(t.column("variable").to_pylist(), dtype=str),
                np.char.mod("@%r", t.column("time_h").to_numpy()),
            )
            for t in read
        ]
    )
    assert keys.size == rows * tags == np.unique(keys).size
