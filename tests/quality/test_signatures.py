"""Electronic signatures: re-authentication at each signing, binding to the content seen,
immutability, and ``audit verify`` naming a signature whose record changed behind the
services' back."""

from __future__ import annotations

from typing import Any

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import DatabaseError, connection, transaction
from django.http import Http404
from django_scopes import scopes_disabled

from opencdmo.accounts import services as accounts
from opencdmo.accounts import totp
from opencdmo.audit.models import AuditEntry
from opencdmo.audit.signatures_check import verify_signatures
from opencdmo.audit.verification import check_chains
from opencdmo.quality import services, signing
from opencdmo.quality.models import QualityAgreement, Signature, SignatureImmutableError
from tests.conftest import PASSWORD


def _seen(record: Any) -> str:
    return signing.content_sha256(signing.canonical_content(record))


def _sign(user: Any, record: Any, **overrides: Any) -> Signature:
    arguments = {
        "meaning": "approved",
        "password": PASSWORD,
        "totp_code": "",
        "reason": "Terms agreed",
        "seen_sha256": _seen(record),
        **overrides,
    }
    return services.sign(user, record, **arguments)


def _signatures() -> list[Signature]:
    with scopes_disabled():
        return list(Signature.objects.all())


def _refusals() -> list[AuditEntry]:
    with scopes_disabled():
        return list(AuditEntry.objects.filter(action=services.REFUSED))


def test_the_canonical_content_is_sorted_json_of_the_registered_fields(agreement: Any) -> None:
    """Keys sorted, no spaces, foreign keys as ids under their column name, UTF-8."""
    content = signing.canonical_content(agreement)
    assert signing.canonical_json(content).decode() == (
        '{"critical_notice_h":24,"major_notice_h":72,"minor_notice_h":720,'
        f'"project_id":{agreement.project_id},"sponsor_release_required":true}}'
    )


def test_a_signature_records_name_meaning_time_and_content_hash(world: Any, agreement: Any) -> None:
    """The signature holds the printed name, meaning, UTC time, the content hash seen and its
    audit entry, which names the other party so both read it."""
    user = world.user("alpha-bio", "cdmo_qa")
    user.first_name, user.last_name = "Ana", "Quinn"
    user.save()
    signature = _sign(user, agreement)
    assert (signature.signer_name, signature.meaning) == ("Ana Quinn", "approved")
    assert signature.content_sha256 == _seen(agreement)
    assert signature.record_type == "quality.qualityagreement"
    assert signature.signed_at == signature.audit_entry.at
    entry = signature.audit_entry
    assert entry.action == services.SIGNED
    assert entry.shared_with_id == world.orgs["sponsor-one"].pk
    assert entry.after["content_sha256"] == signature.content_sha256
    assert signature.shared_with_id == world.orgs["sponsor-one"].pk


def test_a_wrong_password_is_refused_audited_and_counted(
    world: Any, agreement: Any, settings: Any
) -> None:
    """Nothing is signed; the refusal is on the audit trail and counts toward the lockout,
    which then refuses even the right password."""
    user = world.user("sponsor-one", "sponsor_qa")
    with pytest.raises(ValidationError) as refused:
        _sign(user, agreement, password="wrong-password")
    assert refused.value.message_dict == {"password": [services.WRONG_PASSWORD]}
    assert _signatures() == []
    (entry,) = _refusals()
    assert (entry.actor_id, entry.object_id) == (user.pk, str(agreement.pk))
    user.refresh_from_db()
    assert user.failed_login_count == 1
    for _ in range(settings.LOCKOUT_THRESHOLD - 1):
        with pytest.raises(ValidationError):
            _sign(user, agreement, password="wrong-password")
    with pytest.raises(ValidationError, match="locked"):
        _sign(user, agreement)
    assert _signatures() == []


def test_a_right_password_clears_the_failed_count(world: Any, agreement: Any) -> None:
    """As at sign-in, a successful re-authentication forgets earlier failures."""
    user = world.user("sponsor-one", "sponsor_qa")
    with pytest.raises(ValidationError):
        _sign(user, agreement, password="wrong-password")
    _sign(user, agreement)
    user.refresh_from_db()
    assert user.failed_login_count == 0


def test_a_record_changed_since_it_was_opened_is_not_signed(world: Any, agreement: Any) -> None:
    """The refusal names the field that changed between opening the form and signing."""
    seen = _seen(agreement)
    services.update_agreement(
        world.user("alpha-bio", "cdmo_qa"), agreement, {"major_notice_h": 48}, "Tighter"
    )
    with pytest.raises(ValidationError) as refused:
        _sign(world.user("sponsor-one", "sponsor_qa"), agreement, seen_sha256=seen)
    (message,) = refused.value.message_dict["seen_sha256"]
    assert "changed since you opened it: major_notice_h." in message
    assert _signatures() == []


def test_a_two_factor_signer_gives_a_current_code(world: Any, agreement: Any) -> None:
    """Without the code, or with a wrong one, nothing is signed; with it, the signature is."""
    user = world.user("alpha-bio", "cdmo_qa")
    secret = totp.new_secret()
    accounts.enable_two_factor(user, secret, totp.code_at(secret, totp.now_s()))
    user.refresh_from_db()
    with pytest.raises(ValidationError, match="code"):
        _sign(user, agreement)
    with pytest.raises(ValidationError, match="not valid"):
        _sign(user, agreement, totp_code="000000")
    assert len(_refusals()) == 2
    assert _signatures() == []
    next_code = totp.code_at(secret, totp.now_s() + totp.STEP_S)
    assert _sign(user, agreement, totp_code=next_code).signer_id == user.pk


def test_only_the_records_meanings_are_accepted(world: Any, agreement: Any) -> None:
    """A quality agreement is approved, not released."""
    with pytest.raises(ValidationError) as refused:
        _sign(world.user("alpha-bio", "cdmo_qa"), agreement, meaning="released")
    assert "approved" in refused.value.message_dict["meaning"][0]


def test_the_same_content_is_signed_once_per_signer_and_meaning(world: Any, agreement: Any) -> None:
    user = world.user("alpha-bio", "cdmo_qa")
    _sign(user, agreement)
    with pytest.raises(ValidationError, match="already"):
        _sign(user, agreement)


def test_signers_need_the_permission_and_the_record(world: Any, agreement: Any) -> None:
    """A role without it gets 403; another CDMO's QA finds no such record (404)."""
    with pytest.raises(PermissionDenied):
        _sign(world.user("sponsor-one", "sponsor_manager"), agreement)
    with pytest.raises(Http404):
        _sign(world.user("beta-pharma", "cdmo_qa"), agreement)
    assert _signatures() == []


def test_signatures_cannot_be_changed_or_deleted(world: Any, agreement: Any) -> None:
    """Through the ORM and with raw SQL: the database refuses too."""
    signature = _sign(world.user("alpha-bio", "cdmo_qa"), agreement)
    signature.meaning = "rejected"
    with pytest.raises(SignatureImmutableError):
        signature.save()
    with pytest.raises(SignatureImmutableError):
        signature.delete()
    for sql in (
        "UPDATE quality_signature SET meaning = 'rejected' WHERE id = %s",
        "DELETE FROM quality_signature WHERE id = %s",
    ):
        with pytest.raises(DatabaseError, match="immutable"), transaction.atomic():
            connection.cursor().execute(sql, [signature.pk])
    (stored,) = _signatures()
    assert stored.meaning == "approved"


def test_verify_names_a_signature_whose_record_changed_behind_the_services(
    world: Any, agreement: Any, capsys: Any
) -> None:
    """An UPDATE that bypasses the services leaves no audit entry: verify names the signature
    and the field; a tenant's own check names it too, another tenant's does not."""
    signature = _sign(world.user("alpha-bio", "cdmo_qa"), agreement)
    call_command("audit", "verify")
    with scopes_disabled():
        QualityAgreement.objects.filter(pk=agreement.pk).update(critical_notice_h=48)
    with pytest.raises(CommandError):
        call_command("audit", "verify")
    err = capsys.readouterr().err
    assert f"signature #{signature.pk} (approved by " in err
    assert "changed since signing without an audit entry: critical_notice_h" in err
    assert not check_chains(world.user("sponsor-one", "sponsor_qa")).intact
    assert check_chains(world.user("beta-pharma", "cdmo_qa")).intact


def test_verify_accepts_a_change_made_through_the_services(world: Any, agreement: Any) -> None:
    """A change on the audit trail supersedes the signature without breaking verify."""
    _sign(world.user("alpha-bio", "cdmo_qa"), agreement)
    services.update_agreement(
        world.user("alpha-bio", "cdmo_qa"), agreement, {"minor_notice_h": 480}, "Faster"
    )
    services.update_agreement(
        world.user("alpha-bio", "cdmo_qa"), agreement, {"major_notice_h": 48}, "Faster"
    )
    assert verify_signatures() == []
    (shown,) = services.signatures_of(agreement)
    assert shown.changed == ("major_notice_h", "minor_notice_h")


def test_verify_names_a_signature_whose_record_changed_through_the_services(
    world: Any, agreement: Any, capsys: Any
) -> None:
    """The command exits 0 but names the signature, the fields changed and who changed them."""
    signature = _sign(world.user("alpha-bio", "cdmo_qa"), agreement)
    services.update_agreement(
        world.user("alpha-bio", "cdmo_qa"), agreement, {"minor_notice_h": 480}, "Faster"
    )
    call_command("audit", "verify")
    out = capsys.readouterr().out
    (line,) = [line for line in out.splitlines() if line.startswith("CHANGED ")]
    assert line.startswith(f"CHANGED signature #{signature.pk} (approved by ")
    assert "changed since signing through the application: minor_notice_h, last by " in line
    assert "every chain intact" in out
    assert check_chains(world.user("sponsor-one", "sponsor_qa")).changed == (line[8:],)
    assert check_chains(world.user("beta-pharma", "cdmo_qa")).changed == ()


def test_verify_names_a_signature_whose_record_was_deleted(world: Any, agreement: Any) -> None:
    signature = _sign(world.user("alpha-bio", "cdmo_qa"), agreement)
    with scopes_disabled():
        QualityAgreement.objects.filter(pk=agreement.pk).delete()
    (found,) = verify_signatures()
    assert found.chain.startswith(f"signature #{signature.pk} ")
    assert "no longer exists" in found.problem
