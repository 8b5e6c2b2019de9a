"""From a monitoring alarm to a batch released by both parties, in the browser.

A CDMO process engineer raises a deviation from the alarm of a finished faulty batch; the
CDMO's QA classifies it (the sponsor's QA hears of it in the inbox), investigates, opens a
CAPA and closes it by e-signature; then QA releases the batch by signature and the sponsor's
QA releases it with its own. The Certificate of Analysis shows both signatures and the
process-data verdict; it is rendered to PNG beside the screenshots.

The world is small and built with the services (one approved model, one judged faulty batch
under review), not the demo, so the journey stays fast.
"""

from __future__ import annotations

import io
import json
import os
import re
import shutil
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from pypdf import PdfReader

from tests.browser.conftest import OUTPUT, DemoServer, served
from tests.databases import fresh_database

RUN = [sys.executable, "-m", "opencdmo.cli"]
BUILD_SCRIPT = """
import json, django
django.setup()
from django.core.management import call_command
call_command("migrate", interactive=False, verbosity=0)
from tests.browser.test_quality_journey import build_journey_world
print(json.dumps(build_journey_world()))
"""


def build_journey_world() -> dict[str, Any]:
    """alpha-bio's plant (tests.analytics.conftest), its model fitted and approved by QA's
    signature, the faulty batch judged (an alarm verdict and its alarms) and under review."""
    from django_scopes import scopes_disabled

    from opencdmo.accounts.tenancy import caller_scope
    from opencdmo.analytics import services
    from opencdmo.analytics.models import Alarm
    from opencdmo.analytics.tasks import run_fit
    from opencdmo.manufacturing import services as manufacturing
    from opencdmo.quality import signing
    from tests.analytics.conftest import build_plant
    from tests.conftest import PASSWORD, build_world

    plant = build_plant(build_world())
    msat, qa = plant.user("cdmo_msat"), plant.user("cdmo_qa")
    with caller_scope(msat):
        model = services.request_model(
            msat,
            site=plant.project.site,
            product=plant.product,
            batches=plant.normal,
            reason="Reference batches",
            enqueue=False,
        )
    if run_fit(model.pk) != "fitted":
        raise RuntimeError("the journey's model did not fit")
    model.refresh_from_db()
    with caller_scope(qa):
        services.approve_model(
            qa,
            model,
            password=PASSWORD,
            reason="Reviewed",
            seen_sha256=signing.content_sha256(signing.canonical_content(model)),
        )
        services.judge_batch(plant.faulty)
        manufacturing.change_state(plant.faulty, to="under_review", actor=qa, reason="Review")
    with scopes_disabled():
        alarm = Alarm.objects.filter(batch=plant.faulty).order_by("time_h", "pk").first()
    assert alarm is not None
    return {
        "password": PASSWORD,
        "batch": plant.faulty.pk,
        "lot": plant.faulty.lot,
        "alarm": alarm.pk,
        "msat": msat.username,
        "qa": qa.username,
        "sponsor_qa": plant.user("sponsor_qa", "sponsor-one").username,
    }


@pytest.fixture(scope="module")
def quality_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[DemoServer]:
    """The journey's world in a database of its own, served by ``opencdmo serve``."""
    data_dir = tmp_path_factory.mktemp("quality-server")
    with fresh_database("quality") as database_url:
        env = {
            **os.environ,
            "OPENCDMO_DATA_DIR": str(data_dir),
            "DATABASE_URL": database_url,
            "OPENCDMO_DEMO": "1",
        }
        env.pop("DJANGO_SETTINGS_MODULE", None)
        facts = (
            subprocess.run(
                [sys.executable, "-c", BUILD_SCRIPT],
                env={**env, "DJANGO_SETTINGS_MODULE": "opencdmo.settings"},
                check=True,
                capture_output=True,
                text=True,
            )
            .stdout.strip()
            .splitlines()[-1]
        )
        with served(env, data_dir) as url:
            yield DemoServer(url, json.loads(facts))


class Person:
    """One signed-in user in a browser context of their own."""

    def __init__(self, browser: Any, server: DemoServer, username: str) -> None:
        self.server = server
        self.context = browser.new_context(viewport={"width": 1366, "height": 900})
        self.context.set_default_timeout(15_000)
        self.page = self.context.new_page()
        self.page.goto(f"{server.url}/login/")
        self.page.fill("#id_username", username)
        self.page.fill("#id_password", server.facts["password"])
        self.page.click("button[type=submit]")
        self.page.wait_for_url(re.compile(r"^https?://[^/]+/$"))

    def go(self, path: str) -> Any:
        self.page.goto(self.server.url + path)
        return self.page

    def shot(self, step: str) -> Path:
        OUTPUT.mkdir(parents=True, exist_ok=True)
        path = OUTPUT / f"quality-journey-{step}.png"
        self.page.screenshot(path=str(path), full_page=True)
        return path

    def submit(self, form: str, button: str = "button[type=submit]") -> None:
        with self.page.expect_navigation():
            self.page.click(f"{form} {button}")


def _render_png(pdf: Path) -> Path:
    """The PDF's first page as PNG with poppler's pdftoppm (``make test`` installs it), to
    look at."""
    tool = shutil.which("pdftoppm")
    assert tool is not None, "pdftoppm is missing: install Debian's poppler-utils"
    stem = pdf.with_suffix("")
    subprocess.run(
        [tool, "-png", "-r", "80", "-f", "1", "-l", "1", str(pdf), str(stem)], check=True
    )
    [png] = sorted(stem.parent.glob(f"{stem.name}*.png"))
    assert png.stat().st_size > 10_000, "the CoA's first page rendered blank"
    return png


def test_alarm_to_deviation_to_two_signature_release(
    browser: Any, quality_server: DemoServer
) -> None:
    """Alarm → deviation → classification (sponsor told) → investigation → CAPA → signed
    closure → CDMO release by signature → sponsor release by signature → CoA with both."""
    facts = quality_server.facts
    batch, lot = facts["batch"], facts["lot"]
    started = time.monotonic()

    msat = Person(browser, quality_server, facts["msat"])
    page = msat.go(f"/monitoring/batches/{batch}/")
    assert "Alarm" in page.inner_text("[data-testid=verdict-status]")
    msat.shot("1-alarm")
    with page.expect_navigation():
        page.locator("[data-testid=raise-deviation]").first.click()
    title = page.input_value("#title")
    assert re.fullmatch(rf"SPE alarm on {lot} at \d+\.\d h", title)
    assert "against its limit" in page.input_value("#evidence")
    msat.shot("2-deviation-form")
    page.fill("#reason", "SPE alarm on a finished batch")
    msat.submit("[data-testid=deviation-form]")
    assert re.search(r"/quality/deviations/\d+/$", page.url)
    deviation_path = page.url.removeprefix(quality_server.url)
    assert page.locator(f"[data-testid=source] a[href='/monitoring/batches/{batch}/']").count()
    page = msat.go(f"/monitoring/batches/{batch}/")
    reference = page.locator("[data-testid=alarm-deviation]").first.inner_text()
    assert reference.startswith("DEV-")
    page = msat.go("/monitoring/")
    assert reference in page.inner_text("[data-testid=alarms]")
    msat.shot("3-alarm-list")

    qa = Person(browser, quality_server, facts["qa"])
    page = qa.go(f"/quality/batches/{batch}/review/")
    assert "Batch monitoring judged" in page.inner_text("[data-testid=blockers]")
    page = qa.go(deviation_path)
    page.select_option("#classification", "major")
    page.fill("#rationale", "Process outside its reference envelope")
    page.fill("#reason-c", "Alarm reviewed")
    qa.submit("[data-testid=classify-form]")
    assert "Classified" in page.inner_text("[data-testid=state]")
    page.fill("#reason-i", "Investigate")
    with page.expect_navigation():
        page.click("text=Start the investigation")
    page.select_option("#root_cause", "equipment")
    page.fill("#investigation", "Temperature controller failed; replaced and requalified.")
    page.fill("#reason-r", "Findings")
    qa.submit("[data-testid=investigation-form]")
    page.fill("#capa-title", "Controller preventive maintenance")
    page.fill("#criteria", "No controller failure in the next ten batches")
    page.fill("#eff-due", "2027-06-01")
    qa.submit("[data-testid=capa-form]")
    assert re.search(r"/quality/capa/\d+/$", page.url)
    page = qa.go(deviation_path)
    page.fill("#id_password", facts["password"])
    page.fill("#id_reason", "Investigation complete")
    qa.submit("[data-testid=sign-form]")
    assert "Closed" in page.inner_text("[data-testid=state]")
    qa.shot("4-deviation-closed")

    sponsor = Person(browser, quality_server, facts["sponsor_qa"])
    page = sponsor.go("/inbox/")
    inbox = page.inner_text("[data-testid=inbox]")
    assert f"{reference} at" in inbox or reference in inbox
    assert "SPE alarm on" in inbox
    sponsor.shot("5-sponsor-inbox")

    page = qa.go(f"/quality/batches/{batch}/review/")
    assert "Alarm by" in page.inner_text("[data-testid=verdict]")
    assert page.locator("[data-testid=blockers]").count() == 0
    page.fill("#pw", facts["password"])
    page.fill("#reason-d", "Batch record, results and deviation reviewed")
    qa.submit("[data-testid=dispose-form]")
    assert "Awaiting" in page.inner_text("[data-testid=disposition-state]")
    qa.shot("6-cdmo-released")

    page = sponsor.go(f"/quality/batches/{batch}/review/")
    page.fill("#pw-s", facts["password"])
    page.fill("#reason-s", "Released for clinical supply")
    sponsor.submit("[data-testid=sponsor-form]")
    assert "Released" in page.inner_text("[data-testid=disposition-state]")
    sponsor.shot("7-sponsor-released")

    response = sponsor.page.request.get(f"{quality_server.url}/quality/batches/{batch}/coa.pdf")
    assert response.ok
    OUTPUT.mkdir(parents=True, exist_ok=True)
    pdf = OUTPUT.parent / f"quality-journey-coa-{lot}.pdf"
    pdf.write_bytes(response.body())
    text = " ".join(
        " ".join(p.extract_text().split()) for p in PdfReader(io.BytesIO(response.body())).pages
    )
    assert "Alpha Bio" in text
    assert "Sponsor One" in text
    assert text.count("Released") >= 2
    assert "Alarm by" in text
    _render_png(pdf)
    assert time.monotonic() - started < 60
    for person in (msat, qa, sponsor):
        person.context.close()
