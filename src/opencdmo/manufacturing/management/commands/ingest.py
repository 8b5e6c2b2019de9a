"""``opencdmo ingest``: batch process data from CSV, Excel or Parquet files, all or nothing."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.core.management.base import BaseCommand, CommandError, CommandParser

from opencdmo.accounts.models import User
from opencdmo.core.tenancy import caller_scope
from opencdmo.manufacturing.services import IngestError, ingest_file


class Command(BaseCommand):
    help = (
        "Ingest process data (time series) of batches from CSV, Excel (.xlsx) or Parquet files, "
        "long (time, variable, value[, unit]) or wide (time and a column per variable). Each "
        "file is all or nothing; values already stored are skipped. See docs/manufacturing.md."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("files", nargs="+", type=Path, metavar="FILE", help="files to ingest")
        parser.add_argument(
            "--as",
            dest="username",
            required=True,
            metavar="USERNAME",
            help="the ingesting user; a CDMO role that records batch data",
        )
        target = parser.add_mutually_exclusive_group(required=True)
        target.add_argument("--batch", metavar="LOT", help="the lot every value belongs to")
        target.add_argument(
            "--batch-column", metavar="NAME", help="the column that names each row's lot"
        )
        parser.add_argument(
            "--new",
            action="store_true",
            help="create batches whose lot does not exist yet (with --product and --site)",
        )
        parser.add_argument("--product", metavar="NAME", help="with --new: the product's name")
        parser.add_argument("--site", metavar="CODE", help="with --new: the site's code")
        parser.add_argument("--reason", default="", help="reason on the audit trail")

    def handle(self, *args: Any, **options: Any) -> None:
        user = User.objects.filter(username=options["username"]).first()
        if user is None:
            raise CommandError(f"No user '{options['username']}'.")
        if options["new"] and not (options["product"] and options["site"]):
            raise CommandError("--new needs --product NAME and --site CODE.")
        failed = 0
        for path in options["files"]:
            if not path.is_file():
                self.stderr.write(f"No such file: {path}")
                failed += 1
                continue
            try:
                with caller_scope(user):
                    report = ingest_file(
                        path,
                        actor=user,
                        lot=options["batch"],
                        batch_column=options["batch_column"],
                        new=options["new"],
                        product=options["product"],
                        site=options["site"],
                        reason=options["reason"],
                    )
            except PermissionDenied as exc:
                raise CommandError(f"{user.username}: {exc}") from exc
            except (IngestError, ValidationError) as exc:
                self.stderr.write(" ".join(getattr(exc, "messages", None) or [str(exc)]))
                self.stderr.write(f"Nothing ingested from {path.name}.")
                failed += 1
                continue
            for line in report.lines():
                self.stdout.write(line)
        if failed:
            raise CommandError(f"{failed} of {len(options['files'])} files not ingested.")
