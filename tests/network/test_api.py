"""The sites API: filters, pagination, profiles, private data and suite changes."""

from __future__ import annotations

import json
from typing import Any

import pytest
from django_scopes import scopes_disabled

from opencdmo.audit.models import AuditEntry
from opencdmo.network.models import Suite


def get(client: Any, url: str, **params: Any) -> Any:
    return client.get(url, params)


@pytest.fixture
def sponsor(fleet: Any, client_for: Any) -> Any:
    return client_for(fleet.user("sponsor-one", "sponsor_manager"))


def test_list_sites_with_capabilities(sponsor: Any) -> None:
    body = sponsor.get("/api/v1/sites").json()
    assert body["count"] == 4
    assert (body["limit"], body["offset"]) == (20, 0)
    singapore = next(s for s in body["items"] if s["name"] == "Beta Singapore")
    assert singapore["owner"] == {"slug": "beta-pharma", "name": "Beta Pharma"}
    assert singapore["capabilities"] == {
        "max_bioreactor_volume_l": 2000.0,
        "total_bioreactor_volume_l": 8000.0,
        "bioreactor_count": 4,
        "modalities": ["bispecific", "mab"],
        "agencies": ["FDA", "PMDA"],
        "latest_inspection_outcome": "official_action",
        "latest_inspection_on": "2025-02-01",
    }


@pytest.mark.parametrize(
    ("params", "expected"),
    [
        (
            {"modality": "mab", "min_volume_l": 2000, "agency": "FDA"},
            ["Alpha Bio Boston", "Beta Singapore"],
        ),
        ({"min_total_volume_l": "8000"}, ["Beta Pharma Munich", "Beta Singapore"]),
        ({"country": "ie"}, ["Alpha Cork"]),
        ({"region": "asia"}, ["Beta Singapore"]),
        ({"inspection_outcome": "voluntary_action"}, ["Alpha Cork"]),
        ({"q": "munich"}, ["Beta Pharma Munich"]),
        (
            {"sort": "-max_volume"},
            ["Beta Pharma Munich", "Alpha Bio Boston", "Beta Singapore", "Alpha Cork"],
        ),
    ],
)
def test_list_filters_and_sorts_like_the_page(
    sponsor: Any, params: dict, expected: list[str]
) -> None:
    body = sponsor.get("/api/v1/sites", params).json()
    assert [s["name"] for s in body["items"]] == expected
    assert body["count"] == len(expected)


def test_limit_and_offset_page_through_all(sponsor: Any) -> None:
    first = sponsor.get("/api/v1/sites", {"limit": 3}).json()
    rest = sponsor.get("/api/v1/sites", {"limit": 3, "offset": 3}).json()
    assert (first["count"], rest["count"]) == (4, 4)
    assert len(first["items"]) == 3
    assert [s["name"] for s in rest["items"]] == ["Beta Singapore"]


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"min_volume_l": "abc"}, "min_volume_l"),
        ({"min_volume_l": "-1"}, "min_volume_l"),
        ({"modality": "unicorn"}, "modality"),
        ({"region": "mars"}, "region"),
        ({"country": "Germany"}, "country"),
        ({"agency": "XYZ"}, "agency"),
        ({"inspection_outcome": "fine"}, "inspection_outcome"),
        ({"sort": "price"}, "sort"),
        ({"limit": "0"}, "limit"),
        ({"limit": "1000"}, "limit"),
        ({"offset": "-3"}, "offset"),
        ({"offset": "99999999999999999999999"}, "offset"),
        ({"min_volume_l": "1e309"}, "min_volume_l"),
        ({"min_total_volume_l": "nan"}, "min_total_volume_l"),
    ],
)
def test_bad_filter_values_answer_422_naming_the_parameter(
    sponsor: Any, params: dict, field: str
) -> None:
    response = sponsor.get("/api/v1/sites", params)
    assert response.status_code == 422
    body = response.json()
    assert body["detail"].startswith(f"Invalid request – {field}:")
    assert [e["field"] for e in body["errors"]] == [field]


def test_site_detail_has_suites_equipment_approvals_and_inspections(
    fleet: Any, sponsor: Any
) -> None:
    site = fleet.sites["cork"]
    body = sponsor.get(f"/api/v1/sites/{site.pk}").json()
    assert [s["name"] for s in body["suites"]] == ["Fill 1", "USP new"]
    usp = body["suites"][1]
    assert usp["status"] == "qualification"
    assert usp["modalities"] == ["aav"]
    assert usp["equipment"][0]["working_volume_l"] == 20000.0
    assert body["approvals"] == [
        {"agency": "EMA", "scope": "Sterile fill", "granted_on": "2018-01-01"}
    ]
    assert body["inspections"][0]["outcome"] == "voluntary_action"
    assert body["capabilities"]["max_bioreactor_volume_l"] is None
    assert body["private"] is None


def test_site_detail_with_malformed_id_is_422(sponsor: Any) -> None:
    response = sponsor.get("/api/v1/sites/abc")
    assert response.status_code == 422
    assert "site_id" in response.json()["detail"]


@pytest.mark.parametrize(
    ("org", "role", "sees"),
    [
        ("alpha-bio", "cdmo_operator", True),
        ("alpha-bio", "cdmo_admin", True),
        ("beta-pharma", "cdmo_admin", False),
        ("sponsor-one", "sponsor_qa", False),
        ("platform", "platform_admin", False),
    ],
)
def test_private_profile_only_for_the_owner(
    world: Any, client_for: Any, org: str, role: str, sees: bool
) -> None:
    client = client_for(world.user(org, role))
    body = client.get(f"/api/v1/sites/{world.sites['alpha-bio'].pk}").json()
    assert ("secret of alpha-bio" in json.dumps(body)) is sees
    if sees:
        assert body["private"]["internal_notes"] == "secret of alpha-bio"
    else:
        assert body["private"] is None


def suite_entries() -> list[AuditEntry]:
    with scopes_disabled():
        return list(AuditEntry.objects.filter(action="opencdmo.suite.changed"))


def patch(client: Any, url: str, data: dict) -> Any:
    return client.patch(url, json.dumps(data), content_type="application/json")


def test_patch_suite_changes_and_audits(world: Any, client_for: Any) -> None:
    suite = world.suites["alpha-bio"]
    client = client_for(world.user("alpha-bio", "cdmo_msat"))
    response = patch(
        client, f"/api/v1/suites/{suite.pk}", {"reason": "Maintenance", "status": "maintenance"}
    )
    assert response.status_code == 200
    assert response.json()["status"] == "maintenance"
    [entry] = suite_entries()
    assert (entry.before, entry.after) == ({"status": "operational"}, {"status": "maintenance"})


@pytest.mark.parametrize(
    ("data", "status", "field"),
    [
        ({"status": "maintenance"}, 422, "reason"),
        ({"reason": " ", "status": "maintenance"}, 400, "reason"),
        ({"reason": "x", "status": "melted"}, 422, "payload.status"),
        ({"reason": "x", "modalities": ["mab", "magic"]}, 422, "payload.modalities.1"),
        ({"reason": "x", "site": 2}, 422, "site"),
    ],
)
def test_patch_suite_rejects_bad_input_and_changes_nothing(
    world: Any, client_for: Any, data: dict, status: int, field: str
) -> None:
    suite = world.suites["alpha-bio"]
    client = client_for(world.user("alpha-bio", "cdmo_admin"))
    response = patch(client, f"/api/v1/suites/{suite.pk}", data)
    assert response.status_code == status
    assert field in json.dumps(response.json())
    assert Suite.objects.get(pk=suite.pk).status == "operational"
    assert suite_entries() == []


@pytest.mark.parametrize(
    ("org", "role", "status"),
    [
        ("beta-pharma", "cdmo_admin", 404),
        ("alpha-bio", "cdmo_qa", 403),
        ("sponsor-one", "sponsor_manager", 403),
    ],
)
def test_patch_suite_refuses_others(
    world: Any, client_for: Any, org: str, role: str, status: int
) -> None:
    suite = world.suites["alpha-bio"]
    response = patch(
        client_for(world.user(org, role)),
        f"/api/v1/suites/{suite.pk}",
        {"reason": "x", "gmp_grade": "A"},
    )
    assert response.status_code == status
    assert Suite.objects.get(pk=suite.pk).gmp_grade == "C"
    assert suite_entries() == []


def test_anonymous_callers_get_401(client: Any, world: Any) -> None:
    assert client.get("/api/v1/sites").status_code == 401


@pytest.mark.parametrize(
    "url", ["/api/v1/sites/99999999999999999999999", "/api/v1/sites/99999999999/private"]
)
def test_huge_ids_are_missing_not_errors(world: Any, client_for: Any, url: str) -> None:
    response = client_for(world.user("alpha-bio", "cdmo_admin")).get(url)
    assert response.status_code == 404
    assert response.json() == {"detail": "Not found."}
