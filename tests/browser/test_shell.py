"""Every page of the application as the roles that use it, on a 1,280 px screen and a 390 px phone.

On the wide screen the navigation must sit on one line; on the phone it hides behind a menu
button and no page may scroll sideways. No page may break its Content-Security-Policy. Each page leaves a screenshot in
``test-output/screenshots/`` named ``shell-<who>-<width>-<page>.png``.
"""

from __future__ import annotations

import re
from typing import Any

import pytest

from tests.browser.conftest import OUTPUT, DemoServer

WIDE, PHONE = 1280, 390
CSP = "Content Security Policy"


def _pages(facts: dict[str, Any]) -> dict[str, list[str]]:
    """Who visits which pages; ``{...}`` fields are filled from the demo facts."""
    cdmo = facts["admin"].split(".")[0]
    sponsor = facts["sponsor"].split(".")[0]
    return {
        facts["sponsor"]: [
            "/",
            "/sites/",
            f"/sites/{facts['site']}/",
            "/organisations/",
            f"/organisations/{facts['owner']}/",
            "/account/tokens/",
            "/no/such/page/",
            "/sites/import/",
        ],
        f"{sponsor}.qa": ["/", "/audit/"],
        facts["planner"]: [
            "/",
            f"/sites/{facts['site']}/",
            f"/suites/{facts['suite']}/edit/",
            f"/sites/{facts['site']}/private/edit/",
        ],
        f"{cdmo}.msat": ["/"],
        f"{cdmo}.operator": ["/"],
        facts["qa"]: ["/", "/audit/"],
        facts["admin"]: ["/", "/users/", "/users/invite/", "/sites/import/", "/admin/"],
        "platform.admin": ["/", "/users/"],
    }


def _slug(path: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", path.lower()).strip("-") or "home"


def _log_in(page: Any, server: DemoServer, username: str) -> None:
    page.goto(f"{server.url}/login/")
    page.fill("#id_username", username)
    page.fill("#id_password", server.facts["password"])
    page.click("button[type=submit]")
    page.wait_for_url(re.compile(r"^https?://[^/]+/$"))


def _nav_wraps(page: Any) -> str:
    """Why the navigation does not sit on one line, or ''."""
    centres = page.eval_on_selector_all(
        "header.top .groups > li, header.top .who",
        "els => els.map(e => { const r = e.getBoundingClientRect(); "
        "return Math.round(r.top + r.height / 2); })",
    )
    if len(centres) < 3 or max(centres) - min(centres) > 4:
        return f"navigation wraps (item centres at {centres} px)"
    height = page.locator("header.top .bar").bounding_box()["height"]
    return f"header is {height} px high" if height >= 64 else ""


def _sideways(page: Any) -> str:
    """Why the page scrolls sideways on the phone, or ''."""
    width = page.evaluate("document.documentElement.scrollWidth")
    return f"{width} px wide on a {PHONE} px phone" if width > PHONE else ""


def _visit(
    context: Any, server: DemoServer, username: str, paths: list[str], width: int
) -> list[str]:
    """Screenshot every page; return what is wrong with each."""
    page = context.new_page()
    blocked: list[str] = []
    page.on("console", lambda message: blocked.append(message.text))
    _log_in(page, server, username)
    problems = []
    for path in paths:
        blocked.clear()
        page.goto(f"{server.url}{path}")
        page.wait_for_load_state("networkidle")
        problems += [f"{path} as {username}: {text}" for text in blocked if CSP in text]
        shot = OUTPUT / f"shell-{username}-{width}-{_slug(path)}.png"
        page.screenshot(path=str(shot), full_page=True)
        if width == WIDE:
            found = [_nav_wraps(page)]
        else:
            found = [
                _sideways(page),
                "" if page.locator(".menu-toggle").is_visible() else "no menu button",
                "navigation shown before the menu opens"
                if page.locator("#site-nav").is_visible()
                else "",
            ]
        problems += [f"{path} as {username}: {p}" for p in found if p]
    if width == PHONE:
        page.goto(f"{server.url}/")
        page.click(".menu-toggle")
        page.locator("[data-nav-group] > button").first.click()
        page.screenshot(path=str(OUTPUT / f"shell-{username}-{width}-menu.png"), full_page=True)
        if not page.locator("#site-nav").is_visible():
            problems.append(f"the menu button of {username} opens nothing")
        if _sideways(page):
            problems.append(f"the open menu of {username}: {_sideways(page)}")
    page.close()
    return problems


@pytest.mark.parametrize("width", [WIDE, PHONE])
def test_every_page_fits_as_every_role(browser: Any, demo_server: DemoServer, width: int) -> None:
    """Nav on one line at 1,280 px; a menu button and no sideways scrolling at 390 px."""
    OUTPUT.mkdir(parents=True, exist_ok=True)
    problems = []
    for username, paths in _pages(demo_server.facts).items():
        context = browser.new_context(viewport={"width": width, "height": 844})
        context.set_default_timeout(15_000)
        try:
            problems += _visit(context, demo_server, username, paths, width)
        finally:
            context.close()
    assert not problems, "\n".join(problems)


@pytest.mark.parametrize("width", [WIDE, PHONE])
def test_signed_out_pages_fit(browser: Any, demo_server: DemoServer, width: int) -> None:
    """The login page and a spent set-password link, as a visitor sees them."""
    OUTPUT.mkdir(parents=True, exist_ok=True)
    context = browser.new_context(viewport={"width": width, "height": 844})
    page = context.new_page()
    for path in ("/login/", "/account/set-password/MQ/expired-token/"):
        page.goto(f"{demo_server.url}{path}")
        page.screenshot(
            path=str(OUTPUT / f"shell-visitor-{width}-{_slug(path)}.png"), full_page=True
        )
        assert width == WIDE or not _sideways(page), path
    assert "This link no longer works" in page.inner_text("main")
    context.close()


def test_navigation_works_from_the_keyboard(page: Any, demo_server: DemoServer) -> None:
    """Tab to a group, open it with Enter, reach its links, close it with Escape."""
    page.set_viewport_size({"width": WIDE, "height": 800})
    _log_in(page, demo_server, demo_server.facts["admin"])
    page.focus("[data-nav-group=network] > button")
    page.keyboard.press("Enter")
    menu = page.locator("#nav-network")
    assert menu.is_visible()
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.textContent").startswith("Site directory")
    page.keyboard.press("Escape")
    assert not menu.is_visible()
    assert page.evaluate("document.activeElement.getAttribute('aria-controls')") == "nav-network"
    page.focus("[data-nav-group=data] > button")
    page.keyboard.press("Enter")
    page.keyboard.press("Tab")
    page.keyboard.press("Enter")
    page.wait_for_url(re.compile(r".*/sites/import/$"))
    current = page.locator("#nav-data a[aria-current=page]")
    assert current.inner_text().startswith("Import")
    assert "current" in (page.get_attribute("[data-nav-group=data]", "class") or "")


def test_new_api_token_can_be_copied(page: Any, demo_server: DemoServer) -> None:
    """The copy button puts the token, shown once, on the clipboard."""
    page.context.grant_permissions(["clipboard-read", "clipboard-write"])
    _log_in(page, demo_server, demo_server.facts["sponsor"])
    page.goto(f"{demo_server.url}/account/tokens/")
    page.fill("#id_name", "Clipboard check")
    page.click("text=Create token")
    secret = page.inner_text("[data-testid=new-token]")
    page.click("[data-copy=new-token]")
    page.wait_for_function(
        "document.querySelector('[data-copy=new-token]').textContent === 'Copied'"
    )
    assert page.evaluate("navigator.clipboard.readText()") == secret
    page.click("nav button:has-text('Data')")
    page.click("nav >> text=API docs")
    page.wait_for_url(re.compile(r".*/api/v1/docs$"))
    page.locator("#swagger-ui .information-container").wait_for()
    page.screenshot(path=str(OUTPUT / "shell-api-docs.png"))
    page.click("[data-testid=back-to-app]")
    page.wait_for_url(re.compile(r"^https?://[^/]+/$"))


def test_api_docs_run_under_the_content_security_policy(page: Any, demo_server: DemoServer) -> None:
    """Swagger UI draws the API from its own static files with no policy violation."""
    blocked: list[str] = []
    page.on("console", lambda message: blocked.append(message.text))
    page.goto(f"{demo_server.url}/api/v1/docs")
    page.locator(".swagger-ui .opblock").first.wait_for()
    assert [text for text in blocked if CSP in text] == []
