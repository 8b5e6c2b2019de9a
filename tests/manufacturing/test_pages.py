"""The batch pages as a browser sees them, through Django's test client."""

from __future__ import annotations

from typing import Any

from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django_scopes import scopes_disabled

from opencdmo.analytics.services import set_data_sharing
from opencdmo.manufacturing.models import ProcessDataFile


def _client(user: Any) -> Client:
    client = Client()
    client.force_login(user)
    return client


def test_upload_ingests_and_the_page_shows_variables_and_results(plant: Any) -> None:
    """An upload lands as version 1; the page lists each variable with its trajectory."""
    batch = plant.extra["batch/alpha-bio"]
    client = _client(plant.user("alpha-bio", "cdmo_msat"))
    upload = SimpleUploadedFile(
        "run.csv", b"time,ph,do_pct\nh,pH,%\n0,7.0,80\n1,7.1,79\n2,7.05,78\n"
    )
    response = client.post(f"/batches/{batch.pk}/upload/", {"file": upload}, follow=True)
    page = response.content.decode()
    assert "run.csv: 6 new values for batch A-101" in page
    assert 'data-testid="data-version"' in page
    assert "<polyline" in page
    assert page.count("<polyline") == 2
    export = client.get(f"/batches/{batch.pk}/export.csv")
    assert export["Content-Type"] == "text/csv"
    assert export.content.decode().splitlines()[1] == "0.0,do_pct,80.0,%"


def test_an_upload_sent_by_the_pages_script_is_answered_with_the_page_to_open(
    plant: Any,
) -> None:
    """The script that shows the upload's progress gets 204 and the batch page's address; the
    outcome waits for that page, not for the script's own request."""
    batch = plant.extra["batch/alpha-bio"]
    client = _client(plant.user("alpha-bio", "cdmo_msat"))
    page = client.get(f"/batches/{batch.pk}/").content.decode()
    assert "data-upload-progress" in page
    assert 'data-testid="upload-progress"' in page
    upload = SimpleUploadedFile("run.csv", b"time,ph\nh,pH\n0,7.0\n1,7.1\n")
    response = client.post(
        f"/batches/{batch.pk}/upload/", {"file": upload}, headers={"X-Upload-Progress": "1"}
    )
    assert response.status_code == 204
    assert response["X-Location"] == f"/batches/{batch.pk}/"
    assert (
        "run.csv: 2 new values for batch A-101"
        in client.get(response["X-Location"]).content.decode()
    )


def test_a_bad_upload_says_where_and_stores_nothing(plant: Any) -> None:
    batch = plant.extra["batch/alpha-bio"]
    client = _client(plant.user("alpha-bio", "cdmo_msat"))
    upload = SimpleUploadedFile("bad.csv", b"time,ph\n0,7.0\n,7.1\n")
    page = client.post(f"/batches/{batch.pk}/upload/", {"file": upload}, follow=True)
    assert "Nothing ingested. bad.csv, line 3, column &#x27;time&#x27;: the time is empty" in (
        page.content.decode()
    )
    with scopes_disabled():
        assert not ProcessDataFile.objects.exists()


def test_the_sponsor_reads_the_page_without_forms(plant: Any) -> None:
    batch = plant.extra["batch/alpha-bio"]
    page = _client(plant.user("sponsor-one", "sponsor_qa")).get(f"/batches/{batch.pk}/")
    text = page.content.decode()
    assert page.status_code == 200
    assert "The CDMO records this batch; you read it." in text
    assert 'data-testid="upload-form"' not in text
    assert 'data-testid="state-form"' not in text


def test_the_sponsor_reads_raw_process_data_only_where_the_cdmo_shares_it(plant: Any) -> None:
    """Page, export and API withhold the raw data from the sponsor until the CDMO shares it;
    the CDMO's own people read it either way."""
    batch = plant.extra["batch/alpha-bio"]
    msat = plant.user("alpha-bio", "cdmo_msat")
    upload = SimpleUploadedFile("run.csv", b"time,ph\nh,pH\n0,7.0\n1,7.1\n")
    _client(msat).post(f"/batches/{batch.pk}/upload/", {"file": upload})
    sponsor = _client(plant.user("sponsor-one", "sponsor_qa"))
    page = sponsor.get(f"/batches/{batch.pk}/").content.decode()
    assert 'data-testid="data-withheld"' in page
    assert "<polyline" not in page
    assert sponsor.get(f"/batches/{batch.pk}/export.csv").status_code == 403
    assert sponsor.get(f"/api/v1/batches/{batch.pk}/data").status_code == 403
    assert _client(msat).get(f"/api/v1/batches/{batch.pk}/data").status_code == 200
    set_data_sharing(msat, batch.project, share=True, reason="Agreed with the sponsor")
    page = sponsor.get(f"/batches/{batch.pk}/").content.decode()
    assert 'data-testid="data-withheld"' not in page
    assert "<polyline" in page
    assert sponsor.get(f"/batches/{batch.pk}/export.csv").status_code == 200
    assert sponsor.get(f"/api/v1/batches/{batch.pk}/data").status_code == 200


def test_the_list_filters_by_state_and_the_state_form_moves_the_batch_on(plant: Any) -> None:
    client = _client(plant.user("alpha-bio", "cdmo_qa"))
    assert "A-101" in client.get("/batches/?state=running").content.decode()
    assert "A-101" not in client.get("/batches/?state=complete").content.decode()
    batch = plant.extra["batch/alpha-bio"]
    client.post(f"/batches/{batch.pk}/state/", {"to": "complete", "reason": "Harvested"})
    assert "A-101" in client.get("/batches/?state=complete").content.decode()


def test_an_offline_result_recorded_on_the_page_says_whether_it_is_in_spec(plant: Any) -> None:
    batch = plant.extra["batch/alpha-bio"]
    client = _client(plant.user("alpha-bio", "cdmo_qa"))
    data = {"attribute": "Aggregate", "value": "6.2", "unit": "%", "spec_high": "5"}
    page = client.post(f"/batches/{batch.pk}/results/", data, follow=True).content.decode()
    assert "Aggregate recorded (out of spec)." in page
    assert 'data-testid="out-of-spec"' in page
    refused = client.post(f"/batches/{batch.pk}/results/", {"attribute": "HCP"}, follow=True)
    assert "Nothing recorded. value: This field is required." in refused.content.decode()
