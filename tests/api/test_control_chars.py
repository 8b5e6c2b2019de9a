"""Control characters are refused at every door: the API (422 naming the field), the pages,
file imports (rejected with line and column) and the audited services; nothing is changed."""

from __future__ import annotations

import json
from typing import Any

import pytest
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django_scopes import scopes_disabled

from opencdmo.audit.models import AuditEntry
from opencdmo.network import services
from opencdmo.network.import_jobs import queue_import
from opencdmo.network.models import ImportJob, Site, Suite
from opencdmo.network.tasks import run_import_job

SITE_HEADER = b"owner,code,name,country,region,city,latitude,longitude\n"
SITE_ROW = b"alpha-bio,lyon,Alpha Lyon,FR,europe,Lyon,45.764,4.8357\n"


def _token_headers(user: Any) -> dict[str, str]:
    from opencdmo.accounts import services as accounts

    _, secret = accounts.issue_token(user, "control characters")
    return {"Authorization": f"Bearer {secret}"}


def _state() -> tuple[int, int, int, list[tuple[str, str]]]:
    with scopes_disabled():
        return (
            Site.objects.count(),
            Suite.objects.count(),
            AuditEntry.objects.count(),
            list(Suite.objects.order_by("pk").values_list("name", "status")),
        )


@pytest.mark.parametrize("value", ["a\u0000b", "a\u0001b", "a\uffffb"])
def test_a_suite_patch_with_a_control_character_is_422_and_changes_nothing(
    world: Any, value: str
) -> None:
    """The reproduction: a NUL in the reason was a 500 on PostgreSQL; now 422 naming it."""
    suite = world.suites["alpha-bio"]
    headers = _token_headers(world.user("alpha-bio", "cdmo_planner"))
    before = _state()
    response = Client().patch(
        f"/api/v1/suites/{suite.pk}",
        data=json.dumps({"reason": value, "status": "maintenance"}),
        content_type="application/json",
        headers=headers,
    )
    assert response.status_code == 422
    body = response.json()
    code = f"U+{ord(value[1]):04X}"
    assert body["errors"] == [
        {
            "field": "payload.reason",
            "message": f"contains a control character ({code}) at position 2",
        }
    ]
    assert _state() == before


def test_a_control_character_in_another_field_names_that_field(world: Any) -> None:
    """Every string field of the schema is checked, not only the reason."""
    suite = world.suites["alpha-bio"]
    response = Client().patch(
        f"/api/v1/suites/{suite.pk}",
        data=json.dumps({"reason": "rename", "name": "USP\u001b2"}),
        content_type="application/json",
        headers=_token_headers(world.user("alpha-bio", "cdmo_planner")),
    )
    assert response.status_code == 422
    assert [e["field"] for e in response.json()["errors"]] == ["payload.name"]


@pytest.mark.parametrize(
    "url",
    ["/api/v1/sites?q=a%01b", "/api/v1/organisations?kind=a%7Fb", "/api/v1/organisations/x%01y"],
)
def test_query_and_path_parameters_refuse_control_characters(world: Any, url: str) -> None:
    """Query schemas and plain string parameters answer 422 with the position."""
    response = Client().get(url, headers=_token_headers(world.user("alpha-bio", "cdmo_planner")))
    assert response.status_code == 422
    assert "at position 2" in response.json()["detail"]


def test_the_suite_page_names_each_field_and_changes_nothing(world: Any, client_for: Any) -> None:
    """A control character typed into the suite editor is shown on its field."""
    suite = world.suites["alpha-bio"]
    client = client_for(world.user("alpha-bio", "cdmo_planner"))
    before = _state()
    response = client.post(
        f"/suites/{suite.pk}/edit/",
        {
            "name": "USP\x01 2",
            "kind": suite.kind,
            "gmp_grade": suite.gmp_grade,
            "status": suite.status,
            "reason": "rename",
        },
    )
    assert response.status_code == 200
    assert "contains a control character (U+0001) at position 4" in response.text
    assert _state() == before


def test_the_token_form_refuses_a_control_character_in_the_name() -> None:
    """Token names go through the same rule."""
    from opencdmo.accounts.forms import TokenForm

    form = TokenForm({"name": "MES\x02"})
    assert not form.is_valid()
    assert "U+0002" in form.errors["name"][0]


@pytest.mark.parametrize(
    ("data", "line", "column"),
    [
        (SITE_HEADER.replace(b"city", b"ci\x00ty") + SITE_ROW, 1, "#6"),
        (SITE_HEADER + SITE_ROW.replace(b"Alpha Lyon", b"Alpha\x00Lyon"), 2, "name"),
        (SITE_HEADER + SITE_ROW.replace(b"Lyon,45", b"Ly\x1fon,45"), 2, "city"),
    ],
)
def test_an_import_with_a_control_character_is_rejected_naming_line_and_column(
    world: Any,
    settings: Any,
    tmp_path: Any,
    django_capture_on_commit_callbacks: Any,
    data: bytes,
    line: int,
    column: str,
) -> None:
    """The job ends rejected (never stays queued) and nothing is written."""
    settings.DATA_DIR = tmp_path
    before = _state()
    with django_capture_on_commit_callbacks(execute=False):
        job = queue_import(
            actor=world.user("alpha-bio", "cdmo_admin"),
            upload=SimpleUploadedFile("sites.csv", data),
        )
    assert run_import_job.call(job.pk) == ImportJob.Status.REJECTED
    with scopes_disabled():
        job.refresh_from_db()
    (problem,) = job.problems
    assert problem.startswith(f"sites.csv, line {line}, column '{column}': the ")
    assert "contains a control character" in problem
    assert _state() == before


@pytest.mark.django_db
def test_the_audited_service_refuses_a_control_character_naming_the_field(world: Any) -> None:
    """The last line of defence: a caller that skips the schema still gets a ValidationError."""
    suite = world.suites["alpha-bio"]
    actor = world.user("alpha-bio", "cdmo_planner")
    before = _state()
    with pytest.raises(ValidationError) as caught:
        services.update_suite(suite, actor=actor, reason="rename", name="USP\x00 2")
    assert caught.value.message_dict == {
        "name": ["The text contains a control character (U+0000) at position 4."]
    }
    with pytest.raises(ValidationError) as caught:
        services.update_suite(suite, actor=actor, reason="a\x00b", name="USP 2")
    assert list(caught.value.message_dict) == ["reason"]
    assert _state() == before
