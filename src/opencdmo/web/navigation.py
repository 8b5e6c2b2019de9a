"""The application's navigation: sections grouped so that a dozen of them fit one bar.

Each section says where it lives, which path prefixes belong to it and who may see it; a
group is shown only when the caller may see at least one of its sections. A new app adds
one ``Section`` line to ``GROUPS`` and nothing else.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from django.urls import reverse

from opencdmo.accounts import roles


def _holds(permission: str) -> Callable[[Any], bool]:
    return lambda user: user.can(permission)


def _party(user: Any) -> bool:
    """A sponsor's or a CDMO's user: the two sides of a project."""
    return (
        user.can(roles.REQUEST_CAPACITY)
        or user.can(roles.VIEW_PLANS)
        or bool(user.organisation and user.organisation.is_sponsor)
    )


def _staff(user: Any) -> bool:
    return bool(user.is_active and user.is_staff)


@dataclass(frozen=True)
class Section:
    """One page of the application in the navigation."""

    label: str
    url_name: str
    visible: Callable[[Any], bool]
    prefixes: tuple[str, ...] = ()
    description: str = ""

    @property
    def url(self) -> str:
        return reverse(self.url_name)

    def matches(self, path: str) -> int:
        """The length of the longest own prefix of ``path`` (0: not this section)."""
        own = (*self.prefixes, self.url)
        return max((len(p) for p in own if path.startswith(p)), default=0)


@dataclass(frozen=True)
class Group:
    """A dropdown of related sections."""

    key: str
    label: str
    sections: tuple[Section, ...] = field(default_factory=tuple)


GROUPS: tuple[Group, ...] = (
    Group(
        "network",
        "Network",
        (
            Section(
                "Site directory",
                "network:directory",
                _holds(roles.VIEW_NETWORK),
                ("/sites/", "/suites/", "/equipment/"),
                "CDMO sites, suites and equipment",
            ),
            Section(
                "Organisations",
                "organisations",
                _holds(roles.VIEW_NETWORK),
                ("/organisations/",),
                "CDMOs and sponsors on the platform",
            ),
        ),
    ),
    Group(
        "planning",
        "Planning",
        (
            Section(
                "Capacity requests",
                "projects:requests",
                _holds(roles.REQUEST_CAPACITY),
                ("/requests/",),
                "Ask the network for slots; compare and accept options",
            ),
            Section(
                "Requests for your sites",
                "projects:requests",
                _holds(roles.VIEW_PLANS),
                ("/requests/", "/options/"),
                "Sponsors' requests your sites can serve, and your proposals",
            ),
            Section(
                "Site plans",
                "scheduling:plans",
                _holds(roles.VIEW_PLANS),
                ("/plans/",),
                "Each site's published plan as a Gantt chart",
            ),
            Section(
                "Network campaigns",
                "scheduling:network",
                _holds(roles.VIEW_PLANS),
                ("/planning/network/",),
                "Twelve months of campaigns across your sites, and why products are late",
            ),
            Section(
                "Projects",
                "projects:projects",
                _party,
                ("/projects/",),
                "Awarded work and its batches' planned dates",
            ),
        ),
    ),
    Group(
        "manufacturing",
        "Manufacturing",
        (
            Section(
                "Batches",
                "manufacturing:batches",
                _party,
                ("/batches/",),
                "Batch records, offline results and process data",
            ),
            Section(
                "Monitoring",
                "analytics:monitoring",
                _party,
                ("/monitoring/",),
                "Monitoring models, batch verdicts, alarms and running batches live",
            ),
            Section(
                "OPC UA connections",
                "manufacturing:connections",
                _holds(roles.EDIT_BATCHES),
                ("/connections/",),
                "The plant's OPC UA servers and the collector's health for each",
            ),
        ),
    ),
    Group(
        "quality",
        "Quality",
        (
            Section(
                "Audit trail",
                "audit:trail",
                _holds(roles.VIEW_AUDIT),
                ("/audit/",),
                "Every change, login and reason",
            ),
            Section(
                "Deviations and CAPA",
                "quality:deviations",
                lambda user: user.can(roles.EDIT_BATCHES) or user.can(roles.SIGN_RECORDS),
                ("/quality/deviations/", "/quality/capa/", "/quality/batches/"),
                "Deviations, their CAPAs, and batch review and disposition",
            ),
            Section(
                "Quality agreements",
                "quality:agreements",
                _holds(roles.SIGN_RECORDS),
                ("/quality/",),
                "Deviation notice and release terms per project, signed by both parties",
            ),
        ),
    ),
    Group(
        "data",
        "Data",
        (
            Section(
                "Import",
                "network:import",
                _holds(roles.IMPORT_NETWORK),
                ("/sites/import/",),
                "Sites, suites and equipment from CSV or Excel",
            ),
            Section(
                "API tokens",
                "account",
                _holds(roles.MANAGE_TOKENS),
                ("/account/tokens/",),
                "Tokens for systems that use the API",
            ),
            Section(
                "API docs",
                "api:openapi-view",
                _holds(roles.MANAGE_TOKENS),
                ("/api/v1/docs",),
                "Every operation of /api/v1/",
            ),
            Section(
                "Two-factor sign-in",
                "two-factor",
                lambda user: True,
                ("/account/two-factor/",),
                "A code from your phone at sign-in and signing",
            ),
        ),
    ),
    Group(
        "admin",
        "Admin",
        (
            Section(
                "Users",
                "users",
                _holds(roles.MANAGE_USERS),
                ("/users/",),
                "Invite people, change roles, deactivate",
            ),
            Section(
                "Master data (Django admin)",
                "admin:index",
                _staff,
                ("/admin/",),
                "Every CDMO's master data",
            ),
        ),
    ),
)


@dataclass(frozen=True)
class NavItem:
    label: str
    url: str
    description: str
    current: bool


@dataclass(frozen=True)
class NavGroup:
    key: str
    label: str
    items: tuple[NavItem, ...]

    @property
    def current(self) -> bool:
        return any(item.current for item in self.items)


def navigation_for(user: Any, path: str) -> list[NavGroup]:
    """The groups ``user`` may see, with the one section that ``path`` belongs to marked."""
    if user is None or not getattr(user, "is_authenticated", False):
        return []
    visible = [(g, [s for s in g.sections if s.visible(user)]) for g in GROUPS]
    best = max((s.matches(path) for _, sections in visible for s in sections), default=0)
    return [
        NavGroup(
            group.key,
            group.label,
            tuple(
                NavItem(s.label, s.url, s.description, best > 0 and s.matches(path) == best)
                for s in sections
            ),
        )
        for group, sections in visible
        if sections
    ]
