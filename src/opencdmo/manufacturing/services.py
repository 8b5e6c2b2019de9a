"""Batches from plan to disposition, their offline results, tag mappings and process data.

Every write goes through ``opencdmo.core.services`` (permission from the tenancy
declaration, validation, one audit entry with a reason). Ingesting a file is all or nothing:
it is read and checked completely, then each lot's new version is written to the
process-data store and registered in one transaction; a failure removes the files written.

A version's file is a segment: the values it added, checked against the stored values of
the same variables whose times overlap (the registered per-file time ranges say which files
to read, so appending later values reads none). When the batch's newest ``MERGE_FANOUT``
files are all of one size class, the new version's file takes their values in as well, so
a batch's series never needs more than about ``MERGE_FANOUT - 1`` files per factor of
``MERGE_FANOUT`` versions (some 60 for 100,000 versions).
"""

from __future__ import annotations

import csv
import datetime as dt
import hashlib
import io
import re
import secrets
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone
from django_scopes import scopes_disabled

from opencdmo.accounts.roles import EDIT_BATCHES
from opencdmo.core import services
from opencdmo.core.tables import FormulaCell, Table, TableError, read_rows, read_table
from opencdmo.manufacturing.models import Batch, OfflineResult, ProcessDataFile, TagMapping
from opencdmo.manufacturing.parsing import (
    Located,
    Tag,
    convert_units,
    parse_table,
    read_plain_csv,
    to_hours,
    with_tags,
)
from opencdmo.manufacturing.store import (
    ProcessData,
    ProcessDataStore,
    Series,
    default_store,
    encoded,
    in_order,
)
from opencdmo.network.models import Equipment, Site, Suite
from opencdmo.projects.models import Project
from opencdmo.scheduling.models import PlannedBatch, SitePlan

__all__ = [
    "BATCH",
    "TRANSITIONS",
    "IngestReport",
    "add_offline_result",
    "change_state",
    "create_batch",
    "export_csv",
    "ingest_file",
    "ingest_table",
    "process_data",
    "set_tag_mapping",
]

TRANSITIONS = {
    "planned": ("running",),
    "running": ("complete",),
    "complete": ("under_review",),
    "under_review": ("dispositioned",),
}
"""A batch's life: each state and the one it may move to next."""

WRITABLE_STATES = ("planned", "running", "complete")
"""States in which process data may still be added; under review it is what QA reviews."""


def _batch_rules(batch: Batch) -> list[tuple[str, str]]:
    problems: list[tuple[str, str]] = []
    if batch.site_id and batch.project_id and batch.site.owner_id != batch.project.cdmo_id:
        problems.append(("site", "Choose a site of the CDMO that executes the project."))
    if batch.suite_id and batch.suite.site_id != batch.site_id:
        problems.append(("suite", f"The suite {batch.suite} is not at {batch.site}."))
    if batch.equipment_id and batch.equipment.suite_id != batch.suite_id:
        problems.append(("equipment", f"{batch.equipment.tag} is not in the batch's suite."))
    if batch.equipment_id and not batch.equipment.kind.startswith("bioreactor"):
        problems.append(("equipment", f"{batch.equipment.tag} is not a bioreactor."))
    for start, end in (("planned_start", "planned_end"), ("actual_start", "actual_end")):
        begin, finish = getattr(batch, start), getattr(batch, end)
        if begin and finish and finish <= begin:
            problems.append((end, "The end must come after the start."))
    return problems


BATCH = services.Writable(
    Batch,
    fields=(
        "project",
        "lot",
        "site",
        "suite",
        "equipment",
        "planned_start",
        "planned_end",
        "planned_from",
        "state",
        "actual_start",
        "actual_end",
        "data_time_zero",
    ),
    noun="batch",
    rules=_batch_rules,
    state_field="state",
    transitions=TRANSITIONS,
)


def _result_rules(result: OfflineResult) -> list[tuple[str, str]]:
    low, high = result.spec_low, result.spec_high
    if low is not None and high is not None and high < low:
        return [("spec_high", "The high limit must not be below the low limit.")]
    return []


OFFLINE_RESULT = services.Writable(
    OfflineResult,
    fields=("attribute", "value", "unit", "spec_low", "spec_high", "sampled_at", "method"),
    noun="offline_result",
    rules=_result_rules,
)
DATA_FILE = services.Writable(
    ProcessDataFile,
    fields=(
        "version",
        "path",
        "sha256",
        "size",
        "rows",
        "variables",
        "counts",
        "start_h",
        "end_h",
        "added",
        "source",
        "source_sha256",
        "first_version",
        "parts",
        "ranges",
    ),
    noun="process_data",
)
TAG_MAPPING = services.Writable(TagMapping, fields=("tag", "variable", "unit"), noun="tag_mapping")


# --- batches ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class PlannedDates:
    start: dt.datetime
    end: dt.datetime
    source: str
    suite: str
    equipment_tag: str


def planned_dates(site: Site, lot: str) -> PlannedDates | None:
    """The lot's production run in the site's plan in force (or its whole span when the plan
    has no production stage for it), with the suite and bioreactor the plan names."""
    with scopes_disabled():
        plan = SitePlan.objects.filter(site=site).order_by("-version").only("version").first()
        if plan is None:
            return None
        rows = list(PlannedBatch.objects.filter(plan=plan, lot=lot).order_by("start"))
    if not rows:
        return None
    production = [r for r in rows if r.stage == "production"] or rows
    suite, _, tag = production[0].suite.partition(" / ")
    return PlannedDates(
        min(r.start for r in production),
        max(r.end for r in production),
        f"plan v{plan.version}",
        suite if tag else "",
        tag,
    )


def create_batch(
    *,
    actor: Any,
    project: Project,
    lot: str,
    site: Site | None = None,
    suite: Suite | None = None,
    equipment: Equipment | None = None,
    planned_start: dt.datetime | None = None,
    planned_end: dt.datetime | None = None,
    reason: str = "",
) -> Batch:
    """A planned batch of ``project``; a lot in the site's plan in force takes the plan's
    dates (and its suite and bioreactor where none is given), others the dates entered."""
    site = site or project.site
    fields: dict[str, Any] = {
        "project": project,
        "lot": lot.strip(),
        "site": site,
        "suite": suite,
        "equipment": equipment,
        "planned_start": planned_start,
        "planned_end": planned_end,
    }
    planned = planned_dates(site, fields["lot"])
    if planned is not None:
        fields.update(
            planned_start=planned.start, planned_end=planned.end, planned_from=planned.source
        )
        with scopes_disabled():
            if suite is None and planned.suite:
                fields["suite"] = Suite.objects.filter(site=site, name=planned.suite).first()
            if equipment is None and fields["suite"] is not None and planned.equipment_tag:
                fields["equipment"] = Equipment.objects.filter(
                    suite=fields["suite"], tag=planned.equipment_tag
                ).first()
    if fields["equipment"] is not None and fields["suite"] is None:
        fields["suite"] = fields["equipment"].suite
    return services.create(
        BATCH,
        actor=actor,
        reason=reason,
        default_reason=f"Batch {fields['lot']} recorded",
        parent={"cdmo_id": project.cdmo_id},
        fields=fields,
    )


def change_state(
    batch: Batch, *, to: str, actor: Any, reason: str, at: dt.datetime | None = None
) -> Batch:
    """Move the batch on (planned → running → complete → under_review → dispositioned).

    Starting records the actual start and completing the actual end (``at``, default now),
    in the same audit entry as the state.
    """
    with transaction.atomic():
        with scopes_disabled():
            stored = Batch.objects.select_for_update().filter(pk=batch.pk).first()
        if stored is None:
            raise ValidationError({"state": "No such batch."})
        BATCH.authorise(actor, stored)
        allowed = TRANSITIONS.get(stored.state, ())
        if to not in allowed:
            choices = ", ".join(allowed) or "nothing: it is final"
            raise ValidationError(
                {
                    "state": f"Batch {stored.lot} cannot go from '{stored.state}' to '{to}'; "
                    f"it may go to {choices}."
                }
            )
        changes: dict[str, Any] = {"state": to}
        when = at or timezone.now()
        if to == "running":
            changes["actual_start"] = when
        elif to == "complete":
            changes["actual_end"] = when
        return services.update(BATCH, batch, actor=actor, reason=reason, changes=changes, verb=to)


def add_offline_result(
    batch: Batch, *, actor: Any, reason: str = "", **fields: Any
) -> OfflineResult:
    """An offline assay result of ``batch`` with its specification."""
    if batch.state == Batch.State.DISPOSITIONED:
        raise ValidationError(
            {"batch": f"Batch {batch.lot} is dispositioned; its record is final."}
        )
    return services.create(
        OFFLINE_RESULT,
        actor=actor,
        reason=reason,
        default_reason=f"Result of {fields.get('attribute', 'an assay')} recorded",
        parent={"batch": batch},
        fields=fields,
    )


def set_tag_mapping(
    site: Site, *, actor: Any, tag: str, variable: str, unit: str = "", reason: str = ""
) -> TagMapping:
    """Map the site's plant tag ``tag`` to ``variable``; the tag reports in ``unit``."""
    with scopes_disabled():
        existing = TagMapping.objects.filter(site=site, tag=tag).first()
    if existing is None:
        return services.create(
            TAG_MAPPING,
            actor=actor,
            reason=reason,
            default_reason=f"Tag {tag} mapped",
            parent={"site": site},
            fields={"tag": tag, "variable": variable, "unit": unit},
        )
    return services.update(
        TAG_MAPPING,
        existing,
        actor=actor,
        reason=reason or f"Tag {tag} mapped again",
        changes={"variable": variable, "unit": unit},
    )


# --- process data ----------------------------------------------------------------------------


DATA_WITHHELD = "The CDMO shares this project's monitoring verdicts, not its raw process data."


def reads_process_data(user: Any, batch: Batch) -> bool:
    """Whether ``user`` (who sees ``batch``) reads its raw process data: the batch's CDMO
    always, the project's sponsor where the CDMO shares it (the choice the analytics app keeps
    per project, beside the verdicts it shows either way)."""
    from opencdmo.analytics.services import sponsor_reads_data  # analytics builds on this app

    return sponsor_reads_data(user, batch)


def require_process_data(user: Any, batch: Batch) -> None:
    """Refuse (403) a reader to whom the CDMO does not show the raw process data."""
    if not reads_process_data(user, batch):
        raise PermissionDenied(DATA_WITHHELD)


def current_file(batch: Batch) -> ProcessDataFile | None:
    with scopes_disabled():
        return ProcessDataFile.objects.filter(batch=batch).order_by("-version").first()


def parts_of(version: ProcessDataFile) -> list[ProcessDataFile]:
    """The versions whose files hold the batch's series as of ``version``, in order."""
    with scopes_disabled():
        found = list(
            ProcessDataFile.objects.filter(
                batch_id=version.batch_id, version__in=version.parts
            ).order_by("version")
        )
    if [part.version for part in found] != sorted(version.parts):
        raise ValueError(
            f"Process data version {version.version} of batch {version.batch_id} lists "
            f"versions {version.parts}, not all of which are registered."
        )
    return found


def stored_series(batch: Batch, store: ProcessDataStore | None = None) -> Series:
    """The batch's values as of its latest version (none: an empty series)."""
    latest = current_file(batch)
    if latest is None:
        return Series.empty()
    parts = parts_of(latest)
    return (store or default_store()).read_parts((part.path, part.sha256) for part in parts)


def process_data(batch: Batch, store: ProcessDataStore | None = None) -> ProcessData:
    """The batch's values aligned on one time grid (time × variables), for the engines."""
    return ProcessData.from_series(batch.lot, stored_series(batch, store))


def file_name(batch: Batch) -> str:
    """The lot as a file name: letters, digits, '.', '-' and '_' kept, others as '_'."""
    return re.sub(r"[^A-Za-z0-9._-]", "_", batch.lot) or "batch"


def export_csv(batch: Batch, store: ProcessDataStore | None = None) -> Iterator[str]:
    """The batch's values as long CSV text (``time,variable,value,unit``; time in hours from
    the batch's hour 0), each number written so that it reads back exactly."""
    series = stored_series(batch, store)
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(["time", "variable", "value", "unit"])
    yield buffer.getvalue()
    order = np.lexsort((series.variable.astype(str), series.time_h))
    for start in range(0, len(order), 5000):
        buffer.seek(0)
        buffer.truncate()
        for i in order[start : start + 5000].tolist():
            writer.writerow(
                [
                    repr(float(series.time_h[i])),
                    series.variable[i],
                    repr(float(series.value[i])),
                    series.unit[i],
                ]
            )
        yield buffer.getvalue()


@dataclass
class LotReport:
    lot: str
    read: int
    added: int
    version: int | None


@dataclass
class IngestReport:
    """What one file brought: per lot, values read, new values and the version now current."""

    file: str
    lots: list[LotReport] = field(default_factory=list)

    @property
    def added(self) -> int:
        return sum(lot.added for lot in self.lots)

    def lines(self) -> list[str]:
        out = []
        for lot in self.lots:
            version = f"process data version {lot.version}" if lot.version else "no process data"
            if lot.added:
                out.append(
                    f"{self.file}: {lot.added:,} new value{'s' * (lot.added != 1)} for batch "
                    f"{lot.lot} ({lot.read:,} read; {version})."
                )
            else:
                out.append(
                    f"{self.file}: 0 new values for batch {lot.lot}: all {lot.read:,} are "
                    f"already stored ({version})."
                )
        return out


class IngestError(ValueError):
    """A file that cannot be ingested, with file, line, column and reason."""


def _refuse_formulas(source: str | Path | bytes, name: str) -> None:
    """An Excel cell holding a formula is refused: its saved value cannot be checked."""
    if Path(name).suffix.lower() not in (".xlsx", ".xlsm"):
        return
    header: tuple[object, ...] = ()
    for row in read_rows(source, name=name, formulas=True):
        if not header and any(c not in (None, "") for c in row.cells):
            header = row.cells
        for index, cell in enumerate(row.cells):
            if isinstance(cell, FormulaCell):
                column = str(header[index]) if index < len(header) else f"#{index + 1}"
                raise TableError(
                    name,
                    f"the cell holds a formula ({cell.formula}); paste values and ingest "
                    "the file again",
                    line=row.line,
                    column=column,
                )


def ingest_file(
    source: str | Path | bytes,
    *,
    actor: Any,
    name: str | None = None,
    lot: str | None = None,
    batch_column: str | None = None,
    new: bool = False,
    product: str | None = None,
    site: str | None = None,
    reason: str = "",
    store: ProcessDataStore | None = None,
) -> IngestReport:
    """Ingest a CSV, Excel or Parquet file into one batch (``lot``) or into the lots its
    ``batch_column`` names; all or nothing.

    Raises ``IngestError`` naming file, line, column and reason; ``PermissionDenied`` for a
    role that may not write batches.
    """
    name = name or Path(str(source)).name
    _require_writer(actor)
    try:
        data = source if isinstance(source, bytes) else Path(source).read_bytes()
    except OSError:
        data = b""  # the table reader words the problem
    try:
        _refuse_formulas(source, name)
        table = read_plain_csv(data, name) or read_table(source, name=name)
    except TableError as exc:
        raise IngestError(str(exc)) from None
    digest = hashlib.sha256(data).hexdigest()
    return ingest_table(
        table,
        actor=actor,
        lot=lot,
        batch_column=batch_column,
        new=new,
        product=product,
        site=site,
        reason=reason,
        source_sha256=digest,
        store=store,
    )


def _require_writer(actor: Any) -> None:
    if actor is not None and not actor.can(EDIT_BATCHES):
        raise PermissionDenied("Your role may not record batch data.")


def _project_for(actor: Any, product: str | None, site: str | None) -> Project:
    if not product or not site:
        raise ValidationError({"new": "--new needs --product NAME and --site CODE."})
    with scopes_disabled():
        found = list(
            Project.objects.filter(
                cdmo_id=actor.organisation_id, product__name=product, site__code=site
            ).order_by("-created_at")[:2]
        )
    if not found:
        raise ValidationError(
            {"product": f"No project of product '{product}' at your site '{site}'."}
        )
    return found[0]


def _batches(
    table: Table,
    lots: dict[str, Located],
    *,
    actor: Any,
    batch_column: str | None,
    new: bool,
    product: str | None,
    site: str | None,
) -> dict[str, Batch]:
    organisation = getattr(actor, "organisation_id", None)
    with scopes_disabled():
        query = Batch.objects.filter(lot__in=list(lots)).select_related("site")
        if organisation is not None:
            query = query.filter(cdmo_id=organisation)
        found = {b.lot: b for b in query}
    project = None
    for lot, located in lots.items():
        if lot in found:
            continue
        if not new:
            raise TableError(
                table.file,
                f"no batch with lot {lot!r}; record the batch first, or ingest with --new "
                "--product NAME --site CODE to create it",
                line=int(located.line[0]) if batch_column else None,
                column=batch_column,
                sheet=table.sheet,
            )
        project = project or _project_for(actor, product, site)
        found[lot] = create_batch(
            actor=actor, project=project, lot=lot, reason=f"Batch {lot} created by ingestion"
        )
    for lot, batch in found.items():
        BATCH.authorise(actor, batch)
        if batch.state not in WRITABLE_STATES:
            raise TableError(
                table.file,
                f"batch {lot} is {batch.get_state_display().lower()}; its process data can "
                "no longer change",
                sheet=table.sheet,
            )
    return found


def _tags(site_id: int) -> dict[str, Tag]:
    with scopes_disabled():
        return {m.tag: Tag(m.variable, m.unit) for m in TagMapping.objects.filter(site_id=site_id)}


MERGE_FANOUT = 16
"""A new version's file takes in the newest files when, with it, they make this many files
of one size class (a file's size: the versions it spans; classes: powers of the fanout)."""


def _size_class(span: int) -> int:
    level, limit = 0, MERGE_FANOUT
    while span >= limit:
        level, limit = level + 1, limit * MERGE_FANOUT
    return level


def files_to_take_in(spans: list[int]) -> int:
    """How many of the newest files (``spans``: versions each spans, oldest first) the next
    version's file takes in: a run of ``MERGE_FANOUT - 1`` files of the size class the new
    file has, then, as it grows, of the next class, and so on."""
    taken, span = 0, 1
    while True:
        level = _size_class(span)
        run = 0
        while taken + run < len(spans) and _size_class(spans[-1 - taken - run]) == level:
            run += 1
        if run + 1 < MERGE_FANOUT:
            return taken
        taken += run
        span = 1 + sum(spans[len(spans) - taken :])


def _stored_near(
    parts: list[ProcessDataFile],
    incoming: Series,
    store: ProcessDataStore,
    tables: dict[int, pa.Table],
) -> Series:
    """The stored values of ``incoming``'s variables at times within the span it gives each.

    Only files whose registered time ranges overlap are read (kept in ``tables``, by
    version): values later than every stored one, as a running batch's are, read none.
    """
    if not parts or not len(incoming):
        return Series.empty()
    names, _, inverse = encoded(incoming.variable)
    low = np.full(names.size, np.inf)
    high = np.full(names.size, -np.inf)
    np.minimum.at(low, inverse, incoming.time_h)
    np.maximum.at(high, inverse, incoming.time_h)
    window = {str(n): (float(a), float(b)) for n, a, b in zip(names, low, high, strict=True)}
    found = []
    for part in parts:
        if not any(
            name in window and first <= window[name][1] and last >= window[name][0]
            for name, (first, last) in part.ranges.items()
        ):
            continue
        if part.version not in tables:
            tables[part.version] = store.read_table(part.path, part.sha256)
        table = tables[part.version]
        variable = table.column("variable")
        if not pa.types.is_dictionary(variable.type):
            variable = variable.dictionary_encode()
        dictionary = variable.unify_dictionaries().combine_chunks()
        levels = dictionary.dictionary.to_pylist()
        first_at = np.array([window.get(v, (np.inf, -np.inf))[0] for v in levels] or [np.inf])
        last_at = np.array([window.get(v, (np.inf, -np.inf))[1] for v in levels] or [-np.inf])
        codes = dictionary.indices.to_numpy(zero_copy_only=False)
        time = table.column("time_h").to_numpy()
        found.append(table.filter(pa.array((time >= first_at[codes]) & (time <= last_at[codes]))))
    if not found:
        return Series.empty()
    return Series.from_arrow(pa.concat_tables(found, promote_options="permissive"))


def _merge(
    existing: Series, incoming: Series, lines: np.ndarray, columns: np.ndarray, table: Table
) -> Series:
    """The incoming values not stored yet, one per (variable, time), sorted by both.

    A value given again is skipped; a different value for a stored (variable, time), or two
    different values for one in the file, is refused naming the line.
    """
    n_old = len(existing)
    if n_old:
        variables = np.concatenate([existing.variable, incoming.variable]).astype(str)
        units = np.concatenate([existing.unit, incoming.unit]).astype(str)
    else:
        variables, units = incoming.variable, incoming.unit
    time = np.concatenate([existing.time_h, incoming.time_h])
    value = np.concatenate([existing.value, incoming.value])
    source = np.r_[np.zeros(n_old, dtype=int), np.ones(len(incoming), dtype=int)]
    names, _, code = encoded(variables)
    unit_names, _, unit_code = encoded(units)
    # Stable: rows equal in every key keep their order (stored first, then file order).
    order = np.argsort(code, kind="stable")
    within = np.diff(code[order]) == 0
    if n_old or (np.diff(time[order])[within] < 0).any():
        # Times out of order within a variable; a wide file's columns are each in time
        # order, and for them the sort by variable alone (a radix sort) is enough.
        order = np.lexsort((source, time, code))
    time, value, source, code, unit_code = (
        a[order] for a in (time, value, source, code, unit_code)
    )
    position = order - n_old
    same = np.zeros(time.size, dtype=bool)
    same[1:] = (code[1:] == code[:-1]) & (time[1:] == time[:-1])
    differs = np.zeros(time.size, dtype=bool)
    differs[1:] = same[1:] & (value[1:] != value[:-1])
    if differs.any():
        at = np.flatnonzero(differs)
        k = int(at[np.argmin(lines[position[at]])])
        row = int(position[k])
        what = f"{names[code[k]]} at {time[k]:g} h"
        if source[k - 1] == 0:
            reason = f"{what} is already stored as {value[k - 1]:g}; the file says {value[k]:g}"
        else:
            earlier = int(lines[position[k - 1]])
            reason = f"{what} is given twice: {value[k - 1]:g} on line {earlier}, {value[k]:g} here"
        raise TableError(
            table.file, reason, line=int(lines[row]), column=str(columns[row]), sheet=table.sheet
        )
    keep = ~same & (source == 1)
    return Series(time[keep], names[code[keep]], value[keep], unit_names[unit_code[keep]])


@dataclass
class _Prepared:
    batch: Batch
    read: int
    new: Series
    units: dict[str, str]
    time_zero: dt.datetime | None
    latest: ProcessDataFile | None
    parts: list[ProcessDataFile]
    tables: dict[int, pa.Table]


def _prepare(
    table: Table, batch: Batch, located: Located, tags: dict[str, Tag], store: ProcessDataStore
) -> _Prepared:
    located = with_tags(located, tags)
    time_zero = batch.data_time_zero
    zero_s = None
    if located.timestamps:
        time_zero = time_zero or batch.actual_start
        if time_zero is None:
            time_zero = dt.datetime.fromtimestamp(float(located.time.min()), tz=dt.UTC)
        zero_s = time_zero.timestamp()
    hours = to_hours(located, zero_s)
    latest = current_file(batch)
    parts = parts_of(latest) if latest else []
    known = dict(latest.variables) if latest else {}
    values, units, variable_units = convert_units(located, known, table)
    incoming = Series(hours, located.variable, values, units)
    tables: dict[int, pa.Table] = {}
    existing = _stored_near(parts, incoming, store, tables)
    new = _merge(existing, incoming, located.line, located.column, table)
    return _Prepared(batch, len(incoming), new, variable_units, time_zero, latest, parts, tables)


def ingest_table(
    table: Table,
    *,
    actor: Any,
    lot: str | None = None,
    batch_column: str | None = None,
    new: bool = False,
    product: str | None = None,
    site: str | None = None,
    reason: str = "",
    source_sha256: str = "",
    store: ProcessDataStore | None = None,
) -> IngestReport:
    """Ingest a table already read (a file's, or the simulator's in the demo)."""
    _require_writer(actor)
    if (lot is None) == (batch_column is None):
        raise ValidationError({"batch": "Give either a lot or the column that names each lot."})
    store = store or default_store()
    written: list[str] = []
    try:
        with transaction.atomic():
            parsed = parse_table(table, lot=lot, batch_column=batch_column)
            if not parsed:
                raise TableError(table.file, "the file holds no values", sheet=table.sheet)
            batches = _batches(
                table,
                parsed,
                actor=actor,
                batch_column=batch_column,
                new=new,
                product=product,
                site=site,
            )
            with scopes_disabled():
                # Held to the end: a second ingestion into the same batch waits and then
                # checks its values against those this one registers.
                locked = {
                    b.pk: b
                    for b in Batch.objects.select_for_update()
                    .filter(pk__in=[b.pk for b in batches.values()])
                    .order_by("pk")
                }
            tags = {site_id: _tags(site_id) for site_id in {b.site_id for b in locked.values()}}
            prepared = []
            for name in parsed:
                batch = locked[batches[name].pk]
                prepared.append(_prepare(table, batch, parsed[name], tags[batch.site_id], store))
            files = _write_all(prepared, store, written)
            report = IngestReport(table.file)
            for item, file in zip(prepared, files, strict=True):
                version = _register(item, file, table, actor, reason, source_sha256)
                report.lots.append(LotReport(item.batch.lot, item.read, len(item.new), version))
    except TableError as exc:
        _remove(store, written)
        raise IngestError(str(exc)) from None
    except BaseException:
        _remove(store, written)
        raise
    return report


def _remove(store: ProcessDataStore, keys: list[str]) -> None:
    for key in keys:
        store.delete(key)


@dataclass(frozen=True)
class _File:
    """A version's file as written, before it is registered."""

    version: int
    key: str
    sha256: str
    size: int
    first_version: int
    parts: list[int]
    ranges: dict[str, list[float]]


def _write(item: _Prepared, store: ProcessDataStore) -> _File | None:
    """Write the batch's next version's file: the new values, and those of the newest files
    when ``files_to_take_in`` says so. None when there is nothing new."""
    batch, latest, new = item.batch, item.latest, item.new
    if not len(new):
        return None
    version = (latest.version if latest else 0) + 1
    parts = item.parts
    kept = parts[: len(parts) - files_to_take_in([p.version - p.first_version + 1 for p in parts])]
    taken = parts[len(kept) :]
    names, first, codes = encoded(new.variable)
    counts = np.bincount(codes, minlength=names.size)
    ranges = {
        str(name): [float(new.time_h[start]), float(new.time_h[start + count - 1])]
        for name, start, count in zip(names, first, counts, strict=True)
    }
    data = new.to_arrow()
    if taken:
        data = in_order(
            [item.tables.get(p.version) or store.read_table(p.path, p.sha256) for p in taken]
            + [data]
        )
        for part in taken:
            for name, (low, high) in part.ranges.items():
                old = ranges.get(name, [low, high])
                ranges[name] = [min(old[0], low), max(old[1], high)]
    key = f"batches/{batch.pk}/v{version:04d}-{secrets.token_hex(4)}.parquet"
    first_version = taken[0].first_version if taken else version
    metadata = {
        "lot": batch.lot,
        "version": str(version),
        "first_version": str(first_version),
        "time_unit": "h",
    }
    sha256, size = store.write(key, data, metadata)
    parts_now = [p.version for p in kept] + [version]
    return _File(version, key, sha256, size, first_version, parts_now, ranges)


def _write_all(
    prepared: list[_Prepared], store: ProcessDataStore, written: list[str]
) -> list[_File | None]:
    """Each lot's file, written side by side (each write waits mostly for its fsync).

    Every file written is listed in ``written`` before a failed write's error is raised, so
    that the ingestion removes them all.
    """
    with ThreadPoolExecutor(max_workers=max(1, min(8, len(prepared)))) as pool:
        futures = [pool.submit(_write, item, store) for item in prepared]
    for future in futures:
        file = None if future.exception() else future.result()
        if file is not None:
            written.append(file.key)
    return [future.result() for future in futures]


def _register(
    item: _Prepared,
    file: _File | None,
    table: Table,
    actor: Any,
    reason: str,
    source_sha256: str,
) -> int | None:
    """Register the batch's next version (its file written); the version now current."""
    batch, latest, new = item.batch, item.latest, item.new
    if file is None:
        return latest.version if latest else None
    if item.time_zero is not None and batch.data_time_zero is None:
        services.update(
            BATCH,
            batch,
            actor=actor,
            reason=f"Hour 0 of the process data, from {table.file}",
            changes={"data_time_zero": item.time_zero},
        )
    names, _, codes = encoded(new.variable)
    counts = np.bincount(codes, minlength=names.size)
    totals = dict(latest.counts) if latest else {}
    for name, count in zip(names, counts, strict=True):
        totals[str(name)] = totals.get(str(name), 0) + int(count)
    start_h, end_h = float(new.time_h.min()), float(new.time_h.max())
    if latest is not None and latest.start_h is not None and latest.end_h is not None:
        start_h, end_h = min(start_h, latest.start_h), max(end_h, latest.end_h)
    services.create(
        DATA_FILE,
        actor=actor,
        reason=reason,
        default_reason=f"Ingested {len(new):,} new values from {table.file}",
        parent={"batch": batch},
        fields={
            "version": file.version,
            "path": file.key,
            "sha256": file.sha256,
            "size": file.size,
            "rows": (latest.rows if latest else 0) + len(new),
            "variables": {name: item.units.get(name, "") for name in sorted(totals)},
            "counts": {name: totals[name] for name in sorted(totals)},
            "start_h": start_h,
            "end_h": end_h,
            "added": len(new),
            "source": table.file[:255],
            "source_sha256": source_sha256,
            "first_version": file.first_version,
            "parts": file.parts,
            "ranges": {name: file.ranges[name] for name in sorted(file.ranges)},
        },
    )
    return file.version
