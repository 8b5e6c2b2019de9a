"""Two-factor sign-in: RFC 6238 codes, set-up and turning off, the login's code step, the
lockout, single-use recovery codes, an organisation's requirement and the admin's."""

from __future__ import annotations

from typing import Any

import pytest
from django.core.exceptions import ValidationError
from django.test import Client
from django_scopes import scopes_disabled

from opencdmo.accounts import services, totp
from opencdmo.accounts.models import RecoveryCode, User
from opencdmo.audit.models import AuditEntry
from tests.conftest import PASSWORD

RFC_SECRET = "GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ"
"""The RFC 6238 test key ``12345678901234567890`` (SHA-1) in base32."""


class Clock:
    """The time codes are checked at, moved by the test."""

    def __init__(self, start: float) -> None:
        self.now = start

    def __call__(self) -> float:
        return self.now

    def step(self, steps: int = 1) -> float:
        self.now += steps * totp.STEP_S
        return self.now


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> Clock:
    clock = Clock(1_800_000_000.0)
    monkeypatch.setattr(totp, "now_s", clock)
    return clock


def _entries(action: str) -> list[AuditEntry]:
    with scopes_disabled():
        return list(AuditEntry.objects.filter(action=action))


def enable(user: User, clock: Clock) -> tuple[str, list[str]]:
    """Turn two-factor sign-in on for ``user``; its secret and recovery codes."""
    secret = totp.new_secret()
    codes = services.enable_two_factor(user, secret, totp.code_at(secret, clock.now))
    user.refresh_from_db()
    return secret, codes


def _password_step(user: User) -> tuple[Client, Any]:
    client = Client()
    response = client.post("/login/", {"username": user.username, "password": PASSWORD})
    return client, response


@pytest.mark.parametrize(
    ("at", "code"),
    [(59, "287082"), (1111111109, "081804"), (1234567890, "005924"), (2000000000, "279037")],
)
def test_codes_match_the_rfc_6238_vectors(at: int, code: str) -> None:
    """The SHA-1 vectors of RFC 6238 appendix B (their last six of eight digits)."""
    assert totp.code_at(RFC_SECRET, at) == code


def test_a_code_of_the_next_or_previous_step_passes_and_older_ones_do_not(clock: Clock) -> None:
    """One step of clock drift either way is accepted; two are not."""
    secret = totp.new_secret()
    assert totp.matching_step(secret, totp.code_at(secret, clock.now - 30), None)
    assert totp.matching_step(secret, totp.code_at(secret, clock.now + 30), None)
    assert not totp.matching_step(secret, totp.code_at(secret, clock.now - 60), None)
    assert not totp.matching_step(secret, "12345", None)


def test_set_up_shows_the_secret_and_uri_and_needs_a_valid_code(world: Any, clock: Clock) -> None:
    """The page shows the secret as text and an otpauth:// URI; a wrong code leaves it off, a
    right one turns it on, shows ten recovery codes once and stores only their digests."""
    user = world.user("alpha-bio", "cdmo_qa")
    client = Client()
    client.force_login(user)
    page = client.get("/account/two-factor/")
    assert page.status_code == 200
    uri = page.context["uri"]
    assert uri.startswith("otpauth://totp/opencdmo:")
    secret = page.context["secret"].replace(" ", "")
    assert f"secret={secret}" in uri
    wrong = client.post("/account/two-factor/", {"code": "000000"})
    assert wrong.status_code == 400
    assert "not valid" in wrong.content.decode()
    user.refresh_from_db()
    assert not user.has_two_factor
    done = client.post("/account/two-factor/", {"code": totp.code_at(secret, clock.now)})
    assert done.status_code == 200
    codes = done.context["codes"]
    assert len(codes) == 10
    user.refresh_from_db()
    assert user.has_two_factor
    assert secret not in user.totp_secret
    assert totp.decrypt(user.totp_secret) == secret
    with scopes_disabled():
        digests = set(RecoveryCode.objects.filter(user=user).values_list("digest", flat=True))
    assert digests == {totp.recovery_digest(code) for code in codes}
    assert not digests & set(codes)
    (entry,) = _entries("opencdmo.user.two_factor_enabled")
    assert entry.after == {"two_factor": "on", "totp_enabled_at": entry.after["totp_enabled_at"]}
    assert secret not in str(entry.before) + str(entry.after)
    assert client.get("/account/two-factor/").context["codes_left"] == 10


def test_login_asks_for_the_code_before_the_session_is_signed_in(world: Any, clock: Clock) -> None:
    """After the password the session is not signed in; a current code signs it in."""
    user = world.user("alpha-bio", "cdmo_qa")
    secret, _ = enable(user, clock)
    client, response = _password_step(user)
    assert response.status_code == 302
    assert response["Location"] == "/login/two-factor/"
    assert client.get("/").status_code == 302
    assert "_auth_user_id" not in client.session
    assert not _entries("opencdmo.user.logged_in")
    clock.step()
    signed_in = client.post("/login/two-factor/", {"code": totp.code_at(secret, clock.now)})
    assert signed_in.status_code == 302
    assert client.get("/").status_code == 200
    assert len(_entries("opencdmo.user.logged_in")) == 1


def test_a_code_is_accepted_once(world: Any, clock: Clock) -> None:
    """The code that signed one session in does not sign in another."""
    user = world.user("alpha-bio", "cdmo_qa")
    secret, _ = enable(user, clock)
    clock.step()
    code = totp.code_at(secret, clock.now)
    first, _ = _password_step(user)
    assert first.post("/login/two-factor/", {"code": code}).status_code == 302
    second, _ = _password_step(user)
    assert second.post("/login/two-factor/", {"code": code}).status_code == 400


def test_wrong_codes_count_toward_the_lockout(world: Any, clock: Clock, settings: Any) -> None:
    """Wrong codes lock the account like wrong passwords; then a right code is refused too."""
    user = world.user("alpha-bio", "cdmo_qa")
    secret, _ = enable(user, clock)
    client, _ = _password_step(user)
    for _ in range(settings.LOCKOUT_THRESHOLD):
        assert client.post("/login/two-factor/", {"code": "000000"}).status_code == 400
    user.refresh_from_db()
    assert user.locked_until is not None
    clock.step()
    refused = client.post("/login/two-factor/", {"code": totp.code_at(secret, clock.now)})
    assert refused.status_code == 400
    assert "locked" in refused.content.decode()
    failed = _entries("opencdmo.user.login_failed")
    assert len(failed) == settings.LOCKOUT_THRESHOLD + 1
    assert {e.reason for e in failed} == {"Wrong two-factor code", "Account locked"}


def test_a_recovery_code_signs_in_once(world: Any, clock: Clock) -> None:
    """A recovery code replaces the authenticator once; used again it is refused."""
    user = world.user("sponsor-one", "sponsor_qa")
    _, codes = enable(user, clock)
    client, _ = _password_step(user)
    assert client.post("/login/two-factor/", {"code": codes[3].upper()}).status_code == 302
    again, _ = _password_step(user)
    assert again.post("/login/two-factor/", {"code": codes[3]}).status_code == 400
    (used,) = _entries("opencdmo.user.recovery_code_used")
    assert used.after == {"recovery_codes_left": 9}


def test_turning_it_off_needs_the_password_and_a_code(world: Any, clock: Clock) -> None:
    """A wrong password or code leaves it on; both right turn it off and delete the codes."""
    user = world.user("alpha-bio", "cdmo_planner")
    secret, _ = enable(user, clock)
    client, _ = _password_step(user)
    clock.step()
    client.post("/login/two-factor/", {"code": totp.code_at(secret, clock.now)})
    clock.step()
    code = totp.code_at(secret, clock.now)
    wrong = client.post("/account/two-factor/", {"password": "not-it", "code": code})
    assert wrong.status_code == 400
    assert "password is not correct" in wrong.content.decode()
    assert (
        client.post("/account/two-factor/", {"password": PASSWORD, "code": code}).status_code == 302
    )
    user.refresh_from_db()
    assert not user.has_two_factor
    assert user.totp_secret == ""
    with scopes_disabled():
        assert not RecoveryCode.objects.filter(user=user).exists()
    (entry,) = _entries("opencdmo.user.two_factor_disabled")
    assert (entry.before["two_factor"], entry.after["two_factor"]) == ("on", "off")


def test_a_session_that_did_not_pass_the_code_step_ends(world: Any, clock: Clock) -> None:
    """A session signed in before the user turned two-factor on (or without the step) ends."""
    user = world.user("alpha-bio", "cdmo_qa")
    client = Client()
    client.force_login(user)
    assert client.get("/").status_code == 200
    enable(user, clock)
    response = client.get("/")
    assert response.status_code == 302
    assert response["Location"].startswith("/login/")
    assert "_auth_user_id" not in client.session


def test_an_organisation_requires_it_and_members_set_it_up_first(world: Any, clock: Clock) -> None:
    """The administrator's rule is audited; a member without two-factor sign-in is sent to
    set it up before any other page, then goes where they were going."""
    admin = Client()
    admin.force_login(world.user("beta-pharma", "cdmo_admin"))
    assert admin.get("/users/two-factor/").status_code == 200
    no_reason = admin.post("/users/two-factor/", {"required": "1", "reason": ""})
    assert no_reason.status_code == 400
    saved = admin.post("/users/two-factor/", {"required": "1", "reason": "Part 11 policy"})
    assert saved.status_code == 302
    (entry,) = _entries("opencdmo.organisation.two_factor_required")
    assert (entry.before, entry.after, entry.reason) == (
        {"require_two_factor": False},
        {"require_two_factor": True},
        "Part 11 policy",
    )
    member = Client()
    member.force_login(world.user("beta-pharma", "cdmo_planner"))
    response = member.get("/plans/")
    assert response.status_code == 302
    assert response["Location"] == "/account/two-factor/?next=%2Fplans%2F"
    page = member.get(response["Location"])
    secret = page.context["secret"].replace(" ", "")
    done = member.post(
        "/account/two-factor/?next=/plans/", {"code": totp.code_at(secret, clock.now)}
    )
    assert done.context["next"] == "/plans/"
    assert member.get("/plans/").status_code == 200
    other = Client()
    other.force_login(world.user("alpha-bio", "cdmo_planner"))
    assert other.get("/plans/").status_code == 200


def test_a_member_cannot_set_the_organisations_rule(world: Any) -> None:
    """Only an organisation's administrator (or the platform's) sets it."""
    client = Client()
    client.force_login(world.user("alpha-bio", "cdmo_qa"))
    assert client.post("/users/two-factor/", {"required": "1", "reason": "x"}).status_code == 403
    world.orgs["alpha-bio"].refresh_from_db()
    assert not world.orgs["alpha-bio"].require_two_factor


def test_the_admin_refuses_a_session_without_the_code_step(
    world: Any, clock: Clock, settings: Any
) -> None:
    """With OPENCDMO_ADMIN_REQUIRE_2FA on, the admin sends a password-only session to set
    two-factor sign-in up; once this session passed it, the admin opens."""
    settings.ADMIN_REQUIRE_2FA = True
    client = Client()
    client.force_login(world.user("platform", "platform_admin"))
    response = client.get("/admin/")
    assert response.status_code == 302
    assert response["Location"].startswith("/account/two-factor/?next=")
    assert client.get("/").status_code == 200
    secret = client.get("/account/two-factor/").context["secret"].replace(" ", "")
    client.post("/account/two-factor/", {"code": totp.code_at(secret, clock.now)})
    assert client.get("/admin/").status_code == 200


def test_the_admin_is_open_to_a_password_session_when_the_rule_is_off(
    world: Any, settings: Any
) -> None:
    """The demo and debugging keep the rule off unless asked for."""
    settings.ADMIN_REQUIRE_2FA = False
    client = Client()
    client.force_login(world.user("platform", "platform_admin"))
    assert client.get("/admin/").status_code == 200


def test_a_secret_from_another_secret_key_matches_no_code(
    world: Any, clock: Clock, settings: Any
) -> None:
    """After the server's key changed, the code step refuses (by field, not with a 500)."""
    user = world.user("alpha-bio", "cdmo_qa")
    secret, _ = enable(user, clock)
    settings.SECRET_KEY = "another-key-" + "x" * 50
    clock.step()
    with pytest.raises(ValidationError) as refused:
        services.verify_second_factor(user, totp.code_at(secret, clock.now), step="test")
    assert refused.value.message_dict == {"code": [services.WRONG_CODE]}
