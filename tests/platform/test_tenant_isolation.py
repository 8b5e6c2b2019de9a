"""Every registered route × every role × own, foreign and missing object."""

from __future__ import annotations

from typing import Any

import pytest

from opencdmo.accounts.roles import ROLES_BY_KIND
from tests.platform.routes import MISSING_ID, ROUTES, Relation, Route

ORGANISATIONS = {
    "alpha-bio": "cdmo",
    "beta-pharma": "cdmo",
    "sponsor-one": "sponsor",
    "platform": "platform",
}
RELATIONS: tuple[Relation, ...] = ("own", "foreign", "missing")
CALLERS = [(slug, role) for slug, kind in ORGANISATIONS.items() for role in ROLES_BY_KIND[kind]]


def _target(route: Route, world: Any, caller_org: str, relation: Relation) -> Any:
    objects = route.objects(world)
    if relation == "missing":
        return MISSING_ID
    if relation == "own":
        return route.key(objects[caller_org]) if caller_org in objects else None
    foreign = [obj for slug, obj in sorted(objects.items()) if slug != caller_org]
    return route.key(foreign[0])


@pytest.mark.parametrize(("org", "role"), CALLERS, ids=[f"{o}/{r}" for o, r in CALLERS])
@pytest.mark.parametrize("route", ROUTES, ids=[r.name for r in ROUTES])
def test_route_answers_like_missing_for_foreign_objects(
    route: Route, org: str, role: str, world: Any, client_for: Any
) -> None:
    """Own objects answer by role; foreign objects of owner-only routes answer exactly like missing ones."""
    user = world.user(org, role)
    client = client_for(user)
    send = getattr(client, route.method)
    bodies: dict[str, bytes] = {}
    for relation in RELATIONS:
        key = _target(route, world, org, relation)
        if key is None:
            continue
        response = send(route.url(key), route.data or {})
        assert response.status_code == route.expected_status(user.permissions, relation), (
            f"{route.name} as {org}/{role} on {relation} object"
        )
        bodies[relation] = response.content
        if route.front == "api" and response.status_code == 404:
            assert response.json() == {"detail": "Not found."}
    if route.expected_status(user.permissions, "foreign") == 404 and route.front == "api":
        assert bodies["foreign"] == bodies["missing"]


@pytest.mark.parametrize("route", ROUTES, ids=[r.name for r in ROUTES])
def test_route_requires_sign_in(route: Route, world: Any, client: Any) -> None:
    """Anonymous callers see nothing: pages redirect to login, the API answers 401."""
    key = route.key(next(iter(route.objects(world).values())))
    response = getattr(client, route.method)(route.url(key), route.data or {})
    if route.front == "api":
        assert response.status_code == 401
        assert "detail" in response.json()
    else:
        assert response.status_code == 302
        assert response["Location"].startswith("/login/")
