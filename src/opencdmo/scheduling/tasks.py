"""Solving a scenario in the background: claimed once, checked, cancellable.

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
from opencdmo.engines.planning.errors import InstanceError
from opencdmo.engines.planning.registry import solve
from opencdmo.engines.planning.schedule.checker import check_schedule_solution
from opencdmo.engines.planning.schedule.reader import parse_schedule
from opencdmo.engines.progress import Progress
from opencdmo.scheduling import scenarios
from opencdmo.scheduling.models import Scenario, SitePlan
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
    document = scenarios.for_reschedule(scenario.instance, base, hour, published)
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
