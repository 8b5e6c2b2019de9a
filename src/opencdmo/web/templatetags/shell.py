"""Template tags of the application shell."""

from __future__ import annotations

from typing import Any

from django import template

from opencdmo.web.navigation import NavGroup, navigation_for

register = template.Library()


@register.simple_tag(takes_context=True)
def navigation(context: template.Context) -> list[NavGroup]:
    """The caller's navigation groups for the page being rendered."""
    request: Any = context.get("request")
    if request is None:
        return []
    return navigation_for(getattr(request, "user", None), request.path)
