"""The batch page's monitoring panel: the batch's verdicts and a link to its live page."""

from __future__ import annotations

from typing import Any

from django import template

from opencdmo.analytics.models import Alarm, Verdict

register = template.Library()


@register.inclusion_tag("analytics/_batch_panel.html")
def batch_monitoring_panel(batch: Any) -> dict[str, Any]:
    """Read in the caller's scope (the page's), so a sponsor sees its own batches' only."""
    return {
        "batch": batch,
        "verdicts": list(Verdict.objects.filter(batch=batch)),
        "alarm_count": Alarm.objects.filter(batch=batch).count(),
    }
