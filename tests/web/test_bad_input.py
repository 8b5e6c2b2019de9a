"""Malformed addresses, filters, ids and tokens get a clear answer, never a server error."""

from __future__ import annotations

from typing import Any

import pytest

HUGE = "9" * 30

PAGES = [
    "/sites/?min_volume_l=abc&min_total_volume_l=-4&modality=zzz&agency=XX&sort=bogus&page=-1",
    "/sites/?country=%00&q=%ff%fe&page=999999",
    f"/sites/{HUGE}/",
    f"/suites/{HUGE}/edit/",
    f"/equipment/{HUGE}/edit/",
    f"/organisations/{'x' * 300}/",
    "/audit/?since=yesterday&until=2024-13-45&page=abc",
    f"/account/tokens/{HUGE}/revoke/",
]
API = [
    "/api/v1/sites?limit=-5&offset=abc",
    "/api/v1/sites?min_volume_l=lots&modality=zzz&sort=bogus",
    f"/api/v1/sites/{HUGE}",
    "/api/v1/sites/abc",
    f"/api/v1/sites/{HUGE}/private",
    "/api/v1/organisations/%00",
]


@pytest.mark.parametrize("url", PAGES)
def test_pages_never_fail(world: Any, client_for: Any, url: str) -> None:
    """Every malformed page request answers below 500."""
    client = client_for(world.user("alpha-bio", "cdmo_admin"))
    response = client.post(url) if "revoke" in url else client.get(url)
    assert response.status_code < 500


@pytest.mark.parametrize("url", API)
def test_api_never_fails_and_explains(world: Any, client_for: Any, url: str) -> None:
    """Every malformed API request answers below 500 with a JSON ``detail``."""
    response = client_for(world.user("alpha-bio", "cdmo_admin")).get(url)
    assert 400 <= response.status_code < 500
    assert response.json()["detail"]


def test_malformed_json_body_is_explained(world: Any, client_for: Any) -> None:
    """A broken JSON body is a 4xx with a message."""
    suite = world.suites["alpha-bio"]
    response = client_for(world.user("alpha-bio", "cdmo_admin")).patch(
        f"/api/v1/suites/{suite.pk}", data="{not json", content_type="application/json"
    )
    assert 400 <= response.status_code < 500
    assert response.json()["detail"]


def test_nul_in_a_form_is_refused_before_it_reaches_a_view(world: Any, client_for: Any) -> None:
    """A NUL byte in a posted field is answered 400 with the reason; nothing is saved."""
    client = client_for(world.user("alpha-bio", "cdmo_admin"))
    response = client.post("/account/tokens/", {"name": "bad\x00name"})
    assert response.status_code == 400
    assert b"NUL character" in response.content


@pytest.mark.parametrize("url", ["/sites/?q=%00", "/sites/%00/", "/sites/?q%00=1"])
def test_nul_in_the_address_answers_the_apps_400_page(
    world: Any, client_for: Any, url: str
) -> None:
    """A NUL in the path or query gets the 400 page in the signed-in user's own layout."""
    response = client_for(world.user("alpha-bio", "cdmo_admin")).get(url)
    html = response.content.decode()
    assert response.status_code == 400
    assert response["Content-Type"].startswith("text/html")
    assert 'data-testid="error-page"' in html
    assert "NUL character" in html
    assert 'data-testid="nav"' in html
    assert 'data-testid="whoami"' in html


@pytest.mark.parametrize("url", ["/api/v1/sites?q=%00", "/api/v1/sites/%00"])
def test_nul_in_an_api_address_answers_json_400(world: Any, client_for: Any, url: str) -> None:
    """Under /api/ the same refusal is JSON with the reason."""
    response = client_for(world.user("alpha-bio", "cdmo_admin")).get(url)
    assert response.status_code == 400
    assert response["Content-Type"] == "application/json"
    assert "NUL character" in response.json()["detail"]
