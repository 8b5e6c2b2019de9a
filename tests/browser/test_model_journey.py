"""The monitoring model's life in the browser: the CDMO's process engineer fits one on
reference batches, its QA approves it by signature, the faulty running batch shows its alarm
live, and the sponsor sees that alarm on its project."""

from __future__ import annotations

import re
from typing import Any

from tests.browser.conftest import OUTPUT, DemoServer, sign_in

MSAT, QA, SPONSOR = "hoshimori.msat", "hoshimori.qa", "aroha.qa"
"""The CDMO of the demo's awarded project (ARB-217 at Hoshimori Kobe) and its sponsor."""


def _person(browser: Any, server: DemoServer, username: str) -> Any:
    context = browser.new_context(viewport={"width": 1366, "height": 900})
    context.set_default_timeout(20_000)
    page = context.new_page()
    sign_in(page, server, username)
    return page


def test_a_model_is_fitted_approved_and_judges_the_running_batch(
    browser: Any, demo_server: DemoServer
) -> None:
    OUTPUT.mkdir(parents=True, exist_ok=True)
    msat = _person(browser, demo_server, MSAT)
    msat.goto(f"{demo_server.url}/monitoring/")
    msat.click("text=ARB-217 at Hoshimori Kobe >> nth=-1")
    msat.wait_for_url(re.compile(r".*/monitoring/projects/\d+/models/new/$"))
    boxes = msat.locator("[data-testid=model-form] input[type=checkbox]")
    assert boxes.count() >= 5
    for n in range(boxes.count()):
        boxes.nth(n).check()
    msat.fill("input[name=reason]", "Reference set after the 2026 campaign")
    msat.click("[data-testid=model-form] button[type=submit]")
    msat.wait_for_url(re.compile(r".*/monitoring/models/\d+/$"))
    model_url = msat.url
    msat.wait_for_selector("[data-testid=model-status][data-status=fitted]", timeout=180_000)
    assert msat.locator("[data-testid=reference-batches] tbody tr").count() >= 5
    msat.screenshot(path=str(OUTPUT / "model-journey-1-fitted.png"), full_page=True)

    qa = _person(browser, demo_server, QA)
    qa.goto(model_url)
    qa.fill("[data-testid=sign-form] input[name=password]", demo_server.facts["password"])
    qa.fill("[data-testid=sign-form] [name=reason]", "Reference batches and limits reviewed")
    qa.click("[data-testid=sign-form] button[type=submit]")
    qa.wait_for_selector("[data-testid=approved]")
    assert "Approved by" in qa.inner_text("[data-testid=approved]")
    qa.screenshot(path=str(OUTPUT / "model-journey-2-approved.png"), full_page=True)

    msat.goto(f"{demo_server.url}/monitoring/")
    msat.click("[data-testid=running-batches] >> text=UKB-2699")
    msat.wait_for_selector("[data-testid=alarm]")
    assert "SPE" in msat.inner_text("[data-testid=alarm-box]")
    assert msat.locator("[data-testid=chart-spe]").count() == 1
    msat.screenshot(path=str(OUTPUT / "model-journey-3-live-alarm.png"), full_page=True)

    sponsor = _person(browser, demo_server, SPONSOR)
    sponsor.goto(f"{demo_server.url}/monitoring/")
    sponsor.click("[data-testid=alarms] >> text=UKB-2699 >> nth=0")
    sponsor.wait_for_selector("[data-testid=alarm]")
    assert "SPE" in sponsor.inner_text("[data-testid=alarm-box]")
    sponsor.screenshot(path=str(OUTPUT / "model-journey-4-sponsor-alarm.png"), full_page=True)
    for page in (msat, qa, sponsor):
        page.context.close()
