"""The demo's running batch fed live over OPC UA: a twin of it and a collector.

The twin simulates the running batch's reactor from its actual start, in real time, so the
collector first reads from the twin's history what happened since the seeded data ends
(hour 120 at seeding, more when the demo starts again days later), then stores a reading of
each variable every minute as it comes.
"""

from __future__ import annotations

import sys

from django_scopes import scopes_disabled

from opencdmo.core import services as core_services
from opencdmo.demo.batches import FINISHED
from opencdmo.manufacturing.models import Batch, OpcConnection
from opencdmo.manufacturing.opcua.connections import CONNECTION, create_connection
from opencdmo.manufacturing.opcua.twin import TWIN_VARIABLES, node_id

NAME = "Bioreactor twin"
TWIN_PORT_BASE = 40000
"""The twin listens on the web server's port plus this (8000 → 48000), so two demos on one
machine do not meet."""


def endpoint_for(bind: str) -> str:
    port = int(bind.rsplit(":", 1)[1]) if ":" in bind else 8000
    twin_port = (port + TWIN_PORT_BASE) % 65536
    return f"opc.tcp://127.0.0.1:{twin_port if twin_port >= 1024 else twin_port + 1024}"


def demo_connection(bind: str) -> tuple[Batch, OpcConnection] | None:
    """The connection of the demo's running batch at the twin's endpoint (recorded once)."""
    endpoint = endpoint_for(bind)
    with scopes_disabled():
        batch = (
            Batch.objects.filter(state="running", project__sponsor__is_demo=True)
            .select_related("site", "suite", "equipment")
            .order_by("actual_start")
            .first()
        )
        if batch is None or batch.actual_start is None:
            return None
        connection = OpcConnection.objects.filter(site=batch.site, name=NAME).first()
        if connection is None:
            nodes = [
                {
                    "node_id": node_id(batch.lot, m.name),
                    "lot": batch.lot,
                    "variable": m.name,
                    "unit": m.unit,
                }
                for m in TWIN_VARIABLES
            ]
            connection = create_connection(
                batch.site,
                actor=None,
                name=NAME,
                endpoint=endpoint,
                nodes=nodes,
                suite=batch.suite,
                sampling_interval_ms=1000,
                reason="Demo: the running batch's bioreactor over OPC UA",
            )
        elif connection.endpoint != endpoint:
            connection = core_services.update(
                CONNECTION,
                connection,
                actor=None,
                reason=f"Demo: the twin listens at {endpoint}",
                changes={"endpoint": endpoint},
            )
    return batch, connection


def twin_and_collector(bind: str) -> dict[str, list[str]]:
    """The commands of the demo's twin and collector (none without a running batch)."""
    found = demo_connection(bind)
    if found is None:
        return {}
    batch, connection = found
    assert batch.actual_start is not None
    volume_l = float(batch.equipment.working_volume_l or 2000.0) if batch.equipment else 2000.0
    cli = [sys.executable, "-m", "opencdmo.cli"]
    twin = [
        *cli,
        "twin",
        "--endpoint",
        connection.endpoint,
        "--lot",
        batch.lot,
        "--speed",
        "1",
        "--start",
        batch.actual_start.isoformat(),
        "--seed",
        str(FINISHED),
        "--volume-l",
        f"{volume_l:g}",
    ]
    return {
        "OPC UA twin": twin,
        "OPC UA collector": [*cli, "collect", "--connection", str(connection.pk)],
    }
