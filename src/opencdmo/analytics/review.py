"""The process-data verdict a batch's quality review shows, registered with quality's
disposition by this app's ``ready`` (quality needs no import of analytics to ask for it)."""

from __future__ import annotations

from django_scopes import scopes_disabled

from opencdmo.analytics.models import Verdict
from opencdmo.manufacturing.models import Batch
from opencdmo.quality.disposition import ProcessVerdict

__all__ = ["process_verdict"]

SHOWN_CONTRIBUTIONS = 3


def _against(name: str, value: float, limit: float) -> str:
    return f"{name} {value:.4g} {'above' if value > limit else 'within'} its limit {limit:.4g}"


def process_verdict(batch: Batch) -> ProcessVerdict | None:
    """The batch's latest verdict as one sentence: status, model, T² and SPE against their
    limits, the first alarm and the largest contributions to SPE; ``None`` before any."""
    with scopes_disabled():
        verdict = Verdict.objects.filter(batch=batch).order_by("-created_at", "-pk").first()
    if verdict is None:
        return None
    first = (
        f", first alarm at {verdict.first_alarm_h:.1f} h"
        if verdict.first_alarm_h is not None
        else ""
    )
    top = ", ".join(row[0] for row in verdict.contributions[:SHOWN_CONTRIBUTIONS])
    sentence = (
        f"{verdict.get_status_display()} by {verdict.model_label}: "
        f"{_against('T²', verdict.t2, verdict.t2_limit)}, "
        f"{_against('SPE', verdict.spe, verdict.spe_limit)}{first}"
        f"{f'; largest contributions to SPE: {top}' if top else ''}."
    )
    return ProcessVerdict(sentence, verdict.status == Verdict.Status.ALARM)
