"""What a site can make, derived from its suites and equipment and never stored.

Only operational suites count: a suite in qualification, maintenance or construction cannot
take a sponsor's batch. Each aggregate is a correlated subquery rather than a join so that
volumes are not multiplied by the number of approvals or modalities a site has.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from django.db.models import (
    Count,
    Exists,
    FloatField,
    IntegerField,
    Max,
    OuterRef,
    QuerySet,
    Subquery,
    Sum,
    Value,
)
from django.db.models.functions import Coalesce

from opencdmo.network.choices import BIOREACTOR_KINDS, InspectionOutcome, SuiteStatus
from opencdmo.network.models import (
    Equipment,
    Inspection,
    ModalityQualification,
    RegulatoryApproval,
    Site,
)

__all__ = [
    "Capabilities",
    "attach_capabilities",
    "capabilities_of",
    "qualified_for",
    "with_capabilities",
]


@dataclass(frozen=True)
class Capabilities:
    """A site's derived capabilities; volumes in litres."""

    max_bioreactor_volume_l: float | None
    total_bioreactor_volume_l: float
    bioreactor_count: int
    modalities: tuple[str, ...]
    agencies: tuple[str, ...]
    latest_inspection_outcome: str | None
    latest_inspection_on: dt.date | None

    @property
    def latest_inspection_label(self) -> str:
        if self.latest_inspection_outcome is None:
            return ""
        return str(InspectionOutcome(self.latest_inspection_outcome).label)


def _bioreactors() -> QuerySet[Equipment]:
    return Equipment.objects.filter(
        suite__site=OuterRef("pk"),
        suite__status=SuiteStatus.OPERATIONAL,
        kind__in=BIOREACTOR_KINDS,
        working_volume_l__isnull=False,
    ).values("suite__site")


def with_capabilities(queryset: QuerySet[Site]) -> QuerySet[Site]:
    """Annotate ``max_volume_l``, ``total_volume_l``, ``bioreactor_count``,
    ``latest_outcome`` and ``latest_inspection_on`` so they can be filtered and sorted on."""
    latest = Inspection.objects.filter(site=OuterRef("pk")).order_by("-inspected_on", "-pk")
    return queryset.annotate(
        max_volume_l=Subquery(
            _bioreactors().annotate(v=Max("working_volume_l")).values("v"),
            output_field=FloatField(),
        ),
        total_volume_l=Coalesce(
            Subquery(
                _bioreactors().annotate(v=Sum("working_volume_l")).values("v"),
                output_field=FloatField(),
            ),
            Value(0.0),
        ),
        bioreactor_count=Coalesce(
            Subquery(
                _bioreactors().annotate(n=Count("pk")).values("n"), output_field=IntegerField()
            ),
            Value(0),
        ),
        latest_outcome=Subquery(latest.values("outcome")[:1]),
        latest_inspection_on=Subquery(latest.values("inspected_on")[:1]),
    )


def qualified_for(modality: str) -> Exists:
    """A condition: the site has an operational suite qualified for ``modality``."""
    return Exists(
        ModalityQualification.objects.filter(
            suite__site=OuterRef("pk"),
            suite__status=SuiteStatus.OPERATIONAL,
            modality=modality,
        )
    )


def _pairs(rows: Iterable[tuple[int, str]]) -> dict[int, tuple[str, ...]]:
    grouped: dict[int, set[str]] = defaultdict(set)
    for site_id, value in rows:
        grouped[site_id].add(value)
    return {site_id: tuple(sorted(values)) for site_id, values in grouped.items()}


def attach_capabilities(sites: Sequence[Site]) -> Sequence[Site]:
    """Set ``site.capabilities`` on sites fetched through ``with_capabilities``.

    Two queries for the whole sequence (modalities, agencies), whatever its length.
    """
    ids = [site.pk for site in sites]
    modalities = _pairs(
        ModalityQualification.objects.filter(
            suite__site__in=ids, suite__status=SuiteStatus.OPERATIONAL
        ).values_list("suite__site_id", "modality")
    )
    agencies = _pairs(
        RegulatoryApproval.objects.filter(site__in=ids).values_list("site_id", "agency")
    )
    for site in sites:
        site.capabilities = Capabilities(
            max_bioreactor_volume_l=site.max_volume_l,
            total_bioreactor_volume_l=site.total_volume_l,
            bioreactor_count=site.bioreactor_count,
            modalities=modalities.get(site.pk, ()),
            agencies=agencies.get(site.pk, ()),
            latest_inspection_outcome=site.latest_outcome,
            latest_inspection_on=site.latest_inspection_on,
        )
    return sites


def capabilities_of(site: Site) -> Capabilities:
    """The derived capabilities of one site."""
    [annotated] = attach_capabilities(list(with_capabilities(Site.objects.filter(pk=site.pk))))
    return annotated.capabilities
