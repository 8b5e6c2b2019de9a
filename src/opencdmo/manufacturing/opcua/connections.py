"""OPC UA connections of a site: recorded and changed through the audited services.

A connection's password is stored encrypted (Fernet, with a key derived from
``SECRET_KEY``), or not at all when the record names an environment variable of the
collector that holds it. The collector's status fields are written with a plain update:
they describe the link, not a batch record, and change every second.
"""

from __future__ import annotations

import base64
import csv
import io
import os
from typing import Any

from cryptography.fernet import Fernet, InvalidToken
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from django.conf import settings
from django.core.exceptions import ValidationError
from django_scopes import scopes_disabled

from opencdmo.core import services
from opencdmo.manufacturing.models import Batch, OpcConnection
from opencdmo.network.models import Site, Suite

__all__ = [
    "CONNECTION",
    "create_connection",
    "feeding",
    "nodes_from_text",
    "nodes_to_text",
    "password_of",
    "update_connection",
    "write_status",
]

NODE_COLUMNS = ("node_id", "lot", "variable", "unit")

STATUS_FIELDS = (
    "connected",
    "status_at",
    "last_value_at",
    "lag_s",
    "values_per_s",
    "values_stored",
    "last_error",
)


def _node_rules(connection: OpcConnection) -> list[tuple[str, str]]:
    problems: list[tuple[str, str]] = []
    if not isinstance(connection.nodes, list) or not connection.nodes:
        return [("nodes", "List at least one node: node_id, lot (or none), variable, unit.")]
    seen: set[str] = set()
    for number, node in enumerate(connection.nodes, start=1):
        if not isinstance(node, dict):
            problems.append(("nodes", f"Node {number} is not an object with node_id and variable."))
            continue
        for key in ("node_id", "variable"):
            if not str(node.get(key, "")).strip():
                problems.append(("nodes", f"Node {number} has no {key}."))
        if node.get("node_id") in seen:
            problems.append(("nodes", f"Node {number}: {node['node_id']} is listed twice."))
        seen.add(str(node.get("node_id")))
        if not node.get("lot") and connection.suite_id is None:
            problems.append(
                (
                    "nodes",
                    f"Node {number} names no lot; give one, or a suite whose running batch "
                    "takes the values.",
                )
            )
    return problems


def _rules(connection: OpcConnection) -> list[tuple[str, str]]:
    problems = _node_rules(connection)
    if not connection.endpoint.startswith("opc.tcp://"):
        problems.append(("endpoint", "The endpoint must start with opc.tcp://."))
    if connection.suite_id and connection.suite.site_id != connection.site_id:
        problems.append(("suite", f"The suite {connection.suite} is not at {connection.site}."))
    secure = connection.security_policy != OpcConnection.Security.NONE
    if secure and connection.security_mode == OpcConnection.Mode.NONE:
        problems.append(("security_mode", "Basic256Sha256 needs the mode Sign or SignAndEncrypt."))
    if secure and not (connection.certificate_path and connection.private_key_path):
        problems.append(
            ("certificate_path", "Basic256Sha256 needs the client's certificate and private key.")
        )
    if not secure and connection.security_mode != OpcConnection.Mode.NONE:
        problems.append(("security_mode", "The security policy None takes the mode None."))
    if connection.password_encrypted and connection.password_env:
        problems.append(("password_env", "Give a password or an environment variable, not both."))
    if connection.flush_interval_s <= 0:
        problems.append(("flush_interval_s", "Must be a positive number of seconds."))
    return problems


CONNECTION = services.Writable(
    OpcConnection,
    fields=(
        "suite",
        "name",
        "endpoint",
        "security_policy",
        "security_mode",
        "username",
        "password_encrypted",
        "password_env",
        "certificate_path",
        "private_key_path",
        "server_certificate_path",
        "nodes",
        "sampling_interval_ms",
        "flush_interval_s",
        "enabled",
    ),
    noun="opc_connection",
    rules=_rules,
)


def _fernet() -> Fernet:
    key = HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=b"opencdmo opc ua").derive(
        settings.SECRET_KEY.encode()
    )
    return Fernet(base64.urlsafe_b64encode(key))


def create_connection(
    site: Site,
    *,
    actor: Any,
    name: str,
    endpoint: str,
    nodes: list[dict[str, str]],
    suite: Suite | None = None,
    password: str = "",
    reason: str = "",
    **fields: Any,
) -> OpcConnection:
    """Record a connection of ``site``; ``password`` is stored encrypted."""
    if password:
        fields["password_encrypted"] = _fernet().encrypt(password.encode()).decode()
    return services.create(
        CONNECTION,
        actor=actor,
        reason=reason,
        default_reason=f"OPC UA connection {name} recorded",
        parent={"site": site},
        fields={"name": name, "endpoint": endpoint, "nodes": nodes, "suite": suite, **fields},
    )


def update_connection(
    connection: OpcConnection,
    *,
    actor: Any,
    reason: str,
    password: str | None = None,
    **changes: Any,
) -> OpcConnection:
    """Change a connection; ``password`` replaces the stored one (``""`` clears it, ``None``
    keeps it). The audit entry records that the encrypted password changed, never its value."""
    if password is not None:
        changes["password_encrypted"] = (
            _fernet().encrypt(password.encode()).decode() if password else ""
        )
    return services.update(CONNECTION, connection, actor=actor, reason=reason, changes=changes)


def nodes_from_text(text: str) -> list[dict[str, str]]:
    """Nodes written one per line as ``node_id, lot, variable, unit`` (lot may be empty; a
    value holding a comma, such as a node id, in double quotes); blank lines are skipped."""
    rows = csv.reader(io.StringIO(text), skipinitialspace=True)
    nodes = []
    for number, row in enumerate(rows, start=1):
        cells = [cell.strip() for cell in row]
        if not any(cells):
            continue
        if len(cells) != len(NODE_COLUMNS):
            raise ValidationError(
                {
                    "nodes": f"Line {number}: give {len(NODE_COLUMNS)} values "
                    f"({', '.join(NODE_COLUMNS)}), not {len(cells)}."
                }
            )
        nodes.append(dict(zip(NODE_COLUMNS, cells, strict=True)))
    return nodes


def nodes_to_text(nodes: list[dict[str, str]]) -> str:
    """The nodes as :func:`nodes_from_text` reads them."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    for node in nodes:
        writer.writerow([node.get(column, "") for column in NODE_COLUMNS])
    return out.getvalue()


def password_of(connection: OpcConnection) -> str:
    """The password to log in with: decrypted, or read from the named variable."""
    if connection.password_env:
        value = os.environ.get(connection.password_env)
        if value is None:
            raise ValidationError(
                {"password_env": f"The environment variable {connection.password_env} is not set."}
            )
        return value
    if not connection.password_encrypted:
        return ""
    try:
        return _fernet().decrypt(connection.password_encrypted.encode()).decode()
    except InvalidToken:
        raise ValidationError(
            {"password_encrypted": "The stored password cannot be read with this server's key."}
        ) from None


def feeding(batch: Batch) -> list[OpcConnection]:
    """The connections whose nodes land in ``batch``: by its lot, or as the running batch of
    the connection's suite."""
    with scopes_disabled():
        candidates = OpcConnection.objects.filter(site_id=batch.site_id).order_by("name")
        return [
            connection
            for connection in candidates
            if any(
                node.get("lot") == batch.lot
                or (
                    not node.get("lot")
                    and connection.suite_id is not None
                    and connection.suite_id == batch.suite_id
                    and batch.state == "running"
                )
                for node in connection.nodes
                if isinstance(node, dict)
            )
        ]


def write_status(connection_id: int, **status: Any) -> None:
    """The collector's view of the link (connected, last value, lag, rate, last error)."""
    unknown = set(status) - set(STATUS_FIELDS)
    if unknown:
        raise ValueError(f"not status fields: {', '.join(sorted(unknown))}")
    with scopes_disabled():
        OpcConnection.objects.filter(pk=connection_id).update(**status)
