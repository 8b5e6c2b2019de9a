"""Fitting, approving and judging: the life of a monitoring model."""

from __future__ import annotations

import numpy as np
import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django_scopes import scopes_disabled

from opencdmo.accounts.tenancy import caller_scope
from opencdmo.analytics import fitting, services
from opencdmo.analytics.models import Alarm, MonitoringModel, Verdict
from opencdmo.audit.models import AuditEntry
from tests.analytics.conftest import Plant, approve


def test_fit_stores_the_model_through_the_file_store_without_pickle(
    plant: Plant, fitted: MonitoringModel
) -> None:
    """The fit writes the engine's JSON + npz with their SHA-256 and the page's summary."""
    from django.conf import settings

    folder = settings.DATA_DIR / "monitoring-models" / str(plant.world.orgs["alpha-bio"].pk)
    stored = folder / fitted.file_key
    assert stored.is_file()
    assert stored.read_text().startswith("{")
    assert fitted.summary["n_batches"] == 8
    assert fitted.summary["q2y"] is not None
    assert len(fitted.summary["reference"]) == 8
    assert not fitted.approved


def test_an_unapproved_model_judges_nothing(plant: Plant, fitted: MonitoringModel) -> None:
    """Without QA's approval no model judges the batch and no verdict is recorded."""
    assert services.judging_model(plant.faulty) is None
    assert services.judge_batch(plant.faulty) is None
    with scopes_disabled():
        assert Verdict.objects.count() == 0


def test_fit_approve_verdict(plant: Plant, fitted: MonitoringModel) -> None:
    """Approved by QA's signature, the model judges the faulty batch an alarm and a normal
    one normal; the approval and the verdicts are on the audit trail."""
    approve(plant, fitted)
    fitted.refresh_from_db()
    assert fitted.approved
    assert services.is_approved(fitted)
    assert services.judging_model(plant.faulty) == fitted
    faulty = services.judge_batch(plant.faulty)
    assert faulty is not None
    assert faulty.status == "alarm"
    assert faulty.contributions[0][0]
    with scopes_disabled():
        actions = set(AuditEntry.objects.values_list("action", flat=True))
        assert Alarm.objects.filter(batch=plant.faulty).exists()
    assert {
        "opencdmo.signature.signed",
        "opencdmo.monitoring_model.approved",
        "opencdmo.batch_verdict.created",
        "opencdmo.monitoring_alarm.created",
    } <= actions
    assert services.judge_batch(plant.faulty) == faulty


def test_only_qa_approves_and_a_wrong_password_signs_nothing(
    plant: Plant, fitted: MonitoringModel
) -> None:
    """The MSAT engineer may not approve; QA with a wrong password is refused."""
    from opencdmo.quality import signing

    seen = signing.content_sha256(signing.canonical_content(fitted))
    msat = plant.user("cdmo_msat")
    with caller_scope(msat), pytest.raises(PermissionDenied):
        services.approve_model(msat, fitted, password="x", seen_sha256=seen)
    qa = plant.user("cdmo_qa")
    with caller_scope(qa), pytest.raises(ValidationError) as refused:
        services.approve_model(qa, fitted, password="wrong", seen_sha256=seen)
    assert "password" in refused.value.message_dict
    fitted.refresh_from_db()
    assert not fitted.approved


def test_too_few_reference_batches_are_refused_naming_the_field(plant: Plant) -> None:
    """Four batches are not enough; nothing is recorded."""
    msat = plant.user("cdmo_msat")
    with caller_scope(msat), pytest.raises(ValidationError) as refused:
        services.request_model(
            msat,
            site=plant.project.site,
            product=plant.product,
            batches=plant.normal[:4],
            enqueue=False,
        )
    assert "batches" in refused.value.message_dict
    with scopes_disabled():
        assert MonitoringModel.objects.count() == 0


def test_n_in_a_row_finds_each_long_enough_run() -> None:
    """Runs of at least three: the first sample of each; shorter runs raise nothing."""
    above = np.array([0, 1, 1, 0, 1, 1, 1, 1, 0, 0, 1, 1, 1], dtype=bool)
    assert fitting.n_in_a_row(above, 3) == [4, 10]
    assert fitting.n_in_a_row(above, 5) == []


def test_a_running_batch_raises_each_alarm_once(plant: Plant, fitted: MonitoringModel) -> None:
    """The running faulty batch crosses a limit several samples in a row: one alarm per run,
    with its top contributions; looking again raises none."""
    approve(plant, fitted)
    fitted.refresh_from_db()
    raised = services.record_alarms(plant.running, fitted)
    assert raised
    assert raised[0].contributions
    assert raised[0].value > raised[0].limit
    assert services.record_alarms(plant.running, fitted) == []
    from opencdmo.notifications.models import Notification

    with scopes_disabled():
        told = set(
            Notification.objects.filter(event="monitoring.alarm").values_list(
                "user__username", flat=True
            )
        )
    assert {"alpha-bio-cdmo_msat", "alpha-bio-cdmo_qa", "sponsor-one-sponsor_qa"} <= told
    assert "beta-pharma-cdmo_qa" not in told


def test_live_trace_follows_the_running_batch(plant: Plant, fitted: MonitoringModel) -> None:
    """The running batch is followed up to its latest reading, with a prediction interval."""
    approve(plant, fitted)
    live = services.live(plant.running)
    assert live is not None
    assert live.trace is not None
    trace = live.trace
    assert trace.time_h[-1] <= 80.0 < trace.time_h[-1] + live.loaded.duration_h / 10
    assert trace.prediction is not None
    assert trace.low is not None
    assert trace.high is not None
    assert np.all(trace.low <= trace.prediction)
    assert np.all(trace.prediction <= trace.high)
    np.testing.assert_allclose(trace.contributions.sum(axis=1), trace.spe, rtol=1e-6)


def test_the_sharing_flag_is_the_cdmos_and_audited(plant: Plant) -> None:
    """The MSAT engineer shares the process data with a reason; the sponsor may not."""
    msat = plant.user("cdmo_msat")
    sponsor = plant.user("sponsor_qa", "sponsor-one")
    with caller_scope(msat):
        assert not services.sponsor_reads_data(sponsor, plant.running)
        services.set_data_sharing(msat, plant.project, share=True, reason="agreed")
    assert services.sponsor_reads_data(sponsor, plant.running)
    with caller_scope(sponsor), pytest.raises(PermissionDenied):
        services.set_data_sharing(sponsor, plant.project, share=False, reason="no")
