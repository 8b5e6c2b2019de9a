"""Where opencdmo keeps its data: one rule shared by the settings and the ``opencdmo`` command.

The command checks the database before Django loads the settings, so that a platform command
run in the wrong folder stops with a sentence instead of creating an empty database there.

1. ``DATABASE_URL``, when set, names the database (PostgreSQL in production).
2. Otherwise the SQLite file ``opencdmo.sqlite3`` in ``OPENCDMO_DATA_DIR``,
3. which defaults to ``./var`` in the current folder.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path

SQLITE_FILE_NAME = "opencdmo.sqlite3"


def data_dir(environ: Mapping[str, str] = os.environ) -> Path:
    """Uploaded files, static files and the default SQLite database live here."""
    return Path(environ.get("OPENCDMO_DATA_DIR") or Path.cwd() / "var").resolve()


def database_url(environ: Mapping[str, str] = os.environ) -> str:
    """``DATABASE_URL``, else the SQLite file in the data folder."""
    return environ.get("DATABASE_URL") or f"sqlite:///{data_dir(environ) / SQLITE_FILE_NAME}"
