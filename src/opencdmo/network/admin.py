"""Django admin for the site network, writing only through ``network.services``.

Who may do what follows the roles in ``accounts.roles``, not Django's model permissions:
staff holding VIEW_NETWORK browse every site's public master data; staff holding
EDIT_NETWORK add records to their own organisation's sites and change those; the platform
administrator (MAINTAIN_NETWORK) curates every CDMO's master data. Each save asks
for a reason and goes through the services layer, so it is validated and audited exactly like
a change made on the site pages. Deletion is not offered here. Private profiles are not
listed: they belong to the owning CDMO's pages alone.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django import forms
from django.contrib import admin
from django.db import models
from django.http import HttpRequest

from opencdmo.accounts.models import Organisation
from opencdmo.accounts.roles import VIEW_NETWORK
from opencdmo.core.tenancy import caller_organisation_ids, tenancy_of
from opencdmo.network import services
from opencdmo.network.choices import Modality
from opencdmo.network.models import Equipment, Inspection, RegulatoryApproval, Site, Suite


class ChangeWithReasonForm(forms.ModelForm):
    """An admin form that also asks why, and applies the network rules the services apply."""

    reason = forms.CharField(
        label="Reason for change",
        max_length=500,
        widget=forms.Textarea(attrs={"rows": 2, "cols": 60}),
        help_text="Recorded on the audit trail with your name and the time.",
    )

    def _post_clean(self) -> None:
        super()._post_clean()
        for field, message in services.rule_violations(self.instance):
            self.add_error(field if field in self.fields else None, message)


class SuiteAdminForm(ChangeWithReasonForm):
    modalities = forms.MultipleChoiceField(
        choices=Modality.choices,
        required=False,
        widget=forms.CheckboxSelectMultiple,
        label="Qualified modalities",
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if self.instance.pk is not None:
            self.fields["modalities"].initial = self.instance.modalities


class NetworkAdmin(admin.ModelAdmin):
    """Role-based access from the model's tenancy declaration; saves call ``services``."""

    form = ChangeWithReasonForm
    parent: str = ""
    create: Callable[..., models.Model]
    update: Callable[..., models.Model]

    def has_module_permission(self, request: HttpRequest) -> bool:
        user = request.user
        return bool(user.is_active and user.is_staff and user.can(VIEW_NETWORK))

    def has_view_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return self.has_module_permission(request)

    def has_add_permission(self, request: HttpRequest) -> bool:
        return self.has_module_permission(request) and tenancy_of(self.model).may_change(
            request.user
        )

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        if not self.has_module_permission(request):
            return False
        return tenancy_of(self.model).may_change(request.user, obj)

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def get_fields(self, request: HttpRequest, obj: Any = None) -> Any:
        """The parent first and the reason last; no reason where nothing can be changed."""
        others = [f for f in super().get_fields(request, obj) if f not in (self.parent, "reason")]
        reason = ["reason"] if self.has_change_permission(request, obj) else []
        return [self.parent, *others, *reason]

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> Any:
        return (self.parent,) if obj is not None else ()

    def formfield_for_foreignkey(
        self, db_field: Any, request: HttpRequest, **kwargs: Any
    ) -> forms.ModelChoiceField | None:
        """New records attach to parents the caller may change: its own, or any CDMO's for a curator."""
        parents = {
            "owner": Organisation.objects.filter(kind="cdmo"),
            "site": Site.objects.select_related("owner"),
            "suite": Suite.objects.select_related("site"),
        }
        if db_field.name in parents:
            queryset = parents[db_field.name]
            if not tenancy_of(self.model).curates(request.user):
                mine = caller_organisation_ids(request.user)
                queryset = queryset.filter(tenancy_of(queryset.model).owned_q(mine))
            kwargs["queryset"] = queryset
        return super().formfield_for_foreignkey(db_field, request, **kwargs)

    def _values(self, form: forms.ModelForm, names: Any) -> dict[str, Any]:
        editable = services.EDITABLE_FIELDS[self.model]
        values = {name: form.cleaned_data[name] for name in names if name in editable}
        if "modalities" in form.fields and "modalities" in names:
            values["modalities"] = form.cleaned_data["modalities"]
        return values

    def save_model(self, request: HttpRequest, obj: Any, form: Any, change: bool) -> None:
        reason = form.cleaned_data["reason"]
        if change:
            self.update(
                obj, actor=request.user, reason=reason, **self._values(form, form.changed_data)
            )
            return
        fields = self._values(form, form.fields)
        created = self.create(
            actor=request.user, reason=reason, **{self.parent: getattr(obj, self.parent)}, **fields
        )
        obj.pk = created.pk


@admin.register(Site)
class SiteAdmin(NetworkAdmin):
    parent = "owner"
    create = staticmethod(services.create_site)
    update = staticmethod(services.update_site)
    list_display = ["name", "owner", "city", "country", "region"]
    list_filter = ["region", "country", "owner"]
    search_fields = ["name", "code", "city", "owner__name"]
    list_select_related = ["owner"]


@admin.register(Suite)
class SuiteAdmin(NetworkAdmin):
    form = SuiteAdminForm
    parent = "site"
    create = staticmethod(services.create_suite)
    update = staticmethod(services.update_suite)
    list_display = ["name", "site", "kind", "gmp_grade", "status"]
    list_filter = ["kind", "gmp_grade", "status", "qualifications__modality"]
    search_fields = ["name", "site__name"]
    list_select_related = ["site"]


@admin.register(Equipment)
class EquipmentAdmin(NetworkAdmin):
    parent = "suite"
    create = staticmethod(services.create_equipment)
    update = staticmethod(services.update_equipment)
    list_display = ["tag", "kind", "working_volume_l", "throughput_units_per_h", "suite"]
    list_filter = ["kind"]
    search_fields = ["tag", "manufacturer", "suite__name", "suite__site__name"]
    list_select_related = ["suite__site"]


@admin.register(RegulatoryApproval)
class RegulatoryApprovalAdmin(NetworkAdmin):
    parent = "site"
    create = staticmethod(services.create_approval)
    update = staticmethod(services.update_approval)
    list_display = ["site", "agency", "scope", "granted_on"]
    list_filter = ["agency"]
    search_fields = ["site__name", "scope"]
    list_select_related = ["site"]


@admin.register(Inspection)
class InspectionAdmin(NetworkAdmin):
    parent = "site"
    create = staticmethod(services.create_inspection)
    update = staticmethod(services.update_inspection)
    list_display = ["site", "agency", "inspected_on", "outcome", "observations"]
    list_filter = ["agency", "outcome"]
    search_fields = ["site__name"]
    list_select_related = ["site"]
    date_hierarchy = "inspected_on"
