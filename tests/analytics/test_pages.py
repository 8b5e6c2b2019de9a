"""The monitoring pages through Django's test client."""

from __future__ import annotations

import re
from typing import Any

import numpy as np
from django.urls import reverse

from opencdmo.accounts.tenancy import caller_scope
from opencdmo.analytics import services
from opencdmo.analytics.models import MonitoringModel
from opencdmo.core.tables import Table
from opencdmo.manufacturing.services import ingest_table
from opencdmo.quality import signing
from tests.analytics.conftest import Plant, approve
from tests.conftest import PASSWORD


def _approved(plant: Plant, fitted: MonitoringModel) -> MonitoringModel:
    approve(plant, fitted)
    fitted.refresh_from_db()
    services.record_alarms(plant.running, fitted)
    services.judge_batch(plant.faulty)
    return fitted


def test_qa_approves_on_the_model_page(
    plant: Plant, fitted: MonitoringModel, client_for: Any
) -> None:
    """QA reads R²/Q², limits and reference batches, signs with the password; approved."""
    qa = client_for(plant.user("cdmo_qa"))
    url = reverse("analytics:model", args=[fitted.pk])
    page = qa.get(url).content.decode()
    assert 'data-testid="reference-batches"' in page
    assert 'data-testid="sign-form"' in page
    digest = signing.content_sha256(signing.canonical_content(fitted))
    answer = qa.post(
        reverse("analytics:model-sign", args=[fitted.pk]),
        {"meaning": "approved", "password": PASSWORD, "reason": "ok", "seen_sha256": digest},
    )
    assert answer.status_code == 302
    fitted.refresh_from_db()
    assert fitted.approved
    assert 'data-testid="approved"' in qa.get(url).content.decode()


def test_live_page_shows_the_cdmo_trajectories_alarms_and_contributions(
    plant: Plant, fitted: MonitoringModel, client_for: Any
) -> None:
    """The MSAT engineer sees envelopes, T² and SPE charts, the alarm and the contributions
    at a clicked point; htmx polls get the live fragment alone."""
    _approved(plant, fitted)
    msat = client_for(plant.user("cdmo_msat"))
    url = reverse("analytics:batch", args=[plant.running.pk])
    page = msat.get(url).content.decode()
    assert page.count('data-testid="envelope"') == len(fitted.variables)
    assert 'data-testid="chart-spe"' in page
    assert 'data-testid="alarm"' in page
    assert 'data-testid="prediction"' in page
    fragment = msat.get(url, headers={"HX-Request": "true"}).content.decode()
    assert fragment.startswith('<div id="live"')
    assert "every 1s" in fragment
    token = re.search(r"\?since=([^\"]+)\"", fragment)
    assert token is not None
    poll = {"HX-Request": "true", "X-Background-Poll": "1"}
    assert msat.get(f"{url}?since={token[1]}", headers=poll).status_code == 204
    assert msat.get(f"{url}?since=other", headers=poll).status_code == 200
    with caller_scope(plant.user("cdmo_msat")):
        ingest_table(
            Table(
                "new.csv",
                {
                    "time": np.array([81.0]),
                    "variable": np.array(["ph"], dtype=object),
                    "value": np.array([7.0]),
                    "unit": np.array(["pH"], dtype=object),
                },
                {},
                np.array([2]),
            ),
            actor=plant.user("cdmo_msat"),
            lot=plant.running.lot,
            reason="a new reading",
        )
    assert msat.get(f"{url}?since={token[1]}", headers=poll).status_code == 200
    contributions = msat.get(
        reverse("analytics:contributions", args=[plant.running.pk]) + "?sample=3"
    )
    assert "Contributions to SPE" in contributions.content.decode()
    clicked = msat.get(url + "?sample=3").content.decode()
    assert "Contributions to SPE" in clicked
    assert f"{url}?sample=3#contributions" in page


def test_sponsor_reads_verdicts_and_alarms_but_raw_data_only_when_shared(
    plant: Plant, fitted: MonitoringModel, client_for: Any
) -> None:
    """Without sharing the sponsor's page has alarms and statistics, no trajectory and no
    contribution; once the CDMO shares the project's data it has both."""
    _approved(plant, fitted)
    sponsor = client_for(plant.user("sponsor_qa", "sponsor-one"))
    url = reverse("analytics:batch", args=[plant.running.pk])
    page = sponsor.get(url).content.decode()
    assert 'data-testid="alarm"' in page
    assert 'data-testid="envelope"' not in page
    assert "most:" not in page
    hidden = sponsor.get(reverse("analytics:contributions", args=[plant.running.pk]) + "?sample=3")
    assert "not its process data" in hidden.content.decode()
    msat = plant.user("cdmo_msat")
    answer = client_for(msat).post(
        reverse("analytics:sharing", args=[plant.project.pk]),
        {"share_process_data": "on", "reason": "agreed with the sponsor", "next": url},
    )
    assert answer.status_code == 302
    assert 'data-testid="envelope"' in sponsor.get(url).content.decode()


def test_batch_page_shows_the_verdict(
    plant: Plant, fitted: MonitoringModel, client_for: Any
) -> None:
    """The batch's own page carries its verdict, ready for review, for the sponsor too."""
    _approved(plant, fitted)
    url = reverse("manufacturing:batch", args=[plant.faulty.pk])
    for user in (plant.user("cdmo_qa"), plant.user("sponsor_qa", "sponsor-one")):
        page = client_for(user).get(url).content.decode()
        assert 'data-testid="verdict-status"' in page
        assert "Alarm" in page


def test_msat_requests_a_model_from_the_page(plant: Plant, client_for: Any) -> None:
    """The engineer ticks reference batches; the model is queued and its page polls."""
    msat = client_for(plant.user("cdmo_msat"))
    url = reverse("analytics:model-new", args=[plant.project.pk])
    assert msat.get(url).status_code == 200
    answer = msat.post(
        url,
        {
            "batches": [str(b.pk) for b in plant.normal],
            "quality_attribute": "",
            "n_components": "2",
            "reason": "first model",
        },
    )
    assert answer.status_code == 302
    with caller_scope(plant.user("cdmo_msat")):
        model = MonitoringModel.objects.get()
    page = msat.get(answer["Location"]).content.decode()
    assert model.status == "queued"
    assert "every 2s" in page
    poll = {"HX-Request": "true", "X-Background-Poll": "1"}
    assert 'data-status="queued"' in msat.get(answer["Location"], headers=poll).content.decode()
    with caller_scope(plant.user("cdmo_msat")):
        MonitoringModel.objects.filter(pk=model.pk).update(status="fitted")
    finished = msat.get(answer["Location"], headers=poll)
    assert finished["HX-Refresh"] == "true"
