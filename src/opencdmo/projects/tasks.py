"""One capable-to-promise solve per site, as a background task any worker may take.

A task claims its option (queued → running) in one conditional update, so two workers never
solve the same option; it solves the site's plan in force with the request's batches, has
the checker verify the answer, and stores the dates the sponsor reads beside the plan only
the CDMO reads. Cancelling the request marks the option cancelled; a watcher thread sees it
and stops the solver within about a second.
"""

from __future__ import annotations

import time
from datetime import timedelta
from typing import Any

from django.conf import settings
from django.db import transaction
from django.utils import timezone
from django_scopes import scopes_disabled
from django_tasks import task

from opencdmo.core.cancel import cancel_watch
from opencdmo.core.leases import LeasedSolve, heartbeat_interval_s
from opencdmo.engines.planning.promise import NewBatches, PromiseCheckError, promise
from opencdmo.network.models import SitePrivateProfile
from opencdmo.projects.models import Option, OptionPlan
from opencdmo.projects.services import finish_if_answered, hours_from
from opencdmo.scheduling import services as plans
from opencdmo.scheduling.resources import (
    CHANGEOVER_COST_USD,
    CHANGEOVER_H,
    CLEANING_H,
    process_for,
    site_units,
)


def queue_options(option_ids: list[int]) -> None:
    """Queue one solve per option (called once the options are committed)."""
    for option_id in option_ids:
        run_option.enqueue(option_id)


def solve_seconds() -> float:
    return float(settings.PROMISE_TIME_LIMIT_S)


@task()
def run_option(option_id: int) -> str:
    """Answer one site's option; the outcome is written with the option, all or nothing."""
    return answer_option(option_id, solve_seconds())


def _rank_request(option: Any) -> None:
    finish_if_answered(option.request_id)


OPTION_SOLVES = LeasedSolve(
    Option,
    queued=Option.Status.QUEUED,
    running=Option.Status.RUNNING,
    failed=Option.Status.FAILED,
    enqueue=lambda pk: run_option.enqueue(pk),
    failure=lambda reason: {"feasible": False, "reasons": [reason], "answered_at": timezone.now()},
    after=_rank_request,
)
"""An option's solve holds a lease: a worker that dies mid-solve is replaced."""


def answer_option(option_id: int, time_limit_s: float) -> str:
    """Claim a queued option and answer it within ``time_limit_s`` (the task's work)."""
    attempt = OPTION_SOLVES.claim(option_id)
    if attempt is None:
        return "skipped"
    with scopes_disabled():
        option = Option.objects.select_related("request__product", "site").get(pk=option_id)
        try:
            status = _answer(option, time_limit_s, attempt)
        finally:
            finish_if_answered(option.request_id)
    return status


def _answer(option: Option, time_limit_s: float, attempt: int) -> str:
    request = option.request
    site = option.site
    current = plans.plan_in_force(site)
    process = process_for(site_units(site), request.product.modality, request.scale_l)
    if current is None or not process.capable:
        reasons = list(process.problems) or ["the site has no published plan to promise from"]
        return _finish(option, Option.Status.NOT_CAPABLE, feasible=False, reasons=reasons)
    now_h = hours_from(current.time_zero, timezone.now().date())
    new = NewBatches(
        key=f"R{request.pk}",
        product=request.product.name,
        count=request.batches,
        stages=process.stages,
        release_h=max(now_h, hours_from(current.time_zero, request.earliest_start)),
        need_by_h=hours_from(current.time_zero, request.need_by),
        changeover_h=CHANGEOVER_H,
        changeover_cost=CHANGEOVER_COST_USD,
        cleaning_h=CLEANING_H,
    )
    started = time.perf_counter()
    try:
        with cancel_watch(
            lambda: OPTION_SOLVES.status(option.pk),
            Option.Status.CANCELLED,
            beat=lambda: OPTION_SOLVES.beat(option.pk, attempt),
            beat_every_s=heartbeat_interval_s(),
        ) as token:
            answer = promise(
                current.instance,
                current.result,
                new,
                now_h=now_h,
                time_limit=time_limit_s,
                cancel=token,
            )
    except PromiseCheckError as error:
        return _finish(option, Option.Status.FAILED, feasible=False, reasons=[str(error)])
    if token.cancelled:
        return "cancelled"
    zero = current.time_zero
    batches = [
        {
            "number": number,
            "start": (zero + timedelta(hours=start)).isoformat(),
            "end": (zero + timedelta(hours=end)).isoformat(),
            "stages": [
                {
                    "stage": s.stage,
                    "suite": s.suite,
                    "start": (zero + timedelta(hours=s.start_h)).isoformat(),
                    "end": (zero + timedelta(hours=s.end_h)).isoformat(),
                }
                for s in answer.stages
                if s.batch == number
            ],
        }
        for number, start, end in answer.batch_windows()
    ]
    profile = SitePrivateProfile.objects.filter(site=site).first()
    unit_price = profile.indicative_batch_price_usd if profile else None
    fields = {
        "feasible": answer.feasible,
        "on_time": answer.on_time,
        "proven_optimal": answer.proven_optimal,
        "reasons": list(answer.reasons),
        "lateness_h": answer.lateness_h,
        "batches": batches,
        "first_start": zero + timedelta(hours=min(s for _, s, _ in answer.batch_windows()))
        if batches
        else None,
        "last_end": zero + timedelta(hours=max(e for _, _, e in answer.batch_windows()))
        if batches
        else None,
        "extra_changeovers": answer.extra_changeovers,
        "utilisation_before": answer.utilisation_before,
        "utilisation_after": answer.utilisation_after,
        "moved": answer.moved,
        "price_usd": unit_price * request.batches if unit_price else None,
        "solve_s": time.perf_counter() - started,
    }
    status = Option.Status.ANSWERED if answer.feasible else Option.Status.NOT_CAPABLE
    with transaction.atomic():
        if answer.feasible:
            OptionPlan.objects.update_or_create(
                option=option,
                defaults={
                    "time_zero": zero,
                    "instance": answer.instance,
                    "result": answer.result,
                    "based_on_version": current.version,
                },
            )
        return _finish(option, status, **fields)


def _finish(option: Option, status: Any, **fields: object) -> str:
    """Write the outcome unless the option was cancelled meanwhile."""
    written = Option.objects.filter(pk=option.pk, status=Option.Status.RUNNING).update(
        status=status, answered_at=timezone.now(), **fields
    )
    return str(status) if written else "cancelled"
