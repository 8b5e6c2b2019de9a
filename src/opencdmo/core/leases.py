"""Background solves that outlive their worker: a lease renewed while the solve runs, and
recovery of the solves whose worker stopped (killed, machine lost).

A record being solved (a request's option, a scenario) carries ``status``, ``attempts`` and
``heartbeat_at``. Its task claims it (queued → running, one more attempt, a first beat),
renews ``heartbeat_at`` every quarter of ``JOB_LEASE_S`` while the solver runs, and writes
the outcome. Every worker calls ``recover`` every quarter lease: a running record not heard
from for a lease is queued again (its task enqueued anew) or, after ``JOB_ATTEMPTS`` runs,
marked failed with the reason. Each change is conditional on the record being as it was
read, so any number of workers can look at once and only one acts.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.db import models, transaction
from django.db.models import F, Q
from django.utils import timezone
from django_scopes import scopes_disabled

STOPPED = "the worker stopped while solving this; it was tried {attempts} times"


@dataclass(frozen=True)
class LeasedSolve:
    """How one kind of record is solved in the background."""

    model: type[models.Model]
    queued: Any
    running: Any
    failed: Any
    """Values of ``status`` (a model's ``TextChoices`` members)."""
    enqueue: Callable[[int], Any]
    failure: Callable[[str], dict[str, Any]]
    """Fields that say why a record failed, from the reason."""
    after: Callable[[models.Model], None] | None = None
    """Run once a record has been failed (a request whose last site failed is ranked)."""

    def claim(self, pk: int) -> int | None:
        """Take a queued record for this worker; the attempt number, or ``None`` if taken."""
        with scopes_disabled():
            claimed = self.model._default_manager.filter(pk=pk, status=self.queued).update(
                status=self.running, attempts=F("attempts") + 1, heartbeat_at=timezone.now()
            )
            if not claimed:
                return None
            return int(
                self.model._default_manager.filter(pk=pk).values_list("attempts", flat=True)[0]
            )

    def beat(self, pk: int, attempt: int) -> None:
        """Renew the lease of the run ``attempt`` (a later run's lease is not this one's)."""
        with scopes_disabled():
            self.model._default_manager.filter(pk=pk, status=self.running, attempts=attempt).update(
                heartbeat_at=timezone.now()
            )

    def status(self, pk: int) -> object:
        """The record's status as stored now (a cancel watch reads it)."""
        with scopes_disabled():
            return (
                self.model._default_manager.filter(pk=pk).values_list("status", flat=True).first()
            )

    def recover(self, now: datetime | None = None) -> list[str]:
        """Queue again or fail every running record whose lease ran out; one line each."""
        now = now or timezone.now()
        cutoff = now - timedelta(seconds=float(settings.JOB_LEASE_S))
        name = self.model._meta.verbose_name
        done: list[str] = []
        with scopes_disabled():
            manager = self.model._default_manager
            lost = list(
                manager.filter(status=self.running).filter(
                    Q(heartbeat_at__lt=cutoff) | Q(heartbeat_at__isnull=True)
                )
            )
            for record in lost:
                attempts = record.attempts
                same = manager.filter(pk=record.pk, status=self.running, attempts=attempts)
                if attempts < int(settings.JOB_ATTEMPTS):
                    with transaction.atomic():
                        if same.update(status=self.queued, heartbeat_at=None):
                            self.enqueue(record.pk)
                            done.append(f"{name} {record.pk}: its worker stopped; queued again")
                    continue
                reason = STOPPED.format(attempts=attempts)
                if same.update(status=self.failed, **self.failure(reason)):
                    done.append(f"{name} {record.pk}: failed, {reason}")
                    if self.after is not None:
                        self.after(record)
        return done


def heartbeat_interval_s() -> float:
    """A quarter of the lease, so three beats can be missed before the lease runs out."""
    return max(float(settings.JOB_LEASE_S) / 4, 0.1)
