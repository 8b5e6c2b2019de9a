"""Batches are judged as their data arrive: a new process-data version or a finished batch
queues an evaluation, when an approved model of the batch's product at its site exists."""

from __future__ import annotations

from typing import Any

from django.db.models.signals import post_save
from django.dispatch import receiver
from django_scopes import scopes_disabled

from opencdmo.analytics.models import MonitoringModel
from opencdmo.manufacturing.models import Batch, ProcessDataFile


def _has_approved_model(batch: Batch) -> bool:
    with scopes_disabled():
        return MonitoringModel.objects.filter(
            site_id=batch.site_id,
            product_id=batch.project.product_id,
            approved_at__isnull=False,
        ).exists()


def _evaluate(batch: Batch) -> None:
    from opencdmo.analytics.tasks import queue_evaluation

    if _has_approved_model(batch):
        queue_evaluation(batch.pk)


@receiver(post_save, sender=ProcessDataFile, dispatch_uid="analytics-new-data")
def _new_data(sender: Any, instance: ProcessDataFile, created: bool, **kwargs: Any) -> None:
    if created and not kwargs.get("raw"):
        with scopes_disabled():
            _evaluate(instance.batch)


@receiver(post_save, sender=Batch, dispatch_uid="analytics-batch-finished")
def _batch_saved(sender: Any, instance: Batch, **kwargs: Any) -> None:
    if not kwargs.get("raw") and instance.state == "complete":
        with scopes_disabled():
            _evaluate(instance)
