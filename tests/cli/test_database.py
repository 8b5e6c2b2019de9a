"""Platform commands find the configured database or stop with one sentence and status 2.

These run the real ``opencdmo`` command in a temporary folder, as a user would outside the
repository; a missing database must not be created there as a side effect.
"""

from __future__ import annotations

import os
import socket
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

from opencdmo.cli import missing_database

OPENCDMO = Path(sys.executable).parent / "opencdmo"


def _run(folder: Path, *argv: str, **env: str) -> subprocess.CompletedProcess[str]:
    clean = {
        k: v
        for k, v in os.environ.items()
        if k not in {"DATABASE_URL", "OPENCDMO_DATA_DIR", "DJANGO_SETTINGS_MODULE"}
    }
    return subprocess.run(
        [str(OPENCDMO), *argv],
        cwd=folder,
        env=clean | env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def _one_sentence(result: subprocess.CompletedProcess[str]) -> str:
    assert result.returncode == 2, result.stderr
    assert "Traceback" not in result.stderr
    assert result.stdout == ""
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    return lines[0]


def _closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def test_command_outside_the_project_stops_without_creating_a_database(tmp_path: Path) -> None:
    """`opencdmo audit verify` in an empty folder says what to do and leaves the folder empty."""
    sentence = _one_sentence(_run(tmp_path, "audit", "verify"))
    assert sentence == (
        "No opencdmo database here: set OPENCDMO_DATA_DIR or DATABASE_URL, or run "
        "'opencdmo migrate' to create one in ./var."
    )
    assert list(tmp_path.iterdir()) == []


def test_data_dir_without_database_is_named(tmp_path: Path) -> None:
    """An OPENCDMO_DATA_DIR that holds no database is named in the sentence, and stays empty."""
    data_dir = tmp_path / "data"
    data_dir.mkdir()
    sentence = _one_sentence(
        _run(tmp_path, "token", "list", "ana", OPENCDMO_DATA_DIR=str(data_dir))
    )
    assert f"No opencdmo database in {data_dir} (OPENCDMO_DATA_DIR)" in sentence
    assert list(data_dir.iterdir()) == []


def test_unreachable_postgresql_is_one_sentence(tmp_path: Path) -> None:
    """A DATABASE_URL whose server does not answer gives the address and the reason, exit 2."""
    port = _closed_port()
    url = f"postgres://someone:secret-password@127.0.0.1:{port}/opencdmo"
    sentence = _one_sentence(
        _run(
            tmp_path,
            "createuser",
            "x",
            "--organisation",
            "o",
            "--role",
            "cdmo_qa",
            DATABASE_URL=url,
        )
    )
    assert sentence.startswith(f"Cannot connect to the database 127.0.0.1:{port}/opencdmo: ")
    assert "refused" in sentence.lower()
    assert "secret-password" not in sentence


def test_database_without_tables_asks_for_migrate(tmp_path: Path) -> None:
    """An existing but empty SQLite file is not mistaken for an opencdmo database."""
    (tmp_path / "var").mkdir()
    sqlite3.connect(tmp_path / "var" / "opencdmo.sqlite3").close()
    sentence = _one_sentence(_run(tmp_path, "worker"))
    assert sentence.endswith("has no opencdmo tables: run 'opencdmo migrate' to create them.")


def test_help_needs_no_database(tmp_path: Path) -> None:
    """`opencdmo token --help` works anywhere and creates no database."""
    result = _run(tmp_path, "token", "--help")
    assert result.returncode == 0, result.stderr
    assert "create" in result.stdout
    assert list(tmp_path.rglob("*.sqlite3")) == []


@pytest.mark.slow
def test_migrate_creates_the_database_that_later_commands_find(tmp_path: Path) -> None:
    """`opencdmo migrate` may create ./var/opencdmo.sqlite3; `audit verify` then finds it."""
    migrated = _run(tmp_path, "migrate")
    assert migrated.returncode == 0, migrated.stderr
    assert (tmp_path / "var" / "opencdmo.sqlite3").is_file()
    verified = _run(tmp_path, "audit", "verify")
    assert verified.returncode == 0, verified.stderr
    assert verified.stdout.startswith("OK: 0 audit entries")


@pytest.mark.parametrize(
    ("environ", "expected"),
    [
        ({}, "No opencdmo database here"),
        ({"OPENCDMO_DATA_DIR": "/nonexistent/data"}, "No opencdmo database in /nonexistent/data"),
        ({"DATABASE_URL": "sqlite:////nonexistent/x.sqlite3"}, "No SQLite database at"),
        ({"DATABASE_URL": "postgres://u@h/db"}, None),
        ({"DJANGO_SETTINGS_MODULE": "site.settings"}, None),
    ],
)
def test_missing_database_follows_the_documented_order(
    environ: dict[str, str], expected: str | None, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """DATABASE_URL first, then OPENCDMO_DATA_DIR, then ./var; other settings are not guessed."""
    monkeypatch.chdir(tmp_path)
    problem = missing_database(environ)
    if expected is None:
        assert problem is None
    else:
        assert problem is not None
        assert problem.startswith(expected)


def test_existing_sqlite_file_is_found(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A ./var/opencdmo.sqlite3 in the current folder is used without any setting."""
    monkeypatch.chdir(tmp_path)
    (tmp_path / "var").mkdir()
    (tmp_path / "var" / "opencdmo.sqlite3").touch()
    assert missing_database({}) is None
