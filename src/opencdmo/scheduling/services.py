"""Publishing a site's plan: checked, versioned, audited.

Publishing is an act of change control: it needs the planner's permission and a reason, and
the plan must pass the independent checker, so no version anyone reads is one the rules
would reject. Earlier versions stay as they were.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime, timedelta
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import OuterRef, Subquery
from django.utils import timezone
from django_scopes import scopes_disabled

from opencdmo.core import services
from opencdmo.engines.planning.errors import InstanceError
from opencdmo.engines.planning.schedule.checker import check_schedule_solution
from opencdmo.engines.planning.schedule.evaluation import evaluate_schedule
from opencdmo.engines.planning.schedule.reader import parse_schedule
from opencdmo.engines.planning.schedule.solution import ScheduleSolution, solution_from_document
from opencdmo.network.models import Site
from opencdmo.scheduling import scenarios
from opencdmo.scheduling.models import NetworkPlan, PlannedBatch, PlanSeen, Scenario, SitePlan

SITE_PLAN = services.Writable(
    SitePlan,
    fields=("time_zero", "instance", "result", "reason", "causes", "published_by"),
    noun="site_plan",
    state=lambda plan: {
        "site": plan.site_id,
        "version": plan.version,
        "time_zero": plan.time_zero.isoformat(),
        "batches": len(((plan.result or {}).get("schedule") or {}).get("batches", [])),
        "status": (plan.result or {}).get("status"),
        "causes": plan.causes,
    },
)


def lot_and_stage(batch_id: str) -> tuple[str, str]:
    """``"R12-3-purification"`` → ``("R12-3", "purification")``: ids are ``<lot>-<stage>``."""
    lot, _, stage = batch_id.rpartition("-")
    return (lot, stage) if lot else (batch_id, "")


def plan_in_force(site: Site) -> SitePlan | None:
    """The site's highest published version (within the caller's scope)."""
    return SitePlan.objects.filter(site=site).order_by("-version").first()


def latest_plans() -> dict[int, SitePlan]:
    """The plan in force of every site the caller reads, by site id, without the documents."""
    newest = SitePlan.objects.filter(site=OuterRef("site")).order_by("-version").values("version")
    plans = SitePlan.objects.filter(version=Subquery(newest[:1])).select_related("site")
    return {plan.site_id: plan for plan in plans.defer("instance", "result")}


def check_plan(instance: Mapping[str, Any], result: Mapping[str, Any]) -> dict[str, Any]:
    """The result restated for ``instance`` (objective and its parts recomputed from the
    schedule, which a changed due date alters), or a refusal naming the first violations."""
    try:
        problem = parse_schedule(dict(instance), source="plan")
    except InstanceError as error:
        raise ValidationError({"instance": str(error)}) from None
    schedule = result.get("schedule")
    if not schedule:
        raise ValidationError({"result": "The result holds no schedule to publish."})
    try:
        placed = solution_from_document(problem, schedule, {}).batches
    except (KeyError, TypeError, ValueError, InstanceError) as error:
        raise ValidationError({"result": f"Malformed schedule: {error}"}) from None
    terms, levels = evaluate_schedule(problem, placed)
    report = check_schedule_solution(problem, ScheduleSolution(placed, terms, levels))
    if not report.ok:
        raise ValidationError({"result": "; ".join(report.violations[:5])})
    restated = dict(result)
    restated["objective"] = levels[0]
    restated["objective_breakdown"] = {
        **terms,
        **{f"level_{n}": value for n, value in enumerate(levels, start=1)},
    }
    reported = result.get("objective")
    if reported is None or abs(float(reported) - levels[0]) > 1e-9 * max(1.0, abs(levels[0])):
        # The solve's bound and proof were about the instance it solved, not this one.
        restated["bound"], restated["gap"] = None, None
        if restated.get("status") == "optimal":
            restated["status"] = "feasible"
    return restated


CAUSES = {
    "breakdown": "equipment breakdown",
    "maintenance": "maintenance",
    "due": "due date change",
    "add": "new order",
    "remove": "order cancelled",
}
"""The kind of a scenario edit → the cause a sponsor reads for what it moved. The publish
reason the planner typed may name other customers, so a sponsor is told only these."""


def causes_of(kinds: Iterable[str]) -> list[str]:
    """The distinct causes of ``kinds`` of edits, in order (``plan revision`` for none)."""
    found = list(dict.fromkeys(CAUSES.get(kind, "plan revision") for kind in kinds))
    return found or ["plan revision"]


def _derived_causes(current: SitePlan | None, instance: Mapping[str, Any]) -> list[str]:
    """Causes of a version published without a scenario: its lots against the version before."""
    if current is None:
        return ["first plan"]
    before = set(scenarios.lots(current.instance))
    after = set(scenarios.lots(dict(instance)))
    kinds = (["add"] if after - before else []) + (["remove"] if before - after else [])
    return causes_of(kinds)


def publish_plan(
    site: Site,
    *,
    actor: Any,
    reason: str,
    time_zero: datetime,
    instance: dict[str, Any],
    result: dict[str, Any],
    projects: Mapping[str, int] | None = None,
    causes: Sequence[str] | None = None,
) -> SitePlan:
    """Publish the next version of ``site``'s plan; ``projects`` maps lots to project ids.

    ``causes`` say what kind of change this is, for the sponsors whose batches it moves;
    without them they are derived from the lots added or removed."""
    result = check_plan(instance, result)
    with scopes_disabled():
        current = SitePlan.objects.filter(site=site).order_by("-version").first()
        latest = current.version if current else 0
    owners = dict(projects or {})
    said = list(causes) if causes is not None else _derived_causes(current, instance)

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
            "causes": said,
            "published_by": actor,
        },
        after_save=rows,
        verb="published",
    )


SCENARIO = services.Writable(
    Scenario,
    fields=(
        "name",
        "instance",
        "result",
        "figures",
        "edits",
        "edit_kinds",
        "status",
        "time_limit_s",
        "goal",
        "message",
    ),
    noun="scenario",
    state=lambda s: {
        "name": s.name,
        "status": s.status,
        "edits": len(s.edits or []),
        "base_version": s.base_version,
    },
)


def now_h(time_zero: datetime) -> int:
    """Whole hours from ``time_zero`` to now."""
    return max(0, int((timezone.now() - time_zero).total_seconds() // 3600))


def create_scenario(site: Site, *, actor: Any, name: str, reason: str = "") -> Scenario:
    """A copy of the site's plan in force to edit and solve."""
    plan = plan_in_force(site)
    if plan is None:
        raise ValidationError({"site": "This site has no published plan to copy."})
    return services.create(
        SCENARIO,
        actor=actor,
        reason=reason,
        default_reason=f"Copied from plan v{plan.version}",
        parent={
            "site": site,
            "base_version": plan.version,
            "time_zero": plan.time_zero,
            "created_by": actor,
        },
        fields={
            "name": name.strip() or f"Scenario from v{plan.version}",
            "instance": plan.instance,
            "result": plan.result,
            "figures": scenarios.figures(
                plan.instance, plan.result, plan.result, now_h(plan.time_zero)
            ),
        },
    )


def edit_scenario(
    scenario: Scenario, *, actor: Any, reason: str, edit: str, **args: Any
) -> Scenario:
    """Apply one edit (``downtime``, ``due``, ``remove``, ``add``) and say so in its list."""
    if scenario.status in {
        Scenario.Status.PUBLISHED,
        Scenario.Status.QUEUED,
        Scenario.Status.SOLVING,
    }:
        raise ValidationError(
            {"status": f"A scenario that is {scenario.get_status_display().lower()} cannot change."}
        )
    at = scenario.time_zero

    def hours(moment: datetime) -> int:
        return int((moment - at).total_seconds() // 3600)

    try:
        if edit == "downtime":
            if args["kind"] not in {"breakdown", "maintenance"}:
                raise ValidationError({"kind": "A downtime is a breakdown or a maintenance."})
            instance = scenarios.add_downtime(
                scenario.instance,
                args["unit"],
                hours(args["start"]),
                hours(args["end"]),
                args["kind"],
            )
            said = f"{args['kind']} of {args['unit']} {args['start']:%Y-%m-%d %H:%M} → {args['end']:%Y-%m-%d %H:%M}"
        elif edit == "due":
            instance = scenarios.set_due(scenario.instance, args["lot"], hours(args["due"]))
            said = f"lot {args['lot']} due {args['due']:%Y-%m-%d}"
        elif edit == "remove":
            instance = scenarios.remove_lot(scenario.instance, args["lot"])
            said = f"lot {args['lot']} removed"
        elif edit == "add":
            due = hours(args["due"]) if args.get("due") else None
            instance, lot = scenarios.add_lot(
                scenario.instance, args["lot"], hours(args["release"]), due
            )
            said = f"lot {lot} added like {args['lot']}"
        else:
            raise ValidationError({"edit": f"Unknown edit '{edit}'."})
    except scenarios.EditError as error:
        field, _, message = str(error).partition(": ")
        raise ValidationError({field: message}) from None
    return services.update(
        SCENARIO,
        scenario,
        actor=actor,
        reason=reason,
        changes={
            "instance": instance,
            "edits": [*(scenario.edits or []), said],
            "edit_kinds": [
                *(scenario.edit_kinds or []),
                args["kind"] if edit == "downtime" else edit,
            ],
            "status": Scenario.Status.DRAFT,
            "message": "",
        },
    )


def queue_solve(
    scenario: Scenario, *, actor: Any, time_limit_s: int, goal: str = scenarios.REPAIR
) -> Scenario:
    from opencdmo.scheduling.tasks import solve_scenario

    if scenario.busy or scenario.status == Scenario.Status.PUBLISHED:
        raise ValidationError({"status": "This scenario is solving or published already."})
    if not 1 <= time_limit_s <= 600:
        raise ValidationError({"time_limit_s": "Give a time limit from 1 to 600 seconds."})
    if goal not in Scenario.Goal.values:
        raise ValidationError({"goal": f"Choose the goal: {', '.join(Scenario.Goal.values)}."})
    with transaction.atomic():
        updated = services.update(
            SCENARIO,
            scenario,
            actor=actor,
            reason=f"Solve for up to {time_limit_s} s ({Scenario.Goal(goal).label})",
            changes={
                "status": Scenario.Status.QUEUED,
                "time_limit_s": time_limit_s,
                "goal": goal,
                "message": "",
            },
            verb="solve_requested",
        )
        pk = scenario.pk
        transaction.on_commit(lambda: solve_scenario.enqueue(pk))
    return updated


def cancel_solve(scenario: Scenario, *, actor: Any) -> None:
    SCENARIO.authorise(actor, scenario)
    with scopes_disabled():
        Scenario.objects.filter(
            pk=scenario.pk, status__in=[Scenario.Status.QUEUED, Scenario.Status.SOLVING]
        ).update(status=Scenario.Status.CANCELLED, message="Cancelled by the planner.")


def publish_scenario(scenario: Scenario, *, actor: Any, reason: str) -> SitePlan:
    """The solved scenario becomes the site's next plan version (it must still hold)."""
    if scenario.status != Scenario.Status.SOLVED or not scenario.result:
        raise ValidationError({"status": "Solve the scenario before publishing it."})
    with scopes_disabled():
        site = Site.objects.get(pk=scenario.site_id)
        current = SitePlan.objects.filter(site=site).order_by("-version").first()
        owners = (
            {
                row["lot"]: row["project_id"]
                for row in PlannedBatch.objects.filter(plan=current)
                .exclude(project=None)
                .values("lot", "project_id")
            }
            if current
            else {}
        )
    with transaction.atomic():
        plan = publish_plan(
            site,
            actor=actor,
            reason=reason,
            time_zero=scenario.time_zero,
            instance=scenario.instance,
            result=scenario.result,
            projects=owners,
            causes=causes_of(scenario.edit_kinds or []),
        )
        services.update(
            SCENARIO,
            scenario,
            actor=actor,
            reason=reason,
            changes={
                "status": Scenario.Status.PUBLISHED,
                "message": f"Published as v{plan.version}",
            },
            verb="published",
        )
        with scopes_disabled():
            Scenario.objects.filter(pk=scenario.pk).update(published_version=plan.version)
    return plan


def plan_seen(project: Any, user: Any) -> int | None:
    """The plan version ``user`` last saw ``project``'s batches in, if any."""
    with scopes_disabled():
        return (
            PlanSeen.objects.filter(project=project, user=user)
            .values_list("version", flat=True)
            .first()
        )


def mark_plan_seen(project: Any, user: Any, version: int) -> None:
    """Remember that ``user`` has seen ``project``'s batches as in ``version``: a read
    receipt, not a record of the project, so it has no audit entry."""
    with scopes_disabled():
        PlanSeen.objects.update_or_create(project=project, user=user, defaults={"version": version})


NETWORK_PLAN = services.Writable(
    NetworkPlan,
    fields=("time_zero", "instance", "months"),
    noun="network_plan",
    state=lambda p: {
        "time_zero": p.time_zero.isoformat(),
        "sites": [entry["name"] for entry in (p.instance or {}).get("sites", [])],
    },
)


def network_plan(*, actor: Any) -> NetworkPlan | None:
    """The caller's organisation's newest network plan (a solve whose worker stopped is
    queued again or failed by the workers' lost-jobs pass, not by readers)."""
    return NetworkPlan.objects.filter(organisation_id=actor.organisation_id).order_by("-pk").first()


def queue_network_plan(*, actor: Any, now: datetime | None = None) -> NetworkPlan:
    """A campaign plan of the actor's CDMO's sites from their plans in force, solved by a worker."""
    from opencdmo.scheduling.network import month_labels, month_start, site_instance
    from opencdmo.scheduling.resources import SITE_UNITS_PREFETCH
    from opencdmo.scheduling.tasks import solve_network

    moment = now or timezone.now()
    current = network_plan(actor=actor)
    if current is not None and current.busy:
        raise ValidationError({"status": "The network plan is being solved already."})
    sites = list(
        Site.objects.filter(owner_id=actor.organisation_id)
        .prefetch_related(*SITE_UNITS_PREFETCH)
        .order_by("name")
    )
    in_force = [plan.pk for plan in latest_plans().values()]
    plans = {plan.site_id: plan for plan in SitePlan.objects.filter(pk__in=in_force)}
    zero = month_start(moment)
    entries = []
    for site in sites:
        if site.pk not in plans:
            continue
        built = site_instance(site, plans[site.pk], zero, moment)
        if built.document["products"]:
            entries.append(
                {
                    "site": site.pk,
                    "name": site.name,
                    "document": built.document,
                    "left_out": built.left_out,
                }
            )
    if not entries:
        raise ValidationError(
            {
                "sites": "None of your sites has a published plan with lots made upstream and purified."
            }
        )
    with transaction.atomic():
        plan = services.create(
            NETWORK_PLAN,
            actor=actor,
            default_reason=f"Campaign plan of {len(entries)} sites requested",
            parent={"organisation_id": actor.organisation_id, "created_by": actor},
            fields={
                "time_zero": zero,
                "instance": {"sites": entries},
                "months": month_labels(zero),
            },
        )
        pk = plan.pk
        transaction.on_commit(lambda: solve_network.enqueue(pk))
    return plan
