"""End-to-end journeys in Chromium on the demo world: a sponsor searching, a CDMO editing."""

from __future__ import annotations

import re
from typing import Any

from tests.browser.conftest import DemoServer


def _log_in(page: Any, server: DemoServer, username: str) -> None:
    page.goto(f"{server.url}/login/")
    page.fill("#id_username", username)
    page.fill("#id_password", server.facts["password"])
    page.click("button[type=submit]")
    page.wait_for_url(re.compile(r"^https?://[^/]+/$"))


def _log_out(page: Any, server: DemoServer) -> None:
    page.click("text=Log out")
    page.wait_for_url(re.compile(r".*/login/.*"))


def test_sponsor_finds_an_fda_approved_mab_site(
    page: Any, demo_server: DemoServer, screenshot: Any
) -> None:
    """Filter for mAb, a bioreactor of at least 2,000 L and an FDA approval; open a match; log out."""
    _log_in(page, demo_server, demo_server.facts["sponsor"])
    page.click("nav button:has-text('Network')")
    page.click("nav >> text=Site directory")
    results = page.locator("#results")
    unfiltered = results.locator("tbody tr").count()
    screenshot("1-directory")
    page.select_option("#id_modality", "mab")
    page.fill("#id_min_volume_l", "2000")
    page.select_option("#id_agency", "FDA")
    page.click("form[data-testid=filters] button[type=submit]")
    page.wait_for_url(re.compile(r".*modality=mab.*min_volume_l=2000.*agency=FDA.*"))
    page.wait_for_load_state("networkidle")
    rows = results.locator("tbody tr")
    assert 0 < rows.count() <= unfiltered
    assert "No site matches" not in results.inner_text()
    screenshot("2-filtered")
    first = rows.first.locator("a").first
    name = first.inner_text()
    first.click()
    page.wait_for_url(re.compile(r".*/sites/\d+/$"))
    assert page.get_by_role("heading", name=name).count() == 1
    body = page.locator("main").inner_text()
    assert "FDA" in body
    assert "Monoclonal antibody" in body
    assert re.search(r"[2-9],\d{3}|\d{2},\d{3}", body), "no bioreactor of at least 2,000 L shown"
    screenshot("3-site")
    _log_out(page, demo_server)
    page.goto(f"{demo_server.url}/sites/")
    assert "/login/" in page.url


def test_cdmo_suite_change_appears_in_audit_trail(
    page: Any, demo_server: DemoServer, screenshot: Any
) -> None:
    """A planner changes a suite's GMP grade with a reason; QA finds it on the audit page."""
    facts = demo_server.facts
    _log_in(page, demo_server, facts["planner"])
    page.goto(f"{demo_server.url}/sites/{facts['site']}/")
    page.click(f"a[href='/suites/{facts['suite']}/edit/']")
    page.wait_for_url(re.compile(rf".*/suites/{facts['suite']}/edit/$"))
    page.select_option("#id_gmp_grade", "B")
    page.fill("#id_reason", "Upgraded to grade B after HVAC requalification")
    screenshot("1-edit")
    page.click("text=Save changes")
    page.wait_for_url(re.compile(rf".*/sites/{facts['site']}/$"))
    _log_out(page, demo_server)
    _log_in(page, demo_server, facts["qa"])
    page.goto(f"{demo_server.url}/audit/?action=opencdmo.suite.changed")
    row = page.locator("[data-testid=audit-table] tr", has_text="HVAC requalification")
    assert row.count() == 1
    text = row.inner_text()
    assert "opencdmo.suite.changed" in text
    assert "GMP grade: Grade C → Grade B" in text
    assert facts["planner_name"] in text
    screenshot("2-audit")


def test_cdmo_admin_imports_a_site_file_through_the_worker(
    page: Any, demo_server: DemoServer, screenshot: Any, tmp_path: Any
) -> None:
    """Upload a CSV; the page polls until the task worker has imported it; the site exists."""
    facts = demo_server.facts
    csv = tmp_path / "new-sites.csv"
    csv.write_text(
        "owner,code,name,country,region,city,latitude,longitude\n"
        f"{facts['owner']},lyon-2,Import Test Lyon,FR,europe,Lyon,45.764,4.8357\n"
    )
    _log_in(page, demo_server, facts["admin"])
    page.click("nav button:has-text('Data')")
    page.click("nav >> text=Import")
    page.set_input_files("#id_file", str(csv))
    page.click("text=Upload and import")
    page.wait_for_url(re.compile(r".*/sites/import/$"))
    jobs = page.locator("[data-testid=import-jobs]")
    jobs.locator("tr", has_text="new-sites.csv").locator("text=Imported").first.wait_for(
        timeout=30_000
    )
    assert "Imported 1 site from new-sites.csv." in jobs.inner_text()
    screenshot("1-imported")
    page.goto(f"{demo_server.url}/sites/?q=Import+Test+Lyon")
    table = page.locator("[data-testid=site-table]")
    assert table.get_by_role("link", name="Import Test Lyon").count() == 1
