"""The application shell: navigation per role, the home page per role, error pages, the admin."""

from __future__ import annotations

import re
from typing import Any

import pytest
from django.test import Client, RequestFactory

from opencdmo.web import views
from opencdmo.web.home import HOME_PANELS
from opencdmo.web.navigation import navigation_for


def _nav_labels(user: Any, path: str = "/") -> dict[str, list[str]]:
    return {g.label: [i.label for i in g.items] for g in navigation_for(user, path)}


def test_groups_appear_only_when_the_role_has_something_in_them(world: Any) -> None:
    """A sponsor viewer sees no Quality or Admin group; QA sees Quality; admins see Admin;
    planning shows each side its own pages."""
    viewer = _nav_labels(world.user("sponsor-one", "sponsor_viewer"))
    assert set(viewer) == {"Network", "Planning", "Manufacturing", "Data"}
    assert viewer["Manufacturing"] == ["Batches", "Monitoring"]
    msat = _nav_labels(world.user("alpha-bio", "cdmo_msat"))
    assert msat["Manufacturing"] == ["Batches", "Monitoring", "OPC UA connections"]
    assert viewer["Planning"] == ["Projects"]
    manager = _nav_labels(world.user("sponsor-one", "sponsor_manager"))
    assert manager["Planning"] == ["Capacity requests", "Projects"]
    planner = _nav_labels(world.user("alpha-bio", "cdmo_planner"))
    assert planner["Planning"] == [
        "Requests for your sites",
        "Site plans",
        "Network campaigns",
        "Projects",
    ]
    assert "Planning" not in _nav_labels(world.user("platform", "platform_admin"))
    assert "Import" not in viewer["Data"]
    qa = _nav_labels(world.user("alpha-bio", "cdmo_qa"))
    assert qa["Quality"] == ["Audit trail", "Deviations and CAPA", "Quality agreements"]
    assert _nav_labels(world.user("sponsor-one", "sponsor_qa"))["Quality"] == qa["Quality"]
    admin = _nav_labels(world.user("alpha-bio", "cdmo_admin"))
    assert admin["Admin"] == ["Users"]
    assert "Import" in admin["Data"]
    platform = _nav_labels(world.user("platform", "platform_admin"))
    assert platform["Admin"] == ["Users", "Master data (Django admin)"]


def test_current_section_is_the_longest_matching_prefix(world: Any) -> None:
    """/sites/import/ marks Import, not the Site directory, although both prefixes match."""
    groups = navigation_for(world.user("alpha-bio", "cdmo_admin"), "/sites/import/")
    current = [(g.label, i.label) for g in groups for i in g.items if i.current]
    assert current == [("Data", "Import")]
    assert [g.label for g in groups if g.current] == ["Data"]


def test_page_marks_its_section_for_assistive_technology(world: Any, client_for: Any) -> None:
    html = client_for(world.user("sponsor-one", "sponsor_manager")).get("/sites/").content.decode()
    assert re.search(r'<a href="/sites/" aria-current="page"[^>]*>Site directory', html)
    assert 'aria-controls="nav-network"' in html
    assert "data-menu-toggle" in html


def test_every_navigation_link_answers(world: Any, client_for: Any) -> None:
    """No role is offered a section that 404s or forbids it."""
    for user in world.users.values():
        client = client_for(user)
        for group in navigation_for(user, "/"):
            for item in group.items:
                assert client.get(item.url).status_code == 200, (user.username, item.url)


def test_login_lands_on_the_home_page(world: Any) -> None:
    from tests.conftest import PASSWORD

    user = world.user("sponsor-one", "sponsor_manager")
    response = Client().post("/login/", {"username": user.username, "password": PASSWORD})
    assert response.status_code == 302
    assert response["Location"] == "/"


def test_every_role_has_a_home_page(world: Any, client_for: Any) -> None:
    """Each role of the fixture world gets its panels, and the table covers every role."""
    assert set(HOME_PANELS) == {user.role for user in world.users.values()}
    for user in world.users.values():
        response = client_for(user).get("/")
        assert response.status_code == 200, user.username
        assert 'data-testid="panel-' in response.content.decode()


def test_sponsor_manager_home_searches_sites_and_lists_inspections(
    world: Any, client_for: Any
) -> None:
    html = client_for(world.user("sponsor-one", "sponsor_manager")).get("/").content.decode()
    assert '<form method="get" action="/sites/"' in html
    assert 'name="q"' in html
    assert world.sites["beta-pharma"].name in html
    assert 'data-testid="home-requests"' in html


def test_planner_home_shows_own_suites_with_equipment_counts_and_edit_links(
    world: Any, client_for: Any
) -> None:
    """Alpha's planner sees Alpha's suite with its one piece of equipment, not Beta's site."""
    html = client_for(world.user("alpha-bio", "cdmo_planner")).get("/").content.decode()
    suite = world.suites["alpha-bio"]
    assert world.sites["alpha-bio"].name in html
    assert world.sites["beta-pharma"].name not in html
    assert f'href="/suites/{suite.pk}/edit/"' in html
    assert f'href="/suites/{world.suites["beta-pharma"].pk}/edit/"' not in html
    assert re.search(r'<td class="num">1</td>', html)
    assert 'data-testid="home-options"' in html


def test_operator_home_has_no_edit_links(world: Any, client_for: Any) -> None:
    html = client_for(world.user("alpha-bio", "cdmo_operator")).get("/").content.decode()
    assert world.sites["alpha-bio"].name in html
    assert "/edit/" not in html


def test_qa_home_lists_own_audit_entries_only(world: Any, client_for: Any) -> None:
    """Alpha's QA sees the login of Alpha's planner, not Beta's."""
    from tests.conftest import PASSWORD

    for slug in ("alpha-bio", "beta-pharma"):
        user = world.user(slug, "cdmo_planner")
        Client().post("/login/", {"username": user.username, "password": PASSWORD})
    html = client_for(world.user("alpha-bio", "cdmo_qa")).get("/").content.decode()
    assert "opencdmo.user.logged_in" in html
    assert str(world.user("alpha-bio", "cdmo_planner")) in html
    assert "beta-pharma-cdmo_planner" not in html
    assert 'href="/audit/"' in html


def test_admin_home_counts_users_and_links_imports_and_tokens(world: Any, client_for: Any) -> None:
    html = client_for(world.user("alpha-bio", "cdmo_admin")).get("/").content.decode()
    assert 'href="/users/invite/"' in html
    assert 'href="/sites/import/"' in html
    assert 'href="/account/tokens/"' in html
    assert "Beta Pharma" not in html


def test_planning_homes_link_what_each_side_acts_on(world: Any, client_for: Any) -> None:
    """A sponsor's manager asks for capacity; a CDMO planner opens its site plans."""
    sponsor = client_for(world.user("sponsor-one", "sponsor_manager")).get("/").content.decode()
    assert 'href="/requests/new/"' in sponsor
    assert 'data-testid="home-projects"' in sponsor
    planner = client_for(world.user("alpha-bio", "cdmo_planner")).get("/").content.decode()
    assert 'data-testid="home-plans"' in planner
    assert 'data-testid="home-options"' in planner
    viewer = client_for(world.user("sponsor-one", "sponsor_viewer")).get("/").content.decode()
    assert 'href="/requests/new/"' not in viewer


def test_404_page_is_in_the_layout_with_ways_back(world: Any, client_for: Any) -> None:
    response = client_for(world.user("sponsor-one", "sponsor_viewer")).get("/no/such/page/")
    html = response.content.decode()
    assert response.status_code == 404
    assert 'data-testid="nav"' in html
    assert 'href="/"' in html
    assert "data-back" in html


def test_403_page_is_in_the_layout_and_says_who_you_are(world: Any, client_for: Any) -> None:
    response = client_for(world.user("alpha-bio", "cdmo_planner")).get("/sites/import/")
    html = response.content.decode()
    assert response.status_code == 403
    assert 'data-testid="nav"' in html
    assert "Planner" in html
    assert "data-back" in html


def test_500_page_is_html_in_the_layout_and_json_under_the_api() -> None:
    factory = RequestFactory()
    page = views.server_error(factory.get("/sites/"))
    assert page.status_code == 500
    assert b'class="logo"' in page.content
    assert b'href="/"' in page.content
    api = views.server_error(factory.get("/api/v1/sites"))
    assert api.status_code == 500
    assert api["Content-Type"] == "application/json"


def test_403_under_the_api_is_json() -> None:
    response = views.permission_denied(RequestFactory().get("/api/v1/x"), Exception("no"))
    assert response.status_code == 403
    assert response["Content-Type"] == "application/json"


@pytest.mark.parametrize("path", ["/admin/", "/admin/network/site/", "/admin/login/"])
def test_admin_sends_anonymous_visitors_to_the_apps_login(db: Any, path: str) -> None:
    response = Client().get(path)
    assert response.status_code == 302
    assert response["Location"].startswith("/login/?next=")


@pytest.mark.parametrize("role", ["cdmo_admin", "cdmo_planner"])
def test_admin_answers_signed_in_non_administrators_with_the_apps_403(
    world: Any, client_for: Any, role: str
) -> None:
    response = client_for(world.user("alpha-bio", role)).get("/admin/")
    assert response.status_code == 403
    assert b'data-testid="nav"' in response.content
    assert b"Django administration" not in response.content


def test_admin_still_serves_the_platform_administrator(world: Any, client_for: Any) -> None:
    assert client_for(world.user("platform", "platform_admin")).get("/admin/").status_code == 200


def test_api_docs_link_back_to_the_app_without_a_cdn(world: Any, client_for: Any) -> None:
    html = (
        client_for(world.user("sponsor-one", "sponsor_viewer")).get("/api/v1/docs").content.decode()
    )
    assert 'data-testid="back-to-app"' in html
    assert "/static/ninja/swagger-ui-bundle.js" in html
    assert not re.search(r'(src|href)="(https?:)?//', html)


def test_new_token_is_shown_once_with_a_copy_button(world: Any, client_for: Any) -> None:
    client = client_for(world.user("sponsor-one", "sponsor_manager"))
    created = client.post("/account/tokens/", {"name": "MES"}).content.decode()
    assert 'data-copy="new-token"' in created
    assert re.search(r'id="new-token"[^>]*>ocd_', created)
    assert 'data-copy="new-token"' not in client.get("/account/tokens/").content.decode()


def test_admin_home_leaves_out_expired_tokens(world: Any, client_for: Any) -> None:
    import datetime as dt

    from django.utils import timezone

    from opencdmo.accounts.models import ApiToken

    admin = world.user("alpha-bio", "cdmo_admin")
    ApiToken.objects.create(
        user=admin,
        name="old feed",
        prefix="oldfeed1",
        digest="1" * 64,
        expires_at=timezone.now() - dt.timedelta(days=1),
    )
    ApiToken.objects.create(user=admin, name="live feed", prefix="livefee1", digest="2" * 64)
    html = client_for(admin).get("/").content.decode()
    assert "live feed" in html
    assert "old feed" not in html
