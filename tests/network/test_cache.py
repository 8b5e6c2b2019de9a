"""The shared read caches: bounded queries per request, and never a stale answer after a write."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import pytest
from django.core.cache import cache
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from opencdmo.accounts import services as accounts_services
from opencdmo.network import cache as network_cache
from opencdmo.network import services
from opencdmo.network.importer import import_file
from opencdmo.network.models import Site
from tests.network_import.conftest import SITE_HEADER

# Per request on a cache hit: session, user, version, caller's organisation (navigation), and
# the session's idle-timeout refresh; the site page adds the site itself and, for its owner,
# the private profile; the API needs only its token and the version.
WARM_QUERIES = {"directory": 7, "site": 9, "api": 2}


@pytest.fixture(autouse=True)
def _empty_cache() -> None:
    cache.clear()


@pytest.fixture
def reader(fleet: Any, client_for: Any) -> Client:
    return client_for(fleet.user("sponsor-one", "sponsor_manager"))


@pytest.fixture
def api(fleet: Any) -> Callable[[str], Any]:
    _, secret = accounts_services.issue_token(fleet.user("sponsor-one", "sponsor_manager"), "t")
    client = Client(headers={"Authorization": f"Bearer {secret}"})
    return lambda path: client.get(path)


def _queries(request: Callable[[], Any]) -> int:
    with CaptureQueriesContext(connection) as queries:
        assert request().status_code == 200
    return len(queries)


def _add_sites(world: Any, count: int) -> None:
    for n in range(count):
        site = services.create_site(
            actor=None,
            owner=world.orgs["alpha-bio"],
            reason="More sites",
            code=f"more{n}",
            name=f"More {n}",
            country="JP",
            region="asia",
            city="Osaka",
            latitude=34.7,
            longitude=135.5,
        )
        services.create_suite(
            actor=None,
            site=site,
            reason="More sites",
            modalities=["mab", "adc"],
            name="USP",
            kind="upstream",
            gmp_grade="C",
        )


@pytest.mark.parametrize("path", ["/sites/", "/sites/?modality=mab&sort=-max_volume"])
def test_directory_queries_are_bounded_whatever_the_number_of_sites(
    fleet: Any, reader: Client, path: str
) -> None:
    """A cold directory costs the same queries for 4 sites as for 29; a warm one a handful."""
    cold_few = _queries(lambda: reader.get(path))
    _add_sites(fleet, 25)
    cache.clear()
    cold_many = _queries(lambda: reader.get(path))
    warm = _queries(lambda: reader.get(path))
    assert cold_many == cold_few
    assert warm <= WARM_QUERIES["directory"] < cold_few


def test_site_page_queries_do_not_grow_with_suites_and_equipment(
    fleet: Any, reader: Client
) -> None:
    """Boston (one suite, one vessel) and Singapore (four vessels) cost the same queries."""
    boston, singapore = fleet.sites["alpha-bio"], fleet.sites["singapore"]
    small = _queries(lambda: reader.get(f"/sites/{boston.pk}/"))
    large = _queries(lambda: reader.get(f"/sites/{singapore.pk}/"))
    warm = _queries(lambda: reader.get(f"/sites/{singapore.pk}/"))
    assert small == large
    assert warm <= WARM_QUERIES["site"] < large


def test_owner_sees_the_private_profile_beside_the_cached_public_one(
    fleet: Any, client_for: Any, reader: Client
) -> None:
    """The public part is shared; the private part and edit links stay the caller's own."""
    boston = fleet.sites["alpha-bio"]
    assert "secret of alpha-bio" not in reader.get(f"/sites/{boston.pk}/").content.decode()
    owner = client_for(fleet.user("alpha-bio", "cdmo_planner"))
    page = owner.get(f"/sites/{boston.pk}/").content.decode()
    assert "secret of alpha-bio" in page
    assert "Edit suite" in page
    assert "Edit suite" not in reader.get(f"/sites/{boston.pk}/").content.decode()


def test_sites_api_queries_are_bounded_whatever_the_number_of_sites(
    fleet: Any, api: Callable[[str], Any]
) -> None:
    """The sites API: same cold queries for 4 and 29 sites, and two when warm."""
    api("/api/v1/me")  # the token's first use records its time once a minute
    cold_few = _queries(lambda: api("/api/v1/sites?limit=100"))
    _add_sites(fleet, 25)
    cache.clear()
    cold_many = _queries(lambda: api("/api/v1/sites?limit=100"))
    warm = _queries(lambda: api("/api/v1/sites?limit=100"))
    assert cold_many == cold_few
    assert warm <= WARM_QUERIES["api"] < cold_few


def test_a_change_through_the_services_is_on_the_next_request_everywhere(
    fleet: Any, reader: Client, api: Callable[[str], Any]
) -> None:
    """Renaming a suite and adding a site show at once on all three, though all were cached."""
    boston = fleet.sites["alpha-bio"]
    for _ in range(2):
        reader.get("/sites/")
        reader.get(f"/sites/{boston.pk}/")
        api("/api/v1/sites")
    services.update_suite(fleet.suites["alpha-bio"], actor=None, reason="Rename", name="USP 7")
    _add_sites(fleet, 1)
    assert "USP 7" in reader.get(f"/sites/{boston.pk}/").content.decode()
    assert "5 sites" in reader.get("/sites/").content.decode()
    assert json.loads(api("/api/v1/sites").content)["count"] == 5


def test_an_import_is_on_the_next_request(
    fleet: Any, reader: Client, api: Callable[[str], Any]
) -> None:
    """Sites imported from a file appear on the next directory page and API answer."""
    reader.get("/sites/")
    api("/api/v1/sites")
    rows = [SITE_HEADER, ["alpha-bio", "lyon", "Alpha Lyon", "FR", "europe", "Lyon", 45.76, 4.84]]
    csv = "\n".join(",".join(str(cell) for cell in row) for row in rows).encode()
    report = import_file(csv, "sites.csv", actor=fleet.user("alpha-bio", "cdmo_admin"))
    assert report.ok, report.problems
    assert "Alpha Lyon" in reader.get("/sites/").content.decode()
    names = {item["name"] for item in json.loads(api("/api/v1/sites").content)["items"]}
    assert "Alpha Lyon" in names


def test_a_write_by_another_process_is_seen_through_the_audit_trail(
    fleet: Any, reader: Client, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A worker's or another web process's write moves the version through its audit entry.

    The local signal bump is undone to stand for a process that never saw the save.
    """
    before = network_cache._current_generation
    reader.get("/sites/")
    services.update_site(fleet.sites["alpha-bio"], actor=None, reason="Move", city="Cambridge")
    monkeypatch.setattr(network_cache, "_current_generation", before)
    assert "Cambridge, US" in reader.get("/sites/").content.decode()


def test_a_write_outside_the_services_is_seen_in_the_same_process(
    fleet: Any, reader: Client
) -> None:
    """A save that writes no audit entry (a shell, a data fix) still moves the version."""
    reader.get("/sites/")
    Site.objects.filter(pk=fleet.sites["cork"].pk).get().delete()
    assert "Alpha Cork" not in reader.get("/sites/").content.decode()


def test_the_htmx_swap_and_the_full_page_share_one_rendering(fleet: Any, reader: Client) -> None:
    """The fragment an htmx filter change receives is the results block of the full page."""
    full = reader.get("/sites/?modality=mab").content.decode()
    swap = reader.get("/sites/?modality=mab", headers={"HX-Request": "true"}).content.decode()
    assert swap.strip() in full
    assert "<html" not in swap
