"""Login and token forms."""

from __future__ import annotations

from django import forms
from django.contrib.auth.forms import AuthenticationForm


class LoginForm(AuthenticationForm):
    """Django's login form with a distinct message for a locked account."""

    def clean(self) -> dict:
        try:
            return super().clean()
        except forms.ValidationError:
            if getattr(self.request, "login_refusal", "") == "locked":
                raise forms.ValidationError(
                    "This account is locked after repeated failed logins. Try again later.",
                    code="locked",
                ) from None
            raise


class TokenForm(forms.Form):
    name = forms.CharField(
        max_length=100, help_text="What will use this token, e.g. 'MES integration'."
    )
