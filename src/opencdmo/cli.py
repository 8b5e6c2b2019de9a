"""The ``opencdmo`` command.

Engine subcommands (``plan``, ``monitor``, ``spc``, ``simulate``) run without Django, a
database or a web server; they are imported lazily so that ``opencdmo plan`` starts fast.
Every other subcommand is a Django management command run against the configured database.
"""

from __future__ import annotations

import importlib
import os
import sys

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
    "audit": "Audit-trail tools (audit verify).",
    "createuser": "Create a user in an organisation with a role.",
    "migrate": "Create or update the database schema.",
}


def _usage() -> str:
    lines = ["usage: opencdmo COMMAND [options]", "", "Commands without a database:"]
    lines += [f"  {name:<11} {help_}" for name, (_, help_) in ENGINE_COMMANDS.items()]
    lines += ["", "Platform commands:"]
    lines += [f"  {name:<11} {help_}" for name, help_ in PLATFORM_COMMANDS.items()]
    lines += ["", "Run 'opencdmo COMMAND --help' for the options of one command."]
    return "\n".join(lines)


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
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "opencdmo.settings")
    from django.core.management import execute_from_command_line

    execute_from_command_line(["opencdmo", command, *rest])
    return 0


if __name__ == "__main__":
    sys.exit(main())
