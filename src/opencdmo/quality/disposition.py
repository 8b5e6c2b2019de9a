"""Batch disposition in two steps, and the batch review that decides whether it may happen.

The review gathers the batch's offline results against their specifications (entered on the
batch page or imported from a LIMS file), its deviations, and the process-data verdict the
monitoring app registers (none until it gives one). The CDMO's QA releases or rejects by
e-signature only when nothing blocks: no deviation of the batch still open, and every result
out of specification and an alarm verdict each covered by a closed (QA-approved) deviation of
the batch. Then, when the project's quality agreement asks for it, the sponsor's QA releases
(or rejects) with its own signature. The batch moves to ``dispositioned`` through manufacturing's ``change_state``.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.http import Http404
from django.urls import reverse
from django.utils import timezone
from django_scopes import scopes_disabled

from opencdmo.accounts.models import User
from opencdmo.accounts.roles import EDIT_QUALITY, SIGN_RECORDS
from opencdmo.core import services as core
from opencdmo.core.services import Writable
from opencdmo.core.tables import TableError, read_rows
from opencdmo.core.tenancy import caller_organisation_ids, tenancy_of
from opencdmo.manufacturing import services as manufacturing
from opencdmo.manufacturing.models import Batch, OfflineResult
from opencdmo.notifications import services as notifications
from opencdmo.quality import services as quality
from opencdmo.quality import signing
from opencdmo.quality.models import Meaning
from opencdmo.quality.records import Deviation, Disposition
from opencdmo.quality.unscoped import unscoped

__all__ = [
    "LIMS_COLUMNS",
    "ProcessVerdict",
    "Review",
    "dispose",
    "import_lims",
    "review_of",
    "sponsor_decide",
]


@dataclass(frozen=True)
class ProcessVerdict:
    """The monitoring app's verdict of a batch: the sentence the review and its PDFs show, and
    whether it is an alarm (which blocks the disposition until a closed deviation covers it)."""

    sentence: str
    alarm: bool


VerdictProvider = Callable[[Batch], ProcessVerdict | None]
_VERDICT: list[VerdictProvider] = []


def register_verdict(provider: VerdictProvider) -> None:
    """The monitoring app's process-data verdict of a batch, or ``None`` while it has none."""
    _VERDICT[:] = [provider]


@dataclass(frozen=True)
class Review:
    """What the review page shows and what blocks the CDMO's disposition."""

    batch: Batch
    results: list[OfflineResult]
    deviations: list[Deviation]
    verdict: str | None
    disposition: Disposition | None
    sponsor_release_required: bool
    blockers: list[str] = field(default_factory=list)
    verdict_alarm: bool = False

    @property
    def open_deviations(self) -> list[Deviation]:
        return [d for d in self.deviations if d.state != Deviation.State.CLOSED]


@unscoped
def review_of(batch: Batch) -> Review:
    with scopes_disabled():
        results = list(batch.offline_results.order_by("attribute", "pk"))
        deviations = list(batch.deviations.order_by("raised_at", "pk"))
        disposition = Disposition.objects.filter(batch=batch).first()
    agreement = quality.agreement_of(batch.project)
    verdict = _VERDICT[0](batch) if _VERDICT else None
    blockers = [
        f"{d.reference} is {d.get_state_display().lower()}."
        for d in deviations
        if d.state != Deviation.State.CLOSED
    ]
    approved = any(d.state == Deviation.State.CLOSED for d in deviations)
    if verdict is not None and verdict.alarm and not approved:
        blockers.append(
            "Batch monitoring judged the process data an alarm and no closed deviation of "
            "the batch covers it: raise one from the alarm on the batch's monitoring page."
        )
    for result in results:
        if result.in_spec is False and not approved:
            blockers.append(
                f"{result.attribute} {result.value:g} {result.unit} is out of specification "
                f"({result.specification}) with no approved deviation."
            )
    if batch.state != Batch.State.UNDER_REVIEW and disposition is None:
        blockers.append(
            f"Batch {batch.lot} is {batch.get_state_display().lower()}, not under review."
        )
    return Review(
        batch,
        results,
        deviations,
        verdict.sentence if verdict else None,
        disposition,
        agreement.sponsor_release_required if agreement else True,
        blockers,
        verdict_alarm=verdict is not None and verdict.alarm,
    )


def _link(batch: Batch) -> str:
    return reverse("quality:batch-review", args=[batch.pk])


DISPOSITION = Writable(
    Disposition,
    fields=("decision", "state", "decided_at", "sponsor_decision", "sponsor_decided_at"),
    noun="disposition",
)
signing.register_signable(
    Disposition,
    fields=("batch", "decision"),
    meanings=(str(Meaning.RELEASED), str(Meaning.REJECTED)),
)


def _meaning(decision: str) -> str:
    if decision not in Disposition.Decision.values:
        raise ValidationError(
            {"decision": f"Choose one of: {', '.join(Disposition.Decision.values)}."}
        )
    return str(Meaning.RELEASED if decision == Disposition.Decision.RELEASE else Meaning.REJECTED)


@unscoped
def dispose(
    actor: User,
    batch: Batch,
    *,
    decision: str,
    password: str,
    totp_code: str,
    reason: str,
    seen_sha256: str = "",
) -> Disposition:
    """The CDMO QA's release or rejection, signed; refused while anything blocks it.

    The signature binds the batch and the decision; ``seen_sha256`` is left out of the form
    since the record is written by this very step.
    """
    if not actor.can(EDIT_QUALITY) or not actor.can(SIGN_RECORDS):
        raise PermissionDenied("Only the CDMO's QA dispositions a batch.")
    if batch.cdmo_id not in caller_organisation_ids(actor):
        raise Http404("No such object.")
    meaning = _meaning(decision)
    review = review_of(batch)
    if review.disposition is not None:
        raise ValidationError({"decision": f"Batch {batch.lot} is dispositioned already."})
    if review.blockers:
        raise ValidationError({"decision": " ".join(review.blockers)})
    if not reason.strip():
        raise ValidationError({"reason": "Give a reason; it goes with the signature."})
    state = (
        Disposition.State.REJECTED
        if decision == Disposition.Decision.REJECT
        else Disposition.State.AWAITING_SPONSOR
        if review.sponsor_release_required
        else Disposition.State.RELEASED
    )
    # Re-authenticated before anything is written, so that a refusal's audit entry and the
    # account's counted attempt stay; the signing inside relies on it, since an authenticator
    # code is accepted only once.
    quality.reauthenticate(actor, batch, meaning, password, totp_code)
    with transaction.atomic():
        disposition = core.create(
            DISPOSITION,
            actor=actor,
            reason=reason,
            parent={"batch": batch},
            fields={"decision": decision, "state": state, "decided_at": timezone.now()},
            verb="decided",
        )
        digest = signing.content_sha256(signing.canonical_content(disposition))
        quality.sign(
            actor, disposition, meaning, password, totp_code, reason, digest, reauthenticated=True
        )
        manufacturing.change_state(batch, to="dispositioned", actor=actor, reason=reason)
    recipients = (
        notifications.people_with(batch.project.sponsor_id, SIGN_RECORDS)
        if state == Disposition.State.AWAITING_SPONSOR
        else [
            *notifications.people_with(batch.project.sponsor_id, SIGN_RECORDS),
            *notifications.people_with(batch.cdmo_id, EDIT_QUALITY),
        ]
    )
    event = (
        "disposition.awaited"
        if state == Disposition.State.AWAITING_SPONSOR
        else "disposition.signed"
    )
    notifications.notify(
        recipients, event, f"Batch {batch.lot}: {disposition.get_state_display()}", _link(batch)
    )
    return disposition


def _sponsor_qa(actor: Any, disposition: Disposition) -> None:
    """The sponsor's step: its QA only; the CDMO's people are refused (403)."""
    if actor is None:
        return
    if not actor.can(SIGN_RECORDS) or actor.can(EDIT_QUALITY):
        raise PermissionDenied("Only the sponsor's QA releases after the CDMO.")
    if actor.organisation_id not in tenancy_of(disposition).shared_ids(disposition):
        raise Http404("No such object.")


SPONSOR_STEP = Writable(
    Disposition,
    fields=("state", "sponsor_decision", "sponsor_decided_at"),
    noun="disposition",
    authorise=_sponsor_qa,
)


@unscoped
def sponsor_decide(
    actor: User,
    disposition: Disposition,
    *,
    decision: str,
    password: str,
    totp_code: str,
    reason: str,
    seen_sha256: str,
) -> Disposition:
    """The sponsor QA's release (or rejection) of a batch the CDMO released, signed."""
    _sponsor_qa(actor, disposition)
    meaning = _meaning(decision)
    if disposition.state != Disposition.State.AWAITING_SPONSOR:
        raise ValidationError(
            {"decision": f"{disposition} is {disposition.get_state_display().lower()}."}
        )
    # Signed outside any enclosing transaction: a refused attempt's audit entry must stay.
    quality.sign(actor, disposition, meaning, password, totp_code, reason, seen_sha256)
    state = (
        Disposition.State.RELEASED
        if decision == Disposition.Decision.RELEASE
        else Disposition.State.REJECTED
    )
    core.update(
        SPONSOR_STEP,
        disposition,
        actor=actor,
        reason=reason or f"Sponsor {decision}",
        changes={
            "state": state,
            "sponsor_decision": decision,
            "sponsor_decided_at": timezone.now(),
        },
        verb=f"sponsor_{decision}d",
    )
    batch = disposition.batch
    notifications.notify(
        notifications.people_with(batch.cdmo_id, EDIT_QUALITY),
        "disposition.signed",
        f"Batch {batch.lot}: {disposition.get_state_display()} by the sponsor",
        _link(batch),
    )
    return disposition


LIMS_COLUMNS = ("lot", "attribute", "value", "unit", "low", "high")
_COLUMN_OF = {"spec_low": "low", "spec_high": "high"}


def _number(text: str, file: str, line: int, column: str, *, required: bool) -> float | None:
    if not text:
        if required:
            raise TableError(file, "a value is required", line=line, column=column)
        return None
    try:
        value = float(text)
    except ValueError:
        raise TableError(file, f"'{text}' is not a number", line=line, column=column) from None
    if not math.isfinite(value):
        raise TableError(file, f"'{text}' is not a finite number", line=line, column=column)
    return value


@unscoped
def import_lims(actor: User, batch: Batch, data: bytes, name: str) -> list[OfflineResult]:
    """Every row of a LIMS CSV (lot, attribute, value, unit, low, high) as offline results of
    ``batch``, all or nothing; a bad cell raises ``TableError`` with file, line and column."""
    rows = iter(read_rows(data, name=name))
    header = next(rows, None)
    if header is None:
        raise TableError(name, "the file is empty; expected the columns " + ", ".join(LIMS_COLUMNS))
    names = [str(cell).strip().lower() for cell in header.cells]
    missing = [c for c in LIMS_COLUMNS if c not in names]
    if missing:
        raise TableError(name, f"missing column(s) {', '.join(missing)}", line=header.line)
    parsed = []
    for row in rows:
        cells = dict(
            zip(names, (str(c if c is not None else "").strip() for c in row.cells), strict=False)
        )
        if not any(cells.values()):
            continue
        if cells.get("lot", "") != batch.lot:
            raise TableError(
                name,
                f"lot '{cells.get('lot', '')}' is not batch {batch.lot}",
                line=row.line,
                column="lot",
            )
        if not cells.get("attribute"):
            raise TableError(name, "an attribute is required", line=row.line, column="attribute")
        parsed.append(
            (
                row.line,
                {
                    "attribute": cells["attribute"],
                    "value": _number(
                        cells.get("value", ""), name, row.line, "value", required=True
                    ),
                    "unit": cells.get("unit", ""),
                    "spec_low": _number(
                        cells.get("low", ""), name, row.line, "low", required=False
                    ),
                    "spec_high": _number(
                        cells.get("high", ""), name, row.line, "high", required=False
                    ),
                },
            )
        )
    if not parsed:
        raise TableError(name, "no results below the header")
    written = []
    with transaction.atomic():
        for line, fields in parsed:
            try:
                written.append(
                    manufacturing.add_offline_result(
                        batch, actor=actor, reason=f"Imported from {name}", **fields
                    )
                )
            except ValidationError as exc:
                field_name, messages = next(iter(exc.message_dict.items()))
                column = _COLUMN_OF.get(field_name, field_name)
                raise TableError(name, " ".join(messages), line=line, column=column) from exc
    return written
