"""Production mode: a real secret and hosts before serving, HTTPS-only settings, and the CSP."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.test import Client, override_settings

from opencdmo.web.management.commands.serve import gunicorn_argv
from opencdmo.web.middleware import CONTENT_SECURITY_POLICY

PRODUCTION_KEY = "k7Vq2pX9rT4mW8zL1nB6cY3hJ5fD0gS-aQeRuIoPlKjHgFdSaZx"
SETTINGS_SCRIPT = """
import json
from django.conf import settings
names = ["SESSION_COOKIE_SECURE", "CSRF_COOKIE_SECURE", "SESSION_COOKIE_HTTPONLY",
         "SESSION_COOKIE_SAMESITE", "SECURE_HSTS_SECONDS", "SECURE_HSTS_INCLUDE_SUBDOMAINS",
         "SECURE_SSL_REDIRECT", "SECURE_PROXY_SSL_HEADER", "SECURE_CONTENT_TYPE_NOSNIFF",
         "SECURE_REFERRER_POLICY", "X_FRAME_OPTIONS"]
print(json.dumps({name: getattr(settings, name) for name in names}))
"""


def _environment(tmp_path: Path, **variables: str) -> dict[str, str]:
    """A clean environment for ``opencdmo.settings`` with debug off, plus ``variables``."""
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith("OPENCDMO_") and key != "DATABASE_URL"
    }
    env |= {
        "DJANGO_SETTINGS_MODULE": "opencdmo.settings",
        "OPENCDMO_DATA_DIR": str(tmp_path),
        "OPENCDMO_DEBUG": "0",
    }
    return env | variables


def _production(tmp_path: Path, **variables: str) -> dict[str, str]:
    return _environment(
        tmp_path,
        OPENCDMO_SECRET_KEY=PRODUCTION_KEY,
        OPENCDMO_ALLOWED_HOSTS="cdmo.example.org",
        **variables,
    )


def _django(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "django", *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def _settings(env: dict[str, str]) -> dict[str, object]:
    completed = subprocess.run(
        [sys.executable, "-c", f"import django; django.setup(); {SETTINGS_SCRIPT}"],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    return dict(json.loads(completed.stdout))


@pytest.mark.parametrize(
    ("variables", "named"),
    [
        ({}, "OPENCDMO_SECRET_KEY"),
        ({"OPENCDMO_SECRET_KEY": "short-but-secret"}, "OPENCDMO_SECRET_KEY"),
        ({"OPENCDMO_SECRET_KEY": PRODUCTION_KEY}, "OPENCDMO_ALLOWED_HOSTS"),
    ],
)
def test_serve_refuses_production_without_a_secret_key_and_hosts(
    tmp_path: Path, variables: dict[str, str], named: str
) -> None:
    """Debug off and the public key, a short key or no hosts: one sentence, exit status 2."""
    completed = _django(_environment(tmp_path, **variables), "serve")
    assert completed.returncode == 2
    assert named in completed.stderr
    assert "Traceback" not in completed.stderr
    assert len(completed.stderr.strip().splitlines()) == 1


def test_the_production_deploy_check_finds_no_issues(tmp_path: Path) -> None:
    """``check --deploy`` with a production environment reports nothing to fix."""
    completed = _django(_production(tmp_path), "check", "--deploy")
    assert completed.returncode == 0, completed.stderr
    assert "System check identified no issues" in completed.stdout


def test_production_turns_on_the_https_only_settings(tmp_path: Path) -> None:
    """Secure HttpOnly Lax cookies, a year of HSTS with subdomains, the redirect, no framing."""
    assert _settings(_production(tmp_path)) == {
        "SESSION_COOKIE_SECURE": True,
        "CSRF_COOKIE_SECURE": True,
        "SESSION_COOKIE_HTTPONLY": True,
        "SESSION_COOKIE_SAMESITE": "Lax",
        "SECURE_HSTS_SECONDS": 31_536_000,
        "SECURE_HSTS_INCLUDE_SUBDOMAINS": True,
        "SECURE_SSL_REDIRECT": True,
        "SECURE_PROXY_SSL_HEADER": None,
        "SECURE_CONTENT_TYPE_NOSNIFF": True,
        "SECURE_REFERRER_POLICY": "same-origin",
        "X_FRAME_OPTIONS": "DENY",
    }


def test_behind_a_proxy_https_is_read_from_x_forwarded_proto(tmp_path: Path) -> None:
    """OPENCDMO_BEHIND_PROXY=1 trusts the proxy's X-Forwarded-Proto: https."""
    found = _settings(_production(tmp_path, OPENCDMO_BEHIND_PROXY="1"))
    assert found["SECURE_PROXY_SSL_HEADER"] == ["HTTP_X_FORWARDED_PROTO", "https"]
    assert found["SECURE_SSL_REDIRECT"] is True


def test_the_local_demo_keeps_plain_http_and_needs_no_configuration(tmp_path: Path) -> None:
    """OPENCDMO_DEMO=1 (set by ``opencdmo demo``) serves http on the public key."""
    found = _settings(_environment(tmp_path, OPENCDMO_DEMO="1"))
    assert found["SECURE_SSL_REDIRECT"] is False
    assert found["SESSION_COOKIE_SECURE"] is False
    assert found["SECURE_HSTS_SECONDS"] == 0


def test_each_gunicorn_runs_without_the_shared_control_socket() -> None:
    """Two servers on one host do not fight over gunicorn's one control socket."""
    assert "--no-control-socket" in gunicorn_argv("127.0.0.1:8000", 1, 1)


@pytest.mark.django_db
def test_plain_http_is_redirected_and_https_gets_hsts() -> None:
    """With the production redirect on, http goes to https and https carries HSTS."""
    with override_settings(SECURE_SSL_REDIRECT=True, SECURE_HSTS_SECONDS=31_536_000):
        client = Client()
        plain = client.get("/login/")
        secure = client.get("/login/", secure=True)
    assert plain.status_code == 301
    assert plain["Location"] == "https://testserver/login/"
    assert secure["Strict-Transport-Security"] == "max-age=31536000; includeSubDomains"


@pytest.mark.django_db
def test_html_pages_carry_the_content_security_policy_and_json_does_not_need_it() -> None:
    """The login page gets the policy with no inline script allowed; the API's JSON does not."""
    client = Client()
    page = client.get("/login/")
    assert page["Content-Security-Policy"] == CONTENT_SECURITY_POLICY
    assert "script-src 'self';" in CONTENT_SECURITY_POLICY
    assert "Content-Security-Policy" not in client.get("/api/v1/openapi.json")


def test_importing_the_settings_creates_no_folder(tmp_path: Path) -> None:
    """Loading the settings leaves the data folder empty: no static folder before collectstatic."""
    _settings(_environment(tmp_path))
    assert list(tmp_path.iterdir()) == []


@pytest.mark.django_db
def test_static_files_are_served_without_a_collected_static_folder(tmp_path: Path) -> None:
    """With no ``collectstatic`` run, the app's files are served from the apps and nothing warns."""
    with override_settings(STATIC_ROOT=tmp_path / "never-collected"):
        response = Client().get("/static/opencdmo/site.css")
    body = b"".join(response.streaming_content)
    response.close()
    assert response.status_code == 200
    assert b".site-nav" in body
