"""Publishing a site's plan: checked, versioned, audited.

Publishing is an act of change control: it needs the planner's permission and a reason, and
the plan must pass the independent checker, so no version anyone reads is one the rules
would reject. Earlier versions stay as they were.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime, timedelta
from typing import Any

from django.core.exceptions import ValidationError
from django.db.models import Max
from django_scopes import scopes_disabled

from opencdmo.core import services
from opencdmo.engines.planning.errors import InstanceError
from opencdmo.engines.planning.schedule.checker import check_schedule_solution
from opencdmo.engines.planning.schedule.reader import parse_schedule
from opencdmo.engines.planning.schedule.solution import solution_from_document
from opencdmo.network.models import Site
from opencdmo.scheduling.models import PlannedBatch, SitePlan

SITE_PLAN = services.Writable(
    SitePlan,
    fields=("time_zero", "instance", "result", "reason", "published_by"),
    noun="site_plan",
    state=lambda plan: {
        "site": plan.site_id,
        "version": plan.version,
        "time_zero": plan.time_zero.isoformat(),
        "batches": len(((plan.result or {}).get("schedule") or {}).get("batches", [])),
        "status": (plan.result or {}).get("status"),
    },
)


def lot_and_stage(batch_id: str) -> tuple[str, str]:
    """``"R12-3-purification"`` → ``("R12-3", "purification")``: ids are ``<lot>-<stage>``."""
    lot, _, stage = batch_id.rpartition("-")
    return (lot, stage) if lot else (batch_id, "")


def plan_in_force(site: Site) -> SitePlan | None:
    """The site's highest published version (within the caller's scope)."""
    return SitePlan.objects.filter(site=site).order_by("-version").first()


def check_plan(instance: Mapping[str, Any], result: Mapping[str, Any]) -> None:
    """Refuse a plan the independent checker rejects, naming the first violations."""
    try:
        problem = parse_schedule(dict(instance), source="plan")
    except InstanceError as error:
        raise ValidationError({"instance": str(error)}) from None
    schedule = result.get("schedule")
    if not schedule:
        raise ValidationError({"result": "The result holds no schedule to publish."})
    try:
        solution = solution_from_document(
            problem, schedule, dict(result.get("objective_breakdown") or {})
        )
    except (KeyError, TypeError, ValueError, InstanceError) as error:
        raise ValidationError({"result": f"Malformed schedule: {error}"}) from None
    report = check_schedule_solution(problem, solution)
    if not report.ok:
        raise ValidationError({"result": "; ".join(report.violations[:5])})


def publish_plan(
    site: Site,
    *,
    actor: Any,
    reason: str,
    time_zero: datetime,
    instance: dict[str, Any],
    result: dict[str, Any],
    projects: Mapping[str, int] | None = None,
) -> SitePlan:
    """Publish the next version of ``site``'s plan; ``projects`` maps lots to project ids."""
    check_plan(instance, result)
    with scopes_disabled():
        latest = SitePlan.objects.filter(site=site).aggregate(v=Max("version"))["v"] or 0
    owners = dict(projects or {})

    def rows(plan: SitePlan) -> None:
        batches = []
        for item in result["schedule"]["batches"]:
            lot, stage = lot_and_stage(item["batch"])
            batches.append(
                PlannedBatch(
                    plan=plan,
                    batch_id=item["batch"],
                    lot=lot,
                    stage=stage,
                    product=item["product"],
                    suite=item["suite"],
                    start=time_zero + timedelta(hours=item["start_h"]),
                    end=time_zero + timedelta(hours=item["end_h"]),
                    project_id=owners.get(lot),
                )
            )
        PlannedBatch.objects.bulk_create(batches, batch_size=500)

    return services.create(
        SITE_PLAN,
        actor=actor,
        reason=reason,
        require_reason=True,
        parent={"site": site, "version": latest + 1},
        fields={
            "time_zero": time_zero,
            "instance": instance,
            "result": result,
            "reason": reason.strip(),
            "published_by": actor,
        },
        after_save=rows,
        verb="published",
    )
