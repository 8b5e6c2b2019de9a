"""Importing sites, suites and equipment from CSV and Excel files, all or nothing.

A file is checked twice before anything is kept. First the file itself: its columns, the
type and range of every value, choice values, duplicate keys within the file and against the
database, references to organisations, sites and suites, and whether the importing user may
write for each owner. Then every row goes through the same network services that pages and
the API use, inside one transaction; that transaction is kept only when every row passed, so
a rejected file changes nothing, not even the audit trail. Each problem names the file, the
line (CSV line or Excel row), the column and the reason, and all of them are reported at once.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from itertools import chain
from pathlib import Path
from typing import Any

from django.core.exceptions import NON_FIELD_ERRORS, PermissionDenied, ValidationError
from django.db import models, transaction
from django.http import Http404

from opencdmo.accounts.models import Organisation, User
from opencdmo.accounts.roles import IMPORT_NETWORK, OrganisationKind
from opencdmo.core.tables import Row, TableError, read_rows, sheet_names
from opencdmo.core.text import control_character_problem
from opencdmo.network import services
from opencdmo.network.choices import (
    EquipmentKind,
    GmpGrade,
    Modality,
    Region,
    SuiteKind,
    SuiteStatus,
)
from opencdmo.network.models import Equipment, Site, SitePrivateProfile, Suite

__all__ = [
    "COLUMNS",
    "KINDS",
    "Column",
    "ImportProblem",
    "ImportReport",
    "import_file",
]

KINDS = ("sites", "suites", "equipment")
"""What can be imported, in the order a workbook's sheets are written."""

EXCEL_SUFFIXES = (".xlsx", ".xlsm")

MAX_ROWS = 100_000
"""Rows read from one file or sheet; a network's sites, suites and equipment fit many times."""

PRIVATE_SITE_COLUMNS = (
    "indicative_batch_price_usd",
    "spare_capacity_note",
    "key_contact",
    "internal_notes",
)


class _CellError(ValueError):
    """A value that cannot be read; the message is the reason shown to the user."""


@dataclass(frozen=True)
class ImportProblem:
    """One reason a file was rejected; ``line`` and ``column`` are empty for file-wide ones."""

    file: str
    line: int | None
    column: str | None
    reason: str
    sheet: str | None = None

    def __str__(self) -> str:
        where = [self.file if self.sheet is None else f"{self.file} [sheet {self.sheet}]"]
        if self.line is not None:
            where.append(f"{'row' if self.sheet is not None else 'line'} {self.line}")
        if self.column is not None:
            where.append(f"column '{self.column}'")
        return f"{', '.join(where)}: {self.reason}"


@dataclass
class ImportReport:
    """What an import read and created; nothing was written when ``problems`` is not empty."""

    filename: str
    dry_run: bool = False
    rows: dict[str, int] = field(default_factory=dict)
    created: dict[str, int] = field(default_factory=dict)
    problems: list[ImportProblem] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems

    def counts(self, numbers: dict[str, int]) -> str:
        """'3 sites, 5 suites and 12 equipment' for the kinds present."""
        parts = [
            f"{numbers[kind]} {_noun(kind, numbers[kind])}" for kind in KINDS if kind in numbers
        ]
        if not parts:
            return "nothing"
        return parts[0] if len(parts) == 1 else f"{', '.join(parts[:-1])} and {parts[-1]}"

    def summary(self) -> str:
        if self.problems:
            count = len(self.problems)
            return f"Nothing imported from {self.filename}: {count} problem{'s' * (count != 1)}."
        if self.dry_run:
            return (
                f"{self.filename} is valid: {self.counts(self.rows)} would be imported "
                "(dry run, nothing written)."
            )
        return f"Imported {self.counts(self.created)} from {self.filename}."


def _noun(kind: str, count: int) -> str:
    if kind == "equipment":
        return "equipment"
    return kind if count != 1 else kind[:-1]


# --- reading values ------------------------------------------------------------------------


def _is_blank(value: object) -> bool:
    return value is None or (isinstance(value, str) and not value.strip())


def _as_text(value: object) -> str:
    """A cell as text; Excel stores 101 as 101.0, which a tag or code means as '101'."""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value).strip()


def _text(model: type[models.Model], name: str) -> Callable[[object], str]:
    limit = model._meta.get_field(name).max_length

    def parse(value: object) -> str:
        text = _as_text(value)
        if limit is not None and len(text) > limit:
            raise _CellError(f"{len(text)} characters is too long; at most {limit} allowed")
        return text

    return parse


def _number(low: float, high: float) -> Callable[[object], float]:
    def parse(value: object) -> float:
        if isinstance(value, bool):
            raise _CellError(f"{value!r} is not a number")
        if isinstance(value, int | float):
            number = float(value)
        else:
            text = _as_text(value)
            try:
                number = float(text)
            except ValueError:
                raise _CellError(
                    f"'{text}' is not a number (write e.g. 2000 or 51.5, with a dot and "
                    "no thousands separator)"
                ) from None
        if not math.isfinite(number):
            raise _CellError(f"'{value}' is not a finite number")
        if not low <= number <= high:
            raise _CellError(f"{number:g} is out of range; allowed {low:g} to {high:g}")
        return number

    return parse


def _integer(low: int, high: int) -> Callable[[object], int]:
    read = _number(low, high)

    def parse(value: object) -> int:
        number = read(value)
        if not number.is_integer():
            raise _CellError(f"{number:g} is not a whole number")
        return int(number)

    return parse


def _normalised(text: str) -> str:
    return re.sub(r"[\s_\-]+", " ", text).strip().casefold()


def _choice(choices: type[models.TextChoices]) -> Callable[[object], str]:
    """A choice given as its code ('bioreactor_su') or its label ('Single-use bioreactor')."""
    lookup: dict[str, str] = {}
    for value, label in choices.choices:
        lookup[_normalised(str(value))] = str(value)
        lookup[_normalised(str(label))] = str(value)

    def parse(value: object) -> str:
        text = _as_text(value)
        found = lookup.get(_normalised(text))
        if found is None:
            raise _CellError(f"'{text}' is not one of: {', '.join(choices.values)}")
        return found

    return parse


def _modalities(value: object) -> tuple[str, ...]:
    """Modalities separated by semicolons, e.g. 'mab; bispecific'."""
    parse = _choice(Modality)
    parts = [part for part in _as_text(value).split(";") if part.strip()]
    return tuple(dict.fromkeys(parse(part) for part in parts))


@dataclass(frozen=True)
class Column:
    """One column of an import file: its name, how a value is read, and what it means."""

    name: str
    parse: Callable[[object], Any]
    help: str
    required: bool = False


COLUMNS: dict[str, tuple[Column, ...]] = {
    "sites": (
        Column("owner", _text(Organisation, "slug"), "slug of the owning CDMO", required=True),
        Column("code", _text(Site, "code"), "site code, unique within the owner", required=True),
        Column("name", _text(Site, "name"), "site name", required=True),
        Column("country", _text(Site, "country"), "ISO 3166-1 alpha-2 code", required=True),
        Column("region", _choice(Region), ", ".join(Region.values), required=True),
        Column("city", _text(Site, "city"), "city", required=True),
        Column("latitude", _number(-90, 90), "decimal degrees, -90 to 90", required=True),
        Column("longitude", _number(-180, 180), "decimal degrees, -180 to 180", required=True),
        Column("description", _text(Site, "description"), "public description"),
        Column("established_year", _integer(1800, 2100), "year the site opened"),
        Column(
            "indicative_batch_price_usd",
            _integer(0, 2_000_000_000),
            "private: indicative price per batch in USD",
        ),
        Column(
            "spare_capacity_note",
            _text(SitePrivateProfile, "spare_capacity_note"),
            "private: free capacity",
        ),
        Column("key_contact", _text(SitePrivateProfile, "key_contact"), "private: contact"),
        Column("internal_notes", _text(SitePrivateProfile, "internal_notes"), "private: notes"),
    ),
    "suites": (
        Column("owner", _text(Organisation, "slug"), "slug of the owning CDMO", required=True),
        Column("site_code", _text(Site, "code"), "code of the suite's site", required=True),
        Column("name", _text(Suite, "name"), "suite name, unique within the site", required=True),
        Column("kind", _choice(SuiteKind), ", ".join(SuiteKind.values), required=True),
        Column("gmp_grade", _choice(GmpGrade), ", ".join(GmpGrade.values), required=True),
        Column(
            "status", _choice(SuiteStatus), f"{', '.join(SuiteStatus.values)}; default operational"
        ),
        Column(
            "modalities",
            _modalities,
            "qualified modalities separated by ';': " + ", ".join(Modality.values),
        ),
    ),
    "equipment": (
        Column("owner", _text(Organisation, "slug"), "slug of the owning CDMO", required=True),
        Column("site_code", _text(Site, "code"), "code of the site", required=True),
        Column("suite", _text(Suite, "name"), "name of the suite in that site", required=True),
        Column("tag", _text(Equipment, "tag"), "tag, unique within the suite", required=True),
        Column("kind", _choice(EquipmentKind), ", ".join(EquipmentKind.values), required=True),
        Column(
            "working_volume_l",
            _number(0.1, 1_000_000),
            "litres; required for bioreactors",
        ),
        Column(
            "throughput_units_per_h",
            _integer(1, 10_000_000),
            "units per hour (fill lines, tablet presses)",
        ),
        Column("manufacturer", _text(Equipment, "manufacturer"), "maker"),
    ),
}

KEY_COLUMNS: dict[str, tuple[str, ...]] = {
    "sites": ("owner", "code"),
    "suites": ("owner", "site_code", "name"),
    "equipment": ("owner", "site_code", "suite", "tag"),
}

_FIELD_COLUMNS: dict[str, dict[str, str]] = {
    "sites": {"owner": "owner", NON_FIELD_ERRORS: "code"},
    "suites": {"site": "site_code", NON_FIELD_ERRORS: "name"},
    "equipment": {"suite": "suite", NON_FIELD_ERRORS: "tag"},
}
"""Which column a service's validation message about a model field belongs to."""


# --- reading files ---------------------------------------------------------------------------


@dataclass
class _Row:
    line: int
    values: dict[str, Any]
    bad: bool = False
    owner: Organisation | None = None


@dataclass
class _Sheet:
    """The rows of one kind from one CSV file or one Excel sheet."""

    kind: str
    sheet: str | None
    rows: list[_Row] = field(default_factory=list)


class _Problems:
    """Collects problems for one file, each tagged with the file (and sheet) name."""

    def __init__(self, filename: str) -> None:
        self.filename = filename
        self.items: list[ImportProblem] = []

    def add(
        self, line: int | None, column: str | None, reason: str, sheet: str | None = None
    ) -> None:
        self.items.append(ImportProblem(self.filename, line, column, reason, sheet))


def _header_name(value: object) -> str:
    """'Working volume L' and 'working_volume_l' name the same column."""
    return re.sub(r"[\s\-]+", "_", _as_text(value).strip().lower()) if not _is_blank(value) else ""


def _read_sheet(
    kind: str,
    sheet: str | None,
    lines: Iterator[tuple[int, list[object]]],
    problems: _Problems,
) -> _Sheet | None:
    """Check the header and read every non-blank row; None when the header is unusable."""
    result = _Sheet(kind=kind, sheet=sheet)
    columns = {column.name: column for column in COLUMNS[kind]}
    header_line, header = next(
        ((n, cells) for n, cells in lines if not all(_is_blank(c) for c in cells)), (0, [])
    )
    if not header:
        problems.add(None, None, "the file is empty; the first line must name the columns", sheet)
        return None
    usable = True
    for index, cell in enumerate(header):
        if isinstance(cell, str) and (problem := control_character_problem(cell)):
            problems.add(header_line, f"#{index + 1}", f"the column name {problem}", sheet)
            usable = False
    if not usable:
        return None
    names = [_header_name(cell) for cell in header]
    seen: set[str] = set()
    for name in names:
        if not name:
            continue
        if name not in columns:
            problems.add(
                header_line,
                name,
                f"unknown column; {kind} columns are: {', '.join(columns)}",
                sheet,
            )
        elif name in seen:
            problems.add(header_line, name, "column appears more than once", sheet)
            usable = False
        seen.add(name)
    for column in columns.values():
        if column.required and column.name not in seen:
            problems.add(header_line, column.name, "required column is missing", sheet)
            usable = False
    if not usable:
        return None
    for line, cells in lines:
        if all(_is_blank(c) for c in cells):
            continue
        result.rows.append(_read_row(line, cells, names, columns, problems, sheet))
    return result


def _read_row(
    line: int,
    cells: list[object],
    names: list[str],
    columns: dict[str, Column],
    problems: _Problems,
    sheet: str | None,
) -> _Row:
    """Read one row's values by the header's column names, noting every unreadable cell."""
    row = _Row(line=line, values={})
    for index, cell in enumerate(cells):
        if (index >= len(names) or not names[index]) and not _is_blank(cell):
            row.bad = True
            problems.add(line, f"#{index + 1}", "value in a column without a header", sheet)
    for index, name in enumerate(names):
        spec = columns.get(name)
        if spec is None:
            continue
        cell = cells[index] if index < len(cells) else None
        if _is_blank(cell):
            if spec.required:
                row.bad = True
                problems.add(line, name, "a value is required", sheet)
            continue
        if isinstance(cell, str) and (problem := control_character_problem(cell)):
            row.bad = True
            problems.add(line, name, f"the value {problem}", sheet)
            continue
        try:
            row.values[name] = spec.parse(cell)
        except _CellError as exc:
            row.bad = True
            problems.add(line, name, str(exc), sheet)
    return row


def _lines(
    rows: Iterator[Row], problems: _Problems, sheet: str | None
) -> Iterator[tuple[int, list[object]]]:
    """The rows with their line numbers; a damaged part ends them, noted as a problem."""
    try:
        for row in rows:
            yield row.line, list(row.cells)
    except TableError as exc:
        problems.add(exc.line, exc.column, f"{exc.reason}; nothing after it was read", sheet)


def _opened(rows: Iterator[Row], problems: _Problems) -> Iterator[Row] | None:
    """``rows`` if the file opens and decodes (the first row reads), else None, noted."""
    try:
        first = next(rows, None)
    except TableError as exc:
        problems.add(exc.line, exc.column, exc.reason)
        return None
    return chain([] if first is None else [first], rows)


def _kind_from_name(name: str) -> str | None:
    """'sites.csv' or 'equipment-2026' tell their kind; ambiguous or silent names do not."""
    stem = name.lower()
    found = [
        kind
        for kind, word in zip(KINDS, ("site", "suite", "equipment"), strict=True)
        if word in stem
    ]
    return found[0] if len(found) == 1 else None


def _read_csv(data: bytes, filename: str, kind: str | None, problems: _Problems) -> list[_Sheet]:
    kind = kind or _kind_from_name(Path(filename).stem)
    if kind is None:
        problems.add(
            None,
            None,
            "cannot tell whether the file holds sites, suites or equipment; "
            "pass the kind (--kind) or put it in the file name",
        )
        return []
    rows = _opened(read_rows(data, name=filename, max_rows=MAX_ROWS), problems)
    if rows is None:
        return []
    sheet = _read_sheet(kind, None, _lines(rows, problems, None), problems)
    return [sheet] if sheet is not None else []


def _read_excel(
    data: bytes,
    filename: str,
    kind: str | None,
    sheet_name: str | None,
    problems: _Problems,
) -> list[_Sheet]:
    """The sheet named by ``sheet_name`` or ``kind``, or every sheet named after a kind."""
    try:
        names = sheet_names(data, name=filename)
    except TableError as exc:
        problems.add(None, None, exc.reason)
        return []
    by_name = {name.strip().lower(): name for name in names}
    if sheet_name is not None:
        wanted = by_name.get(sheet_name.strip().lower())
        if wanted is None:
            problems.add(
                None, None, f"no sheet '{sheet_name}'; the workbook has: {', '.join(names)}"
            )
            return []
        chosen: list[tuple[str | None, str]] = [(kind or _kind_from_name(wanted), wanted)]
    elif kind is not None:
        wanted = by_name.get(kind) or (names[0] if len(names) == 1 else None)
        if wanted is None:
            problems.add(
                None,
                None,
                f"no sheet named '{kind}'; name it so or pass the sheet "
                f"(--sheet); the workbook has: {', '.join(names)}",
            )
            return []
        chosen = [(kind, wanted)]
    else:
        chosen = [(k, by_name[k]) for k in KINDS if k in by_name]
        if not chosen:
            problems.add(
                None,
                None,
                "no sheet named sites, suites or equipment; rename the sheets "
                "or pass the kind (--kind)",
            )
            return []
    sheets = []
    for sheet_kind, name in chosen:
        if sheet_kind is None:
            problems.add(None, None, f"cannot tell what sheet '{name}' holds; pass --kind")
            continue
        rows = read_rows(data, name=filename, sheet=name, max_rows=MAX_ROWS)
        sheet = _read_sheet(sheet_kind, name, _lines(rows, problems, name), problems)
        if sheet is not None:
            sheets.append(sheet)
    return sheets


# --- checking references and keys ------------------------------------------------------------


class _Checker:
    """Checks owners, duplicate keys and references across the rows of all sheets."""

    def __init__(self, actor: User, problems: _Problems) -> None:
        self.actor = actor
        self.problems = problems
        self.owners: dict[str, Organisation | None] = {}
        self.keys: dict[str, dict[tuple[str, ...], int]] = {kind: {} for kind in KINDS}

    def check(self, sheet: _Sheet) -> None:
        """Mark rows that fail; keys of rows with other problems still count as present."""
        columns = KEY_COLUMNS[sheet.kind]
        for row in sheet.rows:
            if all(c in row.values for c in columns):
                key = tuple(row.values[c] for c in columns)
                if not self._first_in_file(sheet, row, key):
                    row.bad = True
            if row.bad:
                continue
            row.owner = self._owner(sheet, row)
            if not (
                row.owner is not None
                and self._references_ok(sheet, row)
                and self._not_stored(sheet, row)
            ):
                row.bad = True

    def owner(self, slug: str) -> Organisation | None:
        if slug not in self.owners:
            self.owners[slug] = Organisation.objects.filter(slug=slug).first()
        return self.owners[slug]

    def _owner(self, sheet: _Sheet, row: _Row) -> Organisation | None:
        """The row's owner if the importing user may write for it."""
        slug = row.values["owner"]
        organisation = self.owner(slug)
        reason = ""
        if organisation is None:
            reason = f"no organisation with the slug '{slug}'"
        elif organisation.kind != OrganisationKind.CDMO:
            reason = f"'{slug}' is a {organisation.get_kind_display()}; only CDMOs own sites"
        elif not self.actor.is_platform_admin and organisation.pk != self.actor.organisation_id:
            own = self.actor.organisation.slug if self.actor.organisation else "none"
            reason = f"you may import only for your own organisation ('{own}')"
        if reason:
            self.problems.add(row.line, "owner", reason, sheet.sheet)
            return None
        return organisation

    def _first_in_file(self, sheet: _Sheet, row: _Row, key: tuple[str, ...]) -> bool:
        columns = KEY_COLUMNS[sheet.kind]
        first = self.keys[sheet.kind].setdefault(key, row.line)
        if first != row.line:
            self.problems.add(
                row.line,
                columns[-1],
                f"duplicate of {'row' if sheet.sheet else 'line'} {first} "
                f"(same {', '.join(columns)})",
                sheet.sheet,
            )
            return False
        return True

    def _not_stored(self, sheet: _Sheet, row: _Row) -> bool:
        columns = KEY_COLUMNS[sheet.kind]
        key = tuple(row.values[c] for c in columns)
        if self._stored(sheet.kind, key):
            self.problems.add(
                row.line,
                columns[-1],
                f"{' / '.join(key)} already exists in the database",
                sheet.sheet,
            )
            return False
        return True

    def _references_ok(self, sheet: _Sheet, row: _Row) -> bool:
        values = row.values
        if sheet.kind == "suites":
            key: tuple[str, ...] = (values["owner"], values["site_code"])
            if key not in self.keys["sites"] and not self._stored("sites", key):
                self.problems.add(
                    row.line,
                    "site_code",
                    f"no site '{key[1]}' of '{key[0]}' in the database or this file",
                    sheet.sheet,
                )
                return False
        if sheet.kind == "equipment":
            key = (values["owner"], values["site_code"], values["suite"])
            if key not in self.keys["suites"] and not self._stored("suites", key):
                self.problems.add(
                    row.line,
                    "suite",
                    f"no suite '{key[2]}' in site '{key[1]}' of '{key[0]}' in the database "
                    "or this file",
                    sheet.sheet,
                )
                return False
        return True

    @staticmethod
    def _stored(kind: str, key: tuple[str, ...]) -> bool:
        if kind == "sites":
            return Site.objects.filter(owner__slug=key[0], code=key[1]).exists()
        if kind == "suites":
            return Suite.objects.filter(
                site__owner__slug=key[0], site__code=key[1], name=key[2]
            ).exists()
        return Equipment.objects.filter(
            suite__site__owner__slug=key[0],
            suite__site__code=key[1],
            suite__name=key[2],
            tag=key[3],
        ).exists()


# --- writing ---------------------------------------------------------------------------------


class _RejectedError(Exception):
    """Leaves the import transaction so that nothing written in it is kept."""


class _Writer:
    """Creates the rows through the network services, remembering what it created."""

    def __init__(self, actor: User, checker: _Checker, reason: str, problems: _Problems) -> None:
        self.actor = actor
        self.checker = checker
        self.reason = reason
        self.problems = problems
        self.sites: dict[tuple[str, ...], Site] = {}
        self.suites: dict[tuple[str, ...], Suite] = {}
        self.created: dict[str, int] = {}

    def write(self, sheet: _Sheet) -> None:
        self.created.setdefault(sheet.kind, 0)
        for row in sheet.rows:
            if row.bad or row.owner is None:
                continue
            try:
                with transaction.atomic():
                    made = self._create(sheet.kind, row.owner, row.values)
            except ValidationError as exc:
                self._validation_problems(sheet, row, exc)
            except (PermissionDenied, Http404) as exc:
                self.problems.add(row.line, "owner", str(exc) or "not allowed", sheet.sheet)
            else:
                if made:
                    self.created[sheet.kind] += 1

    def _validation_problems(self, sheet: _Sheet, row: _Row, exc: ValidationError) -> None:
        row.bad = True
        mapping = _FIELD_COLUMNS[sheet.kind]
        messages = exc.message_dict if hasattr(exc, "error_dict") else {"": exc.messages}
        for name, texts in messages.items():
            column = mapping.get(name, name) or None
            for text in texts:
                self.problems.add(row.line, column, text, sheet.sheet)

    def _create(self, kind: str, owner: Organisation, values: dict[str, Any]) -> bool:
        fields = {k: v for k, v in values.items() if k not in {"owner", "site_code", "suite"}}
        if kind == "sites":
            private = {k: fields.pop(k) for k in PRIVATE_SITE_COLUMNS if k in fields}
            site = services.create_site(actor=self.actor, owner=owner, reason=self.reason, **fields)
            if private:
                services.update_private_profile(
                    site, actor=self.actor, reason=self.reason, **private
                )
            self.sites[(values["owner"], values["code"])] = site
            return True
        if kind == "suites":
            site_or_none = self._site(values["owner"], values["site_code"])
            if site_or_none is None:
                return False
            modalities = fields.pop("modalities", ())
            suite = services.create_suite(
                actor=self.actor,
                site=site_or_none,
                reason=self.reason,
                modalities=modalities,
                **fields,
            )
            self.suites[(values["owner"], values["site_code"], values["name"])] = suite
            return True
        suite_or_none = self._suite(values["owner"], values["site_code"], values["suite"])
        if suite_or_none is None:
            return False
        services.create_equipment(
            actor=self.actor, suite=suite_or_none, reason=self.reason, **fields
        )
        return True

    def _site(self, owner: str, code: str) -> Site | None:
        """A site created by this import or already stored; None if its own row failed."""
        key = (owner, code)
        if key in self.checker.keys["sites"]:
            return self.sites.get(key)
        return Site.objects.filter(owner__slug=owner, code=code).first()

    def _suite(self, owner: str, site_code: str, name: str) -> Suite | None:
        key = (owner, site_code, name)
        if key in self.checker.keys["suites"]:
            return self.suites.get(key)
        return Suite.objects.filter(
            site__owner__slug=owner, site__code=site_code, name=name
        ).first()


# --- the entry point -------------------------------------------------------------------------


def import_file(
    source: str | Path | bytes,
    filename: str | None = None,
    *,
    kind: str | None = None,
    actor: User,
    sheet: str | None = None,
    dry_run: bool = False,
) -> ImportReport:
    """Import a CSV or Excel file of sites, suites or equipment for ``actor``, all or nothing.

    ``source`` is a path or the file's bytes (then ``filename`` names it in messages and
    tells its type). ``kind`` is one of ``KINDS``; without it a CSV file's name or an Excel
    workbook's sheet names tell the kind, and a workbook with sheets named ``sites``,
    ``suites`` and ``equipment`` is imported in that order in one go. ``dry_run`` checks
    everything, including the services' own rules, and keeps nothing.

    Raises ``PermissionDenied`` when ``actor`` may not import; every problem with the file
    itself is returned in the report instead.
    """
    if not actor.can(IMPORT_NETWORK):
        raise PermissionDenied("Your role may not import sites, suites or equipment.")
    if isinstance(source, bytes):
        data, name = source, filename or "upload"
    else:
        path = Path(source)
        data, name = path.read_bytes(), filename or path.name
    report = ImportReport(filename=name, dry_run=dry_run)
    problems = _Problems(name)
    if kind is not None and kind not in KINDS:
        problems.add(None, None, f"unknown kind '{kind}'; choose one of: {', '.join(KINDS)}")
        report.problems = problems.items
        return report
    suffix = Path(name).suffix.lower()
    if suffix == ".csv":
        sheets = _read_csv(data, name, kind, problems)
    elif suffix in EXCEL_SUFFIXES:
        sheets = _read_excel(data, name, kind, sheet, problems)
    else:
        problems.add(None, None, f"unsupported file type '{suffix}'; use .csv or .xlsx")
        sheets = []
    sheets.sort(key=lambda s: KINDS.index(s.kind))
    checker = _Checker(actor, problems)
    for each in sheets:
        checker.check(each)
        report.rows[each.kind] = report.rows.get(each.kind, 0) + len(each.rows)
    writer = _Writer(actor, checker, f"Imported from {name}", problems)
    try:
        with transaction.atomic():
            for each in sheets:
                writer.write(each)
            if problems.items or dry_run:
                raise _RejectedError
    except _RejectedError:
        pass
    else:
        report.created = writer.created
    order = {each.sheet: index for index, each in enumerate(sheets)}
    report.problems = sorted(
        problems.items, key=lambda p: (p.line is not None, order.get(p.sheet, -1), p.line or 0)
    )
    return report
