"""Find CDMO sites through the opencdmo API, following every page of results.

    OPENCDMO_URL=http://127.0.0.1:8000 OPENCDMO_TOKEN=ocd_… \
        python find_sites.py modality=mab min_volume_l=2000 agency=FDA

Each argument is one filter of ``GET /api/v1/sites`` (see docs/api.md). Prints one line per
site: name, city and country, largest single bioreactor and the total bioreactor volume.
Needs nothing beyond Python's standard library.
"""

from __future__ import annotations

import json
import os
import sys
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Iterator
from typing import Any

PAGE_SIZE = 20


def get(path: str, params: dict[str, Any]) -> Any:
    """One authenticated GET; an error answer is raised with the API's own explanation."""
    url = f"{os.environ['OPENCDMO_URL'].rstrip('/')}/api/v1{path}?{urllib.parse.urlencode(params)}"
    request = urllib.request.Request(
        url, headers={"Authorization": f"Bearer {os.environ['OPENCDMO_TOKEN']}"}
    )
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            return json.load(response)
    except urllib.error.HTTPError as error:
        detail = json.load(error).get("detail", error.reason)
        raise SystemExit(f"HTTP {error.code}: {detail}") from None


def find_sites(filters: dict[str, str], page_size: int = PAGE_SIZE) -> Iterator[dict[str, Any]]:
    """Every matching site, one page of ``page_size`` at a time, using ``limit`` and ``offset``."""
    offset = 0
    while True:
        page = get("/sites", {**filters, "limit": page_size, "offset": offset})
        yield from page["items"]
        offset += len(page["items"])
        if not page["items"] or offset >= page["count"]:
            return


def main(arguments: list[str]) -> None:
    filters = dict(argument.split("=", 1) for argument in arguments)
    page_size = int(filters.pop("page_size", PAGE_SIZE))
    count = 0
    for site in find_sites(filters, page_size):
        capabilities = site["capabilities"]
        largest = capabilities["max_bioreactor_volume_l"] or 0
        location = f"{site['city']}, {site['country']}"
        total = capabilities["total_bioreactor_volume_l"]
        print(
            f"{site['name']:<30} {location:<16} largest {largest:>7,.0f} L, total {total:>7,.0f} L"
        )
        count += 1
    print(f"{count} site{'s' * (count != 1)}")


if __name__ == "__main__":
    main(sys.argv[1:])
