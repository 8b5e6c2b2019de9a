"""The process engineer of the demo's awarded project follows its running batch live: an SPE
alarm since the temperature controller failed, and each variable's contribution at a point."""

from __future__ import annotations

import re
from typing import Any

from tests.browser.conftest import DemoServer

USER = "hoshimori.msat"
"""The process engineer of the CDMO that makes the demo's awarded project."""


def test_live_page_shows_an_alarm_and_contributions(
    page: Any, demo_server: DemoServer, screenshot: Any
) -> None:
    """Monitoring → the latest alarm's batch → the alarm, the charts, a clicked point."""
    page.goto(f"{demo_server.url}/login/")
    page.fill("#id_username", USER)
    page.fill("#id_password", demo_server.facts["password"])
    page.click("button[type=submit]")
    page.wait_for_url(re.compile(r"^https?://[^/]+/$"))
    page.goto(f"{demo_server.url}/monitoring/")
    page.click("[data-testid=alarms] tbody tr:first-child a")
    page.wait_for_url(re.compile(r".*/monitoring/batches/\d+/$"))
    assert "Running" in page.inner_text("h1")
    alarm = page.inner_text("[data-testid=alarm]")
    assert "SPE" in alarm
    assert "temperature" in alarm
    assert page.locator("[data-testid=envelope]").count() > 10
    page.locator("[data-testid=chart-spe] a").last.click()
    page.wait_for_selector("text=Contributions to SPE")
    first = page.inner_text("[data-testid=contributions] tbody tr:first-child")
    assert "temperature" in first
    assert "sample=" in page.url
    screenshot("live-alarm")
