"""Writing and verifying the audit trail.

Each tenant has its own chain; an entry about a record shared by two organisations goes to
the acting one's chain and names the other in ``shared_with``. An entry's hash is SHA-256 over a canonical JSON encoding of
its content and the previous entry's hash, so editing, deleting, inserting or reordering
entries breaks the chain at that point. Entries are written in the caller's transaction:
if the change rolls back, so does its entry. Every N-th entry of a chain is followed, once
committed, by a signed checkpoint outside the database (``audit.anchors``).
"""

from __future__ import annotations

import datetime as dt
import decimal
import hashlib
import json
import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from django.db import models, transaction
from django.utils import timezone
from django_scopes import scopes_disabled

from opencdmo.audit.context import current
from opencdmo.audit.models import AuditEntry, ChainHead

GENESIS_HASH = "0" * 64
PLATFORM_CHAIN = "platform"


def chain_key(organisation_id: int | None) -> str:
    return f"org:{organisation_id}" if organisation_id else PLATFORM_CHAIN


def _plain(value: Any) -> Any:
    """A JSON value that survives a database round trip unchanged."""
    if isinstance(value, dt.datetime | dt.date | dt.time):
        return value.isoformat()
    if isinstance(value, decimal.Decimal | uuid.UUID):
        return str(value)
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple | set | frozenset):
        items = [_plain(v) for v in value]
        return sorted(items, key=str) if isinstance(value, set | frozenset) else items
    return value


def snapshot(instance: models.Model, fields: Iterable[str] | None = None) -> dict[str, Any]:
    """The instance's stored field values (foreign keys as ids), ready for an entry."""
    wanted = set(fields) if fields is not None else None
    data: dict[str, Any] = {}
    for field in instance._meta.concrete_fields:
        if wanted is not None and field.name not in wanted:
            continue
        data[field.attname] = _plain(field.value_from_object(instance))
    return data


def changed(before: dict[str, Any], after: dict[str, Any]) -> tuple[dict[str, Any], dict[str, Any]]:
    """Only the keys whose value differs, as (old, new)."""
    keys = sorted(k for k in set(before) | set(after) if before.get(k) != after.get(k))
    return {k: before.get(k) for k in keys}, {k: after.get(k) for k in keys}


def _content(entry: AuditEntry) -> dict[str, Any]:
    """What the hash covers; ``shared_with`` only when set, so older entries verify unchanged."""
    content = {
        "chain": entry.chain,
        "seq": entry.seq,
        "organisation": entry.organisation_id,
        "at": entry.at.astimezone(dt.UTC).isoformat(timespec="microseconds"),
        "actor": entry.actor_id,
        "actor_name": entry.actor_name,
        "action": entry.action,
        "object_type": entry.object_type,
        "object_id": entry.object_id,
        "object_repr": entry.object_repr,
        "before": entry.before,
        "after": entry.after,
        "reason": entry.reason,
        "request_id": entry.request_id,
        "ip": entry.ip,
        "prev_hash": entry.prev_hash,
    }
    if entry.shared_with_id is not None:
        content["shared_with"] = entry.shared_with_id
    return content


def entry_hash(entry: AuditEntry) -> str:
    """SHA-256 over the canonical encoding (sorted keys, no spaces, UTF-8) of the entry."""
    encoded = json.dumps(_content(entry), sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(encoded.encode()).hexdigest()


def record(
    action: str,
    *,
    actor: Any = None,
    organisation_id: int | None = None,
    target: models.Model | None = None,
    before: dict[str, Any] | None = None,
    after: dict[str, Any] | None = None,
    reason: str = "",
    actor_name: str = "",
    shared_with_id: int | None = None,
) -> AuditEntry:
    """Append one entry to the chain of ``organisation_id`` inside the current transaction.

    ``shared_with_id`` names the other organisation of a shared record: the entry stays in
    the acting organisation's chain and the other one reads it on its audit page as well.
    """
    if actor is not None and not getattr(actor, "is_authenticated", False):
        actor = None
    chain = chain_key(organisation_id)
    context = current()
    with transaction.atomic():
        head, _ = ChainHead.objects.select_for_update().get_or_create(
            chain=chain, defaults={"last_seq": 0, "last_hash": GENESIS_HASH}
        )
        entry = AuditEntry(
            chain=chain,
            seq=head.last_seq + 1,
            organisation_id=organisation_id,
            shared_with_id=shared_with_id if shared_with_id != organisation_id else None,
            at=timezone.now(),
            actor=actor,
            actor_name=actor_name or (str(actor) if actor is not None else ""),
            action=action,
            object_type=target._meta.label_lower if target is not None else "",
            object_id=str(target.pk) if target is not None and target.pk is not None else "",
            object_repr=str(target)[:300] if target is not None else "",
            before=_plain(before) if before is not None else None,
            after=_plain(after) if after is not None else None,
            reason=reason,
            request_id=context.request_id,
            ip=context.ip,
            prev_hash=head.last_hash,
        )
        entry.hash = entry_hash(entry)
        entry.save()
        head.last_seq, head.last_hash = entry.seq, entry.hash
        head.save(update_fields=["last_seq", "last_hash"])
    from opencdmo.audit.anchors import checkpoint_when_due  # anchors imports this module

    checkpoint_when_due(chain, entry.seq)
    return entry


@dataclass(frozen=True)
class ChainBreak:
    """The first place where a chain no longer matches what was written."""

    chain: str
    seq: int | None
    entry_id: int | None
    problem: str

    def __str__(self) -> str:
        if self.seq is None:
            return f"{self.chain}: {self.problem}"
        where = f"entry #{self.seq}" + (f" (id {self.entry_id})" if self.entry_id else "")
        return f"{self.chain}: {where}: {self.problem}"


def verify_chain(chain: str) -> ChainBreak | None:
    """Recompute one chain from its first entry; return the first break, if any."""
    with scopes_disabled():
        entries = AuditEntry.objects.filter(chain=chain).order_by("seq", "id")
        head = ChainHead.objects.filter(chain=chain).first()
        prev_hash, expected_seq, last_id = GENESIS_HASH, 1, 0
        for entry in entries.iterator(chunk_size=2000):
            if entry.seq != expected_seq:
                kind = "missing (deleted)" if entry.seq > expected_seq else "duplicated (inserted)"
                return ChainBreak(chain, entry.seq, entry.pk, f"entry #{expected_seq} is {kind}")
            if entry.prev_hash != prev_hash:
                return ChainBreak(
                    chain,
                    entry.seq,
                    entry.pk,
                    "does not follow the previous entry (inserted or reordered)",
                )
            if entry_hash(entry) != entry.hash:
                return ChainBreak(
                    chain, entry.seq, entry.pk, "content does not match its hash (edited)"
                )
            if entry.pk < last_id:
                return ChainBreak(chain, entry.seq, entry.pk, "stored out of order (reordered)")
            prev_hash, expected_seq, last_id = entry.hash, expected_seq + 1, entry.pk
        if head is not None and (head.last_seq != expected_seq - 1 or head.last_hash != prev_hash):
            return ChainBreak(
                chain,
                None,
                None,
                f"chain end: chain ends at #{expected_seq - 1} but #{head.last_seq} was written "
                "(tail deleted)",
            )
    return None


def verify_all() -> list[ChainBreak]:
    """Verify every chain; one break per broken chain."""
    with scopes_disabled():
        chains = set(AuditEntry.objects.values_list("chain", flat=True).distinct())
        chains |= set(ChainHead.objects.values_list("chain", flat=True))
    breaks = (verify_chain(chain) for chain in sorted(chains))
    return [b for b in breaks if b is not None]
