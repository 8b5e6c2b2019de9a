"""Capacity requests of the demo sponsors, in every state, made through the services.

One sponsor's request is answered by the sites of one CDMO and awarded (so the demo opens
with a project whose batches sit in a published plan), another's waits with its options
ready, a third is a draft, a fourth was withdrawn. The sites answer with short solves, so
seeding stays quick; every answer is still checked.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from django.utils import timezone

from opencdmo.accounts.models import Organisation, User
from opencdmo.accounts.tenancy import caller_scope
from opencdmo.projects import services
from opencdmo.projects.models import CapacityRequest, Option, Product
from opencdmo.projects.tasks import answer_option

SOLVE_S = 1.0


@dataclass(frozen=True)
class DemoRequest:
    product: str
    modality: str
    phase: str
    scale_l: float
    batches: int
    starts_in_days: int
    weeks: int
    ends_as: str
    """``awarded``, ``options_ready``, ``draft`` or ``withdrawn``."""


REQUESTS = (
    DemoRequest("ARB-217", "mab", "phase_3", 2000, 3, 30, 30, "awarded"),
    DemoRequest("ARB-301", "mab", "phase_2", 500, 2, 45, 26, "options_ready"),
    DemoRequest("TX-88", "bispecific", "phase_1", 2000, 2, 60, 40, "draft"),
    DemoRequest("TX-12", "recombinant_protein", "phase_2", 1000, 2, 40, 30, "withdrawn"),
)


def _cdmo_for(modality: str, scale_l: float) -> Organisation | None:
    """The CDMO (by slug) with a site that passes the screening for the modality and scale."""
    for cdmo in Organisation.objects.filter(kind="cdmo", is_demo=True).order_by("slug"):
        probe = CapacityRequest(scale_l=scale_l, approvals=[], regions=[], countries=[])
        probe.product = Product(modality=modality)
        sites, _ = services.screen_sites(probe, [cdmo.pk])
        if sites:
            return cdmo
    return None


def seed_requests(reason: str) -> None:
    sponsors = list(Organisation.objects.filter(kind="sponsor", is_demo=True).order_by("slug"))
    today = timezone.now().date()
    for index, spec in enumerate(REQUESTS):
        sponsor = sponsors[index // 2 % len(sponsors)]
        manager = User.objects.get(organisation=sponsor, role="sponsor_manager")
        with caller_scope(manager):
            product = services.create_product(
                actor=manager,
                reason=reason,
                name=spec.product,
                modality=spec.modality,
                phase=spec.phase,
            )
            cdmo = _cdmo_for(spec.modality, spec.scale_l)
            start = today + dt.timedelta(days=spec.starts_in_days)
            request = services.create_request(
                actor=manager,
                reason=reason,
                recipients=[cdmo] if cdmo else [],
                product=product,
                scale_l=spec.scale_l,
                batches=spec.batches,
                earliest_start=start,
                need_by=start + dt.timedelta(weeks=spec.weeks),
                notes="Demo request",
            )
            if spec.ends_as == "draft":
                continue
            request = services.submit_request(request, actor=manager, reason=reason)
            for option_id in Option.objects.filter(request=request).values_list("pk", flat=True):
                answer_option(option_id, SOLVE_S)
            request.refresh_from_db()
            if spec.ends_as == "withdrawn":
                services.withdraw_request(
                    request, actor=manager, reason="Demo: the programme was paused"
                )
            elif spec.ends_as == "awarded":
                best = Option.objects.filter(request=request, rank=1).first()
                if best is not None:
                    services.accept_option(best, actor=manager, reason=reason)
