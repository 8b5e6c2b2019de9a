"""Real ``opencdmo worker`` processes on a database of their own, killed on purpose.

Each test gets a fresh database (an SQLite file, or a new PostgreSQL database beside
``DATABASE_URL``), migrated by ``opencdmo migrate`` and holding one CDMO with one admin. The
test reads it directly (``sqlite3`` or ``psycopg``), so it can watch a job while a worker
runs it without going through Django.
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import sqlite3
import subprocess
import sys
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from tests.databases import fresh_database

CLI = [sys.executable, "-m", "opencdmo.cli"]
SITE_HEADER = "owner,code,name,country,region,city,latitude,longitude"

QUEUE_SCRIPT = """
import sys, django
django.setup()
from django.core.files.uploadedfile import SimpleUploadedFile
from django_scopes import scopes_disabled
from opencdmo.accounts.models import Organisation, User
from opencdmo.network.import_jobs import queue_import
with scopes_disabled():
    org, _ = Organisation.objects.get_or_create(
        slug="alpha-bio", defaults={"name": "Alpha Bio", "kind": "cdmo"}
    )
    user, _ = User.objects.get_or_create(
        username="alpha-admin", defaults={"organisation": org, "role": "cdmo_admin"}
    )
    path = sys.argv[1]
    with open(path, "rb") as handle:
        upload = SimpleUploadedFile(path.rsplit("/", 1)[-1], handle.read())
    print(queue_import(actor=user, upload=upload).pk)
"""


@dataclass
class JobWorld:
    """A migrated database, the environment that points the ``opencdmo`` command at it,
    and the workers started on it (stopped at the end of the test)."""

    env: dict[str, str]
    folder: Path
    database_url: str
    workers: list[subprocess.Popen[bytes]] = field(default_factory=list)

    def query(self, sql: str, *params: Any) -> list[tuple[Any, ...]]:
        """Rows of ``sql`` (with ``%s`` placeholders) read straight from the database."""
        if self.database_url.startswith("postgres"):
            import psycopg

            with psycopg.connect(self.database_url, autocommit=True) as connection:
                return list(connection.execute(sql, params).fetchall())
        with contextlib.closing(
            sqlite3.connect(self.folder / "opencdmo.sqlite3", timeout=20)
        ) as connection:
            return connection.execute(sql.replace("%s", "?"), params).fetchall()

    def job(self, job_id: int) -> dict[str, Any]:
        columns = ("status", "attempts", "summary", "task_id")
        row = self.query(
            f"SELECT {', '.join(columns)} FROM network_importjob WHERE id = %s", job_id
        )[0]
        return dict(zip(columns, row, strict=True))

    def task(self, task_id: str) -> dict[str, Any]:
        """The django-tasks result row (SQLite keeps a UUID as 32 hex digits)."""
        key = task_id if self.database_url else uuid.UUID(task_id).hex
        rows = self.query(
            "SELECT status, worker_ids FROM django_tasks_database_dbtaskresult WHERE id = %s", key
        )
        assert rows, f"no task result {task_id}"
        status, worker_ids = rows[0]
        if isinstance(worker_ids, str):
            worker_ids = json.loads(worker_ids)
        return {"status": status, "worker_ids": worker_ids}

    def queue_sites(self, count: int) -> int:
        """Queue the import of a generated file of ``count`` sites; the job's id."""
        path = self.folder / f"sites-{count}.csv"
        rows = [f"alpha-bio,s{i},Site {i},FR,europe,Lyon,45.76,4.84" for i in range(count)]
        path.write_text("\n".join([SITE_HEADER, *rows]) + "\n", encoding="utf-8")
        out = subprocess.run(
            [sys.executable, "-c", QUEUE_SCRIPT, str(path)],
            env={**self.env, "DJANGO_SETTINGS_MODULE": "opencdmo.settings"},
            check=True,
            capture_output=True,
            text=True,
        ).stdout
        return int(out.strip())

    def start_worker(self, **env: str) -> subprocess.Popen[bytes]:
        log = (self.folder / f"worker-{len(self.workers) + 1}.log").open("w")
        worker = subprocess.Popen(
            [*CLI, "worker", "--interval", "0.2"],
            env={**self.env, **env},
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        log.close()
        self.workers.append(worker)
        return worker

    def log(self) -> str:
        return "\n".join(p.read_text() for p in sorted(self.folder.glob("worker-*.log")))

    def wait_for(self, what: str, check: Callable[[], bool], timeout_s: float) -> float:
        """Seconds until ``check()`` held; fails the test after ``timeout_s``."""
        started = time.monotonic()
        while not check():
            if time.monotonic() - started > timeout_s:
                pytest.fail(f"{what} did not happen within {timeout_s:g} s\n{self.log()}")
            time.sleep(0.1)
        return time.monotonic() - started


@pytest.fixture
def job_world(tmp_path: Path) -> Iterator[JobWorld]:
    with fresh_database("jobs") as database_url:
        env = {**os.environ, "OPENCDMO_DATA_DIR": str(tmp_path), "DATABASE_URL": database_url}
        env.pop("DJANGO_SETTINGS_MODULE", None)
        subprocess.run([*CLI, "migrate", "-v0"], env=env, check=True, capture_output=True)
        world = JobWorld(env=env, folder=tmp_path, database_url=database_url)
        try:
            yield world
        finally:
            for worker in world.workers:
                if worker.poll() is None:
                    worker.send_signal(signal.SIGKILL)
                worker.wait()
