"""The OPC UA twin: simulated batches served live, in accelerated time, with history.

The bioprocess simulator computes each lot's whole run once (30 min control step, about a
second per lot); readings every ``interval_s`` of culture time are interpolated between its
steps with each sensor's own measurement noise, drawn from the seed, so a twin started
again with the same seed, lots and hour 0 serves the same values at the same times.

Culture time runs ``speed`` times faster than the wall clock from ``start``, the batch's
hour 0: a reading of hour ``h`` carries the source timestamp ``start + h`` and is written
when the accelerated clock passes it (its server timestamp is the wall-clock instant). The
server historizes every variable: HistoryRead answers every reading up to the twin's
present from the computed run, including readings that fell due while the twin was down,
as a plant historian keeps recording while its OPC UA server restarts.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import logging
import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, cast

import numpy as np
from asyncua import Server, ua
from asyncua.crypto.permission_rules import User, UserRole
from asyncua.server.history import HistoryStorageInterface
from asyncua.server.user_managers import UserManager

from opencdmo.engines.bioprocess import (
    OFFLINE_ASSAYS,
    ONLINE_SENSORS,
    BatchSpec,
    Fault,
    Measurement,
    SimulationSettings,
    bioreactor,
    simulate,
)

__all__ = ["NAMESPACE", "TWIN_VARIABLES", "Twin", "TwinConfig", "node_id"]

NAMESPACE = "urn:opencdmo:twin"
"""The namespace of the twin's nodes; the server gives it index 2."""

INLINE_PROBES: tuple[tuple[Measurement, str], ...] = tuple(
    (
        Measurement(f"{a.name}_inline", a.unit, a.absolute_sd, a.relative_sd, a.decimals),
        a.name,
    )
    for a in OFFLINE_ASSAYS
    if a.name in ("vcd_e6_per_ml", "glucose_g_l", "titer_g_l")
)
"""In-line probes (capacitance VCD, Raman glucose and titer) read the true values with the
offline assays' error; their own names keep them apart from the daily samples."""

TWIN_VARIABLES: tuple[Measurement, ...] = (*ONLINE_SENSORS, *(m for m, _ in INLINE_PROBES))
"""What the twin serves for each lot, in this order."""

SIMULATION = SimulationSettings(control_step_min=30, sensor_interval_min=30)

log = logging.getLogger(__name__)


def node_id(lot: str, variable: str) -> str:
    """The twin's node id of ``variable`` of ``lot``, as a collector's connection names it."""
    return f"ns=2;s={lot}.{variable}"


@dataclass(frozen=True)
class TwinConfig:
    """What the twin serves and how.

    ``speed`` is culture seconds per wall-clock second; ``interval_s`` culture seconds
    between readings; ``start`` the instant of hour 0 (now when not given); ``username``
    and ``password`` make the server refuse anonymous and other logins; ``certificate_path``
    (DER or PEM) and ``private_key_path`` (PEM) make it offer Basic256Sha256 only, Sign or
    SignAndEncrypt, and refuse clients without security.
    """

    endpoint: str = "opc.tcp://127.0.0.1:4840"
    lots: tuple[str, ...] = ("TWIN-1",)
    speed: float = 600.0
    seed: int = 0
    faults: tuple[Fault, ...] = ()
    start: dt.datetime | None = None
    interval_s: float = 60.0
    volume_l: float = 2000.0
    days: float = 14.0
    username: str = ""
    password: str = ""
    certificate_path: str = ""
    private_key_path: str = ""

    def __post_init__(self) -> None:
        if not self.lots or len(set(self.lots)) != len(self.lots):
            raise ValueError("lot: give at least one lot, each once")
        if not math.isfinite(self.speed) or self.speed <= 0:
            raise ValueError(f"speed: must be a positive number, got {self.speed!r}")
        if not math.isfinite(self.interval_s) or self.interval_s <= 0:
            raise ValueError(f"interval: must be a positive number, got {self.interval_s!r}")
        if not self.endpoint.startswith("opc.tcp://"):
            raise ValueError(f"endpoint: must start with opc.tcp://, got {self.endpoint!r}")
        if bool(self.certificate_path) != bool(self.private_key_path):
            raise ValueError("certificate: give the server's certificate and its private key")


@dataclass
class Readings:
    """Every reading of every lot: ``values[lot, variable, k]`` at ``k * interval_s``."""

    interval_s: float
    values: np.ndarray
    index: dict[str, tuple[int, int]] = field(default_factory=dict)
    """Node id string → (lot, variable) position."""

    @property
    def count(self) -> int:
        return int(self.values.shape[2])


def compute_readings(config: TwinConfig) -> Readings:
    """Simulate the lots and sample each variable every ``interval_s`` with its noise."""
    reactor = bioreactor(config.volume_l, "single_use")
    specs = [
        BatchSpec(lot, reactor, seed=config.seed + n, faults=config.faults if n == 0 else ())
        for n, lot in enumerate(config.lots)
    ]
    results = simulate(specs, SIMULATION)
    duration_h = float(results[0].time_h[-1])
    count = math.floor(duration_h * 3600.0 / config.interval_s) + 1
    grid_h = np.arange(count) * config.interval_s / 3600.0
    values = np.empty((len(config.lots), len(TWIN_VARIABLES), count))
    rng = np.random.default_rng(config.seed)
    for n, result in enumerate(results):
        for j, measurement in enumerate(TWIN_VARIABLES):
            if j < len(ONLINE_SENSORS):
                series = result.online[measurement.name]
            else:
                series = result.true[INLINE_PROBES[j - len(ONLINE_SENSORS)][1]]
            exact = np.interp(grid_h, result.time_h, series)
            noise = rng.standard_normal((2, count))
            noisy = (
                exact * (1.0 + measurement.relative_sd * noise[0])
                + measurement.absolute_sd * noise[1]
            )
            values[n, j] = np.round(noisy, measurement.decimals)
    index = {
        node_id(lot, m.name): (n, j)
        for n, lot in enumerate(config.lots)
        for j, m in enumerate(TWIN_VARIABLES)
    }
    return Readings(config.interval_s, values, index)


class _History(HistoryStorageInterface):
    """HistoryRead answered from the computed run, up to the twin's present reading."""

    def __init__(self, twin: Twin) -> None:
        super().__init__(max_history_data_response_size=10_000)
        self.twin = twin

    async def new_historized_node(self, node_id: Any, period: Any, count: int = 0) -> None:
        return None

    async def save_node_value(self, node_id: Any, datavalue: Any) -> None:
        return None

    async def read_node_history(
        self, node_id: ua.NodeId, start: Any, end: Any, nb_values: int
    ) -> tuple[list[ua.DataValue], dt.datetime | None]:
        position = self.twin.readings.index.get(node_id.to_string())
        if position is None:
            return [], None
        first = self.twin.reading_at_or_after(start) if _given(start) else 0
        last = self.twin.published
        if _given(end):
            last = min(last, self.twin.reading_at_or_after(end, strictly_after=True) - 1)
        limit = min(nb_values or self.max_history_data_response_size, 10_000)
        stop = min(last + 1, first + limit)
        values = [self.twin.data_value(position, k) for k in range(first, max(first, stop))]
        more = self.twin.timestamp(stop) if stop <= last else None
        return values, more

    async def new_historized_event(self, *args: Any, **kwargs: Any) -> None:
        return None

    async def save_event(self, event: Any) -> None:
        return None

    async def read_event_history(self, *args: Any, **kwargs: Any) -> tuple[list[Any], None]:
        return [], None

    async def stop(self) -> None:
        return None


def _given(instant: Any) -> bool:
    return isinstance(instant, dt.datetime) and instant.year > 1601


class _Logins(UserManager):
    def __init__(self, username: str, password: str) -> None:
        self.username, self.password = username, password

    def get_user(
        self,
        iserver: Any,
        username: str | None = None,
        password: str | None = None,
        certificate: Any = None,
    ) -> User | None:
        if username == self.username and password == self.password:
            return User(role=UserRole.User)
        return None


class _Reading(ua.DataValue):
    """A value the twin writes once and never changes: the server's copy of it for each
    monitored item (a deep copy, more than half the twin's time at 20,000 values a second)
    can be the value itself."""

    def __deepcopy__(self, memo: dict[int, Any]) -> _Reading:
        return self


class Twin:
    """An asyncua server publishing the readings as the accelerated clock reaches them."""

    def __init__(self, config: TwinConfig, readings: Readings | None = None) -> None:
        self.config = config
        self.readings = readings or compute_readings(config)
        self.start = config.start or dt.datetime.now(dt.UTC).replace(microsecond=0)
        self.published = -1
        self.server: Server | None = None
        self._nodes: list[tuple[ua.NodeId, tuple[int, int]]] = []
        self.ready = asyncio.Event()

    def timestamp(self, k: int) -> dt.datetime:
        """Source timestamp of reading ``k``: hour 0 plus its culture time."""
        return self.start + dt.timedelta(seconds=k * self.readings.interval_s)

    def reading_at_or_after(self, instant: dt.datetime, *, strictly_after: bool = False) -> int:
        seconds = (_aware(instant) - self.start).total_seconds() / self.readings.interval_s
        k = math.floor(seconds) + 1 if strictly_after else math.ceil(seconds)
        return max(0, k)

    def due(self, now: dt.datetime | None = None) -> int:
        """The last reading the accelerated clock has reached (-1 before hour 0)."""
        elapsed_s = ((now or dt.datetime.now(dt.UTC)) - self.start).total_seconds()
        k = math.floor(elapsed_s * self.config.speed / self.readings.interval_s + 1e-9)
        return min(k, self.readings.count - 1)

    def data_value(
        self, position: tuple[int, int], k: int, server_time: Any = None
    ) -> ua.DataValue:
        return _Reading(
            ua.Variant(
                float(self.readings.values[position[0], position[1], k]), ua.VariantType.Double
            ),
            SourceTimestamp=cast(ua.DateTime, self.timestamp(k)),
            ServerTimestamp=cast(ua.DateTime, server_time or dt.datetime.now(dt.UTC)),
        )

    async def setup(self) -> Server:
        logins = _Logins(self.config.username, self.config.password)
        server = Server(user_manager=logins if self.config.username else None)
        await server.init()
        server.set_endpoint(self.config.endpoint)
        server.set_server_name("opencdmo bioreactor twin")
        if self.config.certificate_path:
            await server.load_certificate(self.config.certificate_path)
            await server.load_private_key(self.config.private_key_path)
            server.set_security_policy(
                [
                    ua.SecurityPolicyType.Basic256Sha256_SignAndEncrypt,
                    ua.SecurityPolicyType.Basic256Sha256_Sign,
                ]
            )
        else:
            server.set_security_policy([ua.SecurityPolicyType.NoSecurity])
        if self.config.username:
            server.set_identity_tokens([ua.UserNameIdentityToken])
        namespace = await server.register_namespace(NAMESPACE)
        server.iserver.history_manager.set_storage(_History(self))
        objects = server.nodes.objects
        history_read = ua.AccessLevel.CurrentRead | ua.AccessLevel.HistoryRead
        for n, lot in enumerate(self.config.lots):
            folder = await objects.add_object(ua.NodeId(ua.String(lot), ua.Int16(namespace)), lot)
            for j, measurement in enumerate(TWIN_VARIABLES):
                node = await folder.add_variable(
                    ua.NodeId(ua.String(f"{lot}.{measurement.name}"), ua.Int16(namespace)),
                    measurement.name,
                    ua.Variant(math.nan, ua.VariantType.Double),
                )
                await node.write_attribute(
                    ua.AttributeIds.AccessLevel,
                    ua.DataValue(ua.Variant(int(history_read), ua.VariantType.Byte)),
                )
                await node.write_attribute(
                    ua.AttributeIds.Historizing,
                    ua.DataValue(ua.Variant(True, ua.VariantType.Boolean)),
                )
                await node.write_attribute(
                    ua.AttributeIds.Description,
                    ua.DataValue(ua.Variant(ua.LocalizedText(measurement.unit))),
                )
                self._nodes.append((node.nodeid, (n, j)))
        self.server = server
        return server

    async def publish_due(self) -> int:
        """Write every reading that fell due since the last call; how many were written."""
        assert self.server is not None
        due = self.due()
        if due <= self.published:
            return 0
        first = self.published + 1
        now = dt.datetime.now(dt.UTC)
        written = 0
        write = self.server.iserver.aspace.write_attribute_value
        for k in range(first, due + 1):
            for nodeid, position in self._nodes:
                await write(nodeid, ua.AttributeIds.Value, self.data_value(position, k, now))
                written += 1
        self.published = due
        return written

    async def run(self, stop: asyncio.Event | None = None, tick_s: float = 0.05) -> None:
        """Serve until ``stop`` is set (or forever); the run's end leaves the last values."""
        server = self.server or await self.setup()
        stop = stop or asyncio.Event()
        async with server:
            self.published = max(-1, self.due() - 1)
            self.ready.set()
            log.info("Twin serving %s at %s", ", ".join(self.config.lots), self.config.endpoint)
            while not stop.is_set():
                await self.publish_due()
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(stop.wait(), tick_s)


def _aware(instant: dt.datetime) -> dt.datetime:
    return instant if instant.tzinfo else instant.replace(tzinfo=dt.UTC)


def parse_fault(text: str) -> Fault:
    """``KIND:START_H:END_H:MAGNITUDE`` as a fault (``ph_probe_bias:100:200:0.15``)."""
    parts = text.split(":")
    if len(parts) != 4:
        raise ValueError(f"fault: {text!r} is not KIND:START_H:END_H:MAGNITUDE")
    try:
        start_h, end_h, magnitude = (float(p) for p in parts[1:])
    except ValueError:
        raise ValueError(
            f"fault: {text!r} has a start, end or magnitude that is no number"
        ) from None
    return Fault(parts[0], start_h, end_h, magnitude)


def lots_of(values: Sequence[str] | None) -> tuple[str, ...]:
    return tuple(values or ("TWIN-1",))
