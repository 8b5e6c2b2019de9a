"""Signing records electronically, and writing quality agreements.

``sign`` is 21 CFR Part 11 in one function: the signer re-enters the password at every
signing, and a current authenticator code when they have two-factor sign-in (§11.200(a));
the signature carries the printed name, the UTC time and the meaning (§11.50), and is bound
to the record's content hash so that it cannot be moved to other content (§11.70). A failed
attempt is refused, counts toward the account's lockout like a failed login, and goes on the
audit trail; nothing is signed.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import models, transaction
from django.http import Http404
from django.utils import timezone
from django_scopes import scopes_disabled

from opencdmo.accounts.backends import claim_attempt, clear_lockout
from opencdmo.accounts.models import User
from opencdmo.accounts.services import LOCKED_OUT, accept_totp_code
from opencdmo.audit import services as audit
from opencdmo.core import services as core
from opencdmo.core.services import Writable
from opencdmo.core.tenancy import caller_organisation_ids, tenancy_of
from opencdmo.core.text import control_character_problem
from opencdmo.quality import signing
from opencdmo.quality.models import Meaning, QualityAgreement, Signature

__all__ = [
    "AGREEMENT",
    "ShownSignature",
    "agreement_of",
    "approvals",
    "create_agreement",
    "is_approved",
    "reauthenticate",
    "sign",
    "signatures_of",
    "update_agreement",
]

SIGNED = "opencdmo.signature.signed"
REFUSED = "opencdmo.signature.refused"
WRONG_PASSWORD = "The password is not correct; nothing was signed."
WRONG_CODE = "The authenticator code is not valid; nothing was signed."
CODE_NEEDED = "Give the current code of your authenticator app; nothing was signed."


def _parties(record: models.Model) -> list[int]:
    tenancy = tenancy_of(record)
    owner = tenancy.owner_id(record)
    return [p for p in (owner, *tenancy.shared_ids(record)) if p is not None]


def _other_party(record: models.Model, organisation_id: int | None) -> int | None:
    return next((p for p in _parties(record) if p != organisation_id), None)


def _refuse(user: User, record: models.Model, meaning: str, why: str, field: str) -> None:
    """Put the failed attempt on the audit trail (outside the signing transaction, so it
    stays) and refuse with ``why`` keyed by ``field``."""
    audit.record(
        REFUSED,
        actor=user,
        organisation_id=user.organisation_id,
        shared_with_id=_other_party(record, user.organisation_id),
        target=record,
        after={"meaning": meaning, "refused": why},
        reason=why,
    )
    raise ValidationError({field: why})


def _authorise_signer(user: User, record: models.Model, signable: signing.Signable) -> None:
    """A signer holds the declaration's permission and reads the record (else 404)."""
    if not user.can(signable.permission):
        raise PermissionDenied("Your role may not sign records.")
    if not tenancy_of(record).is_readable_by(record, caller_organisation_ids(user)):
        raise Http404("No such object.")


def reauthenticate(
    user: User, record: models.Model, meaning: str, password: str, totp_code: str
) -> None:
    """Password, and the authenticator's code when the user has one, as at sign-in: each
    attempt claims one of the account's tries first (the lockout of ``backends``)."""
    if not claim_attempt(user.pk, timezone.now()):
        _refuse(user, record, meaning, LOCKED_OUT, "password")
    if not user.check_password(password):
        _refuse(user, record, meaning, WRONG_PASSWORD, "password")
    if user.has_two_factor:
        if not totp_code.strip():
            _refuse(user, record, meaning, CODE_NEEDED, "totp_code")
        if not accept_totp_code(user, totp_code):
            _refuse(user, record, meaning, WRONG_CODE, "totp_code")
    clear_lockout(user.pk)


def _locked_content(record: models.Model) -> dict[str, Any]:
    with scopes_disabled():
        stored = type(record)._base_manager.select_for_update().filter(pk=record.pk).first()
    if stored is None:
        raise Http404("No such object.")
    return signing.canonical_content(stored)


def _changed_message(record: models.Model, now: dict[str, Any], seen_sha256: str) -> str:
    found = signing.content_at(signing.record_type(record), str(record.pk), now, wanted=seen_sha256)
    what = f": {', '.join(found[1])}" if found and found[1] else ""
    return (
        f"{record} changed since you opened it{what}. Read it again and sign what it says "
        "now; nothing was signed."
    )


def sign(
    user: User,
    record: models.Model,
    meaning: str,
    password: str,
    totp_code: str,
    reason: str,
    seen_sha256: str,
    *,
    reauthenticated: bool = False,
) -> Signature:
    """Sign ``record`` as ``user`` with ``meaning``, bound to its content as the signer saw it.

    ``seen_sha256`` is the content hash shown with the form the signer read; if the record
    changed since, nothing is signed and the message names the changed fields. A signer signs
    the same content with the same meaning once. ``reauthenticated``: the caller has just
    checked this signing's password and code with ``reauthenticate`` (a disposition does,
    before writing the record it signs); an authenticator code is accepted only once.
    """
    signable = signing.signable_of(record)
    _authorise_signer(user, record, signable)
    if meaning not in signable.meanings:
        allowed = ", ".join(signable.meanings)
        raise ValidationError(
            {"meaning": f"A {record._meta.verbose_name} is signed as one of: {allowed}."}
        )
    reason = reason.strip()
    if problem := control_character_problem(reason):
        raise ValidationError({"reason": f"The text {problem}."})
    if not reauthenticated:
        reauthenticate(user, record, meaning, password, totp_code)
    kind = signing.record_type(record)
    with transaction.atomic():
        content = _locked_content(record)
        digest = signing.content_sha256(content)
        if digest != seen_sha256:
            raise ValidationError({"seen_sha256": _changed_message(record, content, seen_sha256)})
        with scopes_disabled():
            again = Signature.objects.filter(
                record_type=kind,
                record_id=str(record.pk),
                signer=user,
                meaning=meaning,
                content_sha256=digest,
            ).exists()
        if again:
            raise ValidationError(
                {"meaning": f"You signed this content as {meaning} already; nothing was signed."}
            )
        name = user.get_full_name() or user.username
        other = _other_party(record, user.organisation_id)
        entry = audit.record(
            SIGNED,
            actor=user,
            organisation_id=user.organisation_id,
            shared_with_id=other,
            target=record,
            after={"meaning": meaning, "signer_name": name, "content_sha256": digest},
            reason=reason or f"Signed as {meaning}",
        )
        signature = Signature(
            signer=user,
            signer_name=name,
            organisation_id=user.organisation_id,
            shared_with_id=other,
            meaning=meaning,
            record_type=kind,
            record_id=str(record.pk),
            record_repr=str(record)[:300],
            content=content,
            content_sha256=digest,
            signed_at=entry.at,
            reason=reason,
            audit_entry=entry,
        )
        signature.save()
    return signature


@dataclass(frozen=True)
class ShownSignature:
    """A signature as a record's page shows it: current, or the fields changed since."""

    signature: Signature
    changed: tuple[str, ...]

    @property
    def current(self) -> bool:
        return not self.changed


def signatures_of(record: models.Model) -> list[ShownSignature]:
    """Every signature of ``record``, oldest first, each compared with the content now.

    The caller has read the record; its signatures are the parties' to read (each belongs to
    its signer's organisation and is shared with the other), hence no narrower scope here.
    """
    now = signing.canonical_content(record)
    digest = signing.content_sha256(now)
    with scopes_disabled():
        found = list(
            Signature.objects.filter(
                record_type=signing.record_type(record), record_id=str(record.pk)
            )
        )
    return [
        ShownSignature(
            s,
            () if s.content_sha256 == digest else tuple(signing.changed_fields(s.content, now)),
        )
        for s in found
    ]


# --- quality agreements --------------------------------------------------------------------

AGREEMENT_FIELDS = (
    "minor_notice_h",
    "major_notice_h",
    "critical_notice_h",
    "sponsor_release_required",
)
AGREEMENT = Writable(QualityAgreement, fields=AGREEMENT_FIELDS, noun="quality_agreement")

signing.register_signable(
    QualityAgreement, fields=("project", *AGREEMENT_FIELDS), meanings=(str(Meaning.APPROVED),)
)


def create_agreement(
    actor: User | None, project: Any, fields: dict[str, Any], reason: str = ""
) -> QualityAgreement:
    """The project's quality agreement, written by its CDMO's QA; one per project."""
    with scopes_disabled():
        exists = QualityAgreement.objects.filter(project=project).exists()
    if exists:
        raise ValidationError({"project": f"{project} has its quality agreement already."})
    return core.create(
        AGREEMENT,
        actor=actor,
        reason=reason,
        default_reason="Quality agreement written",
        parent={"project": project},
        fields=fields,
    )


def update_agreement(
    actor: User | None, agreement: QualityAgreement, changes: dict[str, Any], reason: str
) -> QualityAgreement:
    """Change the agreement's terms; signatures of the old terms stay, shown as 'record
    changed since signing', and both parties sign again."""
    return core.update(AGREEMENT, agreement, actor=actor, reason=reason, changes=changes)


def approvals(agreement: QualityAgreement) -> dict[str, ShownSignature | None]:
    """Each party's latest current approval (``cdmo``, ``sponsor``), or ``None``."""
    found: dict[str, ShownSignature | None] = {"cdmo": None, "sponsor": None}
    project = agreement.project
    side = {project.cdmo_id: "cdmo", project.sponsor_id: "sponsor"}
    for shown in signatures_of(agreement):
        party = side.get(shown.signature.organisation_id)
        if party and shown.current and shown.signature.meaning == Meaning.APPROVED:
            found[party] = shown
    return found


def is_approved(agreement: QualityAgreement) -> bool:
    """Whether both parties approved the agreement's terms as they stand."""
    return all(shown is not None for shown in approvals(agreement).values())


def agreement_of(project: Any) -> QualityAgreement | None:
    """The project's quality agreement, which deviations and dispositions read, if written."""
    with scopes_disabled():
        return QualityAgreement.objects.filter(project=project).first()
