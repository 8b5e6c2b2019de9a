"""An organisation's administrator invites a person, who signs in; the admin changes the role."""

from __future__ import annotations

import re
from typing import Any

from tests.browser.conftest import DemoServer

HOME = re.compile(r"^https?://[^/]+/$")
PASSWORD = "first-sign-in-passphrase-42"


def _log_in(page: Any, server: DemoServer, username: str, password: str) -> None:
    page.goto(f"{server.url}/login/")
    page.fill("#id_username", username)
    page.fill("#id_password", password)
    page.click("button[type=submit]")
    page.wait_for_url(HOME)


def _log_out(page: Any) -> None:
    page.click("text=Log out")
    page.wait_for_url(re.compile(r".*/login/.*"))


def test_admin_invites_a_user_who_signs_in_then_changes_their_role(
    page: Any, demo_server: DemoServer, screenshot: Any
) -> None:
    """Invite → set password through the link → sign in → role change → both on the audit trail."""
    facts = demo_server.facts
    _log_in(page, demo_server, facts["admin"], facts["password"])
    page.click("nav button:has-text('Admin')")
    page.click("nav >> text=Users")
    page.wait_for_url(re.compile(r".*/users/$"))
    page.click("text=Invite a user")
    page.fill("#id_first_name", "Noor")
    page.fill("#id_last_name", "Haddad")
    page.fill("#id_email", "noor.haddad@example.org")
    page.fill("#id_username", "noor.haddad")
    page.select_option("#id_role", "cdmo_planner")
    page.fill("#id_reason", "Joins the planning team in January")
    screenshot("1-invite")
    page.click("button:has-text('Invite')")
    link = page.inner_text("[data-testid=set-password-link]")
    assert "/account/set-password/" in link
    screenshot("2-link")
    _log_out(page)

    page.goto(link)
    page.fill("#id_new_password1", PASSWORD)
    page.fill("#id_new_password2", PASSWORD)
    screenshot("3-set-password")
    page.click("button:has-text('Set password')")
    page.wait_for_url(re.compile(r".*/login/$"))
    assert "Your password is set" in page.inner_text("main")
    _log_in(page, demo_server, "noor.haddad", PASSWORD)
    assert "Planner" in page.inner_text("[data-testid=whoami]")
    screenshot("4-new-user-home")
    _log_out(page)

    _log_in(page, demo_server, facts["admin"], facts["password"])
    page.goto(f"{demo_server.url}/users/")
    page.click("[data-testid=user-table] >> text=Noor Haddad")
    page.select_option("#role_role", "cdmo_msat")
    page.fill("#role_reason", "Moves to process engineering")
    page.click("button:has-text('Change role')")
    page.wait_for_url(re.compile(r".*/users/\d+/$"))
    assert page.inner_text("[data-testid=user-role]") == "Process engineer (MSAT)"
    screenshot("5-role-changed")

    page.goto(f"{demo_server.url}/audit/")
    table = page.locator("[data-testid=audit-table]")
    invited = table.locator("tr", has_text="Joins the planning team in January")
    changed = table.locator("tr", has_text="Moves to process engineering")
    assert invited.count() == 1
    assert changed.count() == 1
    assert "Noor Haddad" in changed.inner_text()
    screenshot("6-audit")
