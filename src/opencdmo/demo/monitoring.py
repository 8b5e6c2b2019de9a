"""Batch monitoring in the demo: twenty historical batches, an approved model, verdicts and
alarms.

The awarded project's CDMO made fourteen more batches of the product before the six of
``demo.batches``, twenty in all (three with a fault: a drifting DO probe, an over-feed, a
failed temperature controller), and one more is running whose temperature controller failed
at hour 60. Its process engineer fitted a model on the normal finished batches and its QA approved it
by electronic signature; every finished batch then has its verdict, and the faulty ones and
the running one their alarms. All of it goes through the services the pages call.
"""

from __future__ import annotations

import datetime as dt

from django.utils import timezone

from opencdmo.accounts.models import User
from opencdmo.accounts.tenancy import caller_scope
from opencdmo.analytics import services as analytics
from opencdmo.analytics.tasks import run_fit
from opencdmo.demo.batches import SETTINGS, _table
from opencdmo.demo.world import DEMO_PASSWORD
from opencdmo.engines.bioprocess import BatchSpec, Fault, bioreactor, simulate
from opencdmo.manufacturing import services
from opencdmo.manufacturing.models import Batch
from opencdmo.projects.models import Project
from opencdmo.quality import signing

HISTORICAL = 14
FAULTS = {
    3: Fault("do_probe_drift", 110.0, 336.0, 25.0),
    7: Fault("over_feed", 150.0, 240.0, 1.2),
    11: Fault("temperature_controller_failure", 120.0, 200.0, -3.0),
}
"""Which historical batches carry a fault (by position, oldest first)."""
RUNNING_FAULT = Fault("temperature_controller_failure", 60.0, 150.0, -3.0)
RUNNING_FOR_H = 100.0
CYCLE_DAYS = 18


def _record(
    msat: User, project: Project, lot: str, result: object, start: dt.datetime, running: bool
) -> Batch:
    batch = services.create_batch(actor=msat, project=project, lot=lot, reason=REASON)
    services.change_state(batch, to="running", actor=msat, reason=REASON, at=start)
    services.ingest_table(
        _table(result, RUNNING_FOR_H if running else None),  # type: ignore[arg-type]
        actor=msat,
        lot=lot,
        reason=f"{REASON}: simulated process data",
    )
    if not running:
        titer = float(result.offline["titer_g_l"][-1])  # type: ignore[attr-defined]
        duration = dt.timedelta(hours=float(result.time_h[-1]))  # type: ignore[attr-defined]
        services.add_offline_result(
            batch,
            actor=msat,
            reason=REASON,
            attribute="Titer",
            value=round(titer, 2),
            unit="g/L",
            spec_low=3.0,
            method="Protein A HPLC",
            sampled_at=start + duration,
        )
        services.change_state(batch, to="complete", actor=msat, reason=REASON, at=start + duration)
    return batch


REASON = "Demo monitoring history"


def seed_monitoring(reason: str) -> int:
    """Record the history, fit and approve the model, judge the batches; models made."""
    project = Project.objects.filter(sponsor__is_demo=True).order_by("pk").first()
    if project is None:
        return 0
    msat = User.objects.filter(organisation_id=project.cdmo_id, role="cdmo_msat").first()
    qa = User.objects.filter(organisation_id=project.cdmo_id, role="cdmo_qa").first()
    if msat is None or qa is None:
        return 0
    site, product = project.site, project.product
    prefix = site.code.upper()
    lots = [f"{prefix}-25{n + 1:02d}" for n in range(HISTORICAL)] + [f"{prefix}-2699"]
    reactor = bioreactor(2000.0, "stainless")
    specs = [
        BatchSpec(lot, reactor, seed=500 + n, faults=(FAULTS[n],) if n in FAULTS else ())
        for n, lot in enumerate(lots[:HISTORICAL])
    ]
    specs.append(BatchSpec(lots[-1], reactor, seed=599, faults=(RUNNING_FAULT,)))
    results = simulate(specs, SETTINGS)
    now = timezone.now().replace(minute=0, second=0, microsecond=0)
    oldest = now - dt.timedelta(days=CYCLE_DAYS * 7 + 16)
    with caller_scope(msat):
        history = []
        for n, (lot, result) in enumerate(zip(lots, results, strict=True)):
            running = n == HISTORICAL
            start = (
                now - dt.timedelta(hours=RUNNING_FOR_H)
                if running
                else oldest - dt.timedelta(days=CYCLE_DAYS * (HISTORICAL - n) / 2)
            )
            history.append(_record(msat, project, lot, result, start, running))
        reference = [b for n, b in enumerate(history[:HISTORICAL]) if n not in FAULTS]
        reference += list(
            analytics.reference_candidates(site, product).exclude(lot__in=[b.lot for b in history])
        )
        model = analytics.request_model(
            msat,
            site=site,
            product=product,
            batches=reference,
            quality_attribute="Titer",
            reason=reason,
            enqueue=False,
        )
    if run_fit(model.pk) != "fitted":
        model.refresh_from_db()
        raise RuntimeError(f"the demo's monitoring model did not fit: {model.error}")
    model.refresh_from_db()
    with caller_scope(qa):
        analytics.approve_model(
            qa,
            model,
            password=DEMO_PASSWORD,
            reason="Reference batches and limits reviewed",
            seen_sha256=signing.content_sha256(signing.canonical_content(model)),
        )
        for batch in analytics.reference_candidates(site, product):
            analytics.judge_batch(batch)
        analytics.record_alarms(history[-1], model)
    return 1
