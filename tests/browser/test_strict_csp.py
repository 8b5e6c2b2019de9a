"""The main pages keep a strict Content-Security-Policy: no inline script and no inline style.

Chromium reports every blocked inline ``<style>``, ``style`` attribute or script as a console
message naming the Content Security Policy; any such message fails the page. Each page leaves
a screenshot ``csp-<page>.png`` in ``test-output/screenshots/``.
"""

from __future__ import annotations

import re
import urllib.request
from typing import Any

from tests.browser.conftest import OUTPUT, DemoServer

CSP = "Content Security Policy"


def _log_in(page: Any, server: DemoServer, username: str) -> None:
    page.goto(f"{server.url}/login/")
    page.fill("#id_username", username)
    page.fill("#id_password", server.facts["password"])
    page.click("button[type=submit]")
    page.wait_for_url(re.compile(r"^https?://[^/]+/$"))


def _violations(page: Any) -> list[str]:
    """The console messages of blocked inline code, collected from now on."""
    blocked: list[str] = []
    page.on("console", lambda message: blocked.append(message.text))
    return blocked


def test_pages_send_a_policy_without_unsafe_inline(demo_server: DemoServer) -> None:
    """Styles, like scripts, come only from the application's own files."""
    with urllib.request.urlopen(f"{demo_server.url}/login/") as response:
        policy = response.headers["Content-Security-Policy"]
    assert "style-src 'self';" in policy
    assert "unsafe-inline" not in policy


def test_the_check_sees_a_blocked_inline_style(page: Any, demo_server: DemoServer) -> None:
    """An inline style added to a page is reported, so the page checks below can fail."""
    blocked = _violations(page)
    page.goto(f"{demo_server.url}/login/")
    page.evaluate("document.body.insertAdjacentHTML('beforeend', '<p style=\"color: red\">x</p>')")
    page.wait_for_function("document.body.lastElementChild.tagName === 'P'")
    page.wait_for_timeout(200)
    assert any(CSP in text for text in blocked)


def test_main_pages_break_no_policy(page: Any, demo_server: DemoServer) -> None:
    """Home, site directory (filtered through htmx), a site, the audit trail and its chain check,
    and the API docs with an operation open: no inline style or script is blocked."""
    facts = demo_server.facts
    blocked = _violations(page)
    _log_in(page, demo_server, facts["qa"])
    problems = []
    for name, path in [
        ("home", "/"),
        ("directory", "/sites/"),
        ("site", f"/sites/{facts['site']}/"),
        ("audit", "/audit/"),
    ]:
        page.goto(f"{demo_server.url}{path}")
        page.wait_for_load_state("networkidle")
        if name == "directory":
            with page.expect_response(re.compile(r".*/sites/\?.*modality=mab")):
                page.select_option("#id_modality", "mab")
            page.wait_for_load_state("networkidle")
        if name == "audit":
            page.click("[data-testid=verify-chain]")
            page.locator(".chain-check").wait_for()
        page.screenshot(path=str(OUTPUT / f"csp-{name}.png"), full_page=True)
        problems += [f"{path}: {text}" for text in blocked if CSP in text]
        blocked.clear()
    page.goto(f"{demo_server.url}/api/v1/docs")
    page.locator(".swagger-ui .opblock").first.click()
    page.locator(".swagger-ui .opblock-body").first.wait_for()
    page.screenshot(path=str(OUTPUT / "csp-api-docs.png"), full_page=True)
    problems += [f"/api/v1/docs: {text}" for text in blocked if CSP in text]
    assert not problems, "\n".join(problems)


def test_the_audit_page_keeps_its_own_stylesheet(page: Any, demo_server: DemoServer) -> None:
    """The trail's layout rules, moved out of the page, still apply: a verdict has its colours."""
    _log_in(page, demo_server, demo_server.facts["qa"])
    page.goto(f"{demo_server.url}/audit/")
    page.click("[data-testid=verify-chain]")
    verdict = page.locator(".chain-check")
    assert verdict.evaluate("e => getComputedStyle(e).borderLeftWidth") == "4px"
    assert page.locator(".audit-head").evaluate("e => getComputedStyle(e).display") == "flex"


def test_without_javascript_the_menu_lies_open_on_a_phone(
    browser: Any, demo_server: DemoServer
) -> None:
    """The no-script stylesheet shows the navigation, since the menu button needs a script."""
    context = browser.new_context(viewport={"width": 390, "height": 844}, java_script_enabled=False)
    page = context.new_page()
    _log_in(page, demo_server, demo_server.facts["sponsor"])
    shown = page.locator("#site-nav").evaluate("e => getComputedStyle(e).display")
    toggle = page.locator(".menu-toggle").evaluate("e => getComputedStyle(e).display")
    page.screenshot(path=str(OUTPUT / "csp-phone-without-javascript.png"), full_page=True)
    context.close()
    assert (shown, toggle) == ("flex", "none")
