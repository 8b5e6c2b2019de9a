"""``opencdmo audit``: verify the chains, anchor them outside the database, manage the key."""

from __future__ import annotations

import getpass
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from opencdmo.audit import anchors, keys
from opencdmo.audit.verification import check_all_chains


class Command(BaseCommand):
    help = (
        "Audit-trail tools: verify the chains against their hashes, signed checkpoints and "
        "partner witnesses; write checkpoints; create or rotate the signing key."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        sub = parser.add_subparsers(dest="action", required=True)
        sub.add_parser(
            "verify",
            help="Recompute every chain, check it against the signed checkpoints and the "
            "partner witnesses; exit 1 on any break.",
        )
        sub.add_parser(
            "checkpoint",
            help="Witness partner chains, then append one signed checkpoint per chain to the "
            "checkpoint file and print them.",
        )
        sub.add_parser("keygen", help="Create the signing key file (mode 0600) if it is missing.")
        rotate = sub.add_parser(
            "rotate-key",
            help="Replace the signing key; the rotation is recorded and signed by the old key.",
        )
        rotate.add_argument("--by", default="", help="Who rotates (default: the system user).")
        rotate.add_argument("--reason", default="", help="Why the key is replaced.")

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            getattr(self, "_" + options["action"].replace("-", "_"))(options)
        except keys.AuditKeyError as exc:
            raise CommandError(str(exc)) from exc

    def _verify(self, options: dict[str, Any]) -> None:
        check = check_all_chains()
        *details, verdict = check.lines()
        if not check.intact:
            for line in details:
                self.stderr.write(line)
            raise CommandError(verdict)
        for line in details:
            self.stdout.write(line)
        self.stdout.write(verdict)

    def _checkpoint(self, options: dict[str, Any]) -> None:
        witnesses = anchors.record_witnesses()
        for entry in witnesses:
            self.stdout.write(f"{entry.chain} #{entry.seq}: {entry.reason}")
        written = anchors.write_checkpoints()
        for checkpoint in written:
            self.stdout.write(checkpoint.line())
        self.stdout.write(
            f"{keys.checkpoints_file()}: {len(written)} signed checkpoint(s) appended."
        )

    def _keygen(self, options: dict[str, Any]) -> None:
        path, created = keys.ensure_key()
        kid = keys.key_id(keys.signing_key(create=False).public_key())
        if path is None:
            self.stdout.write(f"The signing key {kid} comes from {keys.KEY_ENV}.")
        elif created:
            self.stdout.write(f"Created the signing key {kid} in {path} (mode 0600).")
        else:
            self.stdout.write(f"The signing key {kid} in {path} exists; left as it is.")

    def _rotate_key(self, options: dict[str, Any]) -> None:
        entry = anchors.rotate_key(by=options["by"] or getpass.getuser(), reason=options["reason"])
        after = entry.after or {}
        self.stdout.write(
            f"Signing key {after['old_key_id']} replaced by {after['new_key_id']}; recorded as "
            f"{entry.chain} #{entry.seq} and every chain checkpointed with the new key."
        )
