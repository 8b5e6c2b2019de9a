"""CAPA: corrective and preventive actions against a deviation, each with an owner and a due
date, then an effectiveness check that closes it as effective or not.

Overdue actions show on their owners' home pages and in ``opencdmo notify digest``.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.core.exceptions import ValidationError
from django.urls import reverse
from django.utils import timezone
from django_scopes import scopes_disabled

from opencdmo.accounts.models import User
from opencdmo.core import services as core
from opencdmo.core.services import Writable
from opencdmo.notifications import services as notifications
from opencdmo.quality.records import Capa, CapaAction, Deviation
from opencdmo.quality.unscoped import unscoped

__all__ = ["add_action", "check_effectiveness", "complete_action", "open_capa", "overdue_actions"]

CAPA = Writable(
    Capa,
    fields=(
        "title",
        "effectiveness_criteria",
        "effectiveness_due",
        "effectiveness_result",
        "state",
    ),
    noun="capa",
    state_field="state",
    transitions={
        "open": ("effectiveness_check",),
        "effectiveness_check": ("closed", "ineffective"),
    },
)
ACTION = Writable(
    CapaAction, fields=("description", "owner", "due_on", "done_at"), noun="capa_action"
)


def _link(capa: Capa) -> str:
    return reverse("quality:capa", args=[capa.pk])


@unscoped
def open_capa(
    actor: User | None,
    deviation: Deviation,
    *,
    title: str,
    effectiveness_criteria: str,
    effectiveness_due: dt.date,
    reason: str = "",
) -> Capa:
    """A CAPA against a classified (or later) deviation, by the CDMO's QA."""
    if deviation.state == "open":
        raise ValidationError({"deviation": f"Classify {deviation.reference} first."})
    return core.create(
        CAPA,
        actor=actor,
        reason=reason,
        default_reason=f"CAPA against {deviation.reference}",
        parent={"deviation": deviation},
        fields={
            "title": title,
            "effectiveness_criteria": effectiveness_criteria,
            "effectiveness_due": effectiveness_due,
        },
    )


def _owner_rule(action: CapaAction) -> list[tuple[str, str]]:
    cdmo = action.capa.deviation.project.cdmo_id
    if action.owner_id is not None and action.owner.organisation_id != cdmo:
        return [("owner", "Choose a person of the CDMO that owns the CAPA.")]
    return []


@unscoped
def add_action(
    actor: User | None,
    capa: Capa,
    *,
    description: str,
    owner: User,
    due_on: dt.date,
    reason: str = "",
) -> CapaAction:
    """An action of an open CAPA; its owner is told."""
    core.authorise_change(actor, capa)
    if capa.state != "open":
        raise ValidationError({"state": f"{capa} is past its actions."})
    action = core.create(
        Writable(
            CapaAction,
            fields=ACTION.fields,
            noun="capa_action",
            rules=_owner_rule,
            authorise=lambda actor, obj: core.authorise_change(actor, obj.capa),
        ),
        actor=actor,
        reason=reason,
        default_reason=f"Action of {capa}",
        parent={"capa": capa},
        fields={"description": description, "owner": owner, "due_on": due_on},
    )
    notifications.notify(
        [owner], "capa.assigned", f"{capa}: {description} (due {due_on:%Y-%m-%d})", _link(capa)
    )
    return action


@unscoped
def complete_action(actor: User, action: CapaAction, reason: str) -> CapaAction:
    """CDMO staff mark an action done (the audit entry says who); the last one moves the CAPA
    on to its effectiveness check."""
    core.update(ACTION, action, actor=actor, reason=reason, changes={"done_at": timezone.now()})
    capa = action.capa
    with scopes_disabled():
        remaining = capa.actions.filter(done_at__isnull=True).exists()
    if not remaining and capa.state == "open":
        core.transition(
            CAPA,
            capa,
            actor=None,
            reason=f"Every action of {capa} is done",
            to="effectiveness_check",
        )
    return action


@unscoped
def check_effectiveness(
    actor: User | None, capa: Capa, *, effective: bool, result: str, reason: str
) -> Capa:
    """Record the check's result and close the CAPA as effective or not."""
    if capa.state != "effectiveness_check":
        raise ValidationError({"state": f"{capa} has open actions; finish them first."})
    if not result.strip():
        raise ValidationError({"effectiveness_result": "Say what the check found."})
    core.update(
        CAPA, capa, actor=actor, reason=reason, changes={"effectiveness_result": result.strip()}
    )
    to = "closed" if effective else "ineffective"
    return core.transition(CAPA, capa, actor=actor, reason=reason, to=to)


def overdue_actions(user: Any) -> list[notifications.Overdue]:
    """The person's own actions past their due date, the oldest first."""
    today = timezone.now().date()
    with scopes_disabled():
        late = CapaAction.objects.filter(
            owner=user, done_at__isnull=True, due_on__lt=today
        ).select_related("capa")
        return [
            notifications.Overdue(f"{a.capa}: {a.description}", a.due_on, _link(a.capa))
            for a in late
        ]


notifications.register_overdue(overdue_actions)
