"""``opencdmo export``: a batch's process data as long CSV (time, variable, value, unit)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from opencdmo.accounts.models import User
from opencdmo.core.files import write_chunks
from opencdmo.core.tenancy import caller_scope
from opencdmo.manufacturing.models import Batch
from opencdmo.manufacturing.services import DATA_WITHHELD, export_csv, reads_process_data


class Command(BaseCommand):
    help = (
        "Export a batch's process data as long CSV: time (hours from the batch's hour 0), "
        "variable, value, unit; every value as stored, sorted by time and variable."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("lot", metavar="LOT", help="the batch's lot")
        parser.add_argument(
            "--as",
            dest="username",
            required=True,
            metavar="USERNAME",
            help="the reading user: the CDMO's, or the project's sponsor's",
        )
        parser.add_argument(
            "--output", type=Path, metavar="FILE", help="write FILE (default: standard output)"
        )

    def handle(self, *args: Any, **options: Any) -> None:
        user = User.objects.filter(username=options["username"]).first()
        if user is None:
            raise CommandError(f"No user '{options['username']}'.")
        with caller_scope(user):
            batches = list(Batch.objects.filter(lot=options["lot"])[:2])
            if not batches:
                raise CommandError(f"No batch '{options['lot']}' that {user.username} may read.")
            if len(batches) > 1:
                raise CommandError(
                    f"Two CDMOs have a batch '{options['lot']}'; export as one of their users."
                )
            if not reads_process_data(user, batches[0]):
                raise CommandError(DATA_WITHHELD)
            chunks = export_csv(batches[0])
            output: Path | None = options["output"]
            if output is None:
                for chunk in chunks:
                    self.stdout.write(chunk, ending="")
                return
            stored = write_chunks(output, (chunk.encode("utf-8") for chunk in chunks))
        self.stderr.write(f"Wrote {stored.path} ({stored.size:,} bytes, SHA-256 {stored.sha256}).")
