"""``opencdmo collect``: store what OPC UA servers publish as batches' process data."""

from __future__ import annotations

import asyncio
import logging
import signal
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django_scopes import scopes_disabled

from opencdmo.manufacturing.models import OpcConnection
from opencdmo.manufacturing.opcua.collector import Collector


class Command(BaseCommand):
    help = (
        "Collect the OPC UA connections (every enabled one, or --connection ID): subscribe, "
        "buffer each value on disk, store it as process data, fill gaps from the server's "
        "history after a reconnect, and write each connection's health. Ctrl-C stops."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--once",
            action="store_true",
            help="connect, read the history since the newest stored value, store it and stop",
        )
        parser.add_argument(
            "--connection", type=int, default=None, metavar="ID", help="only this connection"
        )

    def handle(self, *args: Any, **options: Any) -> None:
        logging.getLogger("asyncua").setLevel(logging.CRITICAL)
        with scopes_disabled():
            query = OpcConnection.objects.filter(enabled=True)
            if options["connection"] is not None:
                query = OpcConnection.objects.filter(pk=options["connection"])
            connections = list(query.order_by("pk").values_list("pk", "name"))
        if not connections:
            which = f" {options['connection']}" if options["connection"] is not None else "s"
            raise CommandError(f"No OPC UA connection{which} to collect.")
        for pk, name in connections:
            self.stdout.write(f"Collecting connection {pk} ({name}).")
        self.stdout.flush()
        collectors = [Collector(pk, once=options["once"]) for pk, _ in connections]
        try:
            asyncio.run(self._collect(collectors))
        except Exception as exc:
            raise CommandError(str(exc)) from exc
        stored = sum(c.stored for c in collectors)
        self.stdout.write(f"Stored {stored:,} new value{'s' * (stored != 1)}.")

    async def _collect(self, collectors: list[Collector]) -> None:
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for signum in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(signum, stop.set)
        await asyncio.gather(*(collector.run(stop) for collector in collectors))
