"""Organisation pages and bad form input."""

from __future__ import annotations

from typing import Any

from opencdmo.accounts.models import ApiToken


def test_empty_token_name_is_refused_with_a_message(world: Any, client_for: Any) -> None:
    """A blank name re-shows the form with the reason and creates nothing."""
    user = world.user("sponsor-one", "sponsor_manager")
    response = client_for(user).post("/account/tokens/", {"name": "   ", "scope": "read"})
    assert response.status_code == 400
    assert b"This field is required" in response.content
    assert not ApiToken.objects.with_scopes_disabled().filter(user=user).exists()


def test_members_listed_only_for_own_organisation(world: Any, client_for: Any) -> None:
    """Sponsors see a CDMO's profile and sites but not its people."""
    alpha = world.orgs["alpha-bio"]
    own = client_for(world.user("alpha-bio", "cdmo_admin")).get(f"/organisations/{alpha.slug}/")
    other = client_for(world.user("sponsor-one", "sponsor_viewer")).get(
        f"/organisations/{alpha.slug}/"
    )
    assert b"alpha-bio-cdmo_qa" in own.content
    assert b"alpha-bio-cdmo_qa" not in other.content
    assert world.sites["alpha-bio"].name.encode() in other.content


def test_unknown_api_path_answers_json_404(world: Any, client_for: Any) -> None:
    """Even paths the API does not know answer in JSON."""
    response = client_for(world.user("sponsor-one", "sponsor_viewer")).get("/api/v1/no-such-thing")
    assert response.status_code == 404
    assert response.json() == {"detail": "Not found."}


def test_api_docs_are_served_without_a_cdn(world: Any, client_for: Any) -> None:
    """The OpenAPI page and schema load from this server only, so firewalled sites can use them."""
    client = client_for(world.user("sponsor-one", "sponsor_viewer"))
    docs = client.get("/api/v1/docs")
    assert docs.status_code == 200
    assert b"cdn." not in docs.content
    assert b"/static/ninja/swagger-ui-bundle.js" in docs.content
    schema = client.get("/api/v1/openapi.json").json()
    assert {"/api/v1/me", "/api/v1/sites", "/api/v1/sites/{site_id}"} <= set(schema["paths"])


def test_organisation_list_counts_sites_in_one_query(
    world: Any, client_for: Any, django_assert_max_num_queries: Any
) -> None:
    """The list does not query once per organisation."""
    client = client_for(world.user("sponsor-one", "sponsor_viewer"))
    with django_assert_max_num_queries(8):
        response = client.get("/organisations/")
    assert b"Alpha Bio" in response.content
