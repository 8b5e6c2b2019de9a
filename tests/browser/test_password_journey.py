"""A signed-in user changes their password from the header, then signs in with the new one."""

from __future__ import annotations

import re
from typing import Any

from tests.browser.conftest import DemoServer

HOME = re.compile(r"^https?://[^/]+/$")
NEW_PASSWORD = "a-changed-passphrase-77"


def _log_in(page: Any, server: DemoServer, username: str, password: str) -> None:
    page.goto(f"{server.url}/login/")
    page.fill("#id_username", username)
    page.fill("#id_password", password)
    page.click("button[type=submit]")
    page.wait_for_url(HOME)


def _change(page: Any, old: str, new: str) -> None:
    page.click("[data-testid=change-password]")
    page.wait_for_url(re.compile(r".*/account/password/$"))
    page.fill("#id_old_password", old)
    page.fill("#id_new_password1", new)
    page.fill("#id_new_password2", new)
    page.click("[data-testid=password-change-form] button[type=submit]")
    page.wait_for_url(HOME)


def test_user_changes_password_from_the_header(
    page: Any, demo_server: DemoServer, screenshot: Any
) -> None:
    """Change password → still signed in with a message → the new password signs in."""
    facts = demo_server.facts
    _log_in(page, demo_server, facts["sponsor"], facts["password"])
    page.click("[data-testid=change-password]")
    page.fill("#id_old_password", "not-my-password")
    page.fill("#id_new_password1", NEW_PASSWORD)
    page.fill("#id_new_password2", NEW_PASSWORD)
    page.click("[data-testid=password-change-form] button[type=submit]")
    assert "Your old password was entered incorrectly" in page.inner_text("main")
    screenshot("wrong-old-password")
    page.goto(f"{demo_server.url}/")
    _change(page, facts["password"], NEW_PASSWORD)
    assert "Your password is changed" in page.inner_text(".messages")
    screenshot("changed")
    page.click("text=Log out")
    page.wait_for_url(re.compile(r".*/login/.*"))
    _log_in(page, demo_server, facts["sponsor"], NEW_PASSWORD)
    _change(page, NEW_PASSWORD, facts["password"])
    page.click("text=Log out")
    page.wait_for_url(re.compile(r".*/login/.*"))
