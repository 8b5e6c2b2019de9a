"""``opencdmo serve``: the web application under gunicorn.

With debug off outside the local demo it refuses to start on the public demo key or without
explicit allowed hosts: one sentence naming the variable, exit status 2.
"""

from __future__ import annotations

import os
import sys
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandParser

MISCONFIGURED_STATUS = 2
# Django's deploy check calls a key weak below 50 characters or 5 different characters.
SECRET_KEY_MIN_LENGTH = 50
SECRET_KEY_MIN_DISTINCT = 5


def production_configuration_problem() -> str | None:
    """Why these settings may not serve production traffic, or None when they may."""
    if not settings.PRODUCTION:
        return None
    key = settings.SECRET_KEY
    if key == settings.PUBLIC_DEMO_SECRET_KEY:
        return (
            "Set OPENCDMO_SECRET_KEY to a random secret of at least 50 characters; "
            "the built-in key is public and only for the local demo."
        )
    if len(key) < SECRET_KEY_MIN_LENGTH or len(set(key)) < SECRET_KEY_MIN_DISTINCT:
        return "OPENCDMO_SECRET_KEY is too weak: use a random secret of at least 50 characters."
    if not settings.ALLOWED_HOSTS_SET:
        return (
            "Set OPENCDMO_ALLOWED_HOSTS to the comma-separated host names this server answers to."
        )
    return None


def gunicorn_argv(bind: str, workers: int, threads: int) -> list[str]:
    """The gunicorn command line for this installation's Python.

    Without ``--no-control-socket`` every gunicorn on a host would share the one control
    socket under the user's home folder; nothing here uses it.
    """
    return [
        sys.executable,
        "-m",
        "gunicorn",
        "opencdmo.wsgi:application",
        "--bind",
        bind,
        "--workers",
        str(workers),
        "--threads",
        str(threads),
        "--access-logfile",
        "-",
        "--graceful-timeout",
        "10",
        "--no-control-socket",
    ]


class Command(BaseCommand):
    help = "Start the web server (gunicorn) on --bind, default 127.0.0.1:8000."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--bind", default="127.0.0.1:8000", help="address:port to listen on")
        parser.add_argument("--workers", type=int, default=2, help="gunicorn worker processes")
        parser.add_argument("--threads", type=int, default=4, help="threads per worker")

    def handle(self, *args: Any, **options: Any) -> None:
        problem = production_configuration_problem()
        if problem is not None:
            self.stderr.write(problem)
            raise SystemExit(MISCONFIGURED_STATUS)
        argv = gunicorn_argv(options["bind"], options["workers"], options["threads"])
        os.execv(sys.executable, argv)
