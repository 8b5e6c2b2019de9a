"""CSV and PDF exports hold exactly the page's filtered entries, labelled, and are audited."""

from __future__ import annotations

import csv
import io
from typing import Any

import pytest
from django.test import Client
from django_scopes import scopes_disabled
from pypdf import PdfReader

from opencdmo.audit import export
from opencdmo.audit import services as audit
from opencdmo.audit.models import AuditEntry
from opencdmo.network import services as network


def _csv(response: Any) -> tuple[bytes, list[dict[str, str]]]:
    body = b"".join(response.streaming_content)
    return body, list(csv.DictReader(io.StringIO(body.decode("utf-8-sig"))))


def _pdf_text(content: bytes) -> tuple[int, str]:
    reader = PdfReader(io.BytesIO(content))
    return len(reader.pages), "\n".join(page.extract_text() for page in reader.pages)


@pytest.fixture
def changed_world(world: Any) -> Any:
    """Alpha's planner raises a bioreactor's volume and a suite's grade; Beta changes its own."""
    planner = world.user("alpha-bio", "cdmo_planner")
    network.update_equipment(
        world.equipment["alpha-bio"], actor=planner, reason="Bigger bag", working_volume_l=15000.0
    )
    network.update_suite(
        world.suites["alpha-bio"], actor=planner, reason="HVAC requalified", gmp_grade="B"
    )
    network.update_suite(
        world.suites["beta-pharma"],
        actor=world.user("beta-pharma", "cdmo_planner"),
        reason="Beta's secret reason",
        gmp_grade="B",
    )
    return world


def _exports(world: Any) -> list[AuditEntry]:
    with scopes_disabled():
        return list(AuditEntry.objects.filter(action="opencdmo.audit_trail.exported"))


def test_csv_has_one_row_per_changed_field_with_labels(changed_world: Any, client_for: Any) -> None:
    """UTF-8 with BOM; chain, seq, time, actor, action label and code, field, old, new, hash."""
    world = changed_world
    response = client_for(world.user("alpha-bio", "cdmo_qa")).get("/audit/export.csv")
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert response["Content-Disposition"].startswith('attachment; filename="audit-trail-alpha-bio')
    body, rows = _csv(response)
    assert body.startswith(b"\xef\xbb\xbf")
    assert list(rows[0]) == export.CSV_HEADER
    volume = next(r for r in rows if r["Field code"] == "working_volume_l")
    assert volume["Field"] == "Working volume (L)"
    assert (volume["Old value"], volume["New value"]) == ("2000", "15,000")
    assert (volume["Action"], volume["Action code"]) == (
        "Equipment changed",
        "opencdmo.equipment.changed",
    )
    assert volume["Chain"] == audit.chain_key(world.orgs["alpha-bio"].pk)
    with scopes_disabled():
        entry = AuditEntry.objects.get(action="opencdmo.equipment.changed")
    assert (volume["Seq"], volume["Hash"]) == (str(entry.seq), entry.hash)
    assert volume["Time (UTC)"] == entry.at.isoformat(timespec="seconds").replace("+00:00", "Z")
    grade = next(r for r in rows if r["Field code"] == "gmp_grade")
    assert (grade["Field"], grade["Old value"], grade["New value"]) == (
        "GMP grade",
        "Grade C",
        "Grade B",
    )
    assert "Beta's secret reason" not in body.decode("utf-8-sig")


def test_csv_follows_the_page_filter_and_is_audited(changed_world: Any, client_for: Any) -> None:
    """The export holds what the page lists for the same query, and records its own event."""
    world = changed_world
    client = client_for(world.user("alpha-bio", "cdmo_qa"))
    query = "?action=opencdmo.suite.changed"
    listed = {e.seq for e in client.get(f"/audit/{query}").context["page"]}
    _, rows = _csv(client.get(f"/audit/export.csv{query}"))
    assert {int(r["Seq"]) for r in rows} == listed
    assert {r["Action"] for r in rows} == {"Suite changed"}
    (event,) = _exports(world)
    assert event.organisation_id == world.orgs["alpha-bio"].pk
    assert event.actor_id == world.user("alpha-bio", "cdmo_qa").pk
    assert event.after["format"] == "CSV"
    assert event.after["entries"] == len(listed)
    assert "Action: Suite changed" in event.after["filter"]
    assert audit.verify_all() == []


def test_csv_cells_never_start_a_formula(world: Any, client_for: Any) -> None:
    """A reason typed as '=HYPERLINK(…)' arrives as text in a spreadsheet."""
    audit.record(
        "opencdmo.test.event",
        organisation_id=world.orgs["alpha-bio"].pk,
        reason='=HYPERLINK("http://example.invalid")',
    )
    _, rows = _csv(client_for(world.user("alpha-bio", "cdmo_qa")).get("/audit/export.csv"))
    reasons = {r["Reason"] for r in rows}
    assert '\'=HYPERLINK("http://example.invalid")' in reasons


def test_csv_streams_in_chunks(world: Any, client_for: Any) -> None:
    """A trail larger than one chunk streams in several pieces and loses no entry."""
    org = world.orgs["alpha-bio"]
    for i in range(export.CSV_CHUNK + 20):
        audit.record("opencdmo.test.event", organisation_id=org.pk, after={"n": i})
    response = client_for(world.user("alpha-bio", "cdmo_qa")).get("/audit/export.csv")
    pieces = list(response.streaming_content)
    assert len(pieces) >= 3
    rows = list(csv.DictReader(io.StringIO(b"".join(pieces).decode("utf-8-sig"))))
    assert len({(r["Chain"], r["Seq"]) for r in rows}) == export.CSV_CHUNK + 21


def test_pdf_is_a_labelled_report(changed_world: Any, client_for: Any) -> None:
    """Title, organisation, filter, generator, chain verdict, labelled entries, page numbers."""
    world = changed_world
    qa = world.user("alpha-bio", "cdmo_qa")
    response = client_for(qa).get("/audit/export.pdf?action=opencdmo.equipment.changed")
    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"
    assert response.content.startswith(b"%PDF")
    pages, text = _pdf_text(response.content)
    assert pages >= 1
    with scopes_disabled():
        verified = (
            AuditEntry.objects.filter(chain__in=audit.chains_of(qa.organisation_id)).count() - 1
        )
    for expected in [
        "Audit trail · Alpha Bio",
        "Action: Equipment changed",
        str(qa),
        f"OK: {verified} audit entries, every chain intact.",
        "Equipment changed",
        "Working volume (L)",
        "15,000",
        "Bigger bag",
        f"Page 1 of {pages}",
    ]:
        assert expected in text, expected
    assert "HVAC requalified" not in text
    assert "15000.0" not in text
    (event,) = _exports(world)
    assert (event.after["format"], event.after["entries"]) == ("PDF", 1)


def test_pdf_refuses_a_selection_over_the_limit(
    world: Any, client_for: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Above the limit the page explains how to narrow it; nothing is rendered or recorded."""
    monkeypatch.setattr("opencdmo.audit.views.MAX_PDF_ENTRIES", 3)
    for i in range(5):
        audit.record(
            "opencdmo.test.event", organisation_id=world.orgs["alpha-bio"].pk, reason=str(i)
        )
    client = client_for(world.user("alpha-bio", "cdmo_qa"))
    response = client.get("/audit/export.pdf?actor=", follow=True)
    assert response.redirect_chain[-1][0] == "/audit/?actor="
    message = str(next(iter(response.context["messages"])))
    assert "a PDF holds at most 3" in message
    assert "Narrow the filter" in message
    assert _exports(world) == []


@pytest.mark.parametrize("path", ["/audit/export.csv", "/audit/export.pdf"])
@pytest.mark.parametrize(
    ("org", "role"), [("alpha-bio", "cdmo_planner"), ("sponsor-one", "sponsor_viewer")]
)
def test_exports_are_for_reviewers_only(
    world: Any, client_for: Any, path: str, org: str, role: str
) -> None:
    """Roles without the audit permission are refused and nothing is recorded."""
    assert client_for(world.user(org, role)).get(path).status_code == 403
    assert _exports(world) == []


def test_anonymous_export_goes_to_login(world: Any) -> None:
    """Without a session the export asks for a login."""
    response = Client().get("/audit/export.csv")
    assert response.status_code == 302
    assert "/login/" in response["Location"]
