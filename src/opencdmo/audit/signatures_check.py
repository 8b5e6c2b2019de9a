"""Electronic signatures checked against the records they sign, for ``opencdmo audit verify``.

Each signature's record is read as it stands now and its content hash recomputed. A record
changed through the audited services since it was signed is named with the fields changed
and who changed them last: the signature no longer covers the record as it is, but the audit
entries lead back from the content now to the content signed, so it is not a break (and its
page shows the signature as "record changed since signing"). A record whose content now
cannot be traced back to the signed content on the audit trail was changed (or deleted)
behind the services' back: that signature is a break, named with the fields that differ.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass

from django.db import models
from django.db.models import Q
from django_scopes import scopes_disabled

from opencdmo.audit.models import AuditEntry
from opencdmo.audit.services import ChainBreak
from opencdmo.quality import signing
from opencdmo.quality.models import Signature

CHUNK = 2000
"""Signatures read, and their records looked up, at a time."""


def _name(signature: Signature) -> str:
    at = signature.signed_at.astimezone(dt.UTC)
    return (
        f"signature #{signature.pk} ({signature.get_meaning_display().lower()} by "
        f"{signature.signer_name}, {at:%Y-%m-%d %H:%M:%S} UTC)"
    )


@dataclass(frozen=True)
class SignatureCheck:
    """Signatures broken off the audit trail, and those whose record changed on it."""

    breaks: list[ChainBreak]
    changed: list[str]


def _changed_through_services(signature: Signature, fields: list[str]) -> str:
    with scopes_disabled():
        last = (
            AuditEntry.objects.filter(
                object_type=signature.record_type,
                object_id=signature.record_id,
                at__gt=signature.signed_at,
            )
            .order_by("-at", "-id")
            .first()
        )
    by = (
        f", last by {last.actor_name or 'the system'} at {last.at.astimezone(dt.UTC):%Y-%m-%d %H:%M:%S} UTC"
        if last
        else ""
    )
    return (
        f"{_name(signature)}: {signature.record_repr} ({signature.record_type} "
        f"{signature.record_id}) changed since signing through the application: "
        f"{', '.join(fields)}{by}"
    )


def _records(signatures: list[Signature]) -> dict[tuple[str, str], models.Model | None]:
    """The records ``signatures`` name, as stored now, keyed by (record type, record id);
    ``None`` for one gone. One read per record type, as ``signing.resolve`` would find each."""
    wanted: dict[str, set[str]] = defaultdict(set)
    for signature in signatures:
        wanted[signature.record_type].add(signature.record_id)
    found: dict[tuple[str, str], models.Model | None] = {}
    for kind, record_ids in wanted.items():
        model = signing.signable_of(kind).model
        keys = {record_id: model._meta.pk.to_python(record_id) for record_id in record_ids}
        with scopes_disabled():
            stored = model._base_manager.in_bulk(set(keys.values()))
        for record_id, key in keys.items():
            found[kind, record_id] = stored.get(key)
    return found


def _check(signature: Signature, record: models.Model | None) -> tuple[str | None, str | None]:
    """Why ``signature`` no longer matches ``record`` (as stored now, ``None`` if gone), as
    (break, audited change); both ``None`` when the record still hashes to the content
    signed."""
    kind, record_id = signature.record_type, signature.record_id
    where = f"{signature.record_repr} ({kind} {record_id})"
    if signing.content_sha256(signature.content) != signature.content_sha256:
        return f"the signed content of {where} does not match its hash (edited)", None
    if record is None:
        with scopes_disabled():
            deleted = AuditEntry.objects.filter(
                object_type=kind, object_id=record_id, action__endswith=".deleted"
            ).exists()
        if deleted:
            return None, f"{_name(signature)}: {where} was deleted through the application"
        return f"{where} no longer exists (deleted without an audit entry)", None
    now = signing.canonical_content(record)
    if signing.content_sha256(now) == signature.content_sha256:
        return None, None
    found = signing.content_at(kind, record_id, now, since=signature.signed_at)
    assert found is not None
    then, _ = found
    if signing.content_sha256(then) == signature.content_sha256:
        fields = signing.changed_fields(signature.content, now)
        return None, _changed_through_services(signature, fields)
    fields_text = ", ".join(signing.changed_fields(signature.content, then))
    return f"{where} changed since signing without an audit entry: {fields_text}", None


def check_signatures(organisation_ids: Iterable[int] | None = None) -> SignatureCheck:
    """Every signature (only those of ``organisation_ids``, signed by or shared with them,
    when given) against its record: the breaks, and the records changed since on the trail.

    Signatures are read in chunks of ``CHUNK``, with their records read per chunk and record
    type, so the check holds one chunk at a time and costs a few queries per chunk rather
    than one per signature."""
    with scopes_disabled():
        signatures = Signature.objects.order_by("pk")
        if organisation_ids is not None:
            ids = list(organisation_ids)
            signatures = signatures.filter(Q(organisation_id__in=ids) | Q(shared_with_id__in=ids))
    breaks: list[ChainBreak] = []
    changed: list[str] = []
    after = 0
    while True:
        with scopes_disabled():
            chunk = list(signatures.filter(pk__gt=after)[:CHUNK])
        if not chunk:
            break
        records = _records(chunk)
        for signature in chunk:
            problem, change = _check(signature, records[signature.record_type, signature.record_id])
            if problem is not None:
                breaks.append(ChainBreak(_name(signature), None, None, problem))
            if change is not None:
                changed.append(change)
        after = chunk[-1].pk
    return SignatureCheck(breaks, changed)


def verify_signatures(organisation_ids: Iterable[int] | None = None) -> list[ChainBreak]:
    """One break per signature whose record changed or vanished off the audit trail."""
    return check_signatures(organisation_ids).breaks
