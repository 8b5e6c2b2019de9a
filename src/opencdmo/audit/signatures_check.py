"""Electronic signatures checked against the records they sign, for ``opencdmo audit verify``.

Each signature's record is read as it stands now and its content hash recomputed. A record
changed through the audited services since it was signed is not a break: its audit entries
lead back from the content now to the content signed, and its page shows the signature as
"record changed since signing". A record whose content now cannot be traced back to the
signed content on the audit trail was changed (or deleted) behind the services' back: that
signature is named, with the fields that differ.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable

from django.db.models import Q
from django_scopes import scopes_disabled

from opencdmo.audit.models import AuditEntry
from opencdmo.audit.services import ChainBreak
from opencdmo.quality import signing
from opencdmo.quality.models import Signature


def _name(signature: Signature) -> str:
    at = signature.signed_at.astimezone(dt.UTC)
    return (
        f"signature #{signature.pk} ({signature.get_meaning_display().lower()} by "
        f"{signature.signer_name}, {at:%Y-%m-%d %H:%M:%S} UTC)"
    )


def _problem(signature: Signature) -> str | None:
    """Why ``signature`` no longer matches its record, or ``None`` when it does or the audit
    trail accounts for every change since."""
    kind, record_id = signature.record_type, signature.record_id
    where = f"{signature.record_repr} ({kind} {record_id})"
    if signing.content_sha256(signature.content) != signature.content_sha256:
        return f"the signed content of {where} does not match its hash (edited)"
    record = signing.resolve(kind, record_id)
    if record is None:
        with scopes_disabled():
            deleted = AuditEntry.objects.filter(
                object_type=kind, object_id=record_id, action__endswith=".deleted"
            ).exists()
        return None if deleted else f"{where} no longer exists (deleted without an audit entry)"
    now = signing.canonical_content(record)
    if signing.content_sha256(now) == signature.content_sha256:
        return None
    found = signing.content_at(kind, record_id, now, since=signature.signed_at)
    assert found is not None
    then, _ = found
    if signing.content_sha256(then) == signature.content_sha256:
        return None
    fields = ", ".join(signing.changed_fields(signature.content, then))
    return f"{where} changed since signing without an audit entry: {fields}"


def verify_signatures(organisation_ids: Iterable[int] | None = None) -> list[ChainBreak]:
    """One break per signature whose record changed or vanished off the audit trail; only
    the signatures of ``organisation_ids`` (signed by or shared with them) when given."""
    with scopes_disabled():
        signatures = Signature.objects.order_by("pk")
        if organisation_ids is not None:
            ids = list(organisation_ids)
            signatures = signatures.filter(Q(organisation_id__in=ids) | Q(shared_with_id__in=ids))
        found = list(signatures)
    breaks = []
    for signature in found:
        problem = _problem(signature)
        if problem is not None:
            breaks.append(ChainBreak(_name(signature), None, None, problem))
    return breaks
