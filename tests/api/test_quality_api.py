"""Deviations, CAPA, batch review and disposition, and signatures over /api/v1: the services'
rules as the pages apply them, the two parties' sides, and signatures that need the password
at every signing, a wrong one refused, audited and counted toward the lockout."""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

import pytest
from django.test import Client
from django.utils import timezone
from django_scopes import scopes_disabled

from opencdmo.accounts import services as accounts
from opencdmo.accounts import totp
from opencdmo.accounts.models import User
from opencdmo.audit.models import AuditEntry
from opencdmo.manufacturing.models import Batch, OfflineResult
from opencdmo.notifications.models import Notification
from opencdmo.projects.models import Product, Project
from opencdmo.quality import services as quality
from opencdmo.quality.models import QualityAgreement, Signature
from opencdmo.quality.records import Deviation, Disposition
from tests.conftest import PASSWORD, World

pytestmark = pytest.mark.django_db


class Api:
    """A client with one user's bearer token."""

    def __init__(self, user: Any, scope: str = "write") -> None:
        _, secret = accounts.issue_token(user, "quality api test", scope=scope)
        self.client = Client(headers={"Authorization": f"Bearer {secret}"})

    def get(self, path: str, **params: Any) -> Any:
        return self.client.get(f"/api/v1{path}", params)

    def post(self, path: str, body: dict[str, Any]) -> Any:
        return self.client.post(f"/api/v1{path}", json.dumps(body), content_type="application/json")


@pytest.fixture
def agreement(world: World) -> QualityAgreement:
    """alpha-bio's project for sponsor-one: 720 h / 72 h / 24 h, the sponsor releases."""
    with scopes_disabled():
        product = Product.objects.create(
            owner=world.orgs["sponsor-one"], name="MAB-Q", modality="mab", phase="phase_2"
        )
        project = Project.objects.create(
            name="MAB-Q at Alpha Bio",
            sponsor=world.orgs["sponsor-one"],
            cdmo=world.orgs["alpha-bio"],
            site=world.sites["alpha-bio"],
            product=product,
            scope="clinical",
            phase="phase_2",
        )
    return quality.create_agreement(
        world.user("alpha-bio", "cdmo_qa"),
        project,
        {"minor_notice_h": 720, "major_notice_h": 72, "critical_notice_h": 24},
    )


@pytest.fixture
def batch(agreement: QualityAgreement) -> Batch:
    project = agreement.project
    with scopes_disabled():
        return Batch.objects.create(
            cdmo=project.cdmo, project=project, lot="Q-001", site=project.site, state="under_review"
        )


def _as(world: World, org: str, role: str, scope: str = "write") -> Api:
    return Api(world.user(org, role), scope)


def _raise(world: World, batch: Batch) -> dict[str, Any]:
    response = _as(world, "alpha-bio", "cdmo_operator").post(
        "/deviations",
        {
            "project": batch.project_id,
            "title": "pH excursion",
            "description": "pH 6.6 for 40 min on day 5",
            "evidence": "Trend of pH-01",
            "batches": [batch.pk],
            "reason": "Seen on the batch record",
        },
    )
    assert response.status_code == 201, response.content
    body: dict[str, Any] = response.json()
    return body


def _investigated(world: World, batch: Batch) -> dict[str, Any]:
    qa = _as(world, "alpha-bio", "cdmo_qa")
    raised = _raise(world, batch)
    path = f"/deviations/{raised['id']}"
    assert (
        qa.post(
            f"{path}/classify",
            {"classification": "minor", "rationale": "No product impact", "reason": "QA"},
        ).status_code
        == 200
    )
    assert qa.post(f"{path}/investigate", {"reason": "Start"}).json()["state"] == (
        "under_investigation"
    )
    found = qa.post(
        f"{path}/investigate",
        {"root_cause": "equipment", "investigation": "pH probe drift", "reason": "Findings"},
    )
    assert found.status_code == 200, found.content
    body: dict[str, Any] = found.json()
    return body


def _close(qa: Api, deviation: dict[str, Any], **changes: Any) -> Any:
    body = {
        "password": PASSWORD,
        "totp_code": "",
        "reason": "Investigation complete",
        "seen_sha256": deviation["content_sha256"],
        **changes,
    }
    return qa.post(f"/deviations/{deviation['id']}/close", body)


def test_a_deviation_goes_from_raised_to_closed_by_signature(world: World, batch: Batch) -> None:
    """Raised by an operator, classified (the sponsor's QA told), investigated, closed by
    QA's signature; the detail shows the signature with its printed name and meaning."""
    raised = _raise(world, batch)
    assert raised["state"] == "open"
    assert raised["batches"] == [{"id": batch.pk, "lot": "Q-001"}]
    assert raised["raised_by"] == "alpha-bio-cdmo_operator"
    investigated = _investigated(world, batch)
    with scopes_disabled():
        assert Notification.objects.filter(
            user=world.user("sponsor-one", "sponsor_qa"), event="deviation.classified"
        ).exists()
    assert investigated["notice_late"] is False
    assert investigated["notice_due_at"] is not None
    closed = _close(_as(world, "alpha-bio", "cdmo_qa"), investigated)
    assert closed.status_code == 200, closed.content
    body = closed.json()
    assert body["state"] == "closed"
    (signature,) = body["signatures"]
    assert signature["meaning"] == "approved"
    assert signature["signer_name"] == "alpha-bio-cdmo_qa"
    assert signature["organisation"] == "alpha-bio"
    assert signature["current"] is True
    assert signature["content_sha256"] == investigated["content_sha256"]
    sponsor = _as(world, "sponsor-one", "sponsor_viewer")
    listed = sponsor.get("/signatures", record_type="quality.deviation", record_id=body["id"])
    assert listed.status_code == 200
    assert [s["id"] for s in listed.json()] == [signature["id"]]


def test_a_signature_needs_the_password_every_time(world: World, batch: Batch) -> None:
    """A write token is no signature: without the password the request is refused (422)
    and the deviation stays open for investigation."""
    investigated = _investigated(world, batch)
    qa = _as(world, "alpha-bio", "cdmo_qa")
    body = {"reason": "Token only", "seen_sha256": investigated["content_sha256"]}
    response = qa.post(f"/deviations/{investigated['id']}/close", body)
    assert response.status_code == 422
    assert response.json()["errors"][0]["field"] == "payload.password"
    empty = _close(qa, investigated, password="")
    assert empty.status_code == 400
    with scopes_disabled():
        assert Deviation.objects.get(pk=investigated["id"]).state == "under_investigation"
        assert not Signature.objects.exists()


def test_a_wrong_password_is_refused_audited_and_counted(
    world: World, batch: Batch, settings: Any
) -> None:
    """As on the page: 400 naming the password, an audit entry of the refusal, one counted
    failure; at the threshold the account locks and even the right password is refused."""
    settings.LOCKOUT_THRESHOLD = 3
    investigated = _investigated(world, batch)
    qa_user = world.user("alpha-bio", "cdmo_qa")
    qa = Api(qa_user)
    response = _close(qa, investigated, password="not-my-password")
    assert response.status_code == 400
    assert response.json()["errors"] == {"password": [quality.WRONG_PASSWORD]}
    with scopes_disabled():
        refused = AuditEntry.objects.filter(action=quality.REFUSED)
        assert refused.count() == 1
        assert refused.get().actor_id == qa_user.pk
        assert User.objects.get(pk=qa_user.pk).failed_login_count == 1
    _close(qa, investigated, password="again-wrong")
    _close(qa, investigated, password="and-again")
    locked = _close(qa, investigated)
    assert locked.status_code == 400
    assert "password" in locked.json()["errors"]
    with scopes_disabled():
        assert Deviation.objects.get(pk=investigated["id"]).state == "under_investigation"
        assert not Signature.objects.exists()
        assert AuditEntry.objects.filter(action=quality.REFUSED).count() == 4


def test_a_stale_content_hash_signs_nothing(world: World, batch: Batch) -> None:
    """The signer signs what they read: a hash of other content is refused naming it."""
    investigated = _investigated(world, batch)
    response = _close(_as(world, "alpha-bio", "cdmo_qa"), investigated, seen_sha256="0" * 64)
    assert response.status_code == 400
    assert "seen_sha256" in response.json()["errors"]


def test_the_sponsor_reads_but_takes_no_cdmo_step(world: World, batch: Batch) -> None:
    """The sponsor reads its project's deviation; classifying and raising are the CDMO's
    (403); another CDMO and another sponsor are told it does not exist (404)."""
    raised = _raise(world, batch)
    path = f"/deviations/{raised['id']}"
    sponsor_qa = _as(world, "sponsor-one", "sponsor_qa")
    assert sponsor_qa.get(path).json()["title"] == "pH excursion"
    classify = {"classification": "critical", "rationale": "Sponsor's view", "reason": "x"}
    assert sponsor_qa.post(f"{path}/classify", classify).status_code == 403
    raise_body = {"project": batch.project_id, "title": "t", "description": "d"}
    assert sponsor_qa.post("/deviations", raise_body).status_code == 403
    for org, role in (("beta-pharma", "cdmo_qa"), ("sponsor-two", "sponsor_qa")):
        other = _as(world, org, role)
        assert other.get(path).json() == {"detail": "Not found."}
        assert other.get("/deviations").json() == []
    other_qa = _as(world, "beta-pharma", "cdmo_qa")
    assert other_qa.post(f"{path}/classify", classify).status_code == 404
    with scopes_disabled():
        assert Deviation.objects.get(pk=raised["id"]).state == "open"


def test_a_read_token_changes_nothing(world: World, batch: Batch) -> None:
    """Writes need a read-write token, signatures included."""
    investigated = _investigated(world, batch)
    reader = _as(world, "alpha-bio", "cdmo_qa", scope="read")
    assert reader.get(f"/deviations/{investigated['id']}").status_code == 200
    assert _close(reader, investigated).status_code == 403
    with scopes_disabled():
        assert not Signature.objects.exists()


def test_the_deviation_list_filters(world: World, batch: Batch) -> None:
    """By project, state, classification and batch, as the list page would."""
    first = _raise(world, batch)
    _investigated(world, batch)
    qa = _as(world, "alpha-bio", "cdmo_qa")
    assert [d["id"] for d in qa.get("/deviations", state="open").json()] == [first["id"]]
    assert len(qa.get("/deviations", classification="minor").json()) == 1
    assert len(qa.get("/deviations", batch=batch.pk).json()) == 2
    assert len(qa.get("/deviations", project=batch.project_id).json()) == 2
    assert qa.get("/deviations", state="lost").status_code == 422


def test_a_deviation_raised_from_an_alarm_names_its_source(world: World, batch: Batch) -> None:
    """The alarm's batch is linked and the alarm is the source; another's alarm is refused."""
    from opencdmo.analytics.models import Alarm, MonitoringModel

    with scopes_disabled():
        model = MonitoringModel.objects.create(
            site=batch.site, product=batch.project.product, version=1, name="MAB-Q model"
        )
        alarm = Alarm.objects.create(
            batch=batch, model=model, sample=3, time_h=12.0, statistic="t2", value=9.0, limit=5.0
        )
    operator = _as(world, "alpha-bio", "cdmo_operator")
    body = {"project": batch.project_id, "title": "T² alarm", "description": "Seen"}
    response = operator.post("/deviations", {**body, "alarm": alarm.pk})
    assert response.status_code == 201, response.content
    assert response.json()["source"] == {"type": "analytics.alarm", "id": str(alarm.pk)}
    assert response.json()["batches"] == [{"id": batch.pk, "lot": batch.lot}]
    other = _as(world, "beta-pharma", "cdmo_operator")
    assert other.post("/deviations", {**body, "alarm": alarm.pk}).status_code == 404


def test_a_capa_from_actions_to_effectiveness(world: World, batch: Batch) -> None:
    """Opened by QA, an action owned by an operator flagged overdue once past due, done by
    its owner, then the effectiveness check closes it."""
    investigated = _investigated(world, batch)
    qa = _as(world, "alpha-bio", "cdmo_qa")
    opened = qa.post(
        f"/deviations/{investigated['id']}/capas",
        {
            "title": "Recalibrate probes weekly",
            "effectiveness_criteria": "No pH drift in 5 batches",
            "effectiveness_due": "2027-06-01",
        },
    )
    assert opened.status_code == 201, opened.content
    capa = opened.json()
    late = (timezone.localdate() - dt.timedelta(days=2)).isoformat()
    added = qa.post(
        f"/capas/{capa['id']}/actions",
        {"description": "Retrain", "owner": "alpha-bio-cdmo_operator", "due_on": late},
    )
    assert added.status_code == 201, added.content
    (action,) = added.json()["actions"]
    assert action["overdue"] is True
    assert added.json()["overdue_actions"] == 1
    assert (
        qa.post(
            f"/capas/{capa['id']}/actions",
            {"description": "x", "owner": "sponsor-one-sponsor_qa", "due_on": late},
        ).status_code
        == 400
    )
    sponsor = _as(world, "sponsor-one", "sponsor_qa")
    assert sponsor.get(f"/capas/{capa['id']}").json()["actions"][0]["owner"] == (
        "alpha-bio-cdmo_operator"
    )
    assert sponsor.post(f"/capa-actions/{action['id']}/done", {"reason": "x"}).status_code == 403
    done = _as(world, "alpha-bio", "cdmo_operator").post(
        f"/capa-actions/{action['id']}/done", {"reason": "Trained"}
    )
    assert done.json()["state"] == "effectiveness_check"
    checked = qa.post(
        f"/capas/{capa['id']}/effectiveness",
        {"effective": True, "result": "No drift in 5 batches", "reason": "Checked"},
    )
    assert checked.json()["state"] == "closed"
    assert [c["id"] for c in qa.get("/capas", deviation=investigated["id"]).json()] == [capa["id"]]
    assert _as(world, "beta-pharma", "cdmo_qa").get(f"/capas/{capa['id']}").status_code == 404


def _dispose(world: World, batch: Batch, **changes: Any) -> Any:
    body = {"decision": "release", "password": PASSWORD, "reason": "Batch record reviewed"}
    return _as(world, "alpha-bio", "cdmo_qa").post(
        f"/batches/{batch.pk}/disposition", {**body, **changes}
    )


def test_review_blocks_then_two_step_release(world: World, batch: Batch) -> None:
    """An open deviation and an out-of-spec result block the CDMO's disposition; once closed,
    QA releases by signature, the CDMO may not take the sponsor's step (403), the sponsor's
    QA releases by its own signature, and the review shows both signatures."""
    with scopes_disabled():
        OfflineResult.objects.create(
            batch=batch, attribute="Titer", value=1.0, unit="g/L", spec_low=2.0
        )
    raised = _raise(world, batch)
    review = _as(world, "sponsor-one", "sponsor_viewer").get(f"/batches/{batch.pk}/review")
    assert review.status_code == 200
    assert len(review.json()["blockers"]) == 2
    assert review.json()["results"][0]["in_spec"] is False
    assert _dispose(world, batch).status_code == 400
    with scopes_disabled():
        Deviation.objects.filter(pk=raised["id"]).update(state="closed")
    assert _dispose(world, batch, password="wrong").status_code == 400
    released = _dispose(world, batch)
    assert released.status_code == 201, released.content
    disposition = released.json()
    assert disposition["state"] == "awaiting_sponsor"
    assert [s["meaning"] for s in disposition["signatures"]] == ["released"]
    step = {
        "decision": "release",
        "password": PASSWORD,
        "reason": "Sponsor release",
        "seen_sha256": disposition["content_sha256"],
    }
    path = f"/dispositions/{disposition['id']}/sponsor-decision"
    assert _as(world, "alpha-bio", "cdmo_qa").post(path, step).status_code == 403
    assert _as(world, "sponsor-one", "sponsor_manager").post(path, step).status_code == 403
    assert _as(world, "sponsor-two", "sponsor_qa").post(path, step).status_code == 404
    sponsor = _as(world, "sponsor-one", "sponsor_qa").post(path, step)
    assert sponsor.status_code == 200, sponsor.content
    assert sponsor.json()["state"] == "released"
    final = _as(world, "alpha-bio", "cdmo_planner").get(f"/batches/{batch.pk}/review").json()
    signatures = final["disposition"]["signatures"]
    assert [(s["organisation"], s["meaning"]) for s in signatures] == [
        ("alpha-bio", "released"),
        ("sponsor-one", "released"),
    ]
    with scopes_disabled():
        assert Disposition.objects.get(batch=batch).state == "released"


def test_a_two_factor_signer_sends_a_current_code(world: World, batch: Batch) -> None:
    """As on the page: without the authenticator's code, or with a wrong one, the signing is
    refused naming totp_code and audited; with the current code the batch is released."""
    qa = world.user("alpha-bio", "cdmo_qa")
    secret = totp.new_secret()
    accounts.enable_two_factor(qa, secret, totp.code_at(secret, totp.now_s()))
    missing = _dispose(world, batch)
    assert missing.status_code == 400
    assert missing.json()["errors"] == {"totp_code": [quality.CODE_NEEDED]}
    wrong = _dispose(world, batch, totp_code="not-a-code")
    assert wrong.json()["errors"] == {"totp_code": [quality.WRONG_CODE]}
    with scopes_disabled():
        assert AuditEntry.objects.filter(action=quality.REFUSED).count() == 2
        assert not Disposition.objects.exists()
    code = totp.code_at(secret, totp.now_s() + totp.STEP_S)
    assert _dispose(world, batch, totp_code=code).status_code == 201


def test_the_certificate_of_analysis_is_a_pdf(world: World, batch: Batch) -> None:
    response = _as(world, "sponsor-one", "sponsor_qa").get(f"/batches/{batch.pk}/coa.pdf")
    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"
    assert response.content.startswith(b"%PDF")
    assert _as(world, "sponsor-two", "sponsor_qa").get(f"/batches/{batch.pk}/coa.pdf").json() == {
        "detail": "Not found."
    }


def test_signatures_are_listed_for_their_parties_only(
    world: World, agreement: QualityAgreement
) -> None:
    """Both parties of the signed record list its signatures; a third party lists none and
    is told a record it may not read does not exist."""
    qa = world.user("alpha-bio", "cdmo_qa")
    digest = quality.signing.content_sha256(quality.signing.canonical_content(agreement))
    quality.sign(qa, agreement, "approved", PASSWORD, "", "Terms agreed", digest)
    filters = {"record_type": "quality.qualityagreement", "record_id": agreement.pk}
    for org, role in (("alpha-bio", "cdmo_planner"), ("sponsor-one", "sponsor_viewer")):
        listed = _as(world, org, role).get("/signatures").json()
        assert [(s["record_type"], s["meaning"], s["current"]) for s in listed] == [
            ("quality.qualityagreement", "approved", True)
        ]
        assert len(_as(world, org, role).get("/signatures", **filters).json()) == 1
    stranger = _as(world, "beta-pharma", "cdmo_qa")
    assert stranger.get("/signatures").json() == []
    assert stranger.get("/signatures", **filters).status_code == 404
    assert stranger.get("/signatures", record_type="accounts.user").status_code == 400


def test_the_lists_take_as_many_queries_for_many_records_as_for_few(
    world: World, batch: Batch
) -> None:
    """Deviations and CAPAs are listed in a fixed number of queries, not several per record."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    qa = _as(world, "alpha-bio", "cdmo_qa")

    def counted() -> tuple[int, int]:
        found = []
        for path in ("/deviations", "/capas"):
            with CaptureQueriesContext(connection) as queries:
                assert qa.get(path).status_code == 200
            found.append(len(queries))
        return found[0], found[1]

    def capa_of(deviation: dict[str, Any]) -> None:
        path = f"/deviations/{deviation['id']}"
        classify = {"classification": "minor", "rationale": "r", "reason": "QA"}
        assert qa.post(f"{path}/classify", classify).status_code == 200
        capa = {"title": "t", "effectiveness_criteria": "c", "effectiveness_due": "2027-01-01"}
        assert qa.post(f"{path}/capas", capa).status_code == 201

    capa_of(_raise(world, batch))
    few = counted()
    for _ in range(4):
        capa_of(_raise(world, batch))
    assert len(qa.get("/capas").json()) == 5
    assert counted() == few
