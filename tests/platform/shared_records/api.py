from __future__ import annotations

from django.http import HttpRequest
from ninja import Router, Schema

from opencdmo.core import services
from opencdmo.core.services import Writable
from opencdmo.core.tenancy import get_changeable_or_404, get_visible_or_404
from tests.platform.shared_records.models import SharedRecord

router = Router(tags=["shared records (test fixture)"])

RECORD = Writable(
    SharedRecord,
    fields=("title",),
    noun="shared_record",
    transitions={"open": ("closed",), "closed": ()},
)


class RecordOut(Schema):
    id: int
    title: str
    status: str


class RecordPatch(Schema):
    reason: str
    title: str


@router.get("/shared-records/{record_id}", response=RecordOut, summary="One shared record")
def get_record(request: HttpRequest, record_id: int) -> SharedRecord:
    return get_visible_or_404(SharedRecord, request.user, pk=record_id)


@router.patch("/shared-records/{record_id}", response=RecordOut, summary="Retitle a record")
def patch_record(request: HttpRequest, record_id: int, payload: RecordPatch) -> SharedRecord:
    record = get_changeable_or_404(SharedRecord, request.user, pk=record_id)
    return services.update(
        RECORD, record, actor=request.user, reason=payload.reason, changes={"title": payload.title}
    )
