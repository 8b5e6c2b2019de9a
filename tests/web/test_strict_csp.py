"""No page needs inline styles, so the Content-Security-Policy allows none.

The browser test (tests/browser/test_strict_csp.py) watches Chromium for blocked inline code;
these checks catch the same mistakes without a browser.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import opencdmo
from opencdmo.web.middleware import CONTENT_SECURITY_POLICY

SOURCE = Path(opencdmo.__file__).parent
PDF_ONLY = {
    SOURCE / "audit" / "templates" / "audit" / "report.html",
    *(SOURCE / "quality" / "templates" / "quality" / "pdf").glob("*.html"),
}
"""Rendered by WeasyPrint into a PDF, never served as a page: they keep their own <style>."""
INLINE_STYLE = re.compile(r"<style\b|\sstyle\s*=", re.IGNORECASE)


def test_the_policy_allows_no_inline_style() -> None:
    """style-src names only the application's own files."""
    assert "style-src 'self';" in CONTENT_SECURITY_POLICY
    assert "unsafe-inline" not in CONTENT_SECURITY_POLICY


def test_no_served_template_carries_an_inline_style() -> None:
    """No <style> block and no style attribute in any template a page is built from."""
    found = [
        f"{path.relative_to(SOURCE)}:{number}"
        for path in sorted(SOURCE.rglob("templates/**/*.html"))
        if path not in PDF_ONLY
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1)
        if INLINE_STYLE.search(line)
    ]
    assert found == []


def test_htmx_is_told_not_to_inject_its_indicator_styles(world: Any, client_for: Any) -> None:
    """htmx adds a <style> element on load unless its configuration says not to."""
    html = client_for(world.user("alpha-bio", "cdmo_qa")).get("/").content.decode()
    assert """<meta name="htmx-config" content='{"includeIndicatorStyles": false}'>""" in html


def test_audit_page_links_its_stylesheet(world: Any, client_for: Any) -> None:
    """The trail's own rules come from a static file, after the site's."""
    html = client_for(world.user("alpha-bio", "cdmo_qa")).get("/audit/").content.decode()
    assert html.index("opencdmo/site.css") < html.index("audit/trail.css") < html.index("</head>")
