"""Roles and what each may do.

Permissions are plain strings checked by services; the table below is the only place
that says which role holds which permission.
"""

from __future__ import annotations

from typing import Any

from django.db import models


class OrganisationKind(models.TextChoices):
    CDMO = "cdmo", "CDMO"
    SPONSOR = "sponsor", "Sponsor"
    PLATFORM = "platform", "Platform operator"


class Role(models.TextChoices):
    SPONSOR_VIEWER = "sponsor_viewer", "Viewer"
    SPONSOR_MANAGER = "sponsor_manager", "Outsourcing manager"
    SPONSOR_QA = "sponsor_qa", "Sponsor QA"
    CDMO_PLANNER = "cdmo_planner", "Planner"
    CDMO_OPERATOR = "cdmo_operator", "Operator"
    CDMO_MSAT = "cdmo_msat", "Process engineer (MSAT)"
    CDMO_QA = "cdmo_qa", "QA"
    CDMO_ADMIN = "cdmo_admin", "CDMO administrator"
    PLATFORM_ADMIN = "platform_admin", "Platform administrator"


ROLES_BY_KIND: dict[Any, tuple[Any, ...]] = {
    OrganisationKind.SPONSOR: (Role.SPONSOR_VIEWER, Role.SPONSOR_MANAGER, Role.SPONSOR_QA),
    OrganisationKind.CDMO: (
        Role.CDMO_PLANNER,
        Role.CDMO_OPERATOR,
        Role.CDMO_MSAT,
        Role.CDMO_QA,
        Role.CDMO_ADMIN,
    ),
    OrganisationKind.PLATFORM: (Role.PLATFORM_ADMIN,),
}

VIEW_NETWORK = "network.view"
EDIT_NETWORK = "network.edit"
MAINTAIN_NETWORK = "network.maintain"
IMPORT_NETWORK = "network.import"
VIEW_PRIVATE_SITE = "network.view_private"
VIEW_AUDIT = "audit.view"
MANAGE_TOKENS = "accounts.tokens"
MANAGE_USERS = "accounts.users"
MANAGE_USERS_OF_ANY_ORG = "accounts.users.any_org"
"""The platform administrator's: manage the users of every organisation, sponsors included."""
REQUEST_CAPACITY = "projects.request"
"""A sponsor's: file capacity requests for its products and accept an option."""
VIEW_PLANS = "scheduling.view"
PLAN_SITES = "scheduling.plan"
"""A CDMO planner's: edit scenarios and publish a site's plan."""
PROPOSE = "projects.propose"
"""Answer requests: edit and send the proposal behind an option."""
EDIT_QUALITY = "quality.edit"
"""A CDMO QA's: write the quality records of its projects (the quality agreement)."""
SIGN_RECORDS = "quality.sign"
"""QA of either party: sign records electronically (approve a quality agreement)."""
EDIT_BATCHES = "manufacturing.edit"
"""Record batches, their state, offline results and process data, and map plant tags."""
BUILD_MODELS = "analytics.models"
"""An MSAT engineer's: fit batch monitoring models and decide what a project's sponsor sees."""

PERMISSIONS: dict[Any, frozenset[str]] = {
    Role.SPONSOR_VIEWER: frozenset({VIEW_NETWORK, MANAGE_TOKENS}),
    Role.SPONSOR_MANAGER: frozenset({VIEW_NETWORK, MANAGE_TOKENS, REQUEST_CAPACITY}),
    Role.SPONSOR_QA: frozenset({VIEW_NETWORK, VIEW_AUDIT, MANAGE_TOKENS, SIGN_RECORDS}),
    Role.CDMO_PLANNER: frozenset(
        {
            VIEW_NETWORK,
            VIEW_PRIVATE_SITE,
            EDIT_NETWORK,
            MANAGE_TOKENS,
            VIEW_PLANS,
            PLAN_SITES,
            PROPOSE,
        }
    ),
    Role.CDMO_OPERATOR: frozenset(
        {VIEW_NETWORK, VIEW_PRIVATE_SITE, MANAGE_TOKENS, VIEW_PLANS, EDIT_BATCHES}
    ),
    Role.CDMO_MSAT: frozenset(
        {
            VIEW_NETWORK,
            VIEW_PRIVATE_SITE,
            EDIT_NETWORK,
            MANAGE_TOKENS,
            VIEW_PLANS,
            EDIT_BATCHES,
            BUILD_MODELS,
        }
    ),
    Role.CDMO_QA: frozenset(
        {
            VIEW_NETWORK,
            VIEW_PRIVATE_SITE,
            VIEW_AUDIT,
            MANAGE_TOKENS,
            VIEW_PLANS,
            EDIT_BATCHES,
            EDIT_QUALITY,
            SIGN_RECORDS,
        }
    ),
    Role.CDMO_ADMIN: frozenset(
        {
            VIEW_NETWORK,
            VIEW_PRIVATE_SITE,
            EDIT_NETWORK,
            IMPORT_NETWORK,
            VIEW_AUDIT,
            MANAGE_TOKENS,
            MANAGE_USERS,
            VIEW_PLANS,
            PROPOSE,
            EDIT_BATCHES,
        }
    ),
    Role.PLATFORM_ADMIN: frozenset(
        {
            VIEW_NETWORK,
            MAINTAIN_NETWORK,
            VIEW_AUDIT,
            MANAGE_TOKENS,
            MANAGE_USERS,
            MANAGE_USERS_OF_ANY_ORG,
            IMPORT_NETWORK,
        }
    ),
}
