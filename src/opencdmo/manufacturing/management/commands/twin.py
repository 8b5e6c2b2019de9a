"""``opencdmo twin``: an OPC UA server of simulated bioreactor batches in accelerated time."""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
import os
import signal
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from opencdmo.engines.bioprocess import InvalidInputError
from opencdmo.manufacturing.opcua.twin import TWIN_VARIABLES, Twin, TwinConfig, parse_fault

PASSWORD_VARIABLE = "OPENCDMO_TWIN_PASSWORD"


def _instant(text: str) -> dt.datetime:
    try:
        instant = dt.datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        raise CommandError(f"--start: {text!r} is not an ISO 8601 instant") from None
    return instant if instant.tzinfo else instant.replace(tzinfo=dt.UTC)


class Command(BaseCommand):
    help = (
        "Serve simulated bioreactor batches over OPC UA: each lot's online sensors and in-line "
        "probes as variables ns=2;s=LOT.VARIABLE, their culture time running SPEED times the "
        "wall clock from hour 0 (--start), with history (HistoryRead) up to the present. The "
        "same seed, lots and start give the same values. Ctrl-C stops."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--endpoint",
            default="opc.tcp://127.0.0.1:4840",
            help="where to listen (default opc.tcp://127.0.0.1:4840)",
        )
        parser.add_argument(
            "--speed",
            type=float,
            default=600.0,
            help="culture seconds per wall-clock second (default 600: a 14-day batch in 34 min)",
        )
        parser.add_argument(
            "--lot",
            action="append",
            default=[],
            help="a lot to simulate, one reactor each; repeat for several (default TWIN-1)",
        )
        parser.add_argument(
            "--fault",
            action="append",
            default=[],
            metavar="KIND:START_H:END_H:MAGNITUDE",
            help="a labelled fault of the first lot, e.g. ph_probe_bias:100:200:0.15; repeatable",
        )
        parser.add_argument("--seed", type=int, default=0, help="seed of the run (default 0)")
        parser.add_argument(
            "--start", default="", help="hour 0 as an ISO 8601 instant (default: now)"
        )
        parser.add_argument(
            "--interval-s",
            type=float,
            default=60.0,
            help="culture seconds between readings (default 60)",
        )
        parser.add_argument(
            "--volume-l",
            type=float,
            default=2000.0,
            help="working volume of each reactor in L, 2-20000 (default 2000)",
        )
        parser.add_argument(
            "--user",
            default="",
            help=f"require this user name, with the password in ${PASSWORD_VARIABLE}",
        )
        parser.add_argument(
            "--certificate",
            default="",
            help="the server's certificate (DER or PEM): offer Basic256Sha256 only",
        )
        parser.add_argument("--private-key", default="", help="the certificate's private key (PEM)")

    def handle(self, *args: Any, **options: Any) -> None:
        logging.getLogger("asyncua").setLevel(logging.ERROR)
        password = os.environ.get(PASSWORD_VARIABLE, "")
        if options["user"] and not password:
            raise CommandError(f"--user needs the password in ${PASSWORD_VARIABLE}.")
        try:
            config = TwinConfig(
                endpoint=options["endpoint"],
                lots=tuple(options["lot"]) or ("TWIN-1",),
                speed=options["speed"],
                seed=options["seed"],
                faults=tuple(parse_fault(text) for text in options["fault"]),
                start=_instant(options["start"]) if options["start"] else None,
                interval_s=options["interval_s"],
                volume_l=options["volume_l"],
                username=options["user"],
                password=password,
                certificate_path=options["certificate"],
                private_key_path=options["private_key"],
            )
        except (ValueError, InvalidInputError) as exc:
            raise CommandError(str(exc)) from exc
        twin = Twin(config)
        self.stdout.write(
            f"Twin at {config.endpoint}: {', '.join(config.lots)}, {len(TWIN_VARIABLES)} "
            f"variables each, hour 0 at {twin.start.isoformat()}, speed {config.speed:g}."
        )
        self.stdout.flush()
        asyncio.run(self._serve(twin))

    async def _serve(self, twin: Twin) -> None:
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for signum in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(signum, stop.set)
        await twin.run(stop)
