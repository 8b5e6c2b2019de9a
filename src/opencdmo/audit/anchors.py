"""Anchors of the audit chains outside the database: signed checkpoints and partner witnesses.

The hash chain alone proves nothing to someone who can rewrite the database: they can
recompute every later hash and the chain head. A checkpoint (chain, seq, head hash, entry
count, UTC time, key id) is signed with the Ed25519 key of ``audit.keys`` and appended to a
JSON-lines file; verification then asks the database for the hash at each checkpointed seq,
so a rewritten, truncated or deleted chain disagrees with a signature its editor could not
make. Organisations that share records also write each other's head into their own chain
(a witness), so neither can rewrite its history alone.
"""

from __future__ import annotations

import datetime as dt
import json
import os
from collections.abc import Iterable
from dataclasses import asdict, dataclass
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from django.conf import settings
from django.db import transaction
from django_scopes import scopes_disabled

from opencdmo.audit import keys
from opencdmo.audit.labels import CHAIN_WITNESSED, KEY_ROTATED
from opencdmo.audit.models import AuditEntry, ChainHead
from opencdmo.audit.services import ChainBreak, chain_key, record

CHECKPOINT_FORMAT = "opencdmo.audit.checkpoint/1"
KEY_ROTATION_FORMAT = "opencdmo.audit.key-rotation/1"
CHECKPOINT_EVERY_ENV = "OPENCDMO_AUDIT_CHECKPOINT_EVERY"
CHECKPOINTS = "checkpoints"
SYSTEM_ACTOR = "opencdmo audit"
SEQ_BATCH = 500


def checkpoint_every() -> int:
    """Entries per chain between automatic checkpoints (default 1000); 0 turns them off."""
    configured = getattr(settings, "AUDIT_CHECKPOINT_EVERY", None)
    if configured is None:
        configured = os.environ.get(CHECKPOINT_EVERY_ENV, "1000")
    return int(configured)


def _canonical(fields: dict[str, Any], kind: str) -> bytes:
    """What is signed: a format tag, then sorted compact JSON, so no field can be moved."""
    body = json.dumps(fields, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return f"{kind}\n{body}".encode()


@dataclass(frozen=True)
class Checkpoint:
    """A signed statement that ``chain`` had ``entries`` entries and ended at ``seq``/``hash``."""

    chain: str
    seq: int
    hash: str
    entries: int
    at: str
    key_id: str
    signature: str = ""

    def signed_fields(self) -> dict[str, Any]:
        fields = asdict(self)
        del fields["signature"]
        return fields

    def message(self) -> bytes:
        return _canonical(self.signed_fields(), CHECKPOINT_FORMAT)

    def line(self) -> str:
        return json.dumps(asdict(self), sort_keys=True, separators=(",", ":"))


def write_checkpoints(chains: Iterable[str] | None = None) -> list[Checkpoint]:
    """Sign the current head of each chain (all, or those named) and append it to the file."""
    private_key = keys.signing_key()
    kid = keys.key_id(private_key.public_key())
    written = []
    with scopes_disabled():
        heads = ChainHead.objects.filter(last_seq__gt=0).order_by("chain")
        if chains is not None:
            heads = heads.filter(chain__in=list(chains))
        for head in heads:
            unsigned = Checkpoint(
                chain=head.chain,
                seq=head.last_seq,
                hash=head.last_hash,
                entries=AuditEntry.objects.filter(chain=head.chain, seq__lte=head.last_seq).count(),
                at=dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
                key_id=kid,
            )
            checkpoint = Checkpoint(
                **unsigned.signed_fields(), signature=keys.sign(private_key, unsigned.message())
            )
            keys.append_line(keys.checkpoints_file(), checkpoint.line())
            written.append(checkpoint)
    return written


def checkpoint_when_due(chain: str, seq: int) -> None:
    """After the entry's transaction commits, checkpoint its chain every N entries."""
    every = checkpoint_every()
    if every > 0 and seq % every == 0:
        transaction.on_commit(lambda: write_checkpoints([chain]), robust=True)


def _read_checkpoints() -> tuple[list[tuple[int, Checkpoint]], list[ChainBreak]]:
    path = keys.checkpoints_file()
    found: list[tuple[int, Checkpoint]] = []
    problems: list[ChainBreak] = []
    with path.open(encoding="utf-8") as lines:
        for number, line in enumerate(lines, start=1):
            if not line.strip():
                continue
            try:
                fields = json.loads(line)
                checkpoint = Checkpoint(**fields)
                if not isinstance(checkpoint.seq, int) or not isinstance(checkpoint.chain, str):
                    raise TypeError("chain must be text and seq a whole number")
            except (json.JSONDecodeError, TypeError) as exc:
                problems.append(
                    ChainBreak(
                        CHECKPOINTS, None, None, f"{path}, line {number}: unreadable ({exc})"
                    )
                )
                continue
            found.append((number, checkpoint))
    return found, problems


def _public_keys() -> dict[str, Any]:
    known = keys.known_public_keys()
    try:
        current = keys.signing_key(create=False).public_key()
    except keys.AuditKeyError:
        return known
    return {**known, keys.key_id(current): current}


def _hashes_at(chain: str, seqs: Iterable[int]) -> dict[int, str]:
    wanted = sorted(set(seqs))
    found: dict[int, str] = {}
    for start in range(0, len(wanted), SEQ_BATCH):
        batch = wanted[start : start + SEQ_BATCH]
        found.update(
            AuditEntry.objects.filter(chain=chain, seq__in=batch).values_list("seq", "hash")
        )
    return found


def _short(digest: str) -> str:
    return f"{digest[:16]}…"


@dataclass(frozen=True)
class AnchorCheck:
    """How many signed checkpoints covered the chains, and where the database disagrees."""

    checkpoints: int
    breaks: tuple[ChainBreak, ...]


def verify_checkpoints(chains: set[str] | None = None) -> AnchorCheck:
    """Check every checkpoint's signature and that the database still holds its hash at its seq."""
    path = keys.checkpoints_file()
    if not path.exists():
        return AnchorCheck(0, ())
    try:
        public_keys = _public_keys()
    except keys.AuditKeyError as exc:
        return AnchorCheck(0, (ChainBreak(CHECKPOINTS, None, None, str(exc)),))
    checkpoints, breaks = _read_checkpoints()
    trusted: dict[str, list[tuple[int, Checkpoint]]] = {}
    for number, checkpoint in checkpoints:
        if chains is not None and checkpoint.chain not in chains:
            continue
        public_key = public_keys.get(checkpoint.key_id)
        if public_key is None:
            problem = f"signed by unknown key {checkpoint.key_id}"
        elif not keys.signature_valid(public_key, checkpoint.signature, checkpoint.message()):
            problem = "signature does not verify (forged or altered checkpoint)"
        else:
            trusted.setdefault(checkpoint.chain, []).append((number, checkpoint))
            continue
        breaks.append(ChainBreak(checkpoint.chain, None, None, f"{path}, line {number}: {problem}"))
    with scopes_disabled():
        for chain, entries in sorted(trusted.items()):
            found = _break_against(chain, entries)
            if found is not None:
                breaks.append(found)
    return AnchorCheck(sum(len(entries) for entries in trusted.values()), tuple(breaks))


def _break_against(chain: str, checkpoints: list[tuple[int, Checkpoint]]) -> ChainBreak | None:
    """The earliest checkpoint of one chain that the database no longer matches."""
    stored = _hashes_at(chain, (c.seq for _, c in checkpoints))
    last = AuditEntry.objects.filter(chain=chain).order_by("-seq").values_list("seq", flat=True)
    last_seq = last.first()
    for number, checkpoint in sorted(checkpoints, key=lambda item: item[1].seq):
        where = f"checkpoint of {checkpoint.at} (line {number})"
        if last_seq is None:
            return ChainBreak(
                chain,
                None,
                None,
                f"chain missing: the {where} recorded {checkpoint.entries} entries up to "
                f"#{checkpoint.seq}, the database holds none (chain deleted)",
            )
        held = stored.get(checkpoint.seq)
        if held is None:
            return ChainBreak(
                chain,
                checkpoint.seq,
                None,
                f"missing: the {where} recorded #{checkpoint.seq}, the chain now ends at "
                f"#{last_seq} (truncated)",
            )
        if held != checkpoint.hash:
            return ChainBreak(
                chain,
                checkpoint.seq,
                None,
                f"hash differs from the {where}: signed {_short(checkpoint.hash)}, "
                f"database {_short(held)} (history rewritten)",
            )
    return None


def partners() -> dict[int, set[int]]:
    """Organisation id → the organisations it shares records with (either way round)."""
    pairs: dict[int, set[int]] = {}
    with scopes_disabled():
        rows = (
            AuditEntry.objects.filter(organisation__isnull=False, shared_with__isnull=False)
            .values_list("organisation_id", "shared_with_id")
            .distinct()
        )
        for organisation_id, shared_with_id in rows:
            pairs.setdefault(organisation_id, set()).add(shared_with_id)
            pairs.setdefault(shared_with_id, set()).add(organisation_id)
    return pairs


def _news_since(chain: str, seq: int) -> bool:
    later = AuditEntry.objects.filter(chain=chain, seq__gt=seq)
    return later.exclude(action=CHAIN_WITNESSED).exists()


def record_witnesses() -> list[AuditEntry]:
    """Write each partner's current head into every sharing organisation's own chain.

    The entry is shared with the witnessed partner, so it reads on that partner's audit page.
    A partner with nothing but witnesses since the last witness is skipped: witnesses do not
    answer each other for ever, and running this often adds no entries to quiet chains.
    """
    from opencdmo.accounts.models import Organisation

    written = []
    with scopes_disabled():
        names = dict(Organisation.objects.values_list("pk", "name"))
        for organisation_id, partner_ids in sorted(partners().items()):
            for partner_id in sorted(partner_ids):
                partner_chain = chain_key(partner_id)
                head = ChainHead.objects.filter(chain=partner_chain, last_seq__gt=0).first()
                if head is None:
                    continue
                last = (
                    AuditEntry.objects.filter(
                        chain=chain_key(organisation_id),
                        action=CHAIN_WITNESSED,
                        after__chain=partner_chain,
                    )
                    .order_by("-seq")
                    .first()
                )
                if last is not None and not _news_since(partner_chain, (last.after or {})["seq"]):
                    continue
                with transaction.atomic():
                    written.append(
                        record(
                            CHAIN_WITNESSED,
                            organisation_id=organisation_id,
                            shared_with_id=partner_id,
                            actor_name=SYSTEM_ACTOR,
                            after={
                                "chain": partner_chain,
                                "seq": head.last_seq,
                                "hash": head.last_hash,
                            },
                            reason=f"Witnessed {names.get(partner_id, partner_chain)}'s chain "
                            f"at seq {head.last_seq}, hash {head.last_hash}",
                        )
                    )
    return written


def verify_witnesses(chains: set[str] | None = None) -> list[ChainBreak]:
    """Every witness entry must still match its partner chain at the witnessed seq."""
    witnessed: dict[str, list[tuple[int, str, str]]] = {}
    with scopes_disabled():
        witnesses = AuditEntry.objects.filter(action=CHAIN_WITNESSED).order_by("chain", "seq")
        for chain, seq, seen in witnesses.values_list("chain", "seq", "after").iterator(2000):
            partner_chain, partner_seq = (seen or {}).get("chain"), (seen or {}).get("seq")
            if not isinstance(partner_chain, str) or not isinstance(partner_seq, int):
                continue
            if chains is None or chain in chains or partner_chain in chains:
                where = f"{chain}'s entry #{seq}"
                witnessed.setdefault(partner_chain, []).append(
                    (partner_seq, str(seen.get("hash")), where)
                )
        breaks = []
        for partner_chain, seen_entries in sorted(witnessed.items()):
            stored = _hashes_at(partner_chain, (seq for seq, _, _ in seen_entries))
            for seq, digest, where in seen_entries:
                held = stored.get(seq)
                if held is None:
                    problem = (
                        f"missing: witnessed in {where}, the chain no longer has it (truncated)"
                    )
                elif held != digest:
                    problem = (
                        f"hash differs from the witness in {where}: witnessed {_short(digest)}, "
                        f"database {_short(held)} (one of the two chains was rewritten)"
                    )
                else:
                    continue
                breaks.append(ChainBreak(partner_chain, seq, None, problem))
    return breaks


def rotate_key(*, by: str, reason: str = "") -> AuditEntry:
    """Replace the signing key; the rotation entry is signed by the old key, then re-anchored.

    The entry (platform chain) names both public keys, the time and who rotated, with the old
    key's signature over them, so a reader can follow the chain of keys from the first one.
    """
    old = keys.signing_key(create=False)
    new = Ed25519PrivateKey.generate()
    statement = {
        "old_key_id": keys.key_id(old.public_key()),
        "old_public_key": keys.encode_public(old.public_key()),
        "new_key_id": keys.key_id(new.public_key()),
        "new_public_key": keys.encode_public(new.public_key()),
        "at": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "by": by,
    }
    signature = keys.sign(old, _canonical(statement, KEY_ROTATION_FORMAT))
    old_id, new_id = statement["old_key_id"], statement["new_key_id"]
    with transaction.atomic():
        entry = record(
            KEY_ROTATED,
            organisation_id=None,
            actor_name=by,
            after={**statement, "signature": signature},
            reason=reason or f"Audit signing key {old_id} replaced by {new_id}",
        )
        keys.install_key(new)
    write_checkpoints()
    return entry


def verify_rotations() -> list[ChainBreak]:
    """Each rotation entry must carry the old key's signature over what it states."""
    breaks = []
    with scopes_disabled():
        for entry in AuditEntry.objects.filter(action=KEY_ROTATED).order_by("chain", "seq"):
            stated = dict(entry.after or {})
            signature = str(stated.pop("signature", ""))
            try:
                old = keys.decode_public(str(stated.get("old_public_key", "")))
            except keys.AuditKeyError as exc:
                breaks.append(ChainBreak(entry.chain, entry.seq, entry.pk, str(exc)))
                continue
            message = _canonical(stated, KEY_ROTATION_FORMAT)
            if not keys.signature_valid(old, signature, message):
                breaks.append(
                    ChainBreak(
                        entry.chain,
                        entry.seq,
                        entry.pk,
                        "key rotation not signed by the old key (forged)",
                    )
                )
    return breaks
