"""Directory, site profile and suite editor pages as users of each kind see them."""

from __future__ import annotations

from typing import Any

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django_scopes import scopes_disabled

from opencdmo.audit.models import AuditEntry
from opencdmo.network import services, views
from opencdmo.network.models import Suite


def suite_post(**overrides: Any) -> dict[str, Any]:
    data = {
        "name": "USP 1",
        "kind": "upstream",
        "gmp_grade": "B",
        "status": "operational",
        "modalities": ["mab", "bispecific"],
        "reason": "Room reclassified after HVAC upgrade",
    }
    return {**data, **overrides}


def table(response: Any) -> str:
    """The results table and pager, without the map (which plots every match)."""
    return response.content.decode().split('data-testid="site-table"')[1]


def suite_entries() -> list[AuditEntry]:
    with scopes_disabled():
        return list(AuditEntry.objects.filter(action__startswith="opencdmo.suite."))


def test_directory_lists_sites_with_capabilities_and_map(fleet: Any, client_for: Any) -> None:
    response = client_for(fleet.user("sponsor-one", "sponsor_manager")).get("/sites/")
    assert response.status_code == 200
    html = response.content.decode()
    assert "4 sites" in html
    assert "Beta Singapore" in html
    assert "8,000 L" in html
    assert "15,000 L" in html
    assert "Official action indicated" in html
    assert html.count('class="site-dot"') == 4
    assert '<svg class="worldmap"' in html


def test_sponsor_home_leads_to_the_site_directory(fleet: Any, client_for: Any) -> None:
    """A sponsor's home page offers the site search, which answers on the directory."""
    response = client_for(fleet.user("sponsor-one", "sponsor_viewer")).get("/")
    assert response.status_code == 200
    assert 'action="/sites/"' in response.content.decode()


def test_directory_filters_combine_and_update_map(fleet: Any, client_for: Any) -> None:
    """The sponsor's search: mAb, a ≥ 2,000 L bioreactor, FDA approval."""
    client = client_for(fleet.user("sponsor-one", "sponsor_manager"))
    response = client.get("/sites/", {"modality": "mab", "min_volume_l": "2000", "agency": "FDA"})
    html = response.content.decode()
    assert "2 sites" in html
    assert "Alpha Bio Boston" in html
    assert "Beta Singapore" in html
    assert "Beta Pharma Munich" not in html
    assert "Alpha Cork" not in html
    assert html.count('class="site-dot"') == 2


def test_htmx_request_gets_only_the_results(fleet: Any, client_for: Any) -> None:
    client = client_for(fleet.user("sponsor-one", "sponsor_manager"))
    response = client.get("/sites/", {"region": "europe"}, headers={"HX-Request": "true"})
    html = response.content.decode()
    assert html.lstrip().startswith('<div id="results"')
    assert "<html" not in html
    assert "2 sites" in html
    assert "HX-Request" in response["Vary"]


@pytest.mark.parametrize(
    ("params", "message"),
    [
        ({"min_volume_l": "abc"}, "Min. single bioreactor (L): Enter a number."),
        ({"modality": "unicorn"}, "Modality: Select a valid choice."),
        ({"min_total_volume_l": "-5"}, "Min. total bioreactor volume (L):"),
        ({"country": "Germany"}, "Country (ISO code):"),
        ({"sort": "price"}, "Sort by: Select a valid choice."),
        ({"min_volume_l": "1e309"}, "Min. single bioreactor (L): Enter a number."),
        ({"page": "abc"}, None),
        ({"page": "99999999999999999999999"}, None),
    ],
)
def test_malformed_filters_get_a_message_not_an_error(
    fleet: Any, client_for: Any, params: dict, message: str | None
) -> None:
    """Bad filter values are named on the page and ignored; the rest of the page works."""
    response = client_for(fleet.user("sponsor-one", "sponsor_manager")).get("/sites/", params)
    assert response.status_code == 200
    html = response.content.decode()
    assert "4 sites" in html
    if message:
        assert message in html
        assert "This filter was ignored." in html
    else:
        assert "This filter was ignored." not in html


def test_directory_paginates_and_keeps_filters(
    fleet: Any, client_for: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(views, "PAGE_SIZE", 2)
    client = client_for(fleet.user("sponsor-one", "sponsor_manager"))
    first = table(client.get("/sites/", {"sort": "-total_volume"}))
    assert "Page 1 of 2" in first
    assert "Beta Pharma Munich" in first
    assert "Beta Singapore" in first
    assert "Alpha Cork" not in first
    assert "sort=-total_volume&amp;page=2" in first
    second = table(client.get("/sites/", {"sort": "-total_volume", "page": "2"}))
    assert "Alpha Bio Boston" in second
    assert "Alpha Cork" in second
    assert "Beta Singapore" not in second


def test_region_counts_are_shown(fleet: Any, client_for: Any) -> None:
    html = client_for(fleet.user("sponsor-one", "sponsor_manager")).get("/sites/").content.decode()
    assert "<dt>Europe</dt><dd>2</dd>" in html
    assert "<dt>Asia</dt><dd>1</dd>" in html
    assert '<dt class="none">Oceania</dt><dd class="none">0</dd>' in html


@pytest.mark.parametrize("url", ["/sites/99999999999999999999999/", "/suites/99999999999/edit/"])
def test_huge_ids_are_missing_not_errors(world: Any, client_for: Any, url: str) -> None:
    assert client_for(world.user("alpha-bio", "cdmo_admin")).get(url).status_code == 404


def test_site_page_shows_suites_equipment_approvals_and_timeline(
    fleet: Any, client_for: Any
) -> None:
    site = fleet.sites["singapore"]
    html = client_for(fleet.user("sponsor-one", "sponsor_qa")).get(f"/sites/{site.pk}/").content
    text = html.decode()
    for expected in [
        "USP A",
        "SUB-3",
        "Single-use bioreactor",
        "Bispecific antibody",
        "8,000 L",
        "PMDA",
        "mAb DS",
        "2025-02-01",
        "Official action indicated",
        "4 observations",
        "Inspection history",
    ]:
        assert expected in text, expected
    assert "Edit suite" not in text
    assert 'data-testid="private-profile"' not in text


def test_private_profile_only_for_owner_roles(world: Any, client_for: Any) -> None:
    """The owner's entitled roles see the private profile; sponsors and competitors never."""
    site = world.sites["alpha-bio"]
    url = f"/sites/{site.pk}/"
    owner = client_for(world.user("alpha-bio", "cdmo_qa")).get(url).content.decode()
    assert "secret of alpha-bio" in owner
    for org, role in [
        ("beta-pharma", "cdmo_admin"),
        ("sponsor-one", "sponsor_manager"),
        ("platform", "platform_admin"),
    ]:
        html = client_for(world.user(org, role)).get(url).content.decode()
        assert "secret of" not in html, (org, role)
        assert "Private to" not in html


def test_edit_link_only_for_owner_editors(world: Any, client_for: Any) -> None:
    url = f"/sites/{world.sites['alpha-bio'].pk}/"
    assert (
        "Edit suite"
        in client_for(world.user("alpha-bio", "cdmo_planner")).get(url).content.decode()
    )
    assert (
        "Edit suite" not in client_for(world.user("alpha-bio", "cdmo_qa")).get(url).content.decode()
    )
    assert (
        "Edit suite"
        not in client_for(world.user("beta-pharma", "cdmo_admin")).get(url).content.decode()
    )


def test_suite_edit_form_shows_current_values(world: Any, client_for: Any) -> None:
    suite = world.suites["alpha-bio"]
    html = (
        client_for(world.user("alpha-bio", "cdmo_admin"))
        .get(f"/suites/{suite.pk}/edit/")
        .content.decode()
    )
    assert 'value="USP 1"' in html
    assert 'value="mab" id="id_modalities_0" checked' in html
    assert "Reason for change" in html


def test_suite_edit_saves_and_audits(world: Any, client_for: Any) -> None:
    suite = world.suites["alpha-bio"]
    client = client_for(world.user("alpha-bio", "cdmo_admin"))
    response = client.post(f"/suites/{suite.pk}/edit/", suite_post(), follow=True)
    assert response.redirect_chain == [(f"/sites/{suite.site_id}/", 302)]
    assert "Suite USP 1 saved." in response.content.decode()
    suite.refresh_from_db()
    assert (suite.gmp_grade, suite.modalities) == ("B", ["bispecific", "mab"])
    [entry] = suite_entries()
    assert entry.reason == "Room reclassified after HVAC upgrade"
    assert entry.before == {"gmp_grade": "C", "modalities": ["mab"]}


def test_suite_edit_without_reason_shows_error_and_changes_nothing(
    world: Any, client_for: Any
) -> None:
    suite = world.suites["alpha-bio"]
    client = client_for(world.user("alpha-bio", "cdmo_admin"))
    response = client.post(f"/suites/{suite.pk}/edit/", suite_post(reason="  "))
    assert response.status_code == 200
    assert "This field is required." in response.content.decode()
    assert Suite.objects.get(pk=suite.pk).gmp_grade == "C"
    assert suite_entries() == []


def test_suite_edit_reports_service_rejections_on_the_field(world: Any, client_for: Any) -> None:
    """A name clash found by the service is shown on the form, nothing is saved."""
    suite = world.suites["alpha-bio"]
    Suite.objects.create(site=suite.site, name="DSP 1", kind="downstream", gmp_grade="C")
    client = client_for(world.user("alpha-bio", "cdmo_admin"))
    response = client.post(f"/suites/{suite.pk}/edit/", suite_post(name="DSP 1"))
    assert response.status_code == 200
    assert "already exists" in response.content.decode()
    assert suite_entries() == []


def test_suite_edit_with_bad_choice_is_rejected(world: Any, client_for: Any) -> None:
    suite = world.suites["alpha-bio"]
    client = client_for(world.user("alpha-bio", "cdmo_admin"))
    response = client.post(f"/suites/{suite.pk}/edit/", suite_post(gmp_grade="Z", modalities=["x"]))
    assert response.status_code == 200
    assert response.content.decode().count("Select a valid choice") == 2
    assert suite_entries() == []


def test_suite_edit_without_changes_records_nothing(world: Any, client_for: Any) -> None:
    suite = world.suites["alpha-bio"]
    client = client_for(world.user("alpha-bio", "cdmo_admin"))
    response = client.post(
        f"/suites/{suite.pk}/edit/", suite_post(gmp_grade="C", modalities=["mab"]), follow=True
    )
    assert "Nothing changed" in response.content.decode()
    assert suite_entries() == []


def test_htmx_history_gets_only_the_filters_that_were_set(fleet: Any, client_for: Any) -> None:
    """Empty form fields stay out of the address bar and the pager links."""
    client = client_for(fleet.user("sponsor-one", "sponsor_manager"))
    params = {"q": "", "modality": "mab", "min_volume_l": "", "region": "", "page": "1"}
    response = client.get("/sites/", params, headers={"HX-Request": "true"})
    assert response["HX-Push-Url"] == "/sites/?modality=mab"


def test_directory_queries_do_not_grow_with_the_number_of_sites(
    fleet: Any, client_for: Any
) -> None:
    """Capabilities for a page of sites cost a fixed number of queries, not one per site."""
    client = client_for(fleet.user("sponsor-one", "sponsor_manager"))
    with CaptureQueriesContext(connection) as few:
        client.get("/sites/")
    for n in range(3):
        site = services.create_site(
            actor=None,
            owner=fleet.orgs["alpha-bio"],
            reason="More",
            code=f"x{n}",
            name=f"Extra {n}",
            country="JP",
            region="asia",
            city="Osaka",
            latitude=34.7,
            longitude=135.5,
        )
        suite = services.create_suite(
            actor=None,
            site=site,
            reason="More",
            modalities=["mab"],
            name="USP",
            kind="upstream",
            gmp_grade="C",
        )
        services.create_equipment(
            actor=None,
            suite=suite,
            reason="More",
            tag="B",
            kind="bioreactor_su",
            working_volume_l=500,
        )
    with CaptureQueriesContext(connection) as more:
        assert "7 sites" in client.get("/sites/").content.decode()
    assert len(more) == len(few)


def test_equipment_edit_changes_capabilities(world: Any, client_for: Any) -> None:
    """Re-rating a bioreactor changes the site's derived maximum volume at once."""
    eq = world.equipment["alpha-bio"]
    client = client_for(world.user("alpha-bio", "cdmo_msat"))
    form = client.get(f"/equipment/{eq.pk}/edit/").content.decode()
    assert 'value="2000.0"' in form
    data = {
        "tag": "BR-1",
        "kind": "bioreactor_su",
        "working_volume_l": "3000",
        "reason": "Re-rated",
    }
    page = client.post(f"/equipment/{eq.pk}/edit/", data, follow=True).content.decode()
    assert "Largest single bioreactor</dt><dd>3,000 L" in page
    with scopes_disabled():
        [entry] = AuditEntry.objects.filter(action="opencdmo.equipment.changed")
    assert (entry.before, entry.after) == (
        {"working_volume_l": 2000.0},
        {"working_volume_l": 3000.0},
    )


def test_equipment_edit_shows_the_services_rule(world: Any, client_for: Any) -> None:
    """A bioreactor without a volume is refused on the field, with the service's words."""
    eq = world.equipment["alpha-bio"]
    client = client_for(world.user("alpha-bio", "cdmo_admin"))
    data = {"tag": "BR-1", "kind": "bioreactor_su", "working_volume_l": "", "reason": "Oops"}
    response = client.post(f"/equipment/{eq.pk}/edit/", data)
    html = response.content.decode()
    assert "A bioreactor needs its working volume in L." in html
    assert "Nothing was saved" in html


def test_private_profile_edit_by_owner(world: Any, client_for: Any) -> None:
    site = world.sites["alpha-bio"]
    client = client_for(world.user("alpha-bio", "cdmo_admin"))
    data = {"indicative_batch_price_usd": "720000", "key_contact": "Ana", "reason": "New rates"}
    page = client.post(f"/sites/{site.pk}/private/edit/", data, follow=True).content.decode()
    assert "USD 720,000" in page
    assert "secret of alpha-bio" not in page
