"""Regressions the API fuzz found: each answer is the documented one, with a clear reason."""

from __future__ import annotations

import json
from typing import Any

import pytest
from django.test import Client


def _token_headers(user: Any) -> dict[str, str]:
    from opencdmo.accounts import services

    _, secret = services.issue_token(user, "errors")
    return {"Authorization": f"Bearer {secret}"}


def test_a_write_without_credentials_is_401_not_a_csrf_failure(world: Any) -> None:
    """No session and no token is 'authenticate', even on PATCH; CSRF guards only sessions."""
    suite = world.suites["alpha-bio"]
    response = Client().patch(
        f"/api/v1/suites/{suite.pk}",
        data=json.dumps({"reason": "x"}),
        content_type="application/json",
    )
    assert response.status_code == 401
    assert "Authentication required" in response.json()["detail"]


def test_a_signed_in_session_still_needs_the_csrf_token_to_write(
    world: Any, client_for: Any
) -> None:
    """The session path keeps Django's CSRF protection."""
    client = client_for(world.user("alpha-bio", "cdmo_planner"))
    client.handler.enforce_csrf_checks = True
    suite = world.suites["alpha-bio"]
    response = client.patch(
        f"/api/v1/suites/{suite.pk}",
        data=json.dumps({"reason": "x", "name": "USP 9"}),
        content_type="application/json",
    )
    assert response.status_code == 403
    assert response.json() == {"detail": "CSRF check Failed"}


@pytest.mark.parametrize(
    ("field", "value"),
    [("kind", "bakery"), ("gmp_grade", "Z"), ("status", "closed"), ("modalities", ["soap"])],
)
def test_a_suite_change_outside_the_choices_is_422_naming_the_field(
    world: Any, field: str, value: Any
) -> None:
    """The schema lists the allowed values, and the answer names the offending field."""
    suite = world.suites["alpha-bio"]
    response = Client().patch(
        f"/api/v1/suites/{suite.pk}",
        data=json.dumps({"reason": "Fuzz", field: value}),
        content_type="application/json",
        headers=_token_headers(world.user("alpha-bio", "cdmo_planner")),
    )
    assert response.status_code == 422
    assert response.json()["errors"][0]["field"].startswith(f"payload.{field}")
    suite.refresh_from_db()
    assert suite.kind == "upstream"
    assert suite.gmp_grade == "C"


def test_every_operation_declares_its_error_answers() -> None:
    """401, 422 and 404 (where an id is looked up) appear in the published document."""
    from opencdmo.api import api

    paths = api.get_openapi_schema(path_prefix="/api/v1")["paths"]
    for path, operations in paths.items():
        for method, operation in operations.items():
            if any("(test fixture)" in tag for tag in operation.get("tags", [])):
                continue
            declared = {str(status) for status in operation["responses"]}
            assert "401" in declared, (method, path)
            if "{" in path:
                assert {"404", "422"} <= declared, (method, path)


def test_the_published_filters_list_their_allowed_values() -> None:
    """Clients see the sort orders and the country pattern instead of learning them by 422."""
    from opencdmo.api import api
    from opencdmo.network.search import SORTS

    operation = api.get_openapi_schema(path_prefix="/api/v1")["paths"]["/api/v1/sites"]["get"]
    parameters = {p["name"]: p["schema"] for p in operation["parameters"]}
    assert parameters["sort"]["enum"] == list(SORTS)
    assert parameters["country"]["pattern"] == "^[A-Za-z]{2}$"
