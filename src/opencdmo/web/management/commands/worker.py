"""``opencdmo worker``: run background tasks from the database queue.

Beside the tasks, every worker looks after the jobs whose worker stopped (killed, or its
machine gone): each quarter lease it queues them again or marks them failed, see
``opencdmo.network.tasks`` for imports and ``opencdmo.core.leases`` for solves. SIGINT or SIGTERM lets the current task finish; a second one
stops it, and the job is handed back to the queue.
"""

from __future__ import annotations

import logging
import threading
from typing import Any

from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandParser
from django.db import DatabaseError, close_old_connections

from opencdmo.analytics.tasks import MODEL_FITS
from opencdmo.network.tasks import heartbeat_interval_s, recover_lost_imports
from opencdmo.projects.tasks import OPTION_SOLVES
from opencdmo.scheduling.tasks import NETWORK_SOLVES, SCENARIO_SOLVES

logger = logging.getLogger(__name__)


def look_after_lost_jobs(stop: threading.Event) -> None:
    """Recover lost jobs now and then every heartbeat interval until ``stop`` is set."""
    while True:
        close_old_connections()
        try:
            for line in recover_lost_imports():
                logger.warning(line)
            for solves in (OPTION_SOLVES, SCENARIO_SOLVES, NETWORK_SOLVES, MODEL_FITS):
                for line in solves.recover():
                    logger.warning(line)
        except DatabaseError as exc:
            # A busy or briefly unreachable database: the next round tries again.
            logger.info("Looking for lost jobs failed: %s", exc)
        if stop.wait(heartbeat_interval_s()):
            return


class Command(BaseCommand):
    help = (
        "Start a task worker that pulls solves, model fits, imports and reports from the database."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--queue", default="default", help="queue name to pull from")
        parser.add_argument("--interval", type=float, default=1.0, help="seconds between polls")

    def handle(self, *args: Any, **options: Any) -> None:
        stop = threading.Event()
        keeper = threading.Thread(
            target=look_after_lost_jobs, args=(stop,), name="lost-jobs", daemon=True
        )
        keeper.start()
        try:
            call_command("db_worker", queue_name=options["queue"], interval=options["interval"])
        finally:
            stop.set()
