"""Importing sites, suites and equipment from CSV and Excel files, all or nothing.

The file is read as it streams from the table reader and every row is checked completely
before anything is written, outside any transaction: the type and range of every value,
choice values, duplicate keys within the file and against the database, references to
organisations, sites and suites, whether the importing user may write for each owner, and
the validation the network services would apply (``full_clean`` and the network rules, with
their messages). Stored keys are read once per owner and kind, so checking costs the same
for every row. Only a file without a problem is then written, in one short transaction: a
bulk insert per kind and one bulk append to the audit trail, each entry the one the
services write for a single creation. A rejected file changes nothing, not even the audit
trail. Each problem names the file, the line (CSV line or Excel row), the column and the
reason; the first ``MAX_PROBLEMS`` are kept in full and the rest counted by kind.
"""

from __future__ import annotations

import math
import re
from collections import Counter
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from itertools import chain
from pathlib import Path
from typing import Any

from django.core.exceptions import NON_FIELD_ERRORS, PermissionDenied, ValidationError
from django.db import connection, models, transaction
from django.http import Http404
from django_scopes import scopes_disabled

from opencdmo.accounts.models import Organisation, User
from opencdmo.accounts.roles import IMPORT_NETWORK, OrganisationKind
from opencdmo.audit import services as audit
from opencdmo.core.services import Writable
from opencdmo.core.tables import FormulaCell, Row, TableError, read_rows, sheet_names
from opencdmo.core.tenancy import tenancy_of
from opencdmo.core.text import control_character_problem
from opencdmo.network import services
from opencdmo.network.cache import bump_network_version
from opencdmo.network.choices import (
    EquipmentKind,
    GmpGrade,
    Modality,
    Region,
    SuiteKind,
    SuiteStatus,
)
from opencdmo.network.models import (
    Equipment,
    ModalityQualification,
    Site,
    SitePrivateProfile,
    Suite,
)

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

MAX_CELLS = 2_000_000
"""Cells read from one file or sheet: 100,000 rows of every column of a kind, and room."""

MAX_BYTES = 128 * 2**20
"""Bytes of a CSV file, or of an Excel sheet or its shared strings unpacked, read at most;
100,000 rows of every column take about a third of it. A larger one is refused unread."""

MAX_PROBLEMS = 200
"""Problems of a rejected file kept in full; the others are counted by kind."""

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
    """What an import read and created; nothing was written when ``problems`` is not empty.

    ``problems`` holds the first ``MAX_PROBLEMS`` in the file's order, ``problem_count`` all
    of them, and ``more`` how many of the others are of each kind ('latitude: … is not a
    number').
    """

    filename: str
    dry_run: bool = False
    rows: dict[str, int] = field(default_factory=dict)
    created: dict[str, int] = field(default_factory=dict)
    problems: list[ImportProblem] = field(default_factory=list)
    problem_count: int = 0
    more: dict[str, int] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return not self.problems

    def more_line(self, kinds_shown: int = 5) -> str | None:
        """ "and 425,800 more: 425,000 × 'capacity_l: …', …" for the problems not kept."""
        hidden = sum(self.more.values())
        if not hidden:
            return None
        counts = [f"{count:,} × '{kind}'" for kind, count in list(self.more.items())[:kinds_shown]]
        if len(self.more) > kinds_shown:
            counts.append(f"{len(self.more) - kinds_shown:,} other kinds")
        return f"and {hidden:,} more: {', '.join(counts)}"

    def problem_lines(self) -> list[str]:
        """Every kept problem, one a line, then the 'and … more' line if some were not kept."""
        lines = [str(problem) for problem in self.problems]
        more = self.more_line()
        return [*lines, more] if more else lines

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
            count = max(self.problem_count, len(self.problems))
            return f"Nothing imported from {self.filename}: {count:,} problem{'s' * (count != 1)}."
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
                    f"'{_shown(text)}' is not a number (write e.g. 2000 or 51.5, with a dot and "
                    "no thousands separator)"
                ) from None
        if not math.isfinite(number):
            raise _CellError(f"'{_shown(str(value))}' is not a finite number")
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
            raise _CellError(f"'{_shown(text)}' is not one of: {', '.join(choices.values)}")
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

_FIELD_COLUMNS: dict[type[models.Model], dict[str, str]] = {
    Site: {"owner": "owner", NON_FIELD_ERRORS: "code"},
    SitePrivateProfile: {"site": "code", NON_FIELD_ERRORS: "code"},
    Suite: {"site": "site_code", NON_FIELD_ERRORS: "name"},
    Equipment: {"suite": "suite", NON_FIELD_ERRORS: "tag"},
}
"""Which column a validation message about a model's field belongs to (others: its own)."""


# --- problems ------------------------------------------------------------------------------

_SHOWN_CHARS = 60
_VALUE = re.compile(r"'[^']*'|-?\d[\d,.]*")


def _shown(text: str) -> str:
    """A value as a message quotes it: long ones cut, so a problem list stays small."""
    return text if len(text) <= _SHOWN_CHARS else f"{text[: _SHOWN_CHARS - 1]}…"


def _problem_kind(column: str | None, reason: str) -> str:
    """'latitude: … is not a number': the reason without its values, to count alike ones."""
    text = _VALUE.sub("…", reason.split(" (", 1)[0].split(";", 1)[0])
    text = _shown(text)
    return f"{column}: {text}" if column else text


class _Problems:
    """Collects the problems of one file: the first ``MAX_PROBLEMS`` in full, all by kind.

    The kept ones are those that come first in the report's order (file-wide ones, then by
    sheet and line), whatever order they were found in; the rest are only counted, so a file
    of a hundred thousand bad rows costs a few kilobytes of report.
    """

    def __init__(self, filename: str) -> None:
        self.filename = filename
        self.count = 0
        self.kinds: Counter[str] = Counter()
        self.sheet_order: dict[str | None, int] = {}
        self._kept: list[tuple[tuple[bool, int, int, int], ImportProblem, str]] = []

    def add(
        self,
        line: int | None,
        column: str | None,
        reason: str,
        sheet: str | None = None,
        *,
        kind: str | None = None,
    ) -> None:
        """Note a problem; ``kind`` names what it has in common with others (default: the
        reason without its values)."""
        problem = ImportProblem(self.filename, line, column, reason, sheet)
        kind = f"{column}: {kind}" if kind and column else kind or _problem_kind(column, reason)
        self.kinds[kind] += 1
        key = (line is not None, self.sheet_order.get(sheet, -1), line or 0, self.count)
        self.count += 1
        self._kept.append((key, problem, kind))
        if len(self._kept) >= 2 * MAX_PROBLEMS:
            self._trim()

    def _trim(self) -> None:
        self._kept.sort(key=lambda kept: kept[0])
        del self._kept[MAX_PROBLEMS:]

    def fill(self, report: ImportReport) -> None:
        """Put the kept problems, the count and the kinds of the others into ``report``."""
        self._trim()
        report.problems = [problem for _, problem, _ in self._kept]
        report.problem_count = self.count
        report.more = dict((self.kinds - Counter(kind for _, _, kind in self._kept)).most_common())


# --- reading files ---------------------------------------------------------------------------


@dataclass
class _Row:
    line: int
    values: dict[str, Any]
    bad: bool = False


def _header_name(value: object) -> str:
    """'Working volume L' and 'working_volume_l' name the same column."""
    return re.sub(r"[\s\-]+", "_", _as_text(value).strip().lower()) if not _is_blank(value) else ""


def _header(
    kind: str,
    sheet: str | None,
    lines: Iterator[tuple[int, tuple[object, ...]]],
    problems: _Problems,
) -> list[str] | None:
    """The column names of the first non-blank line; None, noted, when it is unusable."""
    columns = {column.name: column for column in COLUMNS[kind]}
    header_line, header = next(
        ((n, cells) for n, cells in lines if not all(_is_blank(c) for c in cells)), (0, ())
    )
    if not header:
        problems.add(None, None, "the file is empty; the first line must name the columns", sheet)
        return None
    usable = True
    for index, cell in enumerate(header):
        if isinstance(cell, FormulaCell):
            problems.add(header_line, f"#{index + 1}", _FORMULA_REASON, sheet)
            usable = False
        elif isinstance(cell, str) and (problem := control_character_problem(cell)):
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
                _shown(name),
                f"unknown column; {kind} columns are: {', '.join(columns)}",
                sheet,
                kind="unknown column",
            )
        elif name in seen:
            problems.add(header_line, name, "column appears more than once", sheet)
            usable = False
        seen.add(name)
    for column in columns.values():
        if column.required and column.name not in seen:
            problems.add(header_line, column.name, "required column is missing", sheet)
            usable = False
    return names if usable else None


_FORMULA_REASON = (
    "the cell holds a formula; paste values (Paste Special, Values) and import the file again"
)


def _read_row(
    line: int,
    cells: tuple[object, ...],
    names: list[str],
    columns: dict[str, Column],
    problems: _Problems,
    sheet: str | None,
) -> _Row:
    """Read one row's values by the header's column names, noting every unreadable cell."""
    row = _Row(line=line, values={})
    for index in range(len(names), len(cells)):
        if not _is_blank(cells[index]):
            row.bad = True
            problems.add(line, f"#{index + 1}", "value in a column without a header", sheet)
    for index, name in enumerate(names):
        cell = cells[index] if index < len(cells) else None
        spec = columns.get(name)
        if spec is None:
            if name == "" and not _is_blank(cell):
                row.bad = True
                problems.add(line, f"#{index + 1}", "value in a column without a header", sheet)
            continue
        if _is_blank(cell):
            if spec.required:
                row.bad = True
                problems.add(line, name, "a value is required", sheet)
            continue
        if isinstance(cell, FormulaCell):
            row.bad = True
            problems.add(line, name, f"{_FORMULA_REASON} ({_shown(cell.formula)})", sheet)
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
) -> Iterator[tuple[int, tuple[object, ...]]]:
    """The rows with their line numbers; a damaged part ends them, noted as a problem."""
    try:
        for row in rows:
            yield row.line, row.cells
    except TableError as exc:
        problems.add(
            exc.line, exc.column, f"{exc.reason}; nothing after it was read", sheet, kind=exc.reason
        )


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


@dataclass
class _Sheet:
    """One kind's rows to read: a CSV file or one Excel sheet."""

    kind: str
    sheet: str | None
    rows: Iterator[Row] | None


def _csv_sheets(data: bytes, filename: str, kind: str | None, problems: _Problems) -> list[_Sheet]:
    kind = kind or _kind_from_name(Path(filename).stem)
    if kind is None:
        problems.add(
            None,
            None,
            "cannot tell whether the file holds sites, suites or equipment; "
            "pass the kind (--kind) or put it in the file name",
        )
        return []
    rows = _opened(
        read_rows(data, name=filename, max_rows=MAX_ROWS, max_cells=MAX_CELLS, max_bytes=MAX_BYTES),
        problems,
    )
    return [] if rows is None else [_Sheet(kind, None, rows)]


def _excel_sheets(
    data: bytes,
    filename: str,
    kind: str | None,
    sheet_name: str | None,
    problems: _Problems,
) -> list[_Sheet]:
    """The sheet named by ``sheet_name`` or ``kind``, or every sheet named after a kind."""
    try:
        names = sheet_names(data, name=filename, max_bytes=MAX_BYTES)
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
        rows = read_rows(
            data,
            name=filename,
            sheet=name,
            formulas=True,
            max_rows=MAX_ROWS,
            max_cells=MAX_CELLS,
            max_bytes=MAX_BYTES,
        )
        sheets.append(_Sheet(sheet_kind, name, rows))
    return sheets


# --- checking every row ----------------------------------------------------------------------


@dataclass
class _Stored:
    """What one owner already has, read once: its sites by code, suites and equipment keys."""

    sites: dict[str, Site]
    suites: dict[tuple[int, str], Suite]
    equipment: set[tuple[int, str]]

    @classmethod
    def of(cls, owner: Organisation) -> _Stored:
        """Three queries, one per kind, whatever the number of rows."""
        with scopes_disabled():
            sites = {
                site.code: site
                for site in Site.objects.filter(owner=owner).only("id", "owner_id", "code", "name")
            }
            by_id = {site.pk: site for site in sites.values()}
            suites = {}
            for suite in Suite.objects.filter(site__owner=owner).only("id", "site_id", "name"):
                suite.site = by_id[suite.site_id]
                suites[(suite.site_id, suite.name)] = suite
            equipment = set(
                Equipment.objects.filter(suite__site__owner=owner).values_list("suite_id", "tag")
            )
        return cls(sites, suites, equipment)


@dataclass
class _Plan:
    """The objects a valid file creates, in the order they are written and audited."""

    sites: list[tuple[Site, SitePrivateProfile | None]] = field(default_factory=list)
    suites: list[tuple[Suite, list[str]]] = field(default_factory=list)
    equipment: list[Equipment] = field(default_factory=list)

    def counts(self, kinds: Iterable[str]) -> dict[str, int]:
        made = {"sites": len(self.sites), "suites": len(self.suites)}
        made["equipment"] = len(self.equipment)
        return {kind: made[kind] for kind in kinds}


class _Checker:
    """Checks each row completely, as the services would, and plans what it creates.

    Owners, duplicate keys within the file and against the database, references, the write
    permission and the models' own validation (``full_clean`` and the network rules, with
    the services' messages); nothing is written. Stored keys are read once per owner and
    kind, so the checks cost the same for every row.
    """

    def __init__(self, actor: User, problems: _Problems) -> None:
        self.actor = actor
        self.problems = problems
        self.plan = _Plan()
        self.owners: dict[str, Organisation | None] = {}
        self.stored: dict[int, _Stored] = {}
        self.keys: dict[str, dict[tuple[str, ...], int]] = {kind: {} for kind in KINDS}
        self.made: dict[str, dict[tuple[str, ...], Any]] = {kind: {} for kind in KINDS}
        self.allowed: dict[tuple[str, int], str | None] = {}

    def check(self, kind: str, sheet: str | None, row: _Row) -> None:
        """Plan the row's objects, or note why not; keys of bad rows still count as present."""
        columns = KEY_COLUMNS[kind]
        key = tuple(row.values[c] for c in columns) if all(c in row.values for c in columns) else ()
        if key and not self._first_in_file(kind, sheet, row, key):
            return
        if row.bad:
            return
        owner = self._owner(sheet, row)
        if owner is None:
            return
        made = self._build(kind, sheet, row, owner)
        if made is not None:
            self.made[kind][key] = made

    def _owner(self, sheet: str | None, row: _Row) -> Organisation | None:
        """The row's owner if the importing user may write for it."""
        slug = row.values["owner"]
        if slug not in self.owners:
            with scopes_disabled():
                self.owners[slug] = Organisation.objects.filter(slug=slug).first()
        organisation = self.owners[slug]
        reason = ""
        if organisation is None:
            reason = f"no organisation with the slug '{slug}'"
        elif organisation.kind != OrganisationKind.CDMO:
            reason = f"'{slug}' is a {organisation.get_kind_display()}; only CDMOs own sites"
        elif not self.actor.is_platform_admin and organisation.pk != self.actor.organisation_id:
            own = self.actor.organisation.slug if self.actor.organisation else "none"
            reason = f"you may import only for your own organisation ('{own}')"
        if reason:
            self.problems.add(row.line, "owner", reason, sheet)
            return None
        return organisation

    def _first_in_file(self, kind: str, sheet: str | None, row: _Row, key: tuple[str, ...]) -> bool:
        columns = KEY_COLUMNS[kind]
        first = self.keys[kind].setdefault(key, row.line)
        if first != row.line:
            self.problems.add(
                row.line,
                columns[-1],
                f"duplicate of {'row' if sheet else 'line'} {first} (same {', '.join(columns)})",
                sheet,
            )
            return False
        return True

    def _stored_of(self, owner: Organisation) -> _Stored:
        if owner.pk not in self.stored:
            self.stored[owner.pk] = _Stored.of(owner)
        return self.stored[owner.pk]

    def _already_stored(self, sheet: str | None, row: _Row, kind: str) -> None:
        key = tuple(row.values[c] for c in KEY_COLUMNS[kind])
        self.problems.add(
            row.line,
            KEY_COLUMNS[kind][-1],
            f"{' / '.join(key)} already exists in the database",
            sheet,
            kind="already exists in the database",
        )

    def _site(self, sheet: str | None, row: _Row, owner: Organisation) -> Site | None:
        """The suite's site, from this file or the database; None (noted) if neither."""
        key = (row.values["owner"], row.values["site_code"])
        if key in self.keys["sites"]:
            return self.made["sites"].get(key)  # None when its own row failed
        site = self._stored_of(owner).sites.get(key[1])
        if site is None:
            self.problems.add(
                row.line,
                "site_code",
                f"no site '{key[1]}' of '{key[0]}' in the database or this file",
                sheet,
            )
        return site

    def _suite(self, sheet: str | None, row: _Row, owner: Organisation) -> Suite | None:
        key = (row.values["owner"], row.values["site_code"], row.values["suite"])
        if key in self.keys["suites"]:
            return self.made["suites"].get(key)
        stored = self._stored_of(owner)
        site = stored.sites.get(key[1])
        suite = stored.suites.get((site.pk, key[2])) if site is not None else None
        if suite is None:
            self.problems.add(
                row.line,
                "suite",
                f"no suite '{key[2]}' in site '{key[1]}' of '{key[0]}' in the database "
                "or this file",
                sheet,
            )
        return suite

    def _build(
        self, kind: str, sheet: str | None, row: _Row, owner: Organisation
    ) -> models.Model | None:
        fields = {k: v for k, v in row.values.items() if k not in {"owner", "site_code", "suite"}}
        if kind == "sites":
            if row.values["code"] in self._stored_of(owner).sites:
                self._already_stored(sheet, row, kind)
                return None
            private = {k: fields.pop(k) for k in PRIVATE_SITE_COLUMNS if k in fields}
            site = self._valid(services.SITE, Site(owner=owner), "owner", fields, sheet, row)
            if site is None:
                return None
            profile = None
            if private:
                profile = self._valid(
                    services.PRIVATE_PROFILE,
                    SitePrivateProfile(site=site),
                    "site",
                    private,
                    sheet,
                    row,
                )
                if profile is None:
                    return None
            self.plan.sites.append((site, profile))
            return site
        if kind == "suites":
            parent = self._site(sheet, row, owner)
            if parent is None:
                return None
            if (
                parent.pk is not None
                and (parent.pk, fields["name"]) in self._stored_of(owner).suites
            ):
                self._already_stored(sheet, row, kind)
                return None
            modalities = sorted(set(fields.pop("modalities", ())))
            suite = self._valid(services.SUITE, Suite(site=parent), "site", fields, sheet, row)
            if suite is not None:
                self.plan.suites.append((suite, modalities))
            return suite
        holder = self._suite(sheet, row, owner)
        if holder is None:
            return None
        if holder.pk is not None and (holder.pk, fields["tag"]) in self._stored_of(owner).equipment:
            self._already_stored(sheet, row, kind)
            return None
        equipment = self._valid(
            services.EQUIPMENT, Equipment(suite=holder), "suite", fields, sheet, row
        )
        if equipment is not None:
            self.plan.equipment.append(equipment)
        return equipment

    def _valid(
        self,
        spec: Writable[Any],
        instance: models.Model,
        parent: str,
        fields: dict[str, Any],
        sheet: str | None,
        row: _Row,
    ) -> Any:
        """``instance`` with ``fields`` set if the services would accept it, else None (noted).

        What ``core.services.create`` checks, without a query a row: the write permission
        (once per kind and owner), ``full_clean`` but for the parent and the uniqueness
        that the stored keys settle, and the app's rules, with the same messages.
        """
        values = spec.normalise(dict(fields)) if spec.normalise else fields
        for name, value in values.items():
            setattr(instance, name, value)
        refused = self._refused(spec, instance)
        if refused:
            self.problems.add(row.line, "owner", refused, sheet)
            return None
        errors: dict[str, list[str]] = {}
        try:
            instance.full_clean(exclude=[parent], validate_unique=False, validate_constraints=False)
        except ValidationError as exc:
            errors.update(exc.message_dict)
        for name, message in spec.rules(instance) if spec.rules else ():
            errors.setdefault(name, []).append(message)
        if not errors:
            return instance
        mapping = _FIELD_COLUMNS[spec.model]
        for name, texts in errors.items():
            column = mapping.get(name, name) or None
            for text in texts:
                self.problems.add(row.line, column, text, sheet)
        return None

    def _refused(self, spec: Writable[Any], instance: models.Model) -> str | None:
        """Why the services would refuse to write ``instance`` for the actor, if they would."""
        owner_id = tenancy_of(instance).owner_id(instance)
        slot = (spec.model._meta.label, owner_id or 0)
        if slot not in self.allowed:
            try:
                spec.authorise(self.actor, instance)
            except (PermissionDenied, Http404) as exc:
                self.allowed[slot] = str(exc) or "not allowed"
            else:
                self.allowed[slot] = None
        return self.allowed[slot]


# --- writing ---------------------------------------------------------------------------------


def _reserve_ids(model: type[models.Model], count: int) -> list[int]:
    """Ids for ``count`` new rows of ``model``: taken from its sequence (PostgreSQL), or
    those after the highest ever given (SQLite, whose AUTOINCREMENT keeps it): valid while
    nobody else inserts, which ``_write`` checks under the write lock."""
    meta = model._meta
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute(
                "SELECT nextval(pg_get_serial_sequence(%s, %s)) FROM generate_series(1, %s)",
                [meta.db_table, meta.pk.column, count],
            )
            return [int(row[0]) for row in cursor.fetchall()]
    base = _sqlite_last_id(model)
    return list(range(base + 1, base + count + 1))


def _sqlite_last_id(model: type[models.Model]) -> int:
    meta = model._meta
    quote = connection.ops.quote_name
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT MAX({quote(meta.pk.column)}) FROM {quote(meta.db_table)}")
        (highest,) = cursor.fetchone()
        cursor.execute("SELECT seq FROM sqlite_sequence WHERE name = %s", [meta.db_table])
        given = cursor.fetchone()
    return max(highest or 0, given[0] if given else 0)


@dataclass
class _Statements:
    """The plan as INSERT statements and audit entries, built before the write transaction.

    ``last_ids`` are the SQLite ids the new ones were counted from, checked under the lock.
    """

    inserts: list[tuple[str, list[str], list[list[object]]]]
    entries: audit.PreparedEntries
    last_ids: dict[type[models.Model], int]


def _rows(objects: Sequence[models.Model], statements: _Statements) -> None:
    """Give ``objects`` (of one model) their ids and their parents' and add their INSERT."""
    if not objects:
        return
    model = type(objects[0])
    meta = model._meta
    if connection.vendor == "sqlite":
        statements.last_ids[model] = _sqlite_last_id(model)
    fields = list(meta.concrete_fields)
    parents = [f for f in fields if f.is_relation]
    for obj, pk in zip(objects, _reserve_ids(model, len(objects)), strict=True):
        obj.pk = pk
        for parent in parents:  # sets the key from the parent's new id and keeps the parent
            setattr(obj, parent.name, getattr(obj, parent.name))
    quote = connection.ops.quote_name
    columns = [quote(f.column) for f in fields]
    rows = [[_stored_value(f, getattr(obj, f.attname)) for f in fields] for obj in objects]
    statements.inserts.append((quote(meta.db_table), columns, rows))


def _stored_value(field: models.Field[Any, Any], value: object) -> object:
    """The value as the database takes it: plain text, numbers and ids as they are."""
    if value is None or type(value) in (str, int, float):
        return value
    return field.get_db_prep_save(value, connection)


def _statements(plan: _Plan, actor: User, reason: str) -> _Statements:
    """Ids for every new object, its INSERT and its audit entry, in the services' order."""
    statements = _Statements([], audit.PreparedEntries([]), {})
    _rows([site for site, _ in plan.sites], statements)
    _rows([profile for _, profile in plan.sites if profile is not None], statements)
    _rows([suite for suite, _ in plan.suites], statements)
    _rows(
        [
            ModalityQualification(suite=suite, modality=modality)
            for suite, modalities in plan.suites
            for modality in modalities
        ],
        statements,
    )
    _rows(plan.equipment, statements)
    statements.entries = audit.prepare_entries(_events(plan, actor, reason))
    return statements


def _stage(statements: _Statements) -> list[str]:
    """On SQLite, put the rows into temporary tables now; their names, in insert order.

    SQLite has one writer at a time: what the write transaction does, every other writer
    waits for. Staged, each kind is copied in by one ``INSERT … SELECT`` under the lock,
    which costs a third of inserting the rows one by one.
    """
    if connection.vendor != "sqlite":
        return []
    staged = []
    with connection.cursor() as cursor:
        for index, (table, columns, rows) in enumerate(statements.inserts):
            stage = f"opencdmo_import_stage_{index}"
            cursor.execute(f"DROP TABLE IF EXISTS temp.{stage}")
            cursor.execute(
                f"CREATE TEMP TABLE {stage} AS SELECT {', '.join(columns)} FROM {table} WHERE 0"
            )
            placeholders = ", ".join(["%s"] * len(columns))
            cursor.executemany(f"INSERT INTO temp.{stage} VALUES ({placeholders})", rows)
            staged.append(stage)
    audit.stage_entries(statements.entries)
    return staged


def _insert_all(statements: _Statements, staged: list[str]) -> None:
    """Every kind's rows: copied from their stage (SQLite), by COPY (PostgreSQL), or a
    prepared statement run for each row."""
    with connection.cursor() as cursor:
        for index, (table, columns, rows) in enumerate(statements.inserts):
            names = ", ".join(columns)
            if staged:
                cursor.execute(
                    f"INSERT INTO {table} ({names}) SELECT {names} FROM temp.{staged[index]} "
                    "ORDER BY rowid"
                )
            elif connection.vendor == "postgresql":
                with cursor.cursor.copy(f"COPY {table} ({names}) FROM STDIN") as copy:
                    for row in rows:
                        copy.write_row(row)
            else:
                placeholders = ", ".join(["%s"] * len(columns))
                cursor.executemany(f"INSERT INTO {table} ({names}) VALUES ({placeholders})", rows)


def _write(plan: _Plan, actor: User, reason: str, then: Callable[[], None]) -> None:
    """Write the plan in one transaction: a statement per kind, one audit append, ``then()``.

    Everything is built before (ids, values, audit entries and their encodings; on SQLite
    the rows themselves, in temporary tables), so the transaction, and the audit chain's
    lock in it, lasts as long as the inserts themselves: other writers of the importing
    organisation (and on SQLite every writer) wait that long, and nobody waits for the
    reading and checking.
    """
    statements = _statements(plan, actor, reason)
    stages = _stage(statements)
    try:
        with transaction.atomic():
            staged = stages
            if any(_sqlite_last_id(model) != last for model, last in statements.last_ids.items()):
                statements = _statements(plan, actor, reason)  # someone inserted meanwhile
                staged = []
            _insert_all(statements, staged)
            audit.append_entries(statements.entries)
            bump_network_version()
            then()
    finally:
        with connection.cursor() as cursor:
            for stage in stages:
                cursor.execute(f"DROP TABLE IF EXISTS temp.{stage}")


def _events(plan: _Plan, actor: User, reason: str) -> Iterator[audit.Event]:
    """The entries the services write for these creations, in the order they would.

    The acting chain is the owner's: the importing user belongs to it or curates it.
    """

    def created(spec: Writable[Any], instance: models.Model, state: dict[str, Any]) -> audit.Event:
        owner_id = tenancy_of(instance).owner_id(instance)
        return audit.Event(
            spec.action("created"),
            actor=actor,
            organisation_id=owner_id,
            target=instance,
            after=state,
            reason=reason,
        )

    for site, profile in plan.sites:
        yield created(services.SITE, site, services.SITE.state(site))
        if profile is not None:
            yield created(
                services.PRIVATE_PROFILE, profile, services.PRIVATE_PROFILE.state(profile)
            )
    for suite, modalities in plan.suites:
        yield created(services.SUITE, suite, {**audit.snapshot(suite), "modalities": modalities})
    for equipment in plan.equipment:
        yield created(services.EQUIPMENT, equipment, services.EQUIPMENT.state(equipment))


# --- the entry point -------------------------------------------------------------------------


def import_file(
    source: str | Path | bytes,
    filename: str | None = None,
    *,
    kind: str | None = None,
    actor: User,
    sheet: str | None = None,
    dry_run: bool = False,
    record_outcome: Callable[[ImportReport], None] | None = None,
) -> ImportReport:
    """Import a CSV or Excel file of sites, suites or equipment for ``actor``, all or nothing.

    ``source`` is a path or the file's bytes (then ``filename`` names it in messages and
    tells its type). ``kind`` is one of ``KINDS``; without it a CSV file's name or an Excel
    workbook's sheet names tell the kind, and a workbook with sheets named ``sites``,
    ``suites`` and ``equipment`` is imported in that order in one go. ``dry_run`` checks
    everything, including the services' own rules, and keeps nothing.

    The file is read and checked outside any transaction, then written in one short one.
    ``record_outcome`` is called with the finished report inside that transaction (or a
    transaction of its own when nothing is written), so an outcome kept elsewhere (a job's)
    commits with the rows; if it raises, nothing is written.

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
    checker = _Checker(actor, problems)
    for each in _sheets(data, name, kind, sheet, problems):
        _check_sheet(each, checker, problems, report)
    problems.fill(report)
    if report.problems or dry_run:
        if record_outcome is not None:
            with transaction.atomic():
                record_outcome(report)
        return report
    report.created = checker.plan.counts(report.rows)
    try:
        _write(
            checker.plan,
            actor,
            f"Imported from {name}",
            lambda: record_outcome(report) if record_outcome is not None else None,
        )
    except BaseException:
        report.created = {}
        raise
    return report


def _sheets(
    data: bytes, name: str, kind: str | None, sheet: str | None, problems: _Problems
) -> list[_Sheet]:
    """The sheets to read, in the order their kinds are written."""
    if kind is not None and kind not in KINDS:
        problems.add(None, None, f"unknown kind '{kind}'; choose one of: {', '.join(KINDS)}")
        return []
    suffix = Path(name).suffix.lower()
    if suffix == ".csv":
        sheets = _csv_sheets(data, name, kind, problems)
    elif suffix in EXCEL_SUFFIXES:
        sheets = _excel_sheets(data, name, kind, sheet, problems)
    else:
        problems.add(None, None, f"unsupported file type '{suffix}'; use .csv or .xlsx")
        return []
    sheets.sort(key=lambda s: KINDS.index(s.kind))
    for index, each in enumerate(sheets):
        problems.sheet_order[each.sheet] = index
    return sheets


def _check_sheet(
    each: _Sheet, checker: _Checker, problems: _Problems, report: ImportReport
) -> None:
    """Read the sheet's rows as they stream from the file, checking each in turn."""
    if each.rows is None:
        return
    lines = _lines(each.rows, problems, each.sheet)
    names = _header(each.kind, each.sheet, lines, problems)
    if names is None:
        return
    columns = {column.name: column for column in COLUMNS[each.kind]}
    count = report.rows.get(each.kind, 0)
    for line, cells in lines:
        if all(_is_blank(c) for c in cells):
            continue
        count += 1
        row = _read_row(line, cells, names, columns, problems, each.sheet)
        checker.check(each.kind, each.sheet, row)
    report.rows[each.kind] = count
