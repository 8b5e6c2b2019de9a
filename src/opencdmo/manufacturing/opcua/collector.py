"""The collector: OPC UA subscriptions → on-disk buffer → the process-data store.

One collector serves one connection. Values arrive through a subscription (a queue of up
to 10,000 per node on the server, so a burst between two publishes is kept) and are
appended to the buffer (:mod:`.buffer`) and fsynced before anything else happens to them.
Every ``flush_interval_s`` the buffer's closed segments are read (Arrow's CSV reader, no
work per value in Python) and ingested through ``manufacturing.services.ingest_table``: one
all-or-nothing ingestion of every lot, audited as the system, or one per lot when the store
refuses one; they are deleted once committed. Each lot's new version is a segment holding
only the values it adds, so a flush costs what it brings, not what the batch holds. The store skips a (batch, variable, time) it
already holds, so values delivered twice (after a crash, or by the backfill) land once.

After every (re)connect the collector reads each node's history (HistoryRead) from the
newest value it holds for that node, in the store or the buffer, to the present: what the
server recorded while the link was down fills the gap. A failed connect, a refused
security policy or refused credentials are written to the connection's status in words and
retried after 1 s, 2 s, 4 s … up to ``max_backoff_s``; the process keeps running.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import json
import logging
import time
from collections import defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
from asyncua import Client, ua
from asyncua.common.subscription import Subscription
from asyncua.crypto import security_policies
from django.conf import settings
from django.db import close_old_connections
from django.utils import timezone
from django_scopes import scopes_disabled

from opencdmo.core.files import FileStore
from opencdmo.core.tables import Table
from opencdmo.manufacturing import services
from opencdmo.manufacturing.models import Batch, OpcConnection
from opencdmo.manufacturing.opcua.buffer import Buffer, BufferedValue
from opencdmo.manufacturing.opcua.connections import password_of, write_status

__all__ = ["Collector", "buffer_folder", "describe_error"]

log = logging.getLogger(__name__)

SERVER_TIME = ua.NodeId(ua.Int32(ua.ObjectIds.Server_ServerStatus_CurrentTime))
QUEUE_PER_NODE = 10_000
EPOCH = dt.datetime(1970, 1, 1, tzinfo=dt.UTC)


def buffer_folder(connection_id: int) -> Path:
    """``<DATA_DIR>/opcua/connection-<id>``: the connection's buffer."""
    return Path(settings.DATA_DIR) / "opcua" / f"connection-{connection_id}"


@dataclass(frozen=True)
class Target:
    """Where one node's values land."""

    node_id: str
    lot: str
    variable: str
    unit: str


@dataclass
class Settings:
    """What the collector reads of its connection record (once per connect)."""

    id: int
    name: str
    endpoint: str
    security_policy: str
    security_mode: str
    username: str
    password: str
    certificate_path: str
    private_key_path: str
    server_certificate_path: str
    targets: list[Target]
    sampling_interval_ms: int
    flush_interval_s: float


def _buffered(values: pa.Table) -> list[BufferedValue]:
    """Rows of :meth:`Buffer.table` as the buffer writes them."""
    return [
        BufferedValue(
            row["lot"], row["variable"], row["unit"], row["timestamp"].isoformat(), row["value"]
        )
        for row in values.to_pylist()
    ]


def describe_error(error: BaseException, connection: Settings) -> str:
    """A failed connect or read, in words an operator acts on."""
    if isinstance(
        error,
        ua.uaerrors.BadUserAccessDenied
        | ua.uaerrors.BadIdentityTokenRejected
        | ua.uaerrors.BadIdentityTokenInvalid,
    ):
        who = f"user {connection.username}" if connection.username else "anonymous login"
        return f"The server refused the credentials of the {who} ({type(error).__name__})."
    if isinstance(
        error, ua.uaerrors.BadSecurityPolicyRejected | ua.uaerrors.BadSecurityModeRejected
    ) or "No matching endpoints" in str(error):
        return (
            f"The server refused the security policy {connection.security_policy} "
            f"(mode {connection.security_mode})."
        )
    if isinstance(error, ConnectionRefusedError):
        return f"Nothing answers at {connection.endpoint}: connection refused."
    if isinstance(error, TimeoutError | asyncio.TimeoutError):
        return f"{connection.endpoint} did not answer in time."
    if isinstance(error, OSError):
        return f"Cannot reach {connection.endpoint}: {error.strerror or error}."
    if isinstance(error, ua.UaStatusCodeError):
        return f"The server answered {type(error).__name__}: {error}."
    return f"{type(error).__name__}: {error}"


def _monitored_item(
    client: Client, node_id: str, handle: int, sampling_interval_ms: int
) -> ua.MonitoredItemCreateRequest:
    """A monitored item that reports every new source timestamp, even of an unchanged value
    (a probe reading 7.00 twice is two readings), queued on the server between publishes."""
    request = ua.MonitoredItemCreateRequest()
    request.ItemToMonitor = ua.ReadValueId(
        NodeId=client.get_node(node_id).nodeid, AttributeId=ua.AttributeIds.Value
    )
    request.MonitoringMode = ua.MonitoringMode.Reporting
    request.RequestedParameters = ua.MonitoringParameters(
        ClientHandle=ua.UInt32(handle),
        SamplingInterval=ua.Double(sampling_interval_ms),
        QueueSize=ua.UInt32(QUEUE_PER_NODE),
        DiscardOldest=True,
        Filter=ua.DataChangeFilter(Trigger=ua.DataChangeTrigger.StatusValueTimestamp),
    )
    return request


class _Collecting(Subscription):
    """A subscription that hands each publish's data changes over in one call."""

    def __init__(
        self, *args: Any, sink: Callable[[list[tuple[str, ua.DataValue]]], None], **kwargs: Any
    ) -> None:
        super().__init__(*args, **kwargs)
        self.sink = sink

    async def publish_callback(self, publish_result: ua.PublishResult) -> None:
        self.last_publish_at = time.monotonic()
        received: list[tuple[str, ua.DataValue]] = []
        for notification in publish_result.NotificationMessage.NotificationData or ():
            if not isinstance(notification, ua.DataChangeNotification):
                continue
            for item in notification.MonitoredItems:
                data = self._monitored_items.get(item.ClientHandle)
                if data is not None and data.node is not None:
                    received.append((data.node.nodeid.to_string(), item.Value))
        if received:
            self.sink(received)


@dataclass
class _Rates:
    """Values stored per second over the last minute, for the status."""

    window: list[tuple[float, int]] = field(default_factory=list)

    def add(self, count: int) -> float:
        now = time.monotonic()
        self.window.append((now, count))
        self.window = [(t, n) for t, n in self.window if now - t <= 60.0]
        span = max(now - self.window[0][0], 1.0)
        return sum(n for _, n in self.window) / span


class Collector:
    """Collects one connection until stopped; ``once``: connect, backfill, store, stop."""

    def __init__(
        self,
        connection_id: int,
        *,
        once: bool = False,
        max_backoff_s: float = 60.0,
        folder: Path | None = None,
    ) -> None:
        self.connection_id = connection_id
        self.once = once
        self.max_backoff_s = max_backoff_s
        self.buffer = Buffer(folder or buffer_folder(connection_id))
        self.complete_until: dict[str, dt.datetime] = {}
        """Per node: every value up to this instant is in the buffer or the store."""
        self.backfilled: set[str] = set()
        self.newest: dict[str, dt.datetime] = {}
        self.lots: dict[str, str] = {}
        self.received_at: list[float] = []
        self.connected = False
        self.stored = 0
        self.rates = _Rates()
        self.settings: Settings | None = None

    # --- database side (run in a thread) -----------------------------------------------------

    def _load(self) -> Settings:
        close_old_connections()
        with scopes_disabled():
            record = OpcConnection.objects.get(pk=self.connection_id)
            targets = [
                Target(
                    str(n["node_id"]),
                    str(n.get("lot") or ""),
                    str(n["variable"]),
                    str(n.get("unit") or ""),
                )
                for n in record.nodes
            ]
            return Settings(
                record.pk,
                record.name,
                record.endpoint,
                record.security_policy,
                record.security_mode,
                record.username,
                password_of(record),
                record.certificate_path,
                record.private_key_path,
                record.server_certificate_path,
                targets,
                record.sampling_interval_ms,
                record.flush_interval_s,
            )

    def _resolve_lots(self, connection: Settings) -> dict[str, str]:
        """Node id → lot: its own, or the batch running in the connection's suite now."""
        with scopes_disabled():
            record = OpcConnection.objects.select_related("site").get(pk=connection.id)
            running = (
                Batch.objects.filter(
                    cdmo_id=record.site.owner_id, suite_id=record.suite_id, state="running"
                )
                .order_by("-actual_start")
                .values_list("lot", flat=True)
                .first()
                if record.suite_id
                else None
            )
        return {t.node_id: t.lot or running or "" for t in connection.targets}

    def _stored_until(self, connection: Settings, lots: dict[str, str]) -> dict[str, dt.datetime]:
        """Per node, the instant of the newest value the store holds for it."""
        newest: dict[str, dt.datetime] = {}
        by_lot: dict[str, list[Target]] = defaultdict(list)
        for target in connection.targets:
            if lots.get(target.node_id):
                by_lot[lots[target.node_id]].append(target)
        with scopes_disabled():
            owner = OpcConnection.objects.select_related("site").get(pk=connection.id).site.owner_id
            batches = {b.lot: b for b in Batch.objects.filter(cdmo_id=owner, lot__in=list(by_lot))}
        for lot, targets in by_lot.items():
            batch = batches.get(lot)
            zero = batch and (batch.data_time_zero or batch.actual_start)
            if batch is None or zero is None:
                continue
            series = services.stored_series(batch)
            for target in targets:
                hours = series.time_h[series.variable == target.variable]
                if hours.size:
                    newest[target.node_id] = zero + dt.timedelta(hours=float(hours.max()))
        return newest

    def _deliver(self, segments: list[Path]) -> int:
        """Ingest the segments, every lot in one ingestion; the values newly stored.

        When the store refuses a lot (a batch no longer running, a value that contradicts a
        stored one) the lots are ingested one by one, and a refused one is set aside in
        ``rejected-*.tsv`` beside the buffer and named in the status; any other failure
        (the database away) leaves the segments for the next try.
        """
        close_old_connections()
        values = Buffer.table(segments)
        name = self.settings.name if self.settings else str(self.connection_id)
        refused: list[str] = []
        added = 0
        if values.num_rows:
            try:
                added = self._ingest(values, name)
            except services.IngestError:
                for lot in pc.unique(values.column("lot")).to_pylist():
                    part = values.filter(pc.equal(values.column("lot"), lot))
                    try:
                        added += self._ingest(part, name)
                    except services.IngestError as error:
                        kept = self.buffer.set_aside(_buffered(part))
                        refused.append(
                            f"{part.num_rows:,} values of {lot} refused ({error}); kept in {kept}"
                        )
        for segment in segments:
            self.buffer.delivered(segment)
        if refused:
            write_status(self.connection_id, last_error="; ".join(refused))
        return added

    @staticmethod
    def _ingest(values: pa.Table, name: str) -> int:
        """One all-or-nothing ingestion of ``values`` (each row's lot in its ``lot``)."""
        columns = {
            "lot": values.column("lot").to_numpy(zero_copy_only=False),
            "time": values.column("timestamp").to_numpy(),
            "variable": values.column("variable").to_numpy(zero_copy_only=False),
            "value": values.column("value").to_numpy(),
            "unit": values.column("unit").to_numpy(zero_copy_only=False),
        }
        table = Table(f"OPC UA {name}", columns, {}, np.arange(1, values.num_rows + 1))
        with scopes_disabled():
            report = services.ingest_table(
                table,
                actor=None,
                batch_column="lot",
                reason=f"Collected from OPC UA connection {name}",
            )
        return report.added

    @property
    def marks_path(self) -> Path:
        return self.buffer.folder / "complete-until.json"

    def _read_marks(self) -> dict[str, dt.datetime]:
        """What an earlier run knew complete; empty before the first run."""
        if not self.marks_path.exists():
            return {}
        stored = json.loads(self.marks_path.read_text())
        return {node: dt.datetime.fromisoformat(instant) for node, instant in stored.items()}

    def _write_marks(self) -> None:
        """Written only after the values it vouches for are fsynced in the buffer."""
        text = json.dumps(
            {node: instant.isoformat() for node, instant in self.complete_until.items()}
        )
        FileStore(self.buffer.folder).put(text.encode(), name=self.marks_path.name)

    # --- OPC UA side ---------------------------------------------------------------------------

    def _receive(self, received: Iterable[tuple[str, ua.DataValue]]) -> None:
        """Append values to the buffer (fsynced); then remember the newest time per node."""
        assert self.settings is not None
        targets = {t.node_id: t for t in self.settings.targets}
        values: list[BufferedValue] = []
        newest: dict[str, dt.datetime] = {}
        published: list[float] = []
        for node, data in received:
            target, lot, stamp = targets.get(node), self.lots.get(node), data.SourceTimestamp
            if target is None or not lot or stamp is None or data.Value is None:
                continue
            if data.StatusCode is not None and not data.StatusCode.is_good():
                continue
            value = data.Value.Value
            if not isinstance(value, int | float) or value != value:
                continue
            stamp = stamp if stamp.tzinfo else stamp.replace(tzinfo=dt.UTC)
            values.append(
                BufferedValue(lot, target.variable, target.unit, stamp.isoformat(), float(value))
            )
            newest[node] = max(stamp, newest.get(node, stamp))
            if data.ServerTimestamp is not None:
                published.append(data.ServerTimestamp.timestamp())
        if not self.buffer.append(values):
            return
        self.received_at.append(min(published) if published else time.time())
        for node, instant in newest.items():
            self.newest[node] = max(instant, self.newest.get(node, instant))
            if node in self.backfilled:
                self.complete_until[node] = self.newest[node]

    async def _connect(self, connection: Settings) -> Client:
        # asyncua's own probe gives the server one watchdog interval to answer; a busy
        # server (a long history read on a loaded machine) took more than its default 1 s.
        client = Client(connection.endpoint, timeout=30, watchdog_intervall=30.0)
        if connection.username:
            client.set_user(connection.username)
            client.set_password(connection.password)
        if connection.security_policy != "None":
            await client.set_security(
                security_policies.SecurityPolicyBasic256Sha256,
                connection.certificate_path,
                connection.private_key_path,
                server_certificate=connection.server_certificate_path or None,
                mode=getattr(ua.MessageSecurityMode, connection.security_mode),
            )
        await client.connect()
        return client

    async def _backfill(self, client: Client, connection: Settings) -> int:
        """Read each node's history from its newest held value to now, into the buffer."""
        count = 0
        for target in connection.targets:
            held = self.complete_until.get(target.node_id)
            # The value at the mark is held: a twin's or a restarted plant's reading of that
            # instant may differ in the last digit, and the store refuses a changed value.
            since = held + dt.timedelta(milliseconds=1) if held else EPOCH
            node = client.get_node(target.node_id)
            history = await node.read_raw_history(since, None)
            self._receive((target.node_id, value) for value in history)
            # The subscription ran before this read: from here on it continues the series.
            self.backfilled.add(target.node_id)
            if target.node_id in self.newest:
                self.complete_until[target.node_id] = self.newest[target.node_id]
            count += len(history)
        return count

    async def _session(self, stop: asyncio.Event) -> None:
        """One connection: subscribe, backfill, collect until the link or ``stop`` ends."""
        connection = self.settings = await asyncio.to_thread(self._load)
        self.lots = await asyncio.to_thread(self._resolve_lots, connection)
        self.backfilled = set()
        if not self.marks_path.exists():
            # The first run: what the store already holds (a batch ingested from files
            # before it was connected) counts as complete.
            self.complete_until = await asyncio.to_thread(self._stored_until, connection, self.lots)
            self._write_marks()
        elif not self.complete_until:
            self.complete_until = self._read_marks()
        client = await self._connect(connection)
        try:
            lost = asyncio.Event()

            async def on_lost(_: Exception) -> None:
                lost.set()

            client.connection_lost_callback = on_lost
            params = ua.CreateSubscriptionParameters(
                RequestedPublishingInterval=min(connection.sampling_interval_ms, 250),
                RequestedLifetimeCount=10_000,
                RequestedMaxKeepAliveCount=client.get_keepalive_count(250),
                MaxNotificationsPerPublish=0,
                PublishingEnabled=True,
                Priority=0,
            )
            subscription = _Collecting(client.uaclient.session, params, None, sink=self._receive)
            await subscription.init()
            await subscription.create_monitored_items(
                _monitored_item(client, target.node_id, handle, connection.sampling_interval_ms)
                for handle, target in enumerate(connection.targets, start=1)
            )
            await self._backfill(client, connection)
            self.connected = True
            await asyncio.to_thread(
                write_status, connection.id, connected=True, last_error="", status_at=timezone.now()
            )
            server_time = client.get_node(SERVER_TIME)
            while not stop.is_set() and not lost.is_set() and not self.once:
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(stop.wait(), 1.0)
                await asyncio.wait_for(server_time.read_value(), 30.0)
        finally:
            self.connected = False
            with contextlib.suppress(Exception):
                await asyncio.wait_for(client.disconnect(), 5.0)

    async def _connect_loop(self, stop: asyncio.Event) -> None:
        """Sessions one after another, backing off after each failure."""
        delay = 1.0
        while not stop.is_set():
            started = time.monotonic()
            try:
                await self._session(stop)
                if self.once:
                    return
            except Exception as error:
                if self.settings is None:
                    raise
                words = describe_error(error, self.settings)
                log.warning(
                    "OPC UA connection %s: %s",
                    self.settings.name,
                    words,
                )
                await asyncio.to_thread(
                    write_status,
                    self.connection_id,
                    connected=False,
                    last_error=words,
                    status_at=timezone.now(),
                )
                if self.once:
                    raise ConnectionError(words) from error
            if time.monotonic() - started > 30.0:
                delay = 1.0
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), delay)
            delay = min(delay * 2.0, self.max_backoff_s)

    async def flush(self) -> int:
        """Deliver every closed segment to the store and write the status; values added."""
        received = self.received_at
        self.received_at = []
        segments = self.buffer.rotate()
        if self.complete_until:
            self._write_marks()
        if not segments:
            return 0
        try:
            added = await asyncio.to_thread(self._deliver, segments)
        except Exception as error:
            log.warning("OPC UA connection %s: storing failed: %s", self.connection_id, error)
            self.received_at = received + self.received_at
            with contextlib.suppress(Exception):
                await asyncio.to_thread(
                    write_status,
                    self.connection_id,
                    last_error=f"Storing the values failed, they stay buffered: {error}",
                    status_at=timezone.now(),
                )
            return 0
        self.stored += added
        now = time.time()
        status: dict[str, Any] = {
            "connected": self.connected,
            "status_at": timezone.now(),
            "values_per_s": round(self.rates.add(added), 1),
            "values_stored": self.stored,
        }
        if received:
            status["lag_s"] = round(now - min(received), 3)
        if self.newest:
            status["last_value_at"] = max(self.newest.values())
        await asyncio.to_thread(write_status, self.connection_id, **status)
        return added

    async def _flush_loop(self, stop: asyncio.Event) -> None:
        while not stop.is_set():
            interval = self.settings.flush_interval_s if self.settings else 1.0
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), interval)
            await self.flush()

    async def run(self, stop: asyncio.Event | None = None) -> None:
        """Deliver what an earlier run left in the buffer, then collect until ``stop``."""
        stop = stop or asyncio.Event()
        await self.flush()
        if self.once:
            await self._connect_loop(stop)
            await self.flush()
            return
        flusher = asyncio.create_task(self._flush_loop(stop))
        try:
            await self._connect_loop(stop)
        finally:
            stop.set()
            await flusher
            await self.flush()
            self.buffer.close()
