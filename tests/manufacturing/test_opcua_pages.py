"""OPC UA connections as recorded and as the pages show them (test client, no server)."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest
from django.core.exceptions import ValidationError
from django.test import Client
from django_scopes import scopes_disabled

from opencdmo.analytics.services import set_data_sharing
from opencdmo.audit.models import AuditEntry
from opencdmo.core.tables import Table
from opencdmo.manufacturing import services
from opencdmo.manufacturing.models import OpcConnection
from opencdmo.manufacturing.opcua.connections import (
    create_connection,
    feeding,
    password_of,
    write_status,
)

NODES = [{"node_id": "ns=2;s=A-101.ph", "lot": "A-101", "variable": "ph", "unit": "pH"}]


def _client(user: Any) -> Client:
    client = Client()
    client.force_login(user)
    return client


def _connection(plant: Any, **fields: Any) -> OpcConnection:
    with scopes_disabled():
        return create_connection(
            plant.sites["alpha-bio"],
            actor=plant.user("alpha-bio", "cdmo_msat"),
            name=fields.pop("name", "BR-1"),
            endpoint=fields.pop("endpoint", "opc.tcp://127.0.0.1:4840"),
            nodes=fields.pop("nodes", NODES),
            **fields,
        )


def test_a_connection_is_audited_and_its_password_stored_encrypted(plant: Any) -> None:
    """The password is not stored as typed but reads back; creation is on the audit trail."""
    connection = _connection(plant, username="operator", password="s3cret-password")
    assert "s3cret" not in connection.password_encrypted
    assert password_of(connection) == "s3cret-password"
    with scopes_disabled():
        assert AuditEntry.objects.filter(action="opencdmo.opc_connection.created").count() == 1


def test_a_password_from_the_environment_is_read_there(
    plant: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A record naming an environment variable stores no password; an unset one is named."""
    connection = _connection(plant, username="operator", password_env="BR1_PASSWORD")
    with pytest.raises(ValidationError, match="BR1_PASSWORD is not set"):
        password_of(connection)
    monkeypatch.setenv("BR1_PASSWORD", "from-the-environment")
    assert password_of(connection) == "from-the-environment"


@pytest.mark.parametrize(
    ("fields", "field", "words"),
    [
        ({"endpoint": "http://plant:4840"}, "endpoint", "opc.tcp://"),
        ({"nodes": []}, "nodes", "at least one node"),
        ({"nodes": [{"node_id": "ns=2;s=x", "variable": "ph"}]}, "nodes", "names no lot"),
        ({"security_policy": "Basic256Sha256"}, "security_mode", "Sign or SignAndEncrypt"),
    ],
)
def test_a_bad_connection_is_refused_naming_the_field(
    plant: Any, fields: dict[str, Any], field: str, words: str
) -> None:
    """Each rule names its field and nothing is recorded."""
    with pytest.raises(ValidationError) as refused:
        _connection(plant, **fields)
    assert words in " ".join(refused.value.message_dict[field])
    with scopes_disabled():
        assert not OpcConnection.objects.exists()


def test_the_connections_page_shows_health_to_the_cdmo_only(plant: Any) -> None:
    """A CDMO's user reads the collector's status; a sponsor is refused; another CDMO sees
    none of it."""
    connection = _connection(plant)
    write_status(connection.pk, connected=False, last_error="Nothing answers at opc.tcp://x.")
    page = _client(plant.user("alpha-bio", "cdmo_msat")).get("/connections/").content.decode()
    assert "BR-1" in page
    assert "Nothing answers at opc.tcp://x." in page
    assert (
        _client(plant.user("sponsor-one", "sponsor_manager")).get("/connections/").status_code
        == 403
    )
    other = _client(plant.user("beta-pharma", "cdmo_msat")).get("/connections/").content.decode()
    assert "BR-1" not in other


def test_a_running_batch_shows_its_last_values_and_the_link(plant: Any) -> None:
    """The CDMO sees the feeding connection's lag and each variable's newest value; the
    sponsor sees the values, not the CDMO's connection, once the CDMO shares raw data."""
    batch = plant.extra["batch/alpha-bio"]
    connection = _connection(plant)
    write_status(connection.pk, connected=True, lag_s=0.42, values_per_s=12.5)
    msat = plant.user("alpha-bio", "cdmo_msat")
    table = Table(
        "opc",
        {
            "time": np.array([0.0, 1.0]),
            "variable": np.array(["ph", "ph"], dtype=object),
            "value": np.array([7.0, 7.12]),
        },
        {"value": "pH"},
        np.arange(2, 4),
    )
    services.ingest_table(table, actor=msat, lot="A-101")
    assert [c.pk for c in feeding(batch)] == [connection.pk]
    page = _client(msat).get(f"/batches/{batch.pk}/").content.decode()
    assert 'data-testid="live-connections"' in page
    assert "lag 0.42 s" in page
    assert "7.12 pH" in page
    sponsor = _client(plant.user("sponsor-one", "sponsor_manager"))
    assert "7.12 pH" not in sponsor.get(f"/batches/{batch.pk}/").content.decode()
    set_data_sharing(msat, batch.project, share=True, reason="Raw data shared with the sponsor")
    shared = sponsor.get(f"/batches/{batch.pk}/").content.decode()
    assert "7.12 pH" in shared
    assert "live-connections" not in shared
