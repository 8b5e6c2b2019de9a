"""Batches of the awarded demo project, with process data from the bioprocess simulator.

The project's CDMO has made six batches of the product at the project's site, each through
the same services a process engineer uses: recorded, started, its simulated process data
(online sensors hourly, daily offline samples) ingested, completed and, for the older ones,
reviewed and dispositioned; a seventh is running, with its first five days of data. Each
has offline release results against specifications, one of them out of specification. The
lots the award placed in the site's plan are recorded as planned batches with the plan's
dates. The simulator runs with a 30 min control step: about a second for all seven batches.
"""

from __future__ import annotations

import datetime as dt

import numpy as np
from django.utils import timezone

from opencdmo.accounts.models import User
from opencdmo.accounts.tenancy import caller_scope
from opencdmo.core.tables import Table
from opencdmo.engines.bioprocess import (
    OFFLINE_ASSAYS,
    ONLINE_SENSORS,
    BatchResult,
    BatchSpec,
    SimulationSettings,
    bioreactor,
    simulate,
)
from opencdmo.manufacturing import services
from opencdmo.network.choices import BIOREACTOR_KINDS
from opencdmo.network.models import Equipment
from opencdmo.projects.models import Project
from opencdmo.scheduling.models import PlannedBatch

FINISHED = 6
RUNNING_FOR_H = 120.0
CYCLE_DAYS = 18
SETTINGS = SimulationSettings(control_step_min=30, sensor_interval_min=60)
STATES = ("dispositioned", "dispositioned", "dispositioned", "dispositioned", "under_review")
"""Where the finished batches end, oldest first; the last finished one stays complete."""
SPECIFICATIONS = (
    # attribute, unit, low, high, method
    ("Titer", "g/L", 3.0, None, "Protein A HPLC"),
    ("Aggregate", "%", None, 5.0, "SEC-HPLC"),
    ("HCP", "ng/mg", None, 100.0, "ELISA"),
)


def _table(result: BatchResult, until_h: float | None) -> Table:
    """The batch's readings as a long table, as a file of them would be read."""
    times, names, values, units = [], [], [], []
    for time_h, readings, measured in (
        (result.time_h, result.online, ONLINE_SENSORS),
        (result.sample_time_h, result.offline, OFFLINE_ASSAYS),
    ):
        for measurement in measured:
            times.append(time_h)
            names.append(np.full(time_h.shape[0], measurement.name, dtype=object))
            values.append(readings[measurement.name])
            units.append(np.full(time_h.shape[0], measurement.unit, dtype=object))
    time = np.concatenate(times)
    keep = time <= until_h if until_h is not None else np.ones(time.shape[0], dtype=bool)
    columns = {
        "time": time[keep],
        "variable": np.concatenate(names)[keep],
        "value": np.concatenate(values)[keep],
        "unit": np.concatenate(units)[keep],
    }
    return Table("simulator", columns, {}, np.arange(2, int(keep.sum()) + 2))


def _release_results(index: int, result: BatchResult) -> list[tuple[float, tuple]]:
    """Titer at harvest, aggregate and HCP (the batch under review has its aggregate out of
    specification)."""
    rng = np.random.default_rng(100 + index)
    titer = float(result.offline["titer_g_l"][-1])
    aggregate = 6.2 if index == 4 else round(float(rng.uniform(1.2, 3.5)), 1)
    hcp = round(float(rng.uniform(12.0, 60.0)))
    return list(zip((round(titer, 2), aggregate, float(hcp)), SPECIFICATIONS, strict=True))


def seed_batches(reason: str) -> int:
    """Record the demo batches; the number recorded (none without an awarded project)."""
    project = Project.objects.filter(sponsor__is_demo=True).order_by("pk").first()
    if project is None:
        return 0
    msat = User.objects.filter(organisation_id=project.cdmo_id, role="cdmo_msat").first()
    reactors = list(
        Equipment.objects.filter(suite__site=project.site, kind__in=BIOREACTOR_KINDS)
        .select_related("suite")
        .order_by("-working_volume_l", "tag")[:2]
    )
    if msat is None or not reactors:
        return 0
    prefix = project.site.code.upper()
    lots = [f"{prefix}-{2601 + n}" for n in range(FINISHED + 1)]
    specs = [
        BatchSpec(
            lot,
            bioreactor(float(reactors[n % len(reactors)].working_volume_l or 2000.0), "stainless"),
            seed=n,
        )
        for n, lot in enumerate(lots)
    ]
    results = simulate(specs, SETTINGS)
    now = timezone.now().replace(minute=0, second=0, microsecond=0)
    with caller_scope(msat):
        for n, (lot, result) in enumerate(zip(lots, results, strict=True)):
            running = n == FINISHED
            start = (
                now - dt.timedelta(hours=RUNNING_FOR_H)
                if running
                else now - dt.timedelta(days=CYCLE_DAYS * (FINISHED - n) + 16)
            )
            duration = dt.timedelta(hours=float(result.time_h[-1]))
            reactor = reactors[n % len(reactors)]
            batch = services.create_batch(
                actor=msat,
                project=project,
                lot=lot,
                suite=reactor.suite,
                equipment=reactor,
                planned_start=start,
                planned_end=start + duration,
                reason=reason,
            )
            services.change_state(batch, to="running", actor=msat, reason=reason, at=start)
            services.ingest_table(
                _table(result, RUNNING_FOR_H if running else None),
                actor=msat,
                lot=lot,
                reason=f"{reason}: simulated process data",
            )
            if running:
                continue
            for value, (attribute, unit, low, high, method) in _release_results(n, result):
                services.add_offline_result(
                    batch,
                    actor=msat,
                    reason=reason,
                    attribute=attribute,
                    value=value,
                    unit=unit,
                    spec_low=low,
                    spec_high=high,
                    sampled_at=start + duration,
                    method=method,
                )
            services.change_state(
                batch, to="complete", actor=msat, reason=reason, at=start + duration
            )
            if n < len(STATES):
                for state in ("under_review", "dispositioned")[
                    : 1 + (STATES[n] == "dispositioned")
                ]:
                    services.change_state(batch, to=state, actor=msat, reason=reason)
        planned = (
            PlannedBatch.objects.filter(project=project)
            .order_by("lot")
            .values_list("lot", flat=True)
            .distinct()
        )
        for lot in planned:
            services.create_batch(actor=msat, project=project, lot=lot, reason=reason)
    return FINISHED + 1 + len(planned)
