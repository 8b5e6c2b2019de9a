"""A refusal (403) is logged in one line with method, path, user id and reason; no traceback."""

from __future__ import annotations

import json
import logging
from typing import Any

import pytest
from django.test import Client

from opencdmo.accounts import services
from opencdmo.accounts.forbidden_log import ForbiddenInOneLine


def _forbidden(caplog: pytest.LogCaptureFixture) -> list[logging.LogRecord]:
    return [
        r for r in caplog.records if r.name == "django.request" and r.levelno >= logging.WARNING
    ]


def test_a_page_refusal_is_one_line_with_who_and_why(
    world: Any, client_for: Any, caplog: pytest.LogCaptureFixture
) -> None:
    """The reproduction: PermissionDenied logged its traceback; now one line and no trace."""
    viewer = world.user("sponsor-one", "sponsor_viewer")
    with caplog.at_level(logging.WARNING):
        response = client_for(viewer).get("/users/")
    assert response.status_code == 403
    [record] = _forbidden(caplog)
    assert record.getMessage() == (
        f"Forbidden: GET /users/ user {viewer.pk}: Your role may not manage users."
    )
    assert record.exc_info is None
    assert "Traceback" not in caplog.text
    assert len(caplog.text.strip().splitlines()) == 1


def test_the_admin_gate_refusal_names_the_reason(
    world: Any, client_for: Any, caplog: pytest.LogCaptureFixture
) -> None:
    """A non-administrator at the admin: one line with the gate's reason."""
    qa = world.user("alpha-bio", "cdmo_qa")
    with caplog.at_level(logging.WARNING):
        assert client_for(qa).get("/admin/").status_code == 403
    [record] = _forbidden(caplog)
    assert record.getMessage() == (
        f"Forbidden: GET /admin/ user {qa.pk}: Django's admin is for platform administrators."
    )
    assert "Traceback" not in caplog.text


def test_a_read_only_token_refusal_names_the_scope(
    world: Any, caplog: pytest.LogCaptureFixture
) -> None:
    """The API's read-only refusal is logged with the token's user and the reason."""
    user = world.user("alpha-bio", "cdmo_planner")
    _, secret = services.issue_token(user, "dashboard", scope="read")
    suite = world.suites["alpha-bio"]
    with caplog.at_level(logging.WARNING):
        response = Client().patch(
            f"/api/v1/suites/{suite.pk}",
            data=json.dumps({"status": "maintenance", "reason": "x"}),
            content_type="application/json",
            headers={"Authorization": f"Bearer {secret}"},
        )
    assert response.status_code == 403
    [record] = _forbidden(caplog)
    assert record.getMessage() == (
        f"Forbidden: PATCH /api/v1/suites/{suite.pk} user {user.pk}: "
        "This API token is read-only: it may only read (GET, HEAD, OPTIONS)."
    )


def test_other_errors_are_logged_as_before(world: Any, caplog: pytest.LogCaptureFixture) -> None:
    """Only 403s are rewritten: a 404 keeps Django's own line."""
    with caplog.at_level(logging.WARNING):
        Client().get("/api/v1/no-such-thing")
    [record] = _forbidden(caplog)
    assert record.getMessage() == "Not Found: /api/v1/no-such-thing"


def test_configuring_logging_again_keeps_the_reason(
    world: Any, client_for: Any, caplog: pytest.LogCaptureFixture
) -> None:
    """Each configuration of logging adds the filter to the logger once more (a command run
    in-process configures it again); the line stays the same."""
    logger = logging.getLogger("django.request")
    again = ForbiddenInOneLine()
    logger.addFilter(again)
    viewer = world.user("sponsor-one", "sponsor_viewer")
    try:
        with caplog.at_level(logging.WARNING):
            client_for(viewer).get("/users/")
    finally:
        logger.removeFilter(again)
    [record] = _forbidden(caplog)
    assert record.getMessage().endswith(": Your role may not manage users.")
