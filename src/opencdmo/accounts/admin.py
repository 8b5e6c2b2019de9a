"""Admin for organisations and users: every save asks why and lands on the audit trail."""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import admin
from django.contrib.auth.admin import UserAdmin
from django.contrib.auth.forms import UserChangeForm, UserCreationForm
from django.contrib.auth.models import Group
from django.db import transaction
from django.db.models import Model, QuerySet
from django.http import HttpRequest

from opencdmo.accounts.models import ApiToken, Organisation, User
from opencdmo.audit import services as audit
from opencdmo.core.tenancy import tenancy_of

admin.site.site_header = "opencdmo administration"
admin.site.site_title = "opencdmo"
admin.site.unregister(Group)

REASON = forms.CharField(
    label="Reason for change",
    max_length=500,
    widget=forms.Textarea(attrs={"rows": 2, "cols": 60}),
    help_text="Recorded on the audit trail with your name and the time.",
)
USER_AUDITED_FIELDS = (
    "username",
    "email",
    "first_name",
    "last_name",
    "organisation",
    "role",
    "is_active",
    "locked_until",
)


class AuditedAdmin(admin.ModelAdmin):
    """Saves and deletions in one transaction with one audit entry holding old → new and why."""

    audited_fields: tuple[str, ...] | None = None
    action_prefix = ""

    def _organisation_id(self, obj: Any) -> int | None:
        """The chain the entry goes to: the owner named by the model's tenancy declaration."""
        return tenancy_of(obj).owner_id(obj)

    def _snapshot(self, obj: Model) -> dict[str, Any]:
        return audit.snapshot(obj, self.audited_fields)

    def save_model(self, request: HttpRequest, obj: Any, form: Any, change: bool) -> None:
        before = self._snapshot(type(obj).objects.get(pk=obj.pk)) if change else {}
        with transaction.atomic():
            super().save_model(request, obj, form, change)
            old, new = audit.changed(before, self._snapshot(obj))
            if change and not new:
                return
            audit.record(
                f"opencdmo.{self.action_prefix}.{'changed' if change else 'created'}",
                actor=request.user,
                organisation_id=self._organisation_id(obj),
                target=obj,
                before=old if change else None,
                after=new,
                reason=form.cleaned_data["reason"],
            )

    def delete_model(self, request: HttpRequest, obj: Any) -> None:
        with transaction.atomic():
            audit.record(
                f"opencdmo.{self.action_prefix}.deleted",
                actor=request.user,
                organisation_id=self._organisation_id(obj),
                target=obj,
                before=self._snapshot(obj),
                reason="Deleted in the admin",
            )
            super().delete_model(request, obj)

    def get_actions(self, request: HttpRequest) -> dict[str, Any]:
        """No bulk deletion: it would bypass the per-object audit entry."""
        actions = super().get_actions(request)
        actions.pop("delete_selected", None)
        return actions


class OrganisationForm(forms.ModelForm):
    website = forms.URLField(required=False, assume_scheme="https")
    reason = REASON

    class Meta:
        model = Organisation
        fields = (
            "name",
            "slug",
            "kind",
            "country",
            "headquarters",
            "website",
            "description",
            "is_demo",
        )


@admin.register(Organisation)
class OrganisationAdmin(AuditedAdmin):
    form = OrganisationForm
    action_prefix = "organisation"
    list_display = ("name", "kind", "country", "is_demo")
    list_filter = ("kind", "is_demo")
    search_fields = ("name", "slug")
    prepopulated_fields = {"slug": ("name",)}


class AuditedUserChangeForm(UserChangeForm):
    reason = REASON


class AuditedUserCreationForm(UserCreationForm):
    reason = REASON

    class Meta(UserCreationForm.Meta):
        model = User
        fields = ("username", "organisation", "role")


@admin.register(User)
class OpencdmoUserAdmin(AuditedAdmin, UserAdmin):
    form = AuditedUserChangeForm
    add_form = AuditedUserCreationForm
    action_prefix = "user"
    audited_fields = USER_AUDITED_FIELDS
    list_display = ("username", "organisation", "role", "is_active", "locked_until")
    list_filter = ("role", "is_active", "organisation__kind")
    fieldsets = (
        *UserAdmin.fieldsets,
        (
            "Organisation",
            {"fields": ("organisation", "role", "failed_login_count", "locked_until")},
        ),
        ("Why", {"fields": ("reason",)}),
    )
    add_fieldsets = (
        (
            None,
            {"fields": ("username", "organisation", "role", "password1", "password2", "reason")},
        ),
    )


@admin.register(ApiToken)
class ApiTokenAdmin(admin.ModelAdmin):
    """Read-only: tokens are created and revoked by their owners."""

    list_display = ("name", "prefix", "user", "created_at", "last_used_at", "revoked_at")
    readonly_fields = (
        "user",
        "name",
        "prefix",
        "digest",
        "created_at",
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
