"""The API documentation page in the application's colours, with a way back to the app."""

from __future__ import annotations

from ninja.openapi.docs import Swagger


class ApiDocs(Swagger):
    """Swagger UI served from ninja's bundled static files (no CDN), under the app's header."""

    template = "web/api_docs.html"
