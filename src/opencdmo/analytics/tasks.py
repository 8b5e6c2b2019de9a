"""Fitting a monitoring model, and judging batches as their data arrive, in the background.

A fit claims its model (queued → running) in one conditional update and holds a lease while
it runs (``core.leases``), so a worker that dies mid-fit is replaced; its progress is written
to the model, which its page shows.
"""

from __future__ import annotations

from django.db import transaction
from django_scopes import scopes_disabled
from django_tasks import task

from opencdmo.analytics import services
from opencdmo.analytics.models import MonitoringModel
from opencdmo.core.leases import LeasedSolve
from opencdmo.engines.progress import Progress
from opencdmo.manufacturing.models import Batch


def queue_fit(model_id: int) -> None:
    fit_monitoring_model.enqueue(model_id)


@task()
def fit_monitoring_model(model_id: int) -> str:
    return run_fit(model_id)


MODEL_FITS = LeasedSolve(
    MonitoringModel,
    queued=MonitoringModel.Status.QUEUED,
    running=MonitoringModel.Status.RUNNING,
    failed=MonitoringModel.Status.FAILED,
    enqueue=lambda pk: fit_monitoring_model.enqueue(pk),
    failure=lambda reason: {"error": reason},
)
"""A model's fit holds a lease: a worker that dies mid-fit is replaced."""


def run_fit(model_id: int) -> str:
    """Claim a queued model and fit it; the outcome is written with the model."""
    attempt = MODEL_FITS.claim(model_id)
    if attempt is None:
        return "skipped"
    with scopes_disabled():
        model = MonitoringModel.objects.select_related("site", "product").get(pk=model_id)
    manager = MonitoringModel.objects.with_scopes_disabled()

    def progress(event: Progress) -> None:
        MODEL_FITS.beat(model_id, attempt)
        manager.filter(pk=model_id).update(
            progress=event.fraction or 0.0, progress_message=event.message[:200]
        )

    try:
        services.fit_model(model, progress)
    except Exception as error:  # every failure is shown on the model's page
        manager.filter(pk=model_id, status=MonitoringModel.Status.RUNNING).update(
            status=MonitoringModel.Status.FAILED, error=str(error)[:2000]
        )
        return "failed"
    manager.filter(pk=model_id, status=MonitoringModel.Status.RUNNING).update(
        status=MonitoringModel.Status.FITTED, progress=1.0, progress_message="fitted"
    )
    return "fitted"


def queue_evaluation(batch_id: int) -> None:
    transaction.on_commit(lambda: evaluate_batch.enqueue(batch_id))


@task()
def evaluate_batch(batch_id: int) -> str:
    """Judge a finished batch, or look for new alarms of a running one."""
    with scopes_disabled():
        batch = Batch.objects.select_related("project").filter(pk=batch_id).first()
        if batch is None:
            return "gone"
        model = services.judging_model(batch)
        if model is None:
            return "no approved model"
        if batch.state in services.FINISHED_STATES:
            services.judge_batch(batch)
            return "judged"
        return f"{len(services.record_alarms(batch, model))} new alarms"
