"""A QA reviewer's journey through the audit trail in Chromium: filter, export, verify."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from pypdf import PdfReader

from tests.browser.conftest import DemoServer

PDF_TIMEOUT_MS = 120_000


def _log_in(page: Any, server: DemoServer, username: str) -> None:
    page.goto(f"{server.url}/login/")
    page.fill("#id_username", username)
    page.fill("#id_password", server.facts["password"])
    page.click("button[type=submit]")
    page.wait_for_url(re.compile(r"^https?://[^/]+/$"))


def test_qa_filters_exports_a_pdf_and_verifies_the_chain(
    page: Any, demo_server: DemoServer, screenshot: Any, tmp_path: Path
) -> None:
    """Pick 'Suite created' from the action list, download the PDF, run the chain check: OK."""
    _log_in(page, demo_server, demo_server.facts["qa"])
    page.goto(f"{demo_server.url}/audit/")
    page.select_option("#id_action", label="Suite created")
    page.click("form[data-testid=audit-filters] button[type=submit]")
    page.wait_for_url(re.compile(r".*action=opencdmo\.suite\.created.*"))
    rows = page.locator("[data-testid=audit-table] tbody tr")
    listed = rows.count()
    assert listed > 0
    assert all("Suite created" in text for text in rows.all_inner_texts())
    assert "site_id" not in page.locator("[data-testid=audit-table]").inner_text()
    screenshot("1-filtered")

    with page.expect_download(timeout=PDF_TIMEOUT_MS) as download_info:
        page.click("[data-testid=export-pdf]", timeout=PDF_TIMEOUT_MS)
    download = download_info.value
    assert download.suggested_filename.endswith(".pdf")
    pdf = tmp_path / download.suggested_filename
    download.save_as(pdf)
    assert pdf.read_bytes().startswith(b"%PDF")
    text = "\n".join(p.extract_text() for p in PdfReader(pdf).pages)
    assert "Action: Suite created" in text
    assert f"Entries {listed}" in text
    assert "every chain intact" in text

    page.click("[data-testid=verify-chain]")
    page.wait_for_url(re.compile(r".*/audit/\?action=opencdmo\.suite\.created.*"))
    verdict = page.locator("[data-testid=chain-check]").inner_text()
    assert "Chain intact" in verdict
    assert re.search(r"OK: \d+ audit entries, every chain intact\.", verdict)
    screenshot("2-verified")

    page.goto(f"{demo_server.url}/audit/")
    trail = page.locator("[data-testid=audit-table]").inner_text()
    assert "Audit chain verified" in trail
    assert "Audit trail exported" in trail
    screenshot("3-trail")
