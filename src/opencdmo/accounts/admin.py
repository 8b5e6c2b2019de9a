"""Admin for organisations and users: every save asks why and goes through the core's audited
services, like the application's own pages; setting a password is audited too."""

from __future__ import annotations

import dataclasses
from contextvars import ContextVar
from typing import Any

from django import forms
from django.contrib import admin
from django.contrib.auth.admin import UserAdmin
from django.contrib.auth.forms import AdminPasswordChangeForm, UserChangeForm, UserCreationForm
from django.contrib.auth.models import Group
from django.core.exceptions import PermissionDenied
from django.db.models import Model, QuerySet
from django.http import HttpRequest, HttpResponse

from opencdmo.accounts import services
from opencdmo.accounts.models import ApiToken, Organisation, User
from opencdmo.audit import services as audit
from opencdmo.core import services as core
from opencdmo.core.admin import ReasonedDeleteAdmin
from opencdmo.core.services import Writable

admin.site.site_header = "opencdmo administration"
admin.site.site_title = "opencdmo"
admin.site.unregister(Group)

REASON = forms.CharField(
    label="Reason for change",
    max_length=500,
    widget=forms.Textarea(attrs={"rows": 2, "cols": 60}),
    help_text="Recorded on the audit trail with your name and the time.",
)
USER_AUDITED_FIELDS = (*services.USER_AUDIT_FIELDS, "locked_until")
"""What the admin's user entries record: the services' fields and the lock it may lift."""


def _platform_administrator(actor: Any, obj: Model) -> None:
    """The admin's own check for what no tenant owns: the platform administrator alone."""
    if actor is not None and not actor.is_platform_admin:
        raise PermissionDenied("Django's admin is for platform administrators.")


def _admin_user_state(user: User) -> dict[str, Any]:
    return audit.snapshot(user, USER_AUDITED_FIELDS)


ADMIN_ORGANISATION = dataclasses.replace(services.ORGANISATION, authorise=_platform_administrator)
ADMIN_USER: Writable[User] = dataclasses.replace(
    services.USER,
    fields=(*services.USER.fields, "organisation", "locked_until"),
    state=_admin_user_state,
)


class ServiceRulesForm(forms.ModelForm):
    """Shows the services' own rules (the last administrator stays) on the form, so a save
    they would refuse is refused before it is attempted, by field."""

    writable: Writable[Any]

    def _post_clean(self) -> None:
        super()._post_clean()
        for field, message in self.writable.rules(self.instance) if self.writable.rules else ():
            self.add_error(field if field in self.fields else None, message)


class AuditedAdmin(ReasonedDeleteAdmin):
    """Saves and deletions through ``opencdmo.core.services``: the write check, the reason,
    validation, one transaction and one audit entry, as every other front door does."""

    writable: Writable[Any]

    def save_model(self, request: HttpRequest, obj: Any, form: Any, change: bool) -> None:
        fields = {
            name: form.cleaned_data[name]
            for name in self.writable.fields
            if name in form.cleaned_data
        }
        reason = form.cleaned_data["reason"]
        if change:
            changes = {name: value for name, value in fields.items() if name in form.changed_data}
            core.update(self.writable, obj, actor=request.user, reason=reason, changes=changes)
            return
        created = core.create(
            self.writable,
            actor=request.user,
            reason=reason,
            require_reason=True,
            parent=self.creation_parent(obj),
            fields=fields,
        )
        obj.pk = created.pk
        obj.refresh_from_db()

    def creation_parent(self, obj: Any) -> dict[str, Any]:
        """What a new record takes from the form beyond the settable fields."""
        return {}

    def delete_model(self, request: HttpRequest, obj: Any) -> None:
        core.delete(self.writable, obj, actor=request.user, reason=self.deletion_reason(request))

    def get_actions(self, request: HttpRequest) -> dict[str, Any]:
        """No bulk deletion: it would bypass the per-object audit entry."""
        actions = super().get_actions(request)
        actions.pop("delete_selected", None)
        return actions


class OrganisationForm(ServiceRulesForm):
    writable = ADMIN_ORGANISATION
    website = forms.URLField(required=False, assume_scheme="https")
    reason = REASON

    class Meta:
        model = Organisation
        fields = ADMIN_ORGANISATION.fields


@admin.register(Organisation)
class OrganisationAdmin(AuditedAdmin):
    form = OrganisationForm
    writable = ADMIN_ORGANISATION
    list_display = ("name", "kind", "country", "is_demo")
    list_filter = ("kind", "is_demo")
    search_fields = ("name", "slug")
    prepopulated_fields = {"slug": ("name",)}


class AuditedUserChangeForm(ServiceRulesForm, UserChangeForm):
    writable = ADMIN_USER
    reason = REASON


class AuditedUserCreationForm(ServiceRulesForm, UserCreationForm):
    writable = ADMIN_USER
    reason = REASON

    class Meta(UserCreationForm.Meta):
        model = User
        fields = ("username", "organisation", "role")


_acting: ContextVar[User | None] = ContextVar("admin_password_actor", default=None)
"""The administrator behind the password form being saved (a form knows no request)."""


class AuditedPasswordForm(AdminPasswordChangeForm):
    """Django's admin password form with a reason, saved through the audited service: the
    entry names who set it, for whom and why, never the hash."""

    reason = REASON

    def save(self, commit: bool = True) -> Any:
        keep = self.cleaned_data["set_usable_password"]
        return services.set_password_by_administrator(
            _acting.get(),
            self.user,
            self.cleaned_data["password1"] if keep else None,
            self.cleaned_data["reason"],
        )


@admin.register(User)
class OpencdmoUserAdmin(AuditedAdmin, UserAdmin):
    """Users of every organisation. A role carries the permissions (no groups or per-user
    permissions) and sets the admin flags; login counters are read-only, a lock may be lifted."""

    form = AuditedUserChangeForm
    add_form = AuditedUserCreationForm
    change_password_form = AuditedPasswordForm
    change_user_password_template = "admin/accounts/user/change_password.html"
    writable = ADMIN_USER
    list_display = ("username", "organisation", "role", "is_active", "locked_until")
    list_filter = ("role", "is_active", "organisation__kind")
    readonly_fields = ("last_login", "date_joined", "password_changed_at", "failed_login_count")
    fieldsets = (
        (None, {"fields": ("username", "password")}),
        ("Personal info", {"fields": ("first_name", "last_name", "email")}),
        ("Organisation", {"fields": ("organisation", "role", "is_active")}),
        (
            "Sign-in",
            {
                "fields": (
                    "last_login",
                    "date_joined",
                    "password_changed_at",
                    "failed_login_count",
                    "locked_until",
                )
            },
        ),
        ("Why", {"fields": ("reason",)}),
    )
    add_fieldsets = (
        (
            None,
            {"fields": ("username", "organisation", "role", "password1", "password2", "reason")},
        ),
    )

    def creation_parent(self, obj: Any) -> dict[str, Any]:
        """The password the creation form hashed."""
        return {"password": obj.password}

    def user_change_password(
        self, request: HttpRequest, id: str, form_url: str = ""
    ) -> HttpResponse:
        token = _acting.set(request.user)
        try:
            return super().user_change_password(request, id, form_url)
        finally:
            _acting.reset(token)


@admin.register(ApiToken)
class ApiTokenAdmin(admin.ModelAdmin):
    """Read-only: tokens are created and revoked by their owners."""

    list_display = (
        "name",
        "prefix",
        "user",
        "scope",
        "created_at",
        "expires_at",
        "last_used_at",
        "revoked_at",
    )
    readonly_fields = (
        "user",
        "name",
        "prefix",
        "digest",
        "scope",
        "created_at",
        "expires_at",
        "last_used_at",
        "revoked_at",
    )

    def get_queryset(self, request: HttpRequest) -> QuerySet[ApiToken]:
        return ApiToken.objects.with_scopes_disabled().select_related("user")

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False
