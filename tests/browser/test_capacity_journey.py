"""From a sponsor's request to a reschedule the sponsor sees: the capacity journey in Chromium.

A sponsor files a request to one CDMO, watches the sites answer, compares the options and
accepts the best; the CDMO's planner finds the new batches in the site's Gantt chart, breaks
down the bioreactor of one of them in a scenario, solves, compares and publishes; the
sponsor's project page then says what moved.
"""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

from tests.browser.conftest import DemoServer
from tests.browser.test_journeys import _log_in, _log_out


def test_request_accept_reschedule_and_see_what_moved(
    page: Any, demo_server: DemoServer, screenshot: Any
) -> None:
    facts = demo_server.facts
    _log_in(page, demo_server, facts["sponsor"])
    page.goto(f"{demo_server.url}/requests/new/")
    page.select_option("#id_product", "")
    page.fill("#id_new_product", "JRN-101")
    page.select_option("#id_modality", "mab")
    page.select_option("#id_phase", "phase_3")
    page.fill("#id_scale_l", "2000")
    page.fill("#id_batches", "2")
    today = dt.datetime.now(dt.UTC).date()
    page.fill("#id_earliest_start", str(today + dt.timedelta(days=21)))
    page.fill("#id_need_by", str(today + dt.timedelta(days=300)))
    page.check(f"input[name=recipients][value='{facts['mab_cdmo_id']}']")
    screenshot("1-request")
    page.click("[data-testid=request-form] button[type=submit]")
    page.wait_for_url(re.compile(r".*/requests/\d+/$"))
    request_id = re.search(r"/requests/(\d+)/", page.url).group(1)  # type: ignore[union-attr]
    assert "sites answered" in page.locator("[data-testid=options-panel]").inner_text() or (
        page.locator("[data-state=options_ready]").count() == 1
    )
    page.wait_for_selector("[data-state=options_ready]", timeout=120_000)
    screenshot("2-options")
    rows = page.locator("[data-testid=option-row]")
    assert rows.count() >= 1
    assert page.locator("[data-testid=options-timeline] svg").count() == 1
    page.locator("[data-testid=option-row] button:has-text('Accept')").first.click()
    page.wait_for_url(re.compile(r".*/projects/\d+/$"))
    project_url = page.url
    batches = page.locator("[data-testid=project-batches] tbody tr")
    assert batches.count() >= 2
    production = page.locator("[data-testid=project-batches] tbody tr:has-text('production')").first
    cells = production.locator("td").all_inner_texts()
    unit, start = cells[2], dt.datetime.strptime(cells[3], "%Y-%m-%d %H:%M")
    site_link = page.locator("[data-testid=project-site]").get_attribute("href")
    site_id = re.search(r"/sites/(\d+)/", site_link or "").group(1)  # type: ignore[union-attr]
    screenshot("3-project")
    _log_out(page, demo_server)

    _log_in(page, demo_server, facts["mab_planner"])
    page.goto(f"{demo_server.url}/plans/{site_id}/?zoom=quarter")
    assert f"R{request_id}-1" in page.locator("[data-testid=gantt]").inner_html()
    screenshot("4-gantt")
    page.fill("[data-testid=new-scenario] input[name=name]", "Bioreactor breakdown")
    page.click("[data-testid=new-scenario] button")
    page.wait_for_url(re.compile(r".*/scenarios/\d+/$"))
    form = page.locator("[data-testid=edit-downtime]")
    unit_option = form.locator("select[name=downtime-unit] option", has_text=unit.split(" / ")[-1])
    form.locator("select[name=downtime-unit]").select_option(
        unit_option.first.get_attribute("value")
    )
    form.locator("select[name=downtime-kind]").select_option("breakdown")
    form.locator("input[name=downtime-start]").fill(
        (start - dt.timedelta(hours=6)).strftime("%Y-%m-%dT%H:%M")
    )
    form.locator("input[name=downtime-end]").fill(
        (start + dt.timedelta(days=3)).strftime("%Y-%m-%dT%H:%M")
    )
    form.locator("input[name=downtime-reason]").fill("Agitator seal failure")
    form.locator("button").click()
    page.wait_for_selector("[data-testid=scenario-edits] li:has-text('breakdown')")
    page.fill("[data-testid=scenario-solve] input[name=time_limit_s]", "5")
    page.click("[data-testid=scenario-solve] button")
    page.wait_for_selector("[data-status=solved]", timeout=90_000)
    screenshot("5-scenario")
    page.click("text=Compare with the published plan")
    assert page.locator("[data-testid=compare] th", has_text="Bioreactor breakdown").count() == 1
    screenshot("6-compare")
    page.go_back()
    page.fill("[data-testid=scenario-publish] input[name=reason]", "Reschedule after breakdown")
    page.click("[data-testid=scenario-publish] button")
    page.wait_for_url(re.compile(rf".*/plans/{site_id}/$"))
    assert "plan v" in page.locator("h1").inner_text()
    _log_out(page, demo_server)

    _log_in(page, demo_server, facts["sponsor"])
    page.goto(project_url)
    moved = page.locator("[data-testid=moved]").all_inner_texts()
    screenshot("7-what-moved")
    assert any(text not in ("–", "unchanged") for text in moved), moved
