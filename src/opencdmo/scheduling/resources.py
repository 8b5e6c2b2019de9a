"""What a site's plan schedules on, and how a product's batch runs through it.

The plan's units (the ``suites`` of ``opencdmo-schedule/1``) are what runs one batch at a
time: each production bioreactor of an upstream suite (its largest vessels), the suite's
seed train, and each downstream, fill-finish or chemistry suite as a whole. A batch of a
product is a chain of stages over them, with the durations, hold times and changeovers a
process at that scale typically has (until tech transfer gives the site's own figures).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from django.db.models import prefetch_related_objects

from opencdmo.engines.planning.promise import Stage
from opencdmo.network.choices import BIOREACTOR_KINDS, Modality, SuiteKind, SuiteStatus
from opencdmo.network.models import Site, Suite

DAY = 24
SEED_TRAIN = "seed train"

CELL_CULTURE = frozenset(
    {Modality.MAB, Modality.BISPECIFIC, Modality.ADC, Modality.RECOMBINANT_PROTEIN}
)
"""Fed-batch cell culture: seed train, production bioreactor, purification, fill."""

CHANGEOVER_H = 2 * DAY
"""Product changeover of a unit (cleaning and verification between two products)."""
CLEANING_H = DAY
"""Cleaning between two batches of one product (turnaround of a vessel or train)."""
CHANGEOVER_COST_USD = 25_000.0
SITE_UNITS_PREFETCH = ("suites__equipment", "suites__qualifications")
"""What ``site_units`` reads of a site; prefetch it to read many sites in a few queries."""


@dataclass(frozen=True)
class Unit:
    """One schedulable unit of a site: a bioreactor, a seed train or a whole suite."""

    name: str
    suite: str
    kind: str
    modalities: frozenset[str]
    volume_l: float | None = None


@dataclass(frozen=True)
class Process:
    """The stages of a batch at a site, or why the site cannot run it."""

    stages: tuple[Stage, ...]
    problems: tuple[str, ...] = ()

    @property
    def capable(self) -> bool:
        return bool(self.stages) and not self.problems


def site_units(site: Site) -> list[Unit]:
    """The operational units of ``site`` in process order (suites by kind, then name)."""
    order = [str(value) for value, _ in SuiteKind.choices]
    # Already fetched when the caller prefetched these for many sites at once (screening).
    prefetch_related_objects([site], *SITE_UNITS_PREFETCH)
    suites: Iterable[Suite] = sorted(
        (s for s in site.suites.all() if s.status == SuiteStatus.OPERATIONAL),
        key=lambda s: (order.index(s.kind) if s.kind in order else len(order), s.name),
    )
    units: list[Unit] = []
    for suite in suites:
        modalities = frozenset(q.modality for q in suite.qualifications.all())
        if suite.kind != SuiteKind.UPSTREAM:
            units.append(Unit(suite.name, suite.name, suite.kind, modalities))
            continue
        vessels = [e for e in suite.equipment.all() if e.kind in BIOREACTOR_KINDS]
        largest = max((e.working_volume_l or 0 for e in vessels), default=0)
        units.append(Unit(f"{suite.name} / {SEED_TRAIN}", suite.name, SEED_TRAIN, modalities))
        units.extend(
            Unit(f"{suite.name} / {e.tag}", suite.name, suite.kind, modalities, e.working_volume_l)
            for e in sorted(vessels, key=lambda e: e.tag)
            if (e.working_volume_l or 0) == largest
        )
    return units


def process_for(units: list[Unit], modality: str, scale_l: float) -> Process:
    """A batch of ``modality`` at ``scale_l`` litres on these units, or what is missing."""
    qualified = [u for u in units if modality in u.modalities]
    if not qualified:
        return Process((), (f"no operational suite qualified for {_label(modality)}",))
    if modality in {Modality.SMALL_MOLECULE_API, Modality.ORAL_SOLID_DOSE}:
        return Process((_stage("production", qualified, 10 * DAY),))
    if modality == Modality.STERILE_FILL_FINISH:
        fills = [u for u in qualified if u.kind == SuiteKind.FILL_FINISH]
        if not fills:
            return Process((), ("no operational fill-finish suite qualified",))
        return Process((_stage("fill", fills, 2 * DAY),))
    bioreactors = [u for u in qualified if u.kind == SuiteKind.UPSTREAM]
    large_enough = [u for u in bioreactors if (u.volume_l or 0) >= scale_l]
    if not large_enough:
        largest = max((u.volume_l or 0 for u in bioreactors), default=0)
        return Process(
            (),
            (
                f"no single bioreactor of {scale_l:,.0f} L or more "
                f"(largest qualified: {largest:,.0f} L)",
            ),
        )
    purification = [u for u in qualified if u.kind == SuiteKind.DOWNSTREAM]
    if not purification:
        return Process((), (f"no purification suite qualified for {_label(modality)}",))
    big = scale_l > 2000
    stages: list[Stage] = []
    if modality in CELL_CULTURE:
        seeds = [
            u for u in units if u.kind == SEED_TRAIN and u.suite in {b.suite for b in large_enough}
        ]
        stages.append(_stage("seed", seeds, (5 if big else 4) * DAY))
        stages.append(_stage("production", large_enough, 14 * DAY, 0, 12))
    else:
        stages.append(_stage("production", large_enough, 10 * DAY))
    stages.append(_stage("purification", purification, (7 if big else 5) * DAY, 0, 2 * DAY))
    fills = [
        u
        for u in units
        if u.kind == SuiteKind.FILL_FINISH
        and (modality in u.modalities or Modality.STERILE_FILL_FINISH in u.modalities)
    ]
    if fills:
        stages.append(_stage("fill", fills, 2 * DAY, DAY, 30 * DAY))
    return Process(tuple(stages))


def _stage(
    name: str, units: list[Unit], duration_h: int, gap_h: int = 0, hold_h: int | None = None
) -> Stage:
    return Stage(name, tuple((u.name, duration_h) for u in units), gap_h, hold_h)


def _label(modality: str) -> str:
    return str(dict(Modality.choices).get(modality, modality))
