"""Checking hash chains from the audit page, in the words of ``opencdmo audit verify``.

The page calls the command's own functions (``verify_chain``, ``verify_all``, and the anchors'
checks against signed checkpoints and partner witnesses) and writes the result as the command
prints it, so a reviewer and an operator can never read different verdicts on the same chain.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, replace
from typing import Any

from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.utils import timezone
from django_scopes import scopes_disabled

from opencdmo.accounts.roles import VIEW_AUDIT
from opencdmo.audit import keys
from opencdmo.audit.anchors import verify_checkpoints, verify_rotations, verify_witnesses
from opencdmo.audit.labels import CHAIN_VERIFIED
from opencdmo.audit.models import AuditEntry
from opencdmo.audit.services import ChainBreak, chains_of, record, verify_all, verify_chain
from opencdmo.audit.signatures_check import check_signatures

ALL_CHAINS = "every chain"


@dataclass(frozen=True)
class ChainCheck:
    """The verdict on the chains one caller may verify, and how many checkpoints anchor them."""

    chains: str
    entries: int
    breaks: tuple[ChainBreak, ...]
    at: dt.datetime
    checkpoints: int = 0
    changed: tuple[str, ...] = ()
    """Signatures whose record changed since signing through the application (not breaks)."""

    @property
    def intact(self) -> bool:
        return not self.breaks

    @property
    def anchored(self) -> bool:
        return self.checkpoints > 0

    def lines(self) -> list[str]:
        """What ``opencdmo audit verify`` prints: 'CHANGED …' lines for signatures whose record
        changed through the application, then 'OK: …', or 'BROKEN …' lines and a count."""
        changed = [f"CHANGED {line}" for line in self.changed]
        if self.intact:
            anchor = (
                f"Anchored by {self.checkpoints} signed checkpoint(s)."
                if self.anchored
                else "Not anchored: no signed checkpoint to compare with "
                "(run 'opencdmo audit checkpoint')."
            )
            return [*changed, f"OK: {self.entries} audit entries, every chain intact. {anchor}"]
        broken = len({b.chain for b in self.breaks})
        return (
            [f"BROKEN {b}" for b in self.breaks]
            + changed
            + [f"{broken} broken chain(s) among {self.entries} entries."]
        )

    def as_dict(self) -> dict[str, Any]:
        return {
            "chains": self.chains,
            "entries": self.entries,
            "intact": self.intact,
            "lines": self.lines(),
            "at": f"{self.at.astimezone(dt.UTC):%Y-%m-%d %H:%M:%S} UTC",
        }


def check_all_chains() -> ChainCheck:
    """Verify every chain, as ``opencdmo audit verify`` and the platform administrator do."""
    anchors = verify_checkpoints()
    breaks = (*verify_all(), *anchors.breaks, *verify_witnesses(), *verify_rotations())
    signatures = check_signatures()
    breaks = (*breaks, *signatures.breaks)
    with scopes_disabled():
        entries = AuditEntry.objects.count()
    return ChainCheck(
        ALL_CHAINS,
        entries,
        breaks,
        timezone.now(),
        anchors.checkpoints,
        tuple(signatures.changed),
    )


def without_paths(found: ChainBreak) -> ChainBreak:
    """``found`` with the anchor files named in words: an organisation sees no server paths.

    Only the platform administrator's verdict and the command name the files.
    """
    problem = found.problem
    for path, words in (
        (keys.public_keys_file(), "the public-keys file"),
        (keys.checkpoints_file(), "the checkpoint file"),
        (keys.key_file(), "the signing key file"),
    ):
        problem = problem.replace(str(path), words)
    return replace(found, problem=problem)


def check_chains(user: Any) -> ChainCheck:
    """Verify the caller's own organisation's chains (records and access); the platform
    administrator's: all chains.

    A tenant's verdict names the anchor files in words, never by their path on the server.
    """
    if not user.can(VIEW_AUDIT):
        raise PermissionDenied("Your role may not verify the audit trail.")
    if user.is_platform_admin:
        return check_all_chains()
    with scopes_disabled():
        if user.organisation_id is None:
            raise PermissionDenied("Only members of an organisation verify its chain.")
        chains = chains_of(user.organisation_id)
        found = [b for b in map(verify_chain, chains) if b is not None]
        entries = AuditEntry.objects.filter(chain__in=chains).count()
    anchors = verify_checkpoints(set(chains))
    breaks = (*found, *anchors.breaks, *verify_witnesses(set(chains)))
    signatures = check_signatures({user.organisation_id})
    breaks = (*breaks, *signatures.breaks)
    shown = tuple(without_paths(b) for b in breaks)
    return ChainCheck(
        " and ".join(chains),
        entries,
        shown,
        timezone.now(),
        anchors.checkpoints,
        tuple(signatures.changed),
    )


def run_chain_check(user: Any) -> ChainCheck:
    """Verify as ``check_chains`` does and put the verdict on the caller's own chain."""
    check = check_chains(user)
    with transaction.atomic():
        record(
            CHAIN_VERIFIED,
            actor=user,
            organisation_id=user.organisation_id,
            after={"chains": check.chains, "entries": check.entries, "intact": check.intact},
            reason=" ".join(check.lines()),
        )
    return check
