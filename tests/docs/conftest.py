"""Each document's examples form their own xdist group: documents run in parallel, and one
document's commands, which build on each other, stay in one process."""

from __future__ import annotations

import pytest


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    if not config.pluginmanager.hasplugin("xdist"):
        return
    for item in items:
        callspec = getattr(item, "callspec", None)
        document = callspec.params.get("document") if callspec else None
        if document is not None:
            item.add_marker(pytest.mark.xdist_group(f"docs-{document.stem}"))
