"""Property-based fuzzing of every ``/api/v1/`` operation against its own OpenAPI schema.

Schemathesis generates valid and invalid requests from the published schema and sends them to
the WSGI application in-process, inside the test's transaction, so writes never outlive a
test. Each answer must be no server error, carry a documented status code and content type,
and have a body that matches the schema declared for that status.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from typing import Any

import pytest
import schemathesis
from django.core.signals import request_finished, request_started
from django.core.wsgi import get_wsgi_application
from django.db import close_old_connections
from hypothesis import HealthCheck, settings
from schemathesis.checks import not_a_server_error
from schemathesis.config import SchemathesisConfig
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

# The coverage phase sends hundreds of boundary and unexpected-method cases per operation;
# the bounded fuzzing phase below finds the same classes of failure in a fraction of the time.
CONFIG = SchemathesisConfig.from_dict({"phases": {"coverage": {"enabled": False}}})
# The test settings add fixture routers (tagged "(test fixture)") that are not the product's.
FIXTURE_TAG = r"\(test fixture\)"


def _inside_the_test_transaction(app: Callable[..., Iterable[bytes]]) -> Callable[..., list[bytes]]:
    """The WSGI application as Django's test client runs it: no connection closing per request.

    A request ends by closing a connection that is not in autocommit; inside the test's
    transaction on PostgreSQL that would close the test's own connection under it.
    """

    def application(environ: dict[str, Any], start_response: Callable[..., Any]) -> list[bytes]:
        request_started.disconnect(close_old_connections)
        request_finished.disconnect(close_old_connections)
        try:
            response = app(environ, start_response)
            try:
                return list(response)
            finally:
                getattr(response, "close", lambda: None)()
        finally:
            request_started.connect(close_old_connections)
            request_finished.connect(close_old_connections)

    return application


schema = schemathesis.openapi.from_wsgi(
    "/api/v1/openapi.json",
    _inside_the_test_transaction(get_wsgi_application()),
    config=CONFIG,
).exclude(tag_regex=FIXTURE_TAG)

CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
]
# 25 examples per operation and caller keep the whole fuzz to seconds; derandomised so a
# failure reproduces on the next run.
EXAMPLES = settings(
    max_examples=25,
    deadline=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
CALLERS = [
    ("sponsor-one", "sponsor_manager"),
    ("alpha-bio", "cdmo_planner"),
    ("beta-pharma", "cdmo_admin"),
    ("platform", "platform_admin"),
]
PUBLIC_PATHS = {"/api/v1/openapi.json", "/api/v1/docs"}


def _bearer(secret: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {secret}"}


@pytest.fixture(params=CALLERS, ids=lambda caller: caller[1])
def caller_headers(request: pytest.FixtureRequest, world: Any) -> dict[str, str]:
    """A valid token of one of the four roles that use the API most."""
    from opencdmo.accounts import services

    _, secret = services.issue_token(world.user(*request.param), "fuzz")
    return _bearer(secret)


@pytest.fixture
def real_ids(world: Any) -> dict[str, list[Any]]:
    """Identifiers of records that exist, own and another CDMO's, per path parameter."""
    return {
        "site_id": [site.pk for site in world.sites.values()],
        "suite_id": [suite.pk for suite in world.suites.values()],
        "slug": [org.slug for slug, org in world.orgs.items() if slug != "platform"],
    }


def _aim_at_real_records(case: schemathesis.Case, real_ids: dict[str, list[Any]]) -> None:
    """Swap every even generated id for an existing record so the code past the lookup runs.

    Random identifiers almost never exist; without this the fuzz would only meet 404s.
    """
    for name, value in (case.path_parameters or {}).items():
        ids = real_ids.get(name)
        if not ids:
            continue
        if isinstance(value, int) and value % 2 == 0:
            case.path_parameters[name] = ids[value // 2 % len(ids)]
        elif isinstance(value, str) and len(value) % 2 == 0:
            case.path_parameters[name] = ids[len(value) // 2 % len(ids)]


@schema.parametrize()
@EXAMPLES
def test_every_operation_answers_by_its_schema_for_each_role(
    case: schemathesis.Case, caller_headers: dict[str, str], real_ids: dict[str, list[Any]]
) -> None:
    """Whatever a signed-in caller sends, the answer is documented and never a server error."""
    _aim_at_real_records(case, real_ids)
    case.call_and_validate(headers=caller_headers, checks=CHECKS)


@pytest.fixture(params=["no token", "revoked token"])
def refused_headers(request: pytest.FixtureRequest, world: Any) -> dict[str, str]:
    """No credentials, or a token its owner has revoked."""
    from opencdmo.accounts import services

    if request.param == "no token":
        return {}
    user = world.user("alpha-bio", "cdmo_admin")
    token, secret = services.issue_token(user, "fuzz")
    services.revoke_token(user, token, reason="Fuzzing a revoked token")
    return _bearer(secret)


@schema.parametrize()
@settings(EXAMPLES, max_examples=5)
def test_every_operation_refuses_callers_without_a_valid_token(
    case: schemathesis.Case, refused_headers: dict[str, str], real_ids: dict[str, list[Any]]
) -> None:
    """Without a valid token every operation answers a documented 401 with its reason."""
    _aim_at_real_records(case, real_ids)
    response = case.call_and_validate(headers=refused_headers, checks=CHECKS)
    if response.status_code == 400:
        assert "NUL" in response.json()["detail"]
        return
    assert response.status_code == 401, response.text
    assert response.json()["detail"]


@pytest.mark.parametrize(
    ("secret", "reason"),
    [
        ("ocd_" + "x" * 43, "Unknown API token."),
        ("not-an-opencdmo-token", "Malformed API token."),
    ],
)
@pytest.mark.parametrize("path", ["/api/v1/me", "/api/v1/sites"])
def test_a_bad_token_is_refused_with_its_reason(
    client: Any, world: Any, path: str, secret: str, reason: str
) -> None:
    """An unknown or malformed token answers 401 saying which, so an integrator can fix it."""
    response = client.get(path, headers=_bearer(secret))
    assert response.status_code == 401
    assert response.json() == {"detail": reason}


@pytest.mark.parametrize("path", sorted(PUBLIC_PATHS))
def test_the_api_description_is_public(client: Any, path: str) -> None:
    """The OpenAPI document and its docs page need no token: integrators read them first."""
    assert client.get(path).status_code == 200


def test_fuzzing_covers_every_published_operation() -> None:
    """A new operation is fuzzed as soon as it is published; none is filtered out."""
    published = {
        (method.upper(), path)
        for path, operations in schema.raw_schema["paths"].items()
        for method, operation in operations.items()
        if not any(re.search(FIXTURE_TAG, tag) for tag in operation.get("tags", []))
    }
    fuzzed = {
        (result.ok().method.upper(), result.ok().path) for result in schema.get_all_operations()
    }
    assert fuzzed == published
    assert len(published) >= 6
