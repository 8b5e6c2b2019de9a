"""Batch records: dates from the plan, audited state changes, offline results, the API."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.core.exceptions import ValidationError
from django.test import Client
from django_scopes import scopes_disabled

from opencdmo.audit.models import AuditEntry
from opencdmo.core.tenancy import caller_scope
from opencdmo.manufacturing import services
from opencdmo.manufacturing.models import Batch, OfflineResult
from opencdmo.scheduling.models import PlannedBatch, SitePlan

ZERO = dt.datetime(2027, 1, 1, tzinfo=dt.UTC)


def _plan(plant: Any, version: int, production_start_h: int) -> None:
    """A published plan of alpha-bio's site holding lot P-7 (seed train, then production)."""
    with scopes_disabled():
        plan = SitePlan.objects.create(
            site=plant.sites["alpha-bio"],
            version=version,
            time_zero=ZERO,
            instance={},
            result={},
            reason="test",
        )
        for stage, suite, start_h, hours in (
            ("seed", "USP 1 / seed train", production_start_h - 96, 96),
            ("production", "USP 1 / BR-1", production_start_h, 336),
        ):
            PlannedBatch.objects.create(
                plan=plan,
                batch_id=f"P-7-{stage}",
                lot="P-7",
                stage=stage,
                product="EX",
                suite=suite,
                start=ZERO + dt.timedelta(hours=start_h),
                end=ZERO + dt.timedelta(hours=start_h + hours),
            )


def test_a_lot_in_the_plan_in_force_takes_its_production_dates_suite_and_bioreactor(
    plant: Any,
) -> None:
    """Dates come from the highest plan version's production stage, not the one before."""
    _plan(plant, 1, 200)
    _plan(plant, 2, 300)
    user = plant.user("alpha-bio", "cdmo_msat")
    with caller_scope(user):
        batch = services.create_batch(
            actor=user, project=plant.extra["project/alpha-bio"], lot="P-7"
        )
    assert batch.planned_start == ZERO + dt.timedelta(hours=300)
    assert batch.planned_end == ZERO + dt.timedelta(hours=636)
    assert batch.planned_from == "plan v2"
    assert (batch.suite, batch.equipment) == (
        plant.suites["alpha-bio"],
        plant.equipment["alpha-bio"],
    )


def test_a_lot_outside_the_plan_keeps_the_dates_entered(plant: Any) -> None:
    user = plant.user("alpha-bio", "cdmo_msat")
    start = dt.datetime(2026, 6, 1, tzinfo=dt.UTC)
    with caller_scope(user):
        batch = services.create_batch(
            actor=user,
            project=plant.extra["project/alpha-bio"],
            lot="H-1",
            planned_start=start,
            planned_end=start + dt.timedelta(days=14),
        )
    assert (batch.planned_start, batch.planned_from) == (start, "")


def test_a_lot_is_unique_within_the_cdmo(plant: Any) -> None:
    user = plant.user("alpha-bio", "cdmo_msat")
    with caller_scope(user), pytest.raises(ValidationError) as caught:
        services.create_batch(actor=user, project=plant.extra["project/alpha-bio"], lot="A-101")
    assert "This lot already exists among the CDMO's batches." in caught.value.messages


def test_state_changes_are_audited_with_their_reason_and_times(plant: Any) -> None:
    """planned → running records the actual start in the same entry as the state."""
    user = plant.user("beta-pharma", "cdmo_operator")
    batch = plant.extra["batch/beta-pharma"]
    at = dt.datetime(2026, 11, 20, 6, 0, tzinfo=dt.UTC)
    with caller_scope(user):
        services.change_state(batch, to="running", actor=user, reason="Inoculated", at=at)
    with scopes_disabled():
        entry = AuditEntry.objects.filter(action="opencdmo.batch.running").get()
        batch.refresh_from_db()
    assert (entry.reason, entry.actor_id, batch.actual_start) == ("Inoculated", user.pk, at)
    assert entry.after["state"] == "running"
    assert entry.shared_with_id == plant.orgs["sponsor-two"].pk


def test_an_illegal_transition_is_refused_with_the_allowed_one(plant: Any) -> None:
    user = plant.user("beta-pharma", "cdmo_qa")
    with caller_scope(user), pytest.raises(ValidationError) as caught:
        services.change_state(
            plant.extra["batch/beta-pharma"], to="dispositioned", actor=user, reason="Released"
        )
    assert caught.value.message_dict["state"] == [
        "Batch B-201 cannot go from 'planned' to 'dispositioned'; it may go to running."
    ]


def test_a_state_change_needs_a_reason(plant: Any) -> None:
    user = plant.user("beta-pharma", "cdmo_qa")
    with caller_scope(user), pytest.raises(ValidationError) as caught:
        services.change_state(
            plant.extra["batch/beta-pharma"], to="running", actor=user, reason=" "
        )
    assert "reason" in caught.value.message_dict


def test_offline_results_say_whether_they_are_in_specification(plant: Any) -> None:
    user = plant.user("alpha-bio", "cdmo_qa")
    batch = plant.extra["batch/alpha-bio"]
    with caller_scope(user):
        inside = services.add_offline_result(
            batch, actor=user, attribute="Titer", value=3.4, unit="g/L", spec_low=3.0
        )
        outside = services.add_offline_result(
            batch, actor=user, attribute="Aggregate", value=6.2, unit="%", spec_high=5.0
        )
        free = services.add_offline_result(batch, actor=user, attribute="HCP", value=40.0)
    assert (inside.in_spec, outside.in_spec, free.in_spec) == (True, False, None)
    assert (inside.specification, outside.specification) == ("≥ 3", "≤ 5")
    with caller_scope(user), pytest.raises(ValidationError):
        services.add_offline_result(
            batch, actor=user, attribute="pH", value=7.0, spec_low=7.2, spec_high=6.8
        )
    with scopes_disabled():
        assert OfflineResult.objects.count() == 3


def _api(user: Any) -> Client:
    client = Client()
    client.force_login(user)
    return client


def test_the_sponsor_reads_its_own_projects_batches_only(plant: Any) -> None:
    """sponsor-one sees A-101 and not B-201, which answers 404 like a missing batch."""
    client = _api(plant.user("sponsor-one", "sponsor_viewer"))
    with scopes_disabled():
        own, other = (Batch.objects.get(lot=lot).pk for lot in ("A-101", "B-201"))
    listed = client.get("/api/v1/batches").json()
    assert [b["lot"] for b in listed] == ["A-101"]
    detail = client.get(f"/api/v1/batches/{own}").json()
    assert (detail["product"], detail["sponsor"], detail["state"]) == (
        "sponsor-one mAb",
        "sponsor-one",
        "running",
    )
    assert client.get(f"/api/v1/batches/{other}").status_code == 404
    assert client.get(f"/api/v1/batches/{other}/data").status_code == 404


def test_the_sponsor_cannot_change_a_batch(plant: Any) -> None:
    """The state page answers 403 to a sponsor's user, and nothing changes."""
    client = _api(plant.user("sponsor-one", "sponsor_manager"))
    batch = plant.extra["batch/alpha-bio"]
    response = client.post(
        f"/batches/{batch.pk}/state/", {"to": "complete", "reason": "Not mine to say"}
    )
    assert response.status_code == 403
    with scopes_disabled():
        assert Batch.objects.get(pk=batch.pk).state == "running"


def test_the_batch_list_filters_by_state(plant: Any) -> None:
    client = _api(plant.user("alpha-bio", "cdmo_planner"))
    assert [b["lot"] for b in client.get("/api/v1/batches?state=running").json()] == ["A-101"]
    assert client.get("/api/v1/batches?state=planned").json() == []


def test_a_dispositioned_batch_takes_no_more_results(plant: Any) -> None:
    user = plant.user("alpha-bio", "cdmo_qa")
    batch = plant.extra["batch/alpha-bio"]
    with scopes_disabled():
        Batch.objects.filter(pk=batch.pk).update(state="dispositioned")
        batch.refresh_from_db()
    with caller_scope(user), pytest.raises(ValidationError) as caught:
        services.add_offline_result(batch, actor=user, attribute="Titer", value=3.0)
    assert caught.value.messages == ["Batch A-101 is dispositioned; its record is final."]
