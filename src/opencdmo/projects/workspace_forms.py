"""Forms of the workspace page: a message, a team member, a milestone, a task."""

from __future__ import annotations

from typing import Any

from django import forms

from opencdmo.accounts.models import User
from opencdmo.core.inputs import CleanTextFields
from opencdmo.projects.models import Project
from opencdmo.projects.workspace import Milestone, TeamRole

_DATE = forms.DateInput(attrs={"type": "date"})


def _people(project: Project) -> Any:
    """The active people of both parties, whom a team role or a task may name."""
    return User.objects.filter(
        organisation_id__in=(project.cdmo_id, project.sponsor_id), is_active=True
    ).order_by("organisation__name", "username")


class _PeopleForm(CleanTextFields, forms.Form):
    def __init__(self, *args: Any, project: Project, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        for field in self.fields.values():
            if isinstance(field, forms.ModelChoiceField):
                field.queryset = _people(project)
                field.label_from_instance = lambda u: (
                    f"{u.get_full_name() or u.username} ({u.organisation})"
                )


class MessageForm(CleanTextFields, forms.Form):
    body = forms.CharField(
        max_length=10000,
        widget=forms.Textarea(attrs={"rows": 3}),
        label="Message",
        help_text="Mention a member as @username to tell them.",
    )
    record = forms.CharField(required=False, widget=forms.HiddenInput)


class MemberForm(_PeopleForm):
    user = forms.ModelChoiceField(queryset=User.objects.none(), label="Person")
    role = forms.ChoiceField(choices=TeamRole.choices)


class TaskForm(_PeopleForm):
    title = forms.CharField(max_length=200)
    owner = forms.ModelChoiceField(queryset=User.objects.none())
    due_date = forms.DateField(widget=_DATE)


class MilestoneForm(CleanTextFields, forms.Form):
    name = forms.CharField(max_length=160)
    kind = forms.ChoiceField(choices=Milestone.Kind.choices)
    planned_date = forms.DateField(widget=_DATE)


class MilestoneUpdateForm(CleanTextFields, forms.Form):
    state = forms.ChoiceField(choices=Milestone.State.choices)
    planned_date = forms.DateField(widget=_DATE)
    actual_date = forms.DateField(widget=_DATE, required=False)
    reason = forms.CharField(max_length=500, help_text="Why; it goes on the audit trail.")
