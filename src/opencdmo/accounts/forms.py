"""Login, token and user-management forms."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from typing import Any

from django import forms
from django.conf import settings
from django.contrib.auth.forms import (
    AuthenticationForm,
    PasswordChangeForm,
    PasswordResetForm,
    SetPasswordForm,
)
from django.contrib.auth.password_validation import password_validators_help_texts
from django.db.models import Q
from django.utils import timezone
from django_scopes import scopes_disabled

from opencdmo.accounts import services
from opencdmo.accounts.models import Organisation, TokenScope, User
from opencdmo.accounts.roles import ROLES_BY_KIND, Role
from opencdmo.core.inputs import CleanTextFields


class LoginForm(CleanTextFields, AuthenticationForm):
    """Django's login form, with one message for an unknown user, a wrong password and a
    locked account, so the page does not tell which names exist or are locked."""

    error_messages = {
        **AuthenticationForm.error_messages,
        "invalid_login": "Please enter a correct username and password. Both are "
        "case-sensitive; after repeated failures an account is locked for a while.",
    }


EXPIRY_CHOICES = [
    ("7", "in 7 days"),
    ("30", "in 30 days"),
    ("90", "in 90 days"),
    ("365", "in a year"),
    ("", "never (until revoked)"),
]


class TokenForm(CleanTextFields, forms.Form):
    """A new token: what uses it, whether it may write, and when it stops working."""

    name = forms.CharField(
        max_length=100,
        label="New token name",
        help_text="What will use this token, e.g. 'MES integration'.",
    )
    scope = forms.ChoiceField(
        choices=TokenScope.choices,
        initial=TokenScope.READ,
        required=False,
        label="Scope",
        help_text="Read only: GET requests alone. Read and write: whatever your role may do.",
    )
    expires_in_days = forms.TypedChoiceField(
        choices=EXPIRY_CHOICES,
        coerce=int,
        empty_value=None,
        required=False,
        initial="90",
        label="Expires",
    )

    def clean_scope(self) -> str:
        """No choice sent is the narrower one."""
        return str(self.cleaned_data["scope"] or "read")


REASON_HELP = "Why this change is made; it goes on the audit trail."


def _role_choices(organisation: Organisation | None) -> list[tuple[str, str]]:
    """The roles that exist for ``organisation``'s kind (all of them when it is not chosen yet)."""
    allowed = ROLES_BY_KIND.get(organisation.kind, ()) if organisation is not None else Role.values
    return [(value, label) for value, label in Role.choices if value in allowed]


class InviteForm(CleanTextFields, forms.Form):
    """A new user: who, which role, and why; the organisation only for the platform admin."""

    organisation = forms.ModelChoiceField(queryset=Organisation.objects.none(), required=False)
    first_name = forms.CharField(max_length=150, label="First name")
    last_name = forms.CharField(max_length=150, label="Last name")
    email = forms.EmailField(label="E-mail")
    username = forms.CharField(max_length=150, help_text="What the person signs in with.")
    role = forms.ChoiceField(choices=())
    reason = forms.CharField(max_length=500, help_text=REASON_HELP, label="Reason")

    def __init__(
        self,
        *args: Any,
        organisation: Organisation | None,
        choose_organisation: bool,
        **kwargs: Any,
    ) -> None:
        super().__init__(*args, **kwargs)
        if choose_organisation:
            self.fields["organisation"].queryset = Organisation.objects.order_by("kind", "name")
            self.fields["organisation"].required = True
            self.fields["organisation"].initial = organisation
            self.fields["role"].choices = _role_choices(None)
        else:
            del self.fields["organisation"]
            self.fields["role"].choices = _role_choices(organisation)


class RoleForm(CleanTextFields, forms.Form):
    role = forms.ChoiceField(choices=(), label="New role")
    reason = forms.CharField(max_length=500, help_text=REASON_HELP)

    def __init__(self, *args: Any, organisation: Organisation, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["role"].choices = _role_choices(organisation)


class ActiveForm(CleanTextFields, forms.Form):
    reason = forms.CharField(max_length=500, help_text=REASON_HELP)


class PlainPasswordHelp(forms.Form):
    """The validators' rules as one sentence under the new password: the page's help line
    holds text, not Django's HTML list."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["new_password1"].help_text = " ".join(password_validators_help_texts())


class FirstPasswordForm(PlainPasswordHelp, CleanTextFields, SetPasswordForm):
    """Django's set-password form, saving through the audited service."""

    def save(self, commit: bool = True) -> Any:
        return services.set_own_password(self.user, self.cleaned_data["new_password1"])


class OwnPasswordChangeForm(PlainPasswordHelp, CleanTextFields, PasswordChangeForm):
    """Django's change-password form (old password, new twice, the validators), saving
    through the audited service."""

    user: Any

    def save(self, commit: bool = True) -> Any:
        """The saved user, whose new hash keeps the current session signed in."""
        signed_in = User.objects.get(pk=self.user.pk)  # not the request's lazy wrapper
        self.user = services.change_own_password(signed_in, self.cleaned_data["new_password1"])
        return self.user


class ResetRequestForm(CleanTextFields, PasswordResetForm):
    """The address to send a reset link to; the answer is the same whether it is known.

    An account gets at most one link per ``RESET_MAIL_INTERVAL_MIN``: each is claimed with one
    conditional ``UPDATE``, so parallel requests cannot send two.
    """

    def get_users(self, email: str) -> Iterator[Any]:
        now = timezone.now()
        quiet_since = now - dt.timedelta(minutes=settings.RESET_MAIL_INTERVAL_MIN)
        for user in super().get_users(email):
            with scopes_disabled():
                claimed = (
                    User.objects.filter(pk=user.pk)
                    .filter(Q(reset_mail_at__isnull=True) | Q(reset_mail_at__lte=quiet_since))
                    .update(reset_mail_at=now)
                )
            if claimed:
                yield user


class ResetPasswordForm(PlainPasswordHelp, CleanTextFields, SetPasswordForm):
    """The new password behind an e-mailed reset link, saved through the audited service."""

    def save(self, commit: bool = True) -> Any:
        return services.reset_password(self.user, self.cleaned_data["new_password1"])


CODE_HELP = "The six digits your authenticator app shows now."


class CodeForm(CleanTextFields, forms.Form):
    """A one-time code: the authenticator's six digits (or, where allowed, a recovery code)."""

    code = forms.CharField(
        max_length=20,
        label="Code",
        help_text=CODE_HELP,
        widget=forms.TextInput(attrs={"autocomplete": "one-time-code", "inputmode": "text"}),
    )


class DisableTwoFactorForm(CleanTextFields, forms.Form):
    password = forms.CharField(
        label="Password", widget=forms.PasswordInput(attrs={"autocomplete": "current-password"})
    )
    code = forms.CharField(
        max_length=20, label="Code", help_text=f"{CODE_HELP} A recovery code works too."
    )


class TwoFactorPolicyForm(CleanTextFields, forms.Form):
    required = forms.TypedChoiceField(
        choices=[("1", "Required for every member"), ("0", "Each member's choice")],
        coerce=lambda value: value == "1",
        label="Two-factor sign-in",
    )
    reason = forms.CharField(max_length=500, help_text=REASON_HELP)
