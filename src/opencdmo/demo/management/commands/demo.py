"""``opencdmo demo``: migrate, seed the demo world, print the logins, run web and worker.

The worker is supervised: one that dies is started again and the web server keeps running.
"""

from __future__ import annotations

import io
import os
import sys
from collections.abc import Callable
from typing import Any

from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandError, CommandParser
from rich.console import Console
from rich.table import Table

from opencdmo.demo.opcua import twin_and_collector
from opencdmo.demo.processes import run_until_stopped
from opencdmo.demo.seed import DemoRefusedError, SeedResult, demo_logins, seed_demo_world


def server_commands(bind: str) -> dict[str, list[str]]:
    """The web server and two task workers, run with this installation's Python.

    Two workers answer a capacity request's sites two at a time while an import runs."""
    cli = [sys.executable, "-m", "opencdmo.cli"]
    return {
        "web server": [*cli, "serve", "--bind", bind],
        "task worker": [*cli, "worker"],
        "second task worker": [*cli, "worker"],
    }


def run_web_and_worker(bind: str, say: Callable[[str], None]) -> int:
    """Serve until a signal, starting a worker (or the OPC UA twin or collector) that stops
    again; the exit status."""
    # The demo serves plain HTTP on this machine with the public key: not production.
    os.environ["OPENCDMO_DEMO"] = "1"
    live = twin_and_collector(bind)
    return run_until_stopped(
        {**server_commands(bind), **live},
        say=say,
        supervise={"task worker", "second task worker", *live},
    )


def logins_table() -> Table:
    """One row per demo user, grouped by organisation."""
    table = Table(title="Demo logins", title_justify="left")
    for column in ("Organisation", "Kind", "Role", "Username", "Password"):
        table.add_column(column, no_wrap=True)
    previous = ""
    for login in demo_logins():
        if previous and login.organisation != previous:
            table.add_section()
        first = login.organisation != previous
        table.add_row(
            login.organisation if first else "",
            login.kind if first else "",
            login.role,
            login.username,
            login.password,
        )
        previous = login.organisation
    return table


def describe(result: SeedResult) -> str:
    c = result.counts
    world = (
        f"{c['cdmos']} CDMOs with {c['sites']} sites in {c['countries']} countries and "
        f"{c['regions']} regions ({c['suites']} suites, {c['equipment']} pieces of equipment, "
        f"{c['approvals']} approvals, {c['inspections']} inspections), {c['sponsors']} "
        f"sponsors, {c['users']} users; {c['plans']} published site plans, "
        f"{c['requests']} capacity requests, {c['projects']} project{'s' * (c['projects'] != 1)}"
    )
    if result.seeded:
        return f"Seeded the demo world in {result.seconds:.1f} s: {world}."
    return f"The demo world is already here, not seeding again: {world}."


class Command(BaseCommand):
    help = (
        "Create or update the database, seed the fictional demo world (only into an empty "
        "database; nothing is duplicated on a second run), print the demo logins, then run the "
        "web server and a task worker until Ctrl-C. A worker that stops is started again; "
        "on Ctrl-C the worker finishes its job or hands it back to the queue."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--bind", default="127.0.0.1:8000", help="address:port of the web server"
        )
        parser.add_argument(
            "--no-serve", action="store_true", help="seed and print the logins, start nothing"
        )

    def handle(self, *args: Any, **options: Any) -> None:
        call_command("migrate", interactive=False, verbosity=0)
        try:
            result = seed_demo_world()
        except DemoRefusedError as exc:
            raise CommandError(str(exc)) from exc
        self._print(logins_table())
        self.stdout.write(describe(result))
        if options["no_serve"]:
            return
        self.stdout.write(
            f"Open http://{options['bind']}/ and sign in with a login above. Ctrl-C stops."
        )
        self.stdout.flush()
        status = run_web_and_worker(options["bind"], say=self.stdout.write)
        if status:
            raise CommandError("The demo stopped because a server ended.", returncode=status)
        self.stdout.write("Stopped.")

    def _print(self, renderable: Table) -> None:
        """Render with rich, in colour only when the output is a terminal."""
        buffer = io.StringIO()
        Console(file=buffer, force_terminal=self.stdout.isatty(), width=120).print(renderable)
        self.stdout.write(buffer.getvalue(), ending="")
