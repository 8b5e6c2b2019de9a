from __future__ import annotations

from django import forms

from opencdmo.core.inputs import CleanTextFields
from opencdmo.manufacturing.models import Batch, OpcConnection

STATE_CHOICES = [("", "Any state"), *Batch.State.choices]


class BatchFilterForm(CleanTextFields, forms.Form):
    state = forms.ChoiceField(choices=STATE_CHOICES, required=False)
    site = forms.TypedChoiceField(coerce=int, required=False, empty_value=None)
    project = forms.TypedChoiceField(coerce=int, required=False, empty_value=None)

    def __init__(
        self,
        *args: object,
        sites: list[tuple[int, str]],
        projects: list[tuple[int, str]],
        **kwargs: object,
    ) -> None:
        super().__init__(*args, **kwargs)
        self.fields["site"].choices = [("", "Any site"), *sites]
        self.fields["project"].choices = [("", "Any project"), *projects]


class StateForm(CleanTextFields, forms.Form):
    to = forms.ChoiceField(choices=Batch.State.choices, widget=forms.HiddenInput)
    reason = forms.CharField(max_length=2000, widget=forms.Textarea(attrs={"rows": 2}))


class UploadForm(CleanTextFields, forms.Form):
    file = forms.FileField(help_text="CSV, Excel (.xlsx) or Parquet; long or wide")
    reason = forms.CharField(
        max_length=2000, required=False, help_text="Optional; the default names the file"
    )


class OfflineResultForm(CleanTextFields, forms.Form):
    attribute = forms.CharField(max_length=80, help_text="e.g. Titer, Aggregate, HCP")
    value = forms.FloatField()
    unit = forms.CharField(max_length=30, required=False)
    spec_low = forms.FloatField(label="Specification low", required=False)
    spec_high = forms.FloatField(label="Specification high", required=False)
    sampled_at = forms.DateTimeField(
        label="Sampled (UTC)", required=False, help_text="YYYY-MM-DD HH:MM"
    )
    method = forms.CharField(max_length=120, required=False)
    reason = forms.CharField(max_length=2000, required=False)


CONNECTION_FORM_FIELDS = (
    "name",
    "endpoint",
    "security_policy",
    "security_mode",
    "username",
    "password_env",
    "certificate_path",
    "private_key_path",
    "server_certificate_path",
    "sampling_interval_ms",
    "flush_interval_s",
    "enabled",
)
"""The connection's fields that the form shows and sets as they are (site, suite, nodes and the
password take a conversion)."""


class ConnectionForm(CleanTextFields, forms.Form):
    """An OPC UA connection as a CDMO's staff enter it; nodes one per line."""

    site = forms.TypedChoiceField(coerce=int)
    suite = forms.TypedChoiceField(
        coerce=int,
        required=False,
        empty_value=None,
        help_text="Where a node names no lot, its values go to the batch running in this suite",
    )
    name = forms.CharField(max_length=80)
    endpoint = forms.CharField(max_length=255, help_text="opc.tcp://host:port/path")
    security_policy = forms.ChoiceField(choices=OpcConnection.Security.choices)
    security_mode = forms.ChoiceField(choices=OpcConnection.Mode.choices)
    username = forms.CharField(max_length=120, required=False)
    password = forms.CharField(
        max_length=200,
        required=False,
        strip=False,
        widget=forms.PasswordInput(render_value=False, attrs={"autocomplete": "new-password"}),
        help_text="Stored encrypted; left empty on a change, the stored one is kept",
    )
    clear_password = forms.BooleanField(required=False, label="Remove the stored password")
    password_env = forms.CharField(
        max_length=120,
        required=False,
        label="Password from the environment variable",
        help_text="Instead of a stored password: a variable of the collector's environment",
    )
    certificate_path = forms.CharField(max_length=400, required=False)
    private_key_path = forms.CharField(max_length=400, required=False)
    server_certificate_path = forms.CharField(max_length=400, required=False)
    nodes = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 8, "class": "mono"}),
        help_text="One node per line: node_id, lot (or empty), variable, unit",
    )
    sampling_interval_ms = forms.IntegerField(
        min_value=1, initial=1000, label="Sampling interval (ms)"
    )
    flush_interval_s = forms.FloatField(min_value=0.01, initial=1.0, label="Flush interval (s)")
    enabled = forms.BooleanField(required=False, initial=True)
    reason = forms.CharField(max_length=2000, widget=forms.Textarea(attrs={"rows": 2}))

    def __init__(
        self,
        *args: object,
        sites: list[tuple[int, str]],
        suites: list[tuple[int, str]],
        **kwargs: object,
    ) -> None:
        super().__init__(*args, **kwargs)
        self.fields["site"].choices = sites
        self.fields["suite"].choices = [("", "No suite"), *suites]
