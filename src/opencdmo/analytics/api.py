"""API: a batch's monitoring verdicts and alarms, read by the CDMO and the project's sponsor."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.http import HttpRequest
from ninja import Router, Schema

from opencdmo.analytics.models import Alarm, Verdict
from opencdmo.api_errors import answers
from opencdmo.core.tenancy import get_visible_or_404
from opencdmo.manufacturing.models import Batch

router = Router(tags=["monitoring"])


class VerdictOut(Schema):
    model: str
    status: str
    t2: float
    t2_limit: float
    spe: float
    spe_limit: float
    first_alarm_h: float | None
    contributions: list[list[Any]]


class AlarmOut(Schema):
    model: str
    statistic: str
    time_h: float
    at: dt.datetime | None
    value: float
    limit: float
    contributions: list[list[Any]]


class MonitoringOut(Schema):
    lot: str
    verdicts: list[VerdictOut]
    alarms: list[AlarmOut]


@router.get(
    "/batches/{batch_id}/monitoring",
    response=answers(MonitoringOut, 400, 401, 403, 404, 422),
    summary="A batch's monitoring verdicts and alarms",
)
def get_batch_monitoring(request: HttpRequest, batch_id: int) -> dict[str, Any]:
    batch = get_visible_or_404(Batch.objects.all(), request.user, pk=batch_id)
    verdicts = [
        {
            "model": v.model_label,
            "status": v.status,
            "t2": v.t2,
            "t2_limit": v.t2_limit,
            "spe": v.spe,
            "spe_limit": v.spe_limit,
            "first_alarm_h": v.first_alarm_h,
            "contributions": v.contributions,
        }
        for v in Verdict.objects.filter(batch=batch)
    ]
    alarms = [
        {
            "model": a.model_label,
            "statistic": a.statistic,
            "time_h": a.time_h,
            "at": a.at,
            "value": a.value,
            "limit": a.limit,
            "contributions": a.contributions,
        }
        for a in Alarm.objects.filter(batch=batch)
    ]
    return {"lot": batch.lot, "verdicts": verdicts, "alarms": alarms}
