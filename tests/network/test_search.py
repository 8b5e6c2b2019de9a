"""Derived capabilities and the directory's filters and sort orders."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest

from opencdmo.network import services
from opencdmo.network.capabilities import capabilities_of
from opencdmo.network.choices import InspectionOutcome, Modality
from opencdmo.network.search import SORTS, SiteQuery, find_sites, region_counts
from opencdmo.network.templatetags.network import _SHORT_MODALITY, _TONES, litres

BOSTON, MUNICH = "Alpha Bio Boston", "Beta Pharma Munich"
SINGAPORE, CORK = "Beta Singapore", "Alpha Cork"


def names(query: SiteQuery) -> list[str]:
    return [site.name for site in find_sites(query)]


def test_capabilities_sum_operational_bioreactors_only(fleet: Any) -> None:
    """Volumes and modalities come from operational suites; the suite in qualification is out."""
    singapore = capabilities_of(fleet.sites["singapore"])
    assert singapore.max_bioreactor_volume_l == 2000
    assert singapore.total_bioreactor_volume_l == 8000
    assert singapore.bioreactor_count == 4
    assert singapore.modalities == ("bispecific", "mab")
    assert singapore.agencies == ("FDA", "PMDA")
    assert singapore.latest_inspection_outcome == "official_action"
    assert singapore.latest_inspection_on == dt.date(2025, 2, 1)
    cork = capabilities_of(fleet.sites["cork"])
    assert cork.max_bioreactor_volume_l is None
    assert cork.total_bioreactor_volume_l == 0
    assert cork.modalities == ("sterile_fill_finish",)


def test_capabilities_follow_the_equipment(fleet: Any) -> None:
    """Qualifying a suite changes the derived capabilities without typing them anywhere."""
    suite = fleet.sites["cork"].suites.get(name="USP new")
    services.update_suite(suite, actor=None, reason="PQ passed", status="operational")
    cork = capabilities_of(fleet.sites["cork"])
    assert cork.max_bioreactor_volume_l == 20000
    assert cork.modalities == ("aav", "sterile_fill_finish")


def test_no_filters_lists_every_site_by_name(fleet: Any) -> None:
    assert names(SiteQuery()) == [BOSTON, CORK, MUNICH, SINGAPORE]


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        (SiteQuery(modality="mab"), [BOSTON, MUNICH, SINGAPORE]),
        (SiteQuery(modality="aav"), []),
        (SiteQuery(modality="sterile_fill_finish"), [CORK]),
        (SiteQuery(min_volume_l=2000), [BOSTON, MUNICH, SINGAPORE]),
        (SiteQuery(min_volume_l=2000.5), [MUNICH]),
        (SiteQuery(min_total_volume_l=8000), [MUNICH, SINGAPORE]),
        (SiteQuery(country="de"), [MUNICH]),
        (SiteQuery(region="europe"), [CORK, MUNICH]),
        (SiteQuery(agency="FDA"), [BOSTON, SINGAPORE]),
        (SiteQuery(agency="PMDA"), [SINGAPORE]),
        (SiteQuery(inspection_outcome="official_action"), [SINGAPORE]),
        (SiteQuery(inspection_outcome="no_action"), [BOSTON, MUNICH]),
        (SiteQuery(inspection_outcome="voluntary_action"), [CORK]),
        (SiteQuery(text="sing"), [SINGAPORE]),
        (SiteQuery(text="beta pharma"), [MUNICH, SINGAPORE]),
    ],
    ids=lambda v: repr(v) if isinstance(v, SiteQuery) else None,
)
def test_each_filter(fleet: Any, query: SiteQuery, expected: list[str]) -> None:
    """Each filter keeps exactly the sites that satisfy it."""
    assert names(query) == expected


def test_filters_combine(fleet: Any) -> None:
    """mAb sites with a ≥ 2,000 L bioreactor and an FDA approval."""
    query = SiteQuery(modality="mab", min_volume_l=2000, agency="FDA")
    assert names(query) == [BOSTON, SINGAPORE]
    assert names(SiteQuery(modality="mab", agency="FDA", region="asia")) == [SINGAPORE]


def test_agency_filter_does_not_duplicate_sites(fleet: Any) -> None:
    """A site with two approvals by one agency still appears once."""
    services.create_approval(
        actor=None,
        site=fleet.sites["singapore"],
        reason="x",
        agency="FDA",
        scope="DP",
        granted_on=dt.date(2022, 1, 1),
    )
    assert names(SiteQuery(agency="FDA")) == [BOSTON, SINGAPORE]
    assert find_sites(SiteQuery(agency="FDA")).count() == 2


@pytest.mark.parametrize(
    ("sort", "expected"),
    [
        ("name", [BOSTON, CORK, MUNICH, SINGAPORE]),
        ("-name", [SINGAPORE, MUNICH, CORK, BOSTON]),
        ("country", [MUNICH, CORK, SINGAPORE, BOSTON]),
        ("-max_volume", [MUNICH, BOSTON, SINGAPORE, CORK]),
        ("max_volume", [BOSTON, SINGAPORE, MUNICH, CORK]),
        ("-total_volume", [MUNICH, SINGAPORE, BOSTON, CORK]),
        ("total_volume", [CORK, BOSTON, SINGAPORE, MUNICH]),
    ],
)
def test_sort_orders(fleet: Any, sort: str, expected: list[str]) -> None:
    """Sites without bioreactors sort last by volume in both directions."""
    assert names(SiteQuery(sort=sort)) == expected


def test_every_sort_has_an_order() -> None:
    assert set(SORTS) == {
        "name",
        "-name",
        "country",
        "-country",
        "max_volume",
        "-max_volume",
        "total_volume",
        "-total_volume",
    }


def test_region_counts_follow_the_filters(fleet: Any) -> None:
    counts = {code: n for code, _, n in region_counts(find_sites(SiteQuery(modality="mab")))}
    assert counts == {
        "north_america": 1,
        "latin_america": 0,
        "europe": 1,
        "middle_east_africa": 0,
        "asia": 1,
        "oceania": 0,
    }


def test_every_outcome_has_a_badge_tone() -> None:
    assert set(_TONES) == set(InspectionOutcome.values)


@pytest.mark.parametrize(
    ("value", "text"), [(None, "–"), (2000.0, "2,000 L"), (15000, "15,000 L"), (0.5, "0.5 L")]
)
def test_litres(value: float | None, text: str) -> None:
    assert litres(value) == text


def test_every_modality_has_a_short_label() -> None:
    assert set(_SHORT_MODALITY) == set(Modality.values)
