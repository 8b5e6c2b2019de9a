"""``opencdmo audit verify``: recompute every hash chain and name the first broken entry."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from opencdmo.audit.models import AuditEntry
from opencdmo.audit.services import verify_all


class Command(BaseCommand):
    help = "Audit-trail tools; 'verify' detects edited, deleted, inserted or reordered entries."

    def add_arguments(self, parser: CommandParser) -> None:
        sub = parser.add_subparsers(dest="action", required=True)
        sub.add_parser(
            "verify", help="Recompute every tenant's hash chain; exit 1 on the first break."
        )

    def handle(self, *args: Any, **options: Any) -> None:
        breaks = verify_all()
        total = AuditEntry.objects.with_scopes_disabled().count()
        if breaks:
            for chain_break in breaks:
                self.stderr.write(f"BROKEN {chain_break}")
            raise CommandError(f"{len(breaks)} broken chain(s) among {total} entries.")
        self.stdout.write(f"OK: {total} audit entries, every chain intact.")
