"""Playwright driving Debian's Chromium against the real server (``opencdmo serve``).

The server runs in its own process on a database of its own (an SQLite file, or a fresh
PostgreSQL database beside ``DATABASE_URL``), seeded with the demo world by ``opencdmo demo
--no-serve``, exactly as a user starts it. Screenshots go to ``test-output/screenshots/``
(override with ``OPENCDMO_TEST_OUTPUT``).
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from tests.databases import fresh_database

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
OUTPUT = Path(os.environ.get("OPENCDMO_TEST_OUTPUT", "test-output")) / "screenshots"

FACTS_SCRIPT = """
import json, django
django.setup()
from django_scopes import scopes_disabled
from opencdmo.accounts.models import User
from opencdmo.demo.world import DEMO_PASSWORD
from opencdmo.network.models import Suite
with scopes_disabled():
    planner = User.objects.filter(role="cdmo_planner").order_by("username").first()
    suite = Suite.objects.filter(site__owner=planner.organisation, gmp_grade="C").order_by("pk").first()
    mab = Suite.objects.filter(
        qualifications__modality="mab", equipment__working_volume_l__gte=2000
    ).order_by("site__owner__slug").values_list("site__owner", flat=True).first()
    mab_planner = User.objects.get(organisation_id=mab, role="cdmo_planner")
    print(json.dumps({
        "password": DEMO_PASSWORD,
        "sponsor": User.objects.filter(role="sponsor_manager").order_by("username").first().username,
        "planner": planner.username,
        "planner_name": str(planner),
        "qa": User.objects.get(organisation=planner.organisation, role="cdmo_qa").username,
        "admin": User.objects.get(organisation=planner.organisation, role="cdmo_admin").username,
        "owner": planner.organisation.slug,
        "mab_cdmo_id": mab,
        "mab_planner": mab_planner.username,
        "suite": suite.pk,
        "site": suite.site_id,
    }))
"""


@dataclass(frozen=True)
class DemoServer:
    url: str
    facts: dict[str, Any]


def sign_in(page: Any, server: DemoServer, username: str) -> None:
    """Sign in as a demo user (every demo user has the printed password) and land home."""
    page.goto(f"{server.url}/login/")
    page.fill("#id_username", username)
    page.fill("#id_password", server.facts["password"])
    page.click("button[type=submit]")
    page.wait_for_url(re.compile(r"^https?://[^/]+/$"))


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if "tests/browser" in str(item.path):
            item.add_marker(pytest.mark.browser)
            item.add_marker(pytest.mark.xdist_group("browser"))


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@contextlib.contextmanager
def served(env: dict[str, str], data_dir: Path) -> Iterator[str]:
    """``opencdmo serve`` on a free port of this machine, its URL once it answers, stopped
    after; its log is ``server.log`` in ``data_dir``."""
    port = _free_port()
    with (data_dir / "server.log").open("w") as log:
        server = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "opencdmo.cli",
                "serve",
                "--bind",
                f"127.0.0.1:{port}",
                "--workers",
                "1",
            ],
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        url = f"http://127.0.0.1:{port}"
        try:
            deadline = time.monotonic() + 30
            while True:
                try:
                    urllib.request.urlopen(f"{url}/login/", timeout=2)
                    break
                except OSError:
                    if time.monotonic() > deadline or server.poll() is not None:
                        pytest.fail(f"opencdmo serve did not start; see {data_dir / 'server.log'}")
                    time.sleep(0.3)
            yield url
        finally:
            server.terminate()
            server.wait(timeout=20)


@pytest.fixture(scope="session")
def demo_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[DemoServer]:
    """``opencdmo demo --no-serve``, then ``opencdmo serve`` on a free port and ``opencdmo worker``."""
    data_dir = tmp_path_factory.mktemp("demo-server")
    with fresh_database("browser") as database_url:
        env = {
            **os.environ,
            "OPENCDMO_DATA_DIR": str(data_dir),
            "DATABASE_URL": database_url,
            "OPENCDMO_DEMO": "1",
            "OPENCDMO_PROMISE_TIME_LIMIT_S": "1",
        }
        env.pop("DJANGO_SETTINGS_MODULE", None)
        run = [sys.executable, "-m", "opencdmo.cli"]
        subprocess.run([*run, "demo", "--no-serve"], env=env, check=True, capture_output=True)
        facts = subprocess.run(
            [sys.executable, "-c", FACTS_SCRIPT],
            env={**env, "DJANGO_SETTINGS_MODULE": "opencdmo.settings"},
            check=True,
            capture_output=True,
            text=True,
        ).stdout
        with (data_dir / "worker.log").open("w") as log:
            worker = subprocess.Popen(
                [*run, "worker", "--interval", "0.2"], env=env, stdout=log, stderr=subprocess.STDOUT
            )
            try:
                with served(env, data_dir) as url:
                    yield DemoServer(url=url, facts=json.loads(facts))
            finally:
                worker.terminate()
                worker.wait(timeout=20)


@pytest.fixture(scope="session")
def browser() -> Iterator[Any]:
    """One headless Chromium per test worker."""
    if not Path(CHROMIUM).exists():
        pytest.fail("Chromium is missing: run 'make browser' (apt-get install chromium)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        instance = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield instance
        instance.close()


@pytest.fixture
def page(browser: Any) -> Iterator[Any]:
    context = browser.new_context(viewport={"width": 1366, "height": 768})
    context.set_default_timeout(15_000)
    tab = context.new_page()
    yield tab
    context.close()


@pytest.fixture
def screenshot(page: Any, request: pytest.FixtureRequest) -> Any:
    """Save a full-page screenshot named after the test and a step."""
    OUTPUT.mkdir(parents=True, exist_ok=True)

    def take(step: str) -> Path:
        path = OUTPUT / f"{request.node.name}-{step}.png"
        page.screenshot(path=str(path), full_page=True)
        return path

    return take
