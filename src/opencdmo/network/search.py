"""Finding sites by capability: the filters and sort orders shared by pages and API.

Parsing differs per front door (a form on the page, a query schema in the API); both end in
a ``SiteQuery`` and ``find_sites``, so a filter means the same thing everywhere.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.db.models import Count, F, Q, QuerySet
from django.db.models.expressions import OrderBy

from opencdmo.network.capabilities import qualified_for, with_capabilities
from opencdmo.network.choices import Region
from opencdmo.network.models import Site

__all__ = ["SORTS", "SiteQuery", "find_sites", "region_counts", "site_points"]

SORTS: dict[str, str] = {
    "name": "Name (A–Z)",
    "-name": "Name (Z–A)",
    "country": "Country",
    "-country": "Country (Z–A)",
    "-max_volume": "Largest single bioreactor",
    "max_volume": "Smallest single bioreactor",
    "-total_volume": "Largest total bioreactor volume",
    "total_volume": "Smallest total bioreactor volume",
}

_ORDER: dict[str, list[OrderBy | str]] = {
    "name": ["name", "pk"],
    "-name": ["-name", "-pk"],
    "country": ["country", "name", "pk"],
    "-country": ["-country", "name", "pk"],
    "max_volume": [F("max_volume_l").asc(nulls_last=True), "name", "pk"],
    "-max_volume": [F("max_volume_l").desc(nulls_last=True), "name", "pk"],
    "total_volume": [F("total_volume_l").asc(), "name", "pk"],
    "-total_volume": [F("total_volume_l").desc(), "name", "pk"],
}


@dataclass(frozen=True)
class SiteQuery:
    """Already validated filters; empty strings and ``None`` mean 'any'. Volumes in litres."""

    modality: str = ""
    min_volume_l: float | None = None
    min_total_volume_l: float | None = None
    country: str = ""
    region: str = ""
    agency: str = ""
    inspection_outcome: str = ""
    text: str = ""
    sort: str = "name"


def find_sites(query: SiteQuery) -> QuerySet[Site]:
    """Sites matching every given filter, annotated with capabilities, in ``query.sort`` order."""
    sites = with_capabilities(Site.objects.select_related("owner"))
    if query.modality:
        sites = sites.filter(qualified_for(query.modality))
    if query.min_volume_l is not None:
        sites = sites.filter(max_volume_l__gte=query.min_volume_l)
    if query.min_total_volume_l is not None:
        sites = sites.filter(total_volume_l__gte=query.min_total_volume_l)
    if query.country:
        sites = sites.filter(country=query.country.upper())
    if query.region:
        sites = sites.filter(region=query.region)
    if query.agency:
        sites = sites.filter(approvals__agency=query.agency).distinct()
    if query.inspection_outcome:
        sites = sites.filter(latest_outcome=query.inspection_outcome)
    if query.text:
        sites = sites.filter(
            Q(name__icontains=query.text)
            | Q(city__icontains=query.text)
            | Q(owner__name__icontains=query.text)
        )
    return sites.order_by(*_ORDER.get(query.sort, _ORDER["name"]))


def region_counts(sites: QuerySet[Site]) -> list[tuple[str, str, int]]:
    """(region code, label, number of sites) for every region, in the order of ``Region``."""
    matching = Site.objects.filter(pk__in=sites.values("pk"))
    counts = dict(matching.order_by().values_list("region").annotate(n=Count("pk")))
    return [(code, str(label), counts.get(code, 0)) for code, label in Region.choices]


def site_points(sites: QuerySet[Site]) -> list[dict[str, object]]:
    """The few fields a map needs for each matching site."""
    return list(
        sites.order_by("name").values("pk", "name", "city", "country", "latitude", "longitude")
    )
