"""Writing and verifying the audit trail.

Each tenant has its own chain; an entry about a record shared by two organisations goes to
the acting one's chain and names the other in ``shared_with``. Logins, logouts and failed
logins go to a second chain of the tenant, its access chain, so that signing in never waits
for the lock of a long write to the records' chain (a 20,000-row import holds it for seconds). An entry's hash is SHA-256 over a canonical JSON encoding of
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
import math
import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from django.db import connection, models, transaction
from django.utils import timezone
from django_scopes import scopes_disabled

from opencdmo.audit.context import current
from opencdmo.audit.models import AuditEntry, ChainHead

GENESIS_HASH = "0" * 64
PLATFORM_CHAIN = "platform"


_SCALARS = (str, int, bool)


ACCESS_ACTIONS = frozenset(
    {"opencdmo.user.logged_in", "opencdmo.user.logged_out", "opencdmo.user.login_failed"}
)
"""Actions that go to the access chain of their organisation (or of the platform)."""

ACCESS_SUFFIX = ":access"


def chain_key(organisation_id: int | None, action: str = "") -> str:
    """The chain an entry of ``action`` for ``organisation_id`` goes to: 'org:<id>' or
    'platform', with ':access' appended for the actions in ``ACCESS_ACTIONS``."""
    chain = f"org:{organisation_id}" if organisation_id else PLATFORM_CHAIN
    return chain + ACCESS_SUFFIX if action in ACCESS_ACTIONS else chain


def chains_of(organisation_id: int | None) -> tuple[str, str]:
    """Both chains of an organisation (or of the platform): its records' and its access chain."""
    chain = chain_key(organisation_id)
    return chain, chain + ACCESS_SUFFIX


def _plain(value: Any) -> Any:
    """A JSON value that survives a database round trip unchanged."""
    if value is None or type(value) in _SCALARS:
        return value
    if isinstance(value, float):
        return _plain_float(value)
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


def _plain_float(value: float) -> float | int | str:
    """The float as PostgreSQL's jsonb gives it back: no negative zero, integers from 1e16 on
    written out in digits (as jsonb prints them), and NaN or infinity, which JSON lacks, as text.
    """
    if not math.isfinite(value):
        return str(value)
    if abs(value) >= 1e16:
        return int(value)
    return float(value) + 0.0


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


def _content(entry: AuditEntry | _Pending) -> dict[str, Any]:
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


def entry_hash(entry: AuditEntry | _Pending) -> str:
    """SHA-256 over the canonical encoding (sorted keys, no spaces, UTF-8) of the entry."""
    encoded = json.dumps(_content(entry), sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(encoded.encode()).hexdigest()


@dataclass(frozen=True)
class Event:
    """One entry to append with :func:`record_many`; the fields mean what ``record``'s do."""

    action: str
    actor: Any = None
    organisation_id: int | None = None
    target: models.Model | None = None
    before: dict[str, Any] | None = None
    after: dict[str, Any] | None = None
    reason: str = ""
    actor_name: str = ""
    shared_with_id: int | None = None


_NOT_PLACED = dt.datetime.min.replace(tzinfo=dt.UTC)


@dataclass(slots=True)
class _Pending:
    """An entry's fields, by the names of ``AuditEntry``'s columns, before it is stored.

    Building a model instance per entry costs more than the rest of a bulk append.
    """

    chain: str
    organisation_id: int | None
    shared_with_id: int | None
    actor_id: int | None
    actor_name: str
    action: str
    object_type: str
    object_id: str
    object_repr: str
    before: Any
    after: Any
    reason: str
    request_id: str
    ip: str
    seq: int = 0
    at: dt.datetime = _NOT_PLACED
    prev_hash: str = ""
    hash: str = ""


def _unchained(event: Event) -> _Pending:
    """The entry for ``event`` with everything but its place in the chain (seq, time, hashes)."""
    actor = event.actor
    if actor is not None and not getattr(actor, "is_authenticated", False):
        actor = None
    target = event.target
    context = current()
    return _Pending(
        chain=chain_key(event.organisation_id, event.action),
        organisation_id=event.organisation_id,
        shared_with_id=(
            event.shared_with_id if event.shared_with_id != event.organisation_id else None
        ),
        actor_id=actor.pk if actor is not None else None,
        actor_name=event.actor_name or (str(actor) if actor is not None else ""),
        action=event.action,
        object_type=target._meta.label_lower if target is not None else "",
        object_id=str(target.pk) if target is not None and target.pk is not None else "",
        object_repr=str(target)[:300] if target is not None else "",
        before=_plain(event.before) if event.before is not None else None,
        after=_plain(event.after) if event.after is not None else None,
        reason=event.reason,
        request_id=context.request_id,
        ip=context.ip,
    )


def _locked_head(chain: str) -> ChainHead:
    """The chain's head, locked until the transaction ends: one writer per chain at a time."""
    head, _ = ChainHead.objects.select_for_update().get_or_create(
        chain=chain, defaults={"last_seq": 0, "last_hash": GENESIS_HASH}
    )
    return head


def _chain_onto(entry: _Pending, head: ChainHead) -> None:
    """Place ``entry`` after the head: its seq, time and hashes; the head moves to it."""
    entry.seq = head.last_seq + 1
    entry.at = timezone.now()
    entry.prev_hash = head.last_hash
    entry.hash = entry_hash(entry)
    head.last_seq, head.last_hash = entry.seq, entry.hash


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
    pending = _unchained(
        Event(
            action,
            actor=actor,
            organisation_id=organisation_id,
            target=target,
            before=before,
            after=after,
            reason=reason,
            actor_name=actor_name,
            shared_with_id=shared_with_id,
        )
    )
    with transaction.atomic():
        head = _locked_head(pending.chain)
        _chain_onto(pending, head)
        entry = AuditEntry(
            **{name: getattr(pending, name) for name in _Pending.__slots__},
            actor=actor if pending.actor_id is not None else None,
        )
        entry.save()
        head.save(update_fields=["last_seq", "last_hash"])
    from opencdmo.audit.anchors import checkpoint_when_due  # anchors imports this module

    checkpoint_when_due(entry.chain, entry.seq)
    return entry


_PLACED = ("at", "prev_hash", "seq")
"""What the hash covers that is known only once an entry has its place in the chain."""


def _canonical(content: dict[str, Any]) -> str:
    return json.dumps(content, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


@dataclass(frozen=True, slots=True)
class _Prepared:
    """One entry ready to append: its chain, its column values but the placed ones, and its
    canonical encoding cut where the placed values go (in key order: at, prev_hash, seq)."""

    chain: str
    values: list[Any]
    encoding: tuple[str, str, str, str]


Heads = dict[str, tuple[int, str]]
"""Each chain's last seq and hash."""


@dataclass
class PreparedEntries:
    """Entries built by :func:`prepare_entries`, to append later with :func:`append_entries`.

    ``staged`` is set by :func:`stage_entries`: the heads the staged entries were placed
    after (the first) and the heads they end at (the second).
    """

    entries: list[_Prepared]
    staged: tuple[Heads, Heads] | None = None


def _cut_encoding(pending: _Pending, markers: dict[str, str]) -> tuple[str, str, str, str]:
    """The canonical encoding of ``_content`` in four pieces around the placed values.

    The content is encoded once with ``markers`` as the placed values and cut where they
    stand; joined with the placed values' encodings between them, the pieces are exactly
    ``_canonical(_content(entry))``. A marker starts with U+FFFF, which no stored text may
    hold, and carries a random part, so it cannot be met anywhere else in the encoding.
    """
    content = _content(pending)
    content.update(markers)
    rest = _canonical(content)
    pieces = []
    for key in _PLACED:
        piece, rest = rest.split(json.dumps(markers[key], ensure_ascii=False), 1)
        pieces.append(piece)
    first, second, third = pieces
    return first, second, third, rest


_FIXED_COLUMNS = tuple(name for name in _Pending.__slots__ if name not in (*_PLACED, "hash"))
_COLUMNS = (*_FIXED_COLUMNS, "at", "seq", "prev_hash", "hash")


def prepare_entries(events: Iterable[Event]) -> PreparedEntries:
    """Build the entries for ``events`` as far as they can be before their chain is locked.

    Everything but each entry's place (seq, time, previous hash, hash) is computed here,
    encoding included, so the append under the lock costs little per entry.
    """
    json_value = connection.ops.adapt_json_value
    nonce = uuid.uuid4().hex
    markers = {key: f"\uffff{nonce}{key}" for key in _PLACED}
    prepared = []
    for event in events:
        pending = _unchained(event)
        values = [getattr(pending, name) for name in _FIXED_COLUMNS]
        for index, name in enumerate(_FIXED_COLUMNS):
            if name in ("before", "after") and values[index] is not None:
                values[index] = json_value(values[index], None)
        prepared.append(_Prepared(pending.chain, values, _cut_encoding(pending, markers)))
    return PreparedEntries(prepared)


_STAGE = "opencdmo_audit_stage"
"""The SQLite temporary table (of the connection) that :func:`stage_entries` fills."""


def _insert_columns() -> list[str]:
    column_of = {field.attname: field.column for field in AuditEntry._meta.concrete_fields}
    quote = connection.ops.quote_name
    return [quote(column_of[name]) for name in _COLUMNS]


def _placed(prepared: PreparedEntries, heads: Heads, at: dt.datetime) -> list[list[Any]]:
    """Each entry's row placed after ``heads`` (which move to the last ones), appended at ``at``."""
    at_encoded = json.dumps(at.astimezone(dt.UTC).isoformat(timespec="microseconds"))
    at_stored = connection.ops.adapt_datetimefield_value(at)
    rows = []
    for entry in prepared.entries:
        last_seq, prev_hash = heads[entry.chain]
        seq = last_seq + 1
        first, second, third, last = entry.encoding
        encoded = f'{first}{at_encoded}{second}"{prev_hash}"{third}{seq}{last}'
        digest = hashlib.sha256(encoded.encode()).hexdigest()
        rows.append([*entry.values, at_stored, seq, prev_hash, digest])
        heads[entry.chain] = (seq, digest)
    return rows


def _current_heads(chains: list[str]) -> Heads:
    """The chains' heads as they are now, unlocked; a chain without one starts at genesis."""
    stored = {
        chain: (last_seq, last_hash)
        for chain, last_seq, last_hash in ChainHead.objects.filter(chain__in=chains).values_list(
            "chain", "last_seq", "last_hash"
        )
    }
    return {chain: stored.get(chain, (0, GENESIS_HASH)) for chain in chains}


def stage_entries(prepared: PreparedEntries) -> None:
    """On SQLite, copy the entries into a temporary table before the write transaction.

    SQLite has one writer at a time, so the append's time under the lock is every other
    writer's wait. Staged, the entries are placed after the chains' heads as they are now
    and copied by one ``INSERT … SELECT`` under the lock; if a chain moved meanwhile, only
    their places (seq, time, hashes) are rewritten there. Elsewhere this does nothing.
    """
    if connection.vendor != "sqlite" or not prepared.entries:
        return
    chains = sorted({entry.chain for entry in prepared.entries})
    start = _current_heads(chains)
    end = dict(start)
    rows = _placed(prepared, end, timezone.now())
    quote = connection.ops.quote_name
    columns = _insert_columns()
    table = quote(AuditEntry._meta.db_table)
    with connection.cursor() as cursor:
        cursor.execute(f"DROP TABLE IF EXISTS temp.{_STAGE}")
        cursor.execute(
            f"CREATE TEMP TABLE {_STAGE} AS SELECT {', '.join(columns)} FROM {table} WHERE 0"
        )
        cursor.executemany(
            f"INSERT INTO temp.{_STAGE} VALUES ({', '.join(['%s'] * len(columns))})", rows
        )
    prepared.staged = (start, end)


def _copy_staged(prepared: PreparedEntries, heads: Heads) -> None:
    """Append the staged entries after ``heads`` (locked); ``heads`` moves to their end."""
    assert prepared.staged is not None
    start, end = prepared.staged
    quote = connection.ops.quote_name
    columns = _insert_columns()
    with connection.cursor() as cursor:
        if heads != start:  # a chain moved since staging: re-place the entries there
            rows = _placed(prepared, heads, timezone.now())
            cursor.executemany(
                f"UPDATE temp.{_STAGE} SET {', '.join(f'{c} = %s' for c in columns[-4:])} "
                "WHERE rowid = %s",
                [[*row[-4:], index] for index, row in enumerate(rows, start=1)],
            )
        else:
            heads.update(end)
        cursor.execute(
            f"INSERT INTO {quote(AuditEntry._meta.db_table)} ({', '.join(columns)}) "
            f"SELECT {', '.join(columns)} FROM temp.{_STAGE} ORDER BY rowid"
        )


def _insert_rows(rows: list[list[Any]]) -> None:
    """INSERT the rows in order, so ids follow seq: COPY on PostgreSQL, else one prepared
    statement run for each row."""
    table = connection.ops.quote_name(AuditEntry._meta.db_table)
    columns = _insert_columns()
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            with cursor.cursor.copy(f"COPY {table} ({', '.join(columns)}) FROM STDIN") as copy:
                for row in rows:
                    copy.write_row(row)
            return
        cursor.executemany(
            f"INSERT INTO {table} ({', '.join(columns)}) "
            f"VALUES ({', '.join(['%s'] * len(columns))})",
            rows,
        )


def append_entries(prepared: PreparedEntries) -> int:
    """Append prepared entries, in order, inside the current transaction; how many.

    Each chain's head is locked once, the locks in chain order (so two bulk writers never
    wait for each other crosswise); the entries of one call share the time they were
    placed at, and are inserted in order, so ids follow seq.
    """
    if not prepared.entries:
        return 0
    from opencdmo.audit.anchors import checkpoint_every, checkpoint_when_due

    try:
        with transaction.atomic():
            chains = sorted({entry.chain for entry in prepared.entries})
            locked = {chain: _locked_head(chain) for chain in chains}
            heads = {chain: (head.last_seq, head.last_hash) for chain, head in locked.items()}
            first_seq = {chain: seq + 1 for chain, (seq, _) in heads.items()}
            if prepared.staged is not None:
                _copy_staged(prepared, heads)
            else:
                _insert_rows(_placed(prepared, heads, timezone.now()))
            for chain, head in locked.items():
                head.last_seq, head.last_hash = heads[chain]
                head.save(update_fields=["last_seq", "last_hash"])
    finally:
        if prepared.staged is not None:
            with connection.cursor() as cursor:
                cursor.execute(f"DROP TABLE IF EXISTS temp.{_STAGE}")
            prepared.staged = None
    every = checkpoint_every()
    for chain, (last_seq, _) in heads.items():
        due = last_seq - last_seq % every if every > 0 else 0
        if due >= first_seq[chain]:
            checkpoint_when_due(chain, due)
    return len(prepared.entries)


def record_many(events: Iterable[Event]) -> int:
    """Append an entry for each event, in order, inside the current transaction; how many.

    Each entry holds exactly what :func:`record` writes for its event, and the chain
    verifies the same; what differs is the cost (see :func:`append_entries`). A caller that
    holds other locks can build the entries first with :func:`prepare_entries`.
    """
    return append_entries(prepare_entries(events))


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
