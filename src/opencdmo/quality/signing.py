"""What can be signed, and the content a signature is bound to.

A model becomes signable with one line, ``register_signable(Model, fields=..., meanings=...)``.
The *canonical content* of a record is the stored values of exactly those fields, keyed by
column name (a foreign key as ``project_id`` holding the id), times and dates in ISO 8601,
decimals and UUIDs as strings, as the audit trail records them; encoded as JSON with sorted
keys, no spaces, UTF-8 (non-ASCII characters as themselves); its SHA-256 in hex is the
record's content hash. The same values are what the audited services write to the audit
trail, so walking a record's entries back from its content now recovers any earlier content:
that is how a refused signing names the fields that changed, and how ``opencdmo audit
verify`` tells a record changed through the services (on the audit trail) from one changed
behind their back.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from django.db import models
from django_scopes import scopes_disabled

from opencdmo.accounts.roles import SIGN_RECORDS
from opencdmo.audit import services as audit
from opencdmo.audit.models import AuditEntry

__all__ = [
    "Signable",
    "canonical_content",
    "canonical_json",
    "changed_fields",
    "content_at",
    "content_sha256",
    "record_type",
    "register_signable",
    "resolve",
    "signable_of",
]


@dataclass(frozen=True)
class Signable:
    """A signable model: the fields its content covers, the meanings a signature of it may
    have, and the permission a signer needs."""

    model: type[models.Model]
    fields: tuple[str, ...]
    meanings: tuple[str, ...]
    permission: str = SIGN_RECORDS


_REGISTRY: dict[str, Signable] = {}


def record_type(model: type[models.Model] | models.Model) -> str:
    """``app_label.model`` of a model or instance, as signatures and audit entries name it."""
    return str(model._meta.label_lower)


def register_signable(
    model: type[models.Model],
    *,
    fields: Iterable[str],
    meanings: Iterable[str],
    permission: str = SIGN_RECORDS,
) -> Signable:
    """Declare ``model`` signable over ``fields`` with ``meanings``; returns the declaration."""
    names = tuple(fields)
    known = {field.name for field in model._meta.concrete_fields}
    unknown = sorted(set(names) - known)
    if unknown:
        raise ValueError(f"{model._meta.label} has no field {', '.join(unknown)} to sign.")
    signable = Signable(model, names, tuple(meanings), permission)
    _REGISTRY[record_type(model)] = signable
    return signable


def signable_of(record: models.Model | str) -> Signable:
    """The declaration of a record (or its ``record_type``); unregistered ones are an error."""
    key = record if isinstance(record, str) else record_type(record)
    try:
        return _REGISTRY[key]
    except KeyError:
        raise LookupError(f"{key} is not a signable record.") from None


def resolve(kind: str, record_id: str) -> models.Model | None:
    """The record a signature names, as stored now, whoever's it is; ``None`` if gone."""
    model = signable_of(kind).model
    with scopes_disabled():
        return model._base_manager.filter(pk=record_id).first()


def canonical_content(record: models.Model) -> dict[str, Any]:
    """The registered fields' stored values, keyed by column name, as the audit trail
    writes them."""
    return audit.snapshot(record, signable_of(record).fields)


def canonical_json(content: dict[str, Any]) -> bytes:
    return json.dumps(content, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()


def content_sha256(content: dict[str, Any]) -> str:
    return hashlib.sha256(canonical_json(content)).hexdigest()


def changed_fields(old: dict[str, Any], new: dict[str, Any]) -> list[str]:
    """The names (column names, as in the content) whose values differ."""
    return sorted(key for key in set(old) | set(new) if old.get(key) != new.get(key))


def _entries_newest_first(kind: str, record_id: str) -> Iterable[AuditEntry]:
    with scopes_disabled():
        entries = AuditEntry.objects.filter(object_type=kind, object_id=record_id)
        yield from entries.order_by("-at", "-id").iterator()


def content_at(
    kind: str, record_id: str, now: dict[str, Any], *, wanted: str = "", since: Any = None
) -> tuple[dict[str, Any], list[str]] | None:
    """Walk the record's audit entries back from its content ``now``.

    With ``wanted`` (a content hash), stop at the first earlier content that hashes to it and
    return it with the fields changed since; ``None`` if the trail never had it. With
    ``since`` (a time), undo every entry after it and return the content then.
    """
    if wanted and content_sha256(now) == wanted:
        return now, []
    content, touched = dict(now), set()
    for entry in _entries_newest_first(kind, record_id):
        if since is not None and entry.at <= since:
            break
        for key, value in (entry.before or {}).items():
            if key in content:
                content[key] = value
                touched.add(key)
        if wanted and content_sha256(content) == wanted:
            return content, changed_fields(content, now)
    if wanted:
        return None
    return content, sorted(touched)
