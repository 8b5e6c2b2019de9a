"""The signing form and the quality agreement's form."""

from __future__ import annotations

from typing import Any

from django import forms

from opencdmo.core.inputs import CleanTextFields
from opencdmo.quality.models import Meaning, QualityAgreement

REASON_HELP = "Why this change is made; it goes on the audit trail."


class SignForm(CleanTextFields, forms.Form):
    """Re-authentication and meaning for one signature (21 CFR 11.200): the password at every
    signing, the authenticator's code for users with two-factor sign-in, and the content hash
    the signer was shown."""

    meaning = forms.ChoiceField(choices=(), label="Meaning of your signature")
    password = forms.CharField(
        label="Your password",
        widget=forms.PasswordInput(attrs={"autocomplete": "current-password"}),
        strip=False,
    )
    totp_code = forms.CharField(
        max_length=20,
        label="Authenticator code",
        help_text="The six digits your authenticator app shows now.",
        widget=forms.TextInput(attrs={"autocomplete": "one-time-code"}),
    )
    reason = forms.CharField(
        max_length=500, required=False, label="Comment", help_text="Goes with the signature."
    )
    seen_sha256 = forms.CharField(max_length=64, widget=forms.HiddenInput)

    def __init__(
        self, *args: Any, meanings: tuple[str, ...], needs_code: bool, **kwargs: Any
    ) -> None:
        super().__init__(*args, **kwargs)
        self.fields["meaning"].choices = [(m, Meaning(m).label) for m in meanings]
        if not needs_code:
            del self.fields["totp_code"]


class AgreementForm(CleanTextFields, forms.ModelForm):
    reason = forms.CharField(max_length=500, required=False, help_text=REASON_HELP)

    class Meta:
        model = QualityAgreement
        fields = (
            "minor_notice_h",
            "major_notice_h",
            "critical_notice_h",
            "sponsor_release_required",
        )

    def __init__(self, *args: Any, reason_required: bool, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["reason"].required = reason_required

    def _post_clean(self) -> None:
        """Validation is the services' (field by field, with the model's rules)."""
