"""A sponsor's QA turns two-factor sign-in on, signs in with a code, then turns it off with a
recovery code, in Chromium against the real server."""

from __future__ import annotations

import re
import time
from typing import Any

from opencdmo.accounts import totp
from tests.browser.conftest import DemoServer

HOME = re.compile(r"^https?://[^/]+/$")
USER = "ashgrove.qa"
"""A demo user no other browser test signs in as."""


def _password(page: Any, server: DemoServer) -> None:
    page.goto(f"{server.url}/login/")
    page.fill("#id_username", USER)
    page.fill("#id_password", server.facts["password"])
    page.click("button[type=submit]")


def test_two_factor_sign_in_journey(page: Any, demo_server: DemoServer, screenshot: Any) -> None:
    """Set up with the shown secret → recovery codes once → password then code → off again."""
    _password(page, demo_server)
    page.wait_for_url(HOME)
    page.goto(f"{demo_server.url}/account/two-factor/")
    secret = page.inner_text("[data-testid=totp-secret]").replace(" ", "")
    assert f"secret={secret}" in page.inner_text("[data-testid=totp-uri]")
    screenshot("set-up")
    page.fill("#id_code", totp.code_at(secret, time.time()))
    page.click("[data-testid=enable-form] button[type=submit]")
    codes = page.inner_text("[data-testid=recovery-codes]").split()
    assert len(codes) == 10
    screenshot("recovery-codes")
    page.click("text=Log out")
    page.wait_for_url(re.compile(r".*/login/.*"))
    _password(page, demo_server)
    page.wait_for_url(re.compile(r".*/login/two-factor/$"))
    page.fill("#id_code", "000000")
    page.click("[data-testid=second-step] button[type=submit]")
    assert "not valid" in page.inner_text("main")
    screenshot("wrong-code")
    page.fill("#id_code", totp.code_at(secret, time.time() + totp.STEP_S))
    page.click("[data-testid=second-step] button[type=submit]")
    page.wait_for_url(HOME)
    page.goto(f"{demo_server.url}/account/two-factor/")
    assert page.inner_text("[data-testid=two-factor-state]") == "on"
    page.fill("#id_password", demo_server.facts["password"])
    page.fill("#id_code", codes[0])
    page.click("[data-testid=disable-form] button[type=submit]")
    assert "Two-factor sign-in is off" in page.inner_text(".messages")
