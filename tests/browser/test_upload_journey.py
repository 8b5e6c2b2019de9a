"""A process engineer uploads a file of process data on a running batch's page: the page's
script sends it with the upload's progress and opens the batch page with the outcome."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from tests.browser.conftest import DemoServer, sign_in

USER = "hoshimori.msat"


def test_an_upload_shows_its_progress_and_ends_on_the_batch_page(
    page: Any, demo_server: DemoServer, screenshot: Any, tmp_path: Path
) -> None:
    """About 1.5 MB of readings: the script's request is answered 204, then the batch page
    says how many values were stored."""
    rows = "".join(f"{k / 60:.4f},{20 + (k % 97) / 100:.2f}\n" for k in range(100_000))
    data = tmp_path / "extra-probe.csv"
    data.write_text("time,extra_probe_c\nh,°C\n" + rows)
    sign_in(page, demo_server, USER)
    page.goto(f"{demo_server.url}/batches/?state=running")
    page.click("[data-testid=batches] tbody tr:first-child a")
    page.wait_for_url(re.compile(r".*/batches/\d+/$"))
    batch_url = page.url
    page.set_input_files("[data-testid=upload-form] input[type=file]", str(data))
    page.fill("[data-testid=upload-form] input[name=reason]", "A probe added for the trial")
    with page.expect_response(re.compile(r".*/upload/$")) as answered:
        page.click("[data-testid=upload-form] button[type=submit]")
    assert answered.value.status == 204
    page.wait_for_selector("text=extra-probe.csv: 100,000 new values")
    assert page.url == batch_url
    screenshot("uploaded")
