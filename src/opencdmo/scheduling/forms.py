"""Page forms of the planner's workspace: scenario edits, solving and publishing."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django import forms

from opencdmo.core.inputs import CleanTextFields
from opencdmo.scheduling.models import Scenario

_WHEN = {"type": "datetime-local"}
_DAY = {"type": "date"}


def _utc(value: dt.datetime | dt.date) -> dt.datetime:
    if isinstance(value, dt.datetime):
        return value.replace(tzinfo=dt.UTC) if value.tzinfo is None else value
    return dt.datetime.combine(value, dt.time(), tzinfo=dt.UTC)


class _Edit(CleanTextFields, forms.Form):
    reason = forms.CharField(max_length=2000, help_text="Why, for the audit trail")

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.order_fields([name for name in self.fields if name != "reason"] + ["reason"])

    def arguments(self) -> dict[str, Any]:
        """The edit's arguments for ``edit_scenario``: dates as UTC datetimes."""
        return {
            k: _utc(v) if isinstance(v, dt.date) else v
            for k, v in self.cleaned_data.items()
            if k != "reason" and v not in (None, "")
        }


class DowntimeForm(_Edit):
    unit = forms.ChoiceField()
    kind = forms.ChoiceField(choices=[("breakdown", "Breakdown"), ("maintenance", "Maintenance")])
    start = forms.DateTimeField(widget=forms.DateTimeInput(attrs=_WHEN), help_text="UTC")
    end = forms.DateTimeField(widget=forms.DateTimeInput(attrs=_WHEN), help_text="UTC")

    def __init__(self, *args: Any, units: list[str], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["unit"].choices = [(u, u) for u in units]


class _LotForm(_Edit):
    lot = forms.ChoiceField()

    def __init__(self, *args: Any, lots: list[str], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["lot"].choices = [(lot, lot) for lot in lots]


class DueForm(_LotForm):
    due = forms.DateField(widget=forms.DateInput(attrs=_DAY))


class RemoveForm(_LotForm):
    pass


class AddForm(_LotForm):
    release = forms.DateField(widget=forms.DateInput(attrs=_DAY), label="Earliest start")
    due = forms.DateField(widget=forms.DateInput(attrs=_DAY), required=False)


EDIT_FORMS: dict[str, type[_Edit]] = {
    "downtime": DowntimeForm,
    "due": DueForm,
    "remove": RemoveForm,
    "add": AddForm,
}


class SolveForm(forms.Form):
    goal = forms.ChoiceField(choices=Scenario.Goal.choices, initial=Scenario.Goal.REPAIR)
    time_limit_s = forms.IntegerField(
        min_value=1, max_value=600, initial=20, label="Time limit (s)"
    )


class PublishForm(CleanTextFields, forms.Form):
    reason = forms.CharField(max_length=2000, help_text="Why this plan, for the audit trail")


class NewScenarioForm(CleanTextFields, forms.Form):
    name = forms.CharField(max_length=120, required=False)
