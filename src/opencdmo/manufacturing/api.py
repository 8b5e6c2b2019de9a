"""API: batches, their offline results and their process data.

A batch is the executing CDMO's record shared with the project's sponsor: both read it here;
another organisation's batch answers 404, like a missing one.
"""

from __future__ import annotations

import datetime as dt
from typing import Any, Literal

from django.http import HttpRequest, StreamingHttpResponse
from ninja import Field, Query, Router, Schema

from opencdmo.api_errors import answers
from opencdmo.core.inputs import Text
from opencdmo.core.tenancy import get_visible_or_404
from opencdmo.manufacturing import services
from opencdmo.manufacturing.models import Batch, OfflineResult

router = Router(tags=["manufacturing"])


class BatchOut(Schema):
    id: int
    lot: str
    state: str
    project: int = Field(..., alias="project_id")
    product: str
    sponsor: str
    cdmo: str
    site: int = Field(..., alias="site_id")
    site_code: str
    suite: str | None
    bioreactor: str | None
    planned_start: dt.datetime | None
    planned_end: dt.datetime | None
    planned_from: str = Field(..., description="'plan v3' when the dates come from a site plan")
    actual_start: dt.datetime | None
    actual_end: dt.datetime | None

    @staticmethod
    def resolve_product(batch: Batch) -> str:
        return batch.project.product.name

    @staticmethod
    def resolve_sponsor(batch: Batch) -> str:
        return batch.project.sponsor.slug

    @staticmethod
    def resolve_cdmo(batch: Batch) -> str:
        return batch.cdmo.slug

    @staticmethod
    def resolve_site_code(batch: Batch) -> str:
        return batch.site.code

    @staticmethod
    def resolve_suite(batch: Batch) -> str | None:
        return batch.suite.name if batch.suite_id else None

    @staticmethod
    def resolve_bioreactor(batch: Batch) -> str | None:
        return batch.equipment.tag if batch.equipment_id else None


class OfflineResultOut(Schema):
    attribute: str
    value: float
    unit: str
    spec_low: float | None
    spec_high: float | None
    in_spec: bool | None = Field(..., description="None when no limit is given")
    sampled_at: dt.datetime | None
    method: str

    @staticmethod
    def resolve_in_spec(result: OfflineResult) -> bool | None:
        return result.in_spec


class VariableOut(Schema):
    name: str
    unit: str
    values: int


class BatchDetailOut(BatchOut):
    offline_results: list[OfflineResultOut]
    data_version: int | None = Field(..., description="Current version of the process data")
    variables: list[VariableOut]
    start_h: float | None = Field(..., description="First time with a value, h")
    end_h: float | None = Field(..., description="Last time with a value, h")

    @staticmethod
    def resolve_offline_results(batch: Batch) -> list[OfflineResult]:
        return list(batch.offline_results.all())

    @staticmethod
    def resolve_data_version(batch: Batch) -> int | None:
        latest = services.current_file(batch)
        return latest.version if latest else None

    @staticmethod
    def resolve_variables(batch: Batch) -> list[dict[str, Any]]:
        latest = services.current_file(batch)
        if latest is None:
            return []
        return [
            {"name": name, "unit": unit, "values": latest.counts.get(name, 0)}
            for name, unit in latest.variables.items()
        ]

    @staticmethod
    def resolve_start_h(batch: Batch) -> float | None:
        latest = services.current_file(batch)
        return latest.start_h if latest else None

    @staticmethod
    def resolve_end_h(batch: Batch) -> float | None:
        latest = services.current_file(batch)
        return latest.end_h if latest else None


class ValueOut(Schema):
    time: float = Field(..., description="Hours from the batch's hour 0")
    variable: str
    value: float
    unit: str


class DataOut(Schema):
    lot: str
    version: int | None
    values: list[ValueOut]


LARGEST_ID = 2**63 - 1
"""The largest id a database column holds: a larger filter is refused (422), not a 500."""


class BatchFilter(Schema):
    state: Literal["planned", "running", "complete", "under_review", "dispositioned"] | None = None
    site: int | None = Field(None, ge=1, le=LARGEST_ID, description="Site id")
    project: int | None = Field(None, ge=1, le=LARGEST_ID, description="Project id")


def _batches() -> Any:
    return Batch.objects.select_related(
        "project__product", "project__sponsor", "cdmo", "site", "suite", "equipment"
    )


@router.get(
    "/batches",
    response=answers(list[BatchOut], 400, 401, 403, 422),
    summary="Batches you make or that are made for your projects",
)
def list_batches(request: HttpRequest, filters: Query[BatchFilter]) -> Any:
    batches = _batches()
    if filters.state:
        batches = batches.filter(state=filters.state)
    if filters.site is not None:
        batches = batches.filter(site_id=filters.site)
    if filters.project is not None:
        batches = batches.filter(project_id=filters.project)
    return list(batches[:500])


@router.get(
    "/batches/{batch_id}",
    response=answers(BatchDetailOut, 400, 401, 403, 404, 422),
    summary="A batch, its offline results and its variables",
)
def get_batch(request: HttpRequest, batch_id: int) -> Batch:
    return get_visible_or_404(_batches(), request.user, pk=batch_id)


@router.get(
    "/batches/{batch_id}/data",
    response=answers(DataOut, 400, 401, 403, 404, 422),
    summary="A batch's process data: long JSON, or CSV with format=csv",
)
def get_batch_data(
    request: HttpRequest,
    batch_id: int,
    format: Literal["json", "csv"] = "json",
    variable: Text | None = None,
) -> Any:
    batch = get_visible_or_404(Batch.objects.all(), request.user, pk=batch_id)
    services.require_process_data(request.user, batch)
    if format == "csv":
        response = StreamingHttpResponse(services.export_csv(batch), content_type="text/csv")
        response["Content-Disposition"] = f'attachment; filename="{services.file_name(batch)}.csv"'
        return response
    series = services.stored_series(batch)
    latest = services.current_file(batch)
    rows = [
        {"time": t, "variable": v, "value": x, "unit": u}
        for t, v, x, u in zip(
            series.time_h.tolist(),
            series.variable.tolist(),
            series.value.tolist(),
            series.unit.tolist(),
            strict=True,
        )
        if variable is None or v == variable
    ]
    rows.sort(key=lambda row: (row["time"], row["variable"]))
    return {"lot": batch.lot, "version": latest.version if latest else None, "values": rows}
