"""The ``opencdmo`` command.

Engine subcommands (``plan``, ``monitor``, ``spc``, ``simulate``) run without Django, a
database or a web server; they are imported lazily so that ``opencdmo plan`` starts fast.
Every other subcommand is a Django management command run against the configured database
(found as ``opencdmo.locations`` says). Only ``migrate`` and ``demo`` may create that database;
the others stop with one sentence and exit status 2 when it is missing, unreachable or not
migrated, rather than leave an empty SQLite file in whatever folder they were run from.
"""

from __future__ import annotations

import importlib
import os
import sys
from collections.abc import Mapping
from pathlib import Path

from opencdmo import locations

ENGINE_COMMANDS: dict[str, tuple[str, str]] = {
    "plan": (
        "opencdmo.engines.planning.cli",
        "Solve STN, campaign, suite-scheduling and FJSP instances.",
    ),
    "monitor": (
        "opencdmo.engines.monitoring.cli",
        "Fit and score multivariate batch-monitoring models.",
    ),
    "spc": (
        "opencdmo.engines.monitoring.spc_cli",
        "Univariate statistical process control charts.",
    ),
    "simulate": ("opencdmo.engines.bioprocess.cli", "Simulate fed-batch CHO bioreactor runs."),
}

PLATFORM_COMMANDS: dict[str, str] = {
    "demo": "Migrate, seed the demo world and start the web server and a task worker.",
    "serve": "Start the web server.",
    "worker": "Start a background task worker.",
    "import": "Import sites, suites and equipment from CSV or Excel.",
    "ingest": "Ingest batch process data from CSV, Excel or Parquet files.",
    "export": "Export a batch's process data as long CSV.",
    "map-tag": "Map a site's plant tag to a process variable.",
    "twin": "Serve simulated bioreactor batches over OPC UA (the digital twin).",
    "collect": "Store what OPC UA connections publish as batch process data.",
    "audit": "Audit-trail tools (audit verify).",
    "notify": "Notification tools (notify digest: e-mail what is overdue).",
    "createuser": "Create a user in an organisation with a role.",
    "token": "Create, list and revoke API tokens (token create USER --name NAME).",
    "migrate": "Create or update the database schema.",
}

CREATES_DATABASE = frozenset({"migrate", "demo"})
NEEDS_NO_DATABASE = frozenset({"help", "version", "twin"})
NO_DATABASE_STATUS = 2
SETTINGS_MODULE = "opencdmo.settings"


def _usage() -> str:
    lines = ["usage: opencdmo COMMAND [options]", "", "Commands without a database:"]
    lines += [f"  {name:<11} {help_}" for name, (_, help_) in ENGINE_COMMANDS.items()]
    lines += ["", "Platform commands:"]
    lines += [f"  {name:<11} {help_}" for name, help_ in PLATFORM_COMMANDS.items()]
    lines += ["", "Run 'opencdmo COMMAND --help' for the options of one command."]
    return "\n".join(lines)


def missing_database(environ: Mapping[str, str]) -> str | None:
    """Why the SQLite database the settings would open is not there, or ``None``.

    Checked before Django loads the settings, because opening a missing SQLite file creates it.
    """
    if environ.get("DJANGO_SETTINGS_MODULE", SETTINGS_MODULE) != SETTINGS_MODULE:
        return None
    url = locations.database_url(environ)
    if not url.startswith("sqlite:"):
        return None
    path = Path(url.removeprefix("sqlite:///").removeprefix("sqlite://"))
    if path.is_file():
        return None
    if environ.get("DATABASE_URL"):
        return (
            f"No SQLite database at {path} (DATABASE_URL): correct DATABASE_URL, or run "
            "'opencdmo migrate' to create it."
        )
    if environ.get("OPENCDMO_DATA_DIR"):
        return (
            f"No opencdmo database in {path.parent} (OPENCDMO_DATA_DIR): point "
            f"OPENCDMO_DATA_DIR at the folder that holds {locations.SQLITE_FILE_NAME}, or run "
            "'opencdmo migrate' to create one there."
        )
    return (
        "No opencdmo database here: set OPENCDMO_DATA_DIR or DATABASE_URL, or run "
        "'opencdmo migrate' to create one in ./var."
    )


def _where(settings_dict: Mapping[str, object]) -> str:
    """The database named without its password: ``host:port/name`` or the SQLite path."""
    if not settings_dict.get("HOST"):
        return str(settings_dict["NAME"])
    port = f":{settings_dict['PORT']}" if settings_dict.get("PORT") else ""
    return f"{settings_dict['HOST']}{port}/{settings_dict['NAME']}"


def _first_reason(error: Exception) -> str:
    """The driver's reason in a few words, e.g. 'Connection refused'."""
    line = (str(error).strip().splitlines() or [type(error).__name__])[0]
    reason = line.rpartition("failed: ")[2].removeprefix("FATAL:").strip()
    return " ".join(reason.split()).rstrip(".")


def unusable_database() -> str | None:
    """Why the configured database cannot serve a command, or ``None`` when it can."""
    from django.db import DEFAULT_DB_ALIAS, Error, connections
    from django.db.migrations.executor import MigrationExecutor

    connection = connections[DEFAULT_DB_ALIAS]
    where = _where(connection.settings_dict)
    try:
        connection.ensure_connection()
        executor = MigrationExecutor(connection)
        has_tables = executor.recorder.has_table()
        pending = executor.migration_plan(executor.loader.graph.leaf_nodes()) if has_tables else []
    except Error as error:
        return f"Cannot connect to the database {where}: {_first_reason(error)}."
    if not has_tables:
        return (
            f"The database {where} has no opencdmo tables: run 'opencdmo migrate' to create them."
        )
    if pending:
        return (
            f"The database {where} lacks {len(pending)} migration(s) of this opencdmo version: "
            "run 'opencdmo migrate'."
        )
    return None


def _needs_existing_database(command: str, rest: list[str]) -> bool:
    asks_for_help = any(arg in {"-h", "--help", "--version"} for arg in rest)
    return not asks_for_help and command not in CREATES_DATABASE | NEEDS_NO_DATABASE


def _refuse(sentence: str) -> int:
    print(sentence, file=sys.stderr)
    return NO_DATABASE_STATUS


def main(argv: list[str] | None = None) -> int:
    """Dispatch to an engine CLI or to a Django management command."""
    args = list(sys.argv[1:] if argv is None else argv)
    if not args or args[0] in {"-h", "--help", "help"}:
        print(_usage())
        return 0
    command, rest = args[0], args[1:]
    if command in ENGINE_COMMANDS:
        module = importlib.import_module(ENGINE_COMMANDS[command][0])
        return int(module.main(rest) or 0)
    needs_database = _needs_existing_database(command, rest)
    if command == "demo":
        # The demo is not production: its seeding (mails to files) and its servers alike.
        os.environ.setdefault("OPENCDMO_DEMO", "1")
    from django.conf import settings

    if needs_database and not settings.configured:
        problem = missing_database(os.environ)
        if problem:
            return _refuse(problem)
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", SETTINGS_MODULE)
    import django
    from django.apps import apps
    from django.core.management import execute_from_command_line, get_commands

    if not apps.ready:
        django.setup()
    if needs_database and command in get_commands():
        problem = unusable_database()
        if problem:
            return _refuse(problem)
    execute_from_command_line(["opencdmo", command, *rest])
    return 0


if __name__ == "__main__":
    sys.exit(main())
