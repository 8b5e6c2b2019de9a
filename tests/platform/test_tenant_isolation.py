"""Every route with an object id × every role of four organisations × own, shared, foreign and
missing objects, plus anonymous callers; expectations derive from the tenancy declarations."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client

from opencdmo.accounts.roles import ROLES_BY_KIND
from tests.platform.routes import (
    NOT_TENANT_OBJECTS,
    OPERATIONS,
    ORGANISATIONS,
    PAGES,
    RELATIONS,
    SERVED,
    Route,
    api_operations_with_ids,
    routes,
    target,
    url_patterns_with_ids,
)

KINDS = {
    "alpha-bio": "cdmo",
    "beta-pharma": "cdmo",
    "sponsor-one": "sponsor",
    "sponsor-two": "sponsor",
}
CALLERS = [(slug, role) for slug in ORGANISATIONS for role in ROLES_BY_KIND[KINDS[slug]]]
ROUTES = routes()


def _send(client: Client, route: Route, key: Any) -> Any:
    data = dict(route.serves.data)
    if route.front == "api" and route.method != "get":
        return getattr(client, route.method)(route.url(key), data, content_type="application/json")
    return getattr(client, route.method)(route.url(key), data)


def _answer(route: Route, response: Any) -> int | str:
    """A write that reached its object counts as served, whatever its form made of the data."""
    if route.method != "get" and response.status_code in (200, 201, 202, 302, 400):
        return SERVED
    return response.status_code


def test_matrix_covers_every_route() -> None:
    """A URL pattern or API operation with an id that the matrix does not serve fails here."""
    pages = set(url_patterns_with_ids()) - set(NOT_TENANT_OBJECTS)
    operations = set(api_operations_with_ids())
    assert sorted(pages - set(PAGES)) == [], "pages with an id missing from routes.PAGES"
    assert sorted(operations - set(OPERATIONS)) == [], "operations missing from OPERATIONS"
    assert sorted(set(PAGES) - pages) == [], "PAGES names a route that no longer exists"
    assert sorted(set(OPERATIONS) - operations) == [], "OPERATIONS names a gone operation"


def test_matrix_includes_the_shared_record_routes() -> None:
    """The sponsor-reads-CDMO-record path is exercised on a page and in the API."""
    names = {route.name for route in ROUTES}
    assert {"shared_records:record", "GET /api/v1/shared-records/{record_id}"} <= names


@pytest.mark.parametrize(("org", "role"), CALLERS, ids=[f"{o}/{r}" for o, r in CALLERS])
@pytest.mark.parametrize("route", ROUTES, ids=[r.id for r in ROUTES])
def test_route_answers_by_declaration(
    route: Route, org: str, role: str, platform_world: Any, db: Any
) -> None:
    """Own and shared objects answer by role; others' answer exactly like missing ones."""
    user = platform_world.user(org, role)
    client = Client()
    client.force_login(user)
    bodies: dict[str, bytes] = {}
    for relation in RELATIONS:
        key = target(route, platform_world, user, relation)
        if key is None:
            continue
        response = _send(client, route, key)
        expected = route.expected(user, relation)
        assert _answer(route, response) == expected, (
            f"{route.id} as {org}/{role} on a {relation} object: {response.status_code}"
        )
        bodies[relation] = response.content
        if route.front == "api" and response.status_code == 404:
            assert response.json() == {"detail": "Not found."}
    if route.front == "api" and route.expected(user, "foreign") == 404 and "foreign" in bodies:
        assert bodies["foreign"] == bodies["missing"]


@pytest.mark.parametrize("route", ROUTES, ids=[r.id for r in ROUTES])
def test_route_requires_sign_in(route: Route, platform_world: Any, db: Any) -> None:
    """Anonymous callers see nothing: pages redirect to login, the API answers 401."""
    owner = platform_world.user("alpha-bio", "cdmo_admin")
    key = target(route, platform_world, owner, "own") or target(
        route, platform_world, owner, "foreign"
    )
    response = _send(Client(), route, key)
    if route.front == "api":
        assert response.status_code == 401
        assert "detail" in response.json()
    else:
        assert response.status_code == 302
        assert response["Location"].startswith("/login/")
