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


def _form(plant: Any, **fields: Any) -> dict[str, Any]:
    return {
        "site": plant.sites["alpha-bio"].pk,
        "suite": "",
        "name": "BR-2",
        "endpoint": "opc.tcp://10.0.0.5:4840/bioreactor",
        "security_policy": "None",
        "security_mode": "None",
        "username": "collector",
        "password": "typed-secret",
        "nodes": 'ns=2;s=A-101.ph, A-101, ph, pH\n"ns=2;s=A-101.do,raw", A-101, do_pct, %\n',
        "sampling_interval_ms": "500",
        "flush_interval_s": "1",
        "enabled": "on",
        "reason": "New bioreactor on the network",
        **fields,
    }


def test_a_cdmo_records_and_changes_a_connection_on_its_pages(plant: Any) -> None:
    """The form records nodes, an encrypted password and the reason; a change keeps the
    password unless a new one is typed or it is removed; every write is audited."""
    client = _client(plant.user("alpha-bio", "cdmo_msat"))
    assert client.get("/connections/new/").status_code == 200
    response = client.post("/connections/new/", _form(plant))
    assert response.status_code == 302
    with scopes_disabled():
        connection = OpcConnection.objects.get(name="BR-2")
        entry = AuditEntry.objects.get(action="opencdmo.opc_connection.created")
    assert connection.nodes[1] == {
        "node_id": "ns=2;s=A-101.do,raw",
        "lot": "A-101",
        "variable": "do_pct",
        "unit": "%",
    }
    assert password_of(connection) == "typed-secret"
    assert entry.reason == "New bioreactor on the network"
    assert "typed-secret" not in str(entry.after)
    page = client.get(f"/connections/{connection.pk}/edit/").content.decode()
    assert "ns=2;s=A-101.ph,A-101,ph,pH" in page
    assert "typed-secret" not in page
    changed = _form(plant, endpoint="opc.tcp://10.0.0.6:4840", password="", reason="Moved")
    assert client.post(f"/connections/{connection.pk}/edit/", changed).status_code == 302
    connection.refresh_from_db()
    assert connection.endpoint == "opc.tcp://10.0.0.6:4840"
    assert password_of(connection) == "typed-secret"
    cleared = _form(plant, password="", clear_password="on", reason="No login any more")
    client.post(f"/connections/{connection.pk}/edit/", cleared)
    connection.refresh_from_db()
    assert password_of(connection) == ""
    with scopes_disabled():
        assert AuditEntry.objects.filter(action="opencdmo.opc_connection.changed").count() == 2


@pytest.mark.parametrize(
    ("fields", "words"),
    [
        ({"nodes": "ns=2;s=x, A-101, ph\n"}, "Line 1: give 4 values"),
        ({"endpoint": "http://10.0.0.5"}, "must start with opc.tcp://"),
        ({"security_policy": "Basic256Sha256", "security_mode": "Sign"}, "certificate"),
        ({"reason": ""}, "This field is required"),
    ],
)
def test_a_bad_connection_form_says_why_and_records_nothing(
    plant: Any, fields: dict[str, Any], words: str
) -> None:
    response = _client(plant.user("alpha-bio", "cdmo_msat")).post(
        "/connections/new/", _form(plant, **fields)
    )
    assert response.status_code == 200
    assert words in response.content.decode()
    with scopes_disabled():
        assert not OpcConnection.objects.exists()
        assert not AuditEntry.objects.filter(action__startswith="opencdmo.opc_connection").exists()


def test_only_the_sites_cdmo_records_or_changes_its_connections(plant: Any) -> None:
    """A sponsor may not record one; another CDMO can neither use this one's site nor open
    its connection."""
    connection = _connection(plant)
    sponsor = _client(plant.user("sponsor-one", "sponsor_manager"))
    assert sponsor.get("/connections/new/").status_code == 403
    other = _client(plant.user("beta-pharma", "cdmo_msat"))
    assert other.get(f"/connections/{connection.pk}/edit/").status_code == 404
    response = other.post("/connections/new/", _form(plant))
    assert response.status_code == 200
    assert "Select a valid choice" in response.content.decode()
    with scopes_disabled():
        assert OpcConnection.objects.count() == 1


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
