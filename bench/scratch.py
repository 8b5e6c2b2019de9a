"""A throw-away database for a benchmark run, shared by the benchmarks that take
``--database``."""

from __future__ import annotations

import contextlib
import uuid
from collections.abc import Iterator


@contextlib.contextmanager
def scratch_database(url: str, prefix: str) -> Iterator[str]:
    """A new, empty PostgreSQL database beside ``url`` for the run, dropped after it; "" for
    SQLite (anything but a ``postgres`` URL: the bench's data folder holds the file)."""
    if not url.startswith("postgres"):
        yield ""
        return
    import psycopg

    base = url.rpartition("/")[0]
    name = f"opencdmo_bench_{prefix}_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(f"{base}/postgres", autocommit=True) as connection:
        connection.execute(f'CREATE DATABASE "{name}"')
    try:
        yield f"{base}/{name}"
    finally:
        with psycopg.connect(f"{base}/postgres", autocommit=True) as connection:
            connection.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
