"""The quality agreement's pages: written by the CDMO's QA, approved by e-signature of both
parties' QA, changed terms asking for new signatures, and other tenants kept out."""

from __future__ import annotations

from typing import Any

from django.test import Client
from django_scopes import scopes_disabled

from opencdmo.audit.models import AuditEntry
from opencdmo.quality import services
from opencdmo.quality.models import QualityAgreement
from tests.conftest import PASSWORD
from tests.quality.conftest import make_project

TERMS = {"minor_notice_h": "720", "major_notice_h": "72", "critical_notice_h": "24"}


def _client(user: Any) -> Client:
    client = Client()
    client.force_login(user)
    return client


def _sign_on_page(client: Client, agreement: Any) -> Any:
    page = client.get(f"/quality/agreements/{agreement.pk}/")
    seen = page.context["panel"].content_sha256
    return client.post(
        f"/quality/agreements/{agreement.pk}/sign/",
        {"meaning": "approved", "password": PASSWORD, "reason": "Agreed", "seen_sha256": seen},
    )


def test_the_cdmos_qa_writes_the_agreement(world: Any) -> None:
    """Created from the project, audited; a graver class told later is refused by field."""
    project = make_project(world, "alpha-bio", "sponsor-one")
    client = _client(world.user("alpha-bio", "cdmo_qa"))
    assert project.name in client.get("/quality/agreements/").content.decode()
    bad = client.post(
        f"/quality/projects/{project.pk}/agreement/", {**TERMS, "critical_notice_h": "96"}
    )
    assert bad.status_code == 400
    assert "critical deviation is told no later than a major one" in bad.content.decode()
    response = client.post(f"/quality/projects/{project.pk}/agreement/", TERMS)
    assert response.status_code == 302
    with scopes_disabled():
        agreement = QualityAgreement.objects.get(project=project)
        (entry,) = AuditEntry.objects.filter(action="opencdmo.quality_agreement.created")
    assert agreement.notice_hours("major") == 72
    assert entry.shared_with_id == world.orgs["sponsor-one"].pk
    again = client.post(f"/quality/projects/{project.pk}/agreement/", TERMS)
    assert again.status_code == 400
    assert "has its quality agreement already" in again.content.decode()


def test_both_parties_approve_by_e_signature(world: Any, agreement: Any) -> None:
    """The CDMO's QA and the sponsor's QA sign; the page shows both names and 'approved by
    both parties'; the sponsor's manager sees the page but no signing form."""
    cdmo = _client(world.user("alpha-bio", "cdmo_qa"))
    sponsor = _client(world.user("sponsor-one", "sponsor_qa"))
    assert _sign_on_page(cdmo, agreement).status_code == 302
    half = sponsor.get(f"/quality/agreements/{agreement.pk}/").content.decode()
    assert "awaiting approval by the sponsor's QA" in half
    assert _sign_on_page(sponsor, agreement).status_code == 302
    page = sponsor.get(f"/quality/agreements/{agreement.pk}/").content.decode()
    assert "approved by both parties" in page
    assert page.count('data-testid="signature"') == 2
    approvals = services.approvals(agreement)
    assert approvals["cdmo"] is not None
    assert approvals["sponsor"] is not None
    manager = _client(world.user("sponsor-one", "sponsor_manager"))
    assert manager.get(f"/quality/agreements/{agreement.pk}/").context["panel"].form is None


def test_a_wrong_password_on_the_page_signs_nothing(world: Any, agreement: Any) -> None:
    client = _client(world.user("sponsor-one", "sponsor_qa"))
    seen = client.get(f"/quality/agreements/{agreement.pk}/").context["panel"].content_sha256
    response = client.post(
        f"/quality/agreements/{agreement.pk}/sign/",
        {"meaning": "approved", "password": "nope", "reason": "", "seen_sha256": seen},
    )
    assert response.status_code == 400
    assert "nothing was signed" in response.content.decode()
    assert services.signatures_of(agreement) == []


def test_changed_terms_ask_for_new_signatures(world: Any, agreement: Any) -> None:
    """After an edit, earlier signatures read 'record changed since signing' with the field,
    and the agreement awaits both parties again."""
    cdmo = _client(world.user("alpha-bio", "cdmo_qa"))
    _sign_on_page(cdmo, agreement)
    _sign_on_page(_client(world.user("sponsor-one", "sponsor_qa")), agreement)
    no_reason = cdmo.post(
        f"/quality/agreements/{agreement.pk}/edit/", {**TERMS, "major_notice_h": "48"}
    )
    assert no_reason.status_code == 400
    edited = cdmo.post(
        f"/quality/agreements/{agreement.pk}/edit/",
        {**TERMS, "major_notice_h": "48", "reason": "Sponsor asked for faster notice"},
    )
    assert edited.status_code == 302
    page = cdmo.get(f"/quality/agreements/{agreement.pk}/").content.decode()
    assert page.count("record changed since signing") == 2
    assert "major_notice_h" in page
    assert "awaiting approval by the CDMO's QA and the sponsor's QA" in page
    assert _sign_on_page(cdmo, agreement).status_code == 302
    assert services.approvals(agreement)["cdmo"] is not None


def test_other_tenants_find_no_agreement(world: Any, agreement: Any) -> None:
    """Another CDMO's and another sponsor's QA get 404 on the page and on signing; the
    sponsor's QA may not change the terms (403)."""
    for org, role in (("beta-pharma", "cdmo_qa"), ("sponsor-two", "sponsor_qa")):
        client = _client(world.user(org, role))
        assert client.get(f"/quality/agreements/{agreement.pk}/").status_code == 404
        assert _sign_attempt(client, agreement).status_code == 404
        assert agreement.project.name not in client.get("/quality/agreements/").content.decode()
    sponsor = _client(world.user("sponsor-one", "sponsor_qa"))
    assert sponsor.get(f"/quality/agreements/{agreement.pk}/edit/").status_code == 403
    assert services.signatures_of(agreement) == []


def _sign_attempt(client: Client, agreement: Any) -> Any:
    return client.post(
        f"/quality/agreements/{agreement.pk}/sign/",
        {"meaning": "approved", "password": PASSWORD, "seen_sha256": "0" * 64},
    )


def test_the_next_steps_read_the_agreement_and_its_approval(world: Any, agreement: Any) -> None:
    """Deviations and dispositions find the project's agreement and whether both approved."""
    assert services.agreement_of(agreement.project) == agreement
    assert services.agreement_of(make_project(world, "beta-pharma", "sponsor-two")) is None
    assert not services.is_approved(agreement)
    _sign_on_page(_client(world.user("alpha-bio", "cdmo_qa")), agreement)
    assert not services.is_approved(agreement)
    _sign_on_page(_client(world.user("sponsor-one", "sponsor_qa")), agreement)
    assert services.is_approved(agreement)
    assert agreement.notice_hours("critical") == 24
