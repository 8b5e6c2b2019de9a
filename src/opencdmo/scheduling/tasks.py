"""Solving a scenario, and a CDMO's network campaign plan, in the background: claimed once,
checked, cancellable.

The solve starts from the published plan the scenario was copied from; the answer is stored
only when the independent checker accepts it. Cancelling marks the scenario; a watcher thread
sees the mark and stops the solver within about a second, keeping nothing.
"""

from __future__ import annotations

import time
from typing import Any

from django_scopes import scopes_disabled
from django_tasks import task

from opencdmo.core.cancel import cancel_watch
from opencdmo.core.leases import LeasedSolve, heartbeat_interval_s
from opencdmo.engines.planning.campaign.checker import check_campaign_solution
from opencdmo.engines.planning.campaign.lateness import explain_lateness
from opencdmo.engines.planning.campaign.reader import parse_campaign
from opencdmo.engines.planning.campaign.solver import solve_campaign
from opencdmo.engines.planning.errors import InstanceError
from opencdmo.engines.planning.registry import solve
from opencdmo.engines.planning.schedule.checker import check_schedule_solution
from opencdmo.engines.planning.schedule.reader import parse_schedule
from opencdmo.engines.progress import Progress
from opencdmo.scheduling import scenarios
from opencdmo.scheduling.models import NetworkPlan, Scenario, SitePlan
from opencdmo.scheduling.network import lateness_in_words, site_months
from opencdmo.scheduling.services import now_h


@task()
def solve_scenario(scenario_id: int) -> str:
    """Reschedule one scenario and store its checked result and figures."""
    attempt = SCENARIO_SOLVES.claim(scenario_id)
    if attempt is None:
        return "skipped"
    with scopes_disabled():
        scenario = Scenario.objects.get(pk=scenario_id)
        base = SitePlan.objects.get(site_id=scenario.site_id, version=scenario.base_version)
        return _solve(scenario, base.result, attempt, base.instance)


SCENARIO_SOLVES = LeasedSolve(
    Scenario,
    queued=Scenario.Status.QUEUED,
    running=Scenario.Status.SOLVING,
    failed=Scenario.Status.FAILED,
    enqueue=lambda pk: solve_scenario.enqueue(pk),
    failure=lambda reason: {"message": reason[:1].upper() + reason[1:] + "."},
)
"""A scenario's solve holds a lease: a worker that dies mid-solve is replaced."""


def _solve(scenario: Scenario, base: dict, attempt: int, published: dict) -> str:
    hour = now_h(scenario.time_zero)
    document = scenarios.for_reschedule(scenario.instance, base, hour, published, scenario.goal)
    try:
        problem = parse_schedule(document, source=scenario.name)
    except InstanceError as error:
        return _finish(scenario.pk, Scenario.Status.FAILED, message=str(error))

    said = [0.0]

    def progress(update: Progress) -> None:
        """Say how far the solve is, at most once a second."""
        moment = time.monotonic()
        if moment - said[0] < 1.0:
            return
        said[0] = moment
        share = "" if update.fraction is None else f"{update.fraction:.0%} of the time limit; "
        best = "–" if update.objective is None else f"{update.objective:g}"
        Scenario.objects.filter(pk=scenario.pk, status=Scenario.Status.SOLVING).update(
            message=f"Solving: {share}best weighted lateness so far {best} h"
        )

    with cancel_watch(
        lambda: SCENARIO_SOLVES.status(scenario.pk),
        Scenario.Status.CANCELLED,
        beat=lambda: SCENARIO_SOLVES.beat(scenario.pk, attempt),
        beat_every_s=heartbeat_interval_s(),
    ) as token:
        outcome = solve(problem, time_limit=scenario.time_limit_s, progress=progress, cancel=token)
    if token.cancelled:
        return "cancelled"
    if outcome.solution is None:
        why = "; ".join(c.reason for c in outcome.conflicts) or "no schedule within the time limit"
        return _finish(scenario.pk, Scenario.Status.FAILED, message=why)
    report = check_schedule_solution(problem, outcome.solution, outcome.objective)
    if not report.ok:
        return _finish(
            scenario.pk, Scenario.Status.FAILED, message="; ".join(report.violations[:3])
        )
    result = outcome.document()
    proved = "proved optimal" if outcome.status.value == "optimal" else "best found, not proved"
    return _finish(
        scenario.pk,
        Scenario.Status.SOLVED,
        instance=document,
        result=result,
        figures=scenarios.figures(document, result, base, hour),
        message=f"Solved in {outcome.wall_s:.1f} s ({proved}).",
    )


def _finish(pk: int, status: Any, **fields: object) -> str:
    written = Scenario.objects.filter(pk=pk, status=Scenario.Status.SOLVING).update(
        status=status, **fields
    )
    return str(status) if written else "cancelled"


NETWORK_TIME_LIMIT_S = 30.0
"""Each site's campaign solve; the demo's sites are solved to optimality in 3 to 9 s."""
EXPLAIN_TIME_LIMIT_S = 15.0
"""Each of the lateness explanation's relaxed solves of a site with late products."""


@task()
def solve_network(plan_id: int) -> str:
    """Plan every site's campaigns, check each plan and explain its late products."""
    attempt = NETWORK_SOLVES.claim(plan_id)
    if attempt is None:
        return "skipped"
    with scopes_disabled():
        return _solve_network(NetworkPlan.objects.get(pk=plan_id), attempt)


def _solve_network(plan: NetworkPlan, attempt: int) -> str:
    plan_id = plan.pk
    with cancel_watch(
        lambda: NETWORK_SOLVES.status(plan_id),
        NetworkPlan.Status.FAILED,
        beat=lambda: NETWORK_SOLVES.beat(plan_id, attempt),
        beat_every_s=heartbeat_interval_s(),
    ) as token:
        sites = []
        for number, entry in enumerate(plan.instance["sites"], start=1):
            NetworkPlan.objects.filter(pk=plan_id, status=NetworkPlan.Status.SOLVING).update(
                message=f"Solving site {number} of {len(plan.instance['sites'])}: {entry['name']}"
            )
            try:
                sites.append(_solve_site(entry, plan.months, token))
            except InstanceError as error:
                return _finish_network(plan_id, NetworkPlan.Status.FAILED, message=str(error))
            if token.cancelled:
                return "stopped"
    failed = [s["name"] for s in sites if not s["checked"]]
    if failed:
        return _finish_network(
            plan_id,
            NetworkPlan.Status.FAILED,
            message=f"No checked campaign plan for {', '.join(failed)}.",
        )
    lateness = [dict(row, site=s["name"]) for s in sites for row in s["lateness"]]
    return _finish_network(
        plan_id,
        NetworkPlan.Status.SOLVED,
        result={"sites": sites},
        lateness=lateness,
        message=f"Planned {len(sites)} sites in {sum(s['wall_s'] for s in sites):.1f} s.",
    )


def _solve_site(entry: dict[str, Any], months: list[str], token: Any) -> dict[str, Any]:
    problem = parse_campaign(entry["document"], source=entry["name"])
    outcome = solve_campaign(problem, time_limit=NETWORK_TIME_LIMIT_S, cancel=token)
    solved: dict[str, Any] = {
        "site": entry["site"],
        "name": entry["name"],
        "left_out": entry["left_out"],
        "status": outcome.status.value,
        "wall_s": round(outcome.wall_s, 2),
        "checked": False,
        "result": outcome.document(),
        "months": [],
        "lateness": [],
    }
    if outcome.solution is None:
        return solved
    report = check_campaign_solution(problem, outcome.solution, outcome.objective)
    solved["checked"] = report.ok
    solved["violations"] = report.violations[:3]
    solved["months"] = [
        {"campaigns": list(m.campaigns), "utilisation": m.utilisation}
        for m in site_months(outcome.solution, len(problem.suites))
    ]
    if report.ok and not token.cancelled:
        late = explain_lateness(problem, outcome.solution, time_limit=EXPLAIN_TIME_LIMIT_S)
        solved["lateness"] = lateness_in_words(late, months)
    return solved


NETWORK_SOLVES = LeasedSolve(
    NetworkPlan,
    queued=NetworkPlan.Status.QUEUED,
    running=NetworkPlan.Status.SOLVING,
    failed=NetworkPlan.Status.FAILED,
    enqueue=lambda pk: solve_network.enqueue(pk),
    failure=lambda reason: {"message": reason[:1].upper() + reason[1:] + "."},
)
"""A network plan's solve holds a lease like a scenario's."""


def _finish_network(pk: int, status: Any, **fields: object) -> str:
    written = NetworkPlan.objects.filter(pk=pk, status=NetworkPlan.Status.SOLVING).update(
        status=status, **fields
    )
    return str(status) if written else "stopped"
