"""Django admin for the site network: browse and search master data, read-only.

Every change to master data needs a reason and exactly one audit entry, written by
``network.services``; the admin's generic save and delete would bypass both. Changes are
therefore made on the site pages, through the API or by import, never here. Private
profiles are not listed at all: they belong to the owning CDMO alone.
"""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.http import HttpRequest

from opencdmo.network.models import (
    Equipment,
    Inspection,
    ModalityQualification,
    RegulatoryApproval,
    Site,
    Suite,
)


class ReadOnlyMixin:
    """Viewing only; the services layer is the one door for writes."""

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


class SuiteInline(ReadOnlyMixin, admin.TabularInline):
    model = Suite
    fields = ["name", "kind", "gmp_grade", "status"]
    show_change_link = True
    extra = 0


class ApprovalInline(ReadOnlyMixin, admin.TabularInline):
    model = RegulatoryApproval
    extra = 0


class InspectionInline(ReadOnlyMixin, admin.TabularInline):
    model = Inspection
    extra = 0


class QualificationInline(ReadOnlyMixin, admin.TabularInline):
    model = ModalityQualification
    extra = 0


class EquipmentInline(ReadOnlyMixin, admin.TabularInline):
    model = Equipment
    fields = ["tag", "kind", "working_volume_l", "throughput_units_per_h", "manufacturer"]
    show_change_link = True
    extra = 0


@admin.register(Site)
class SiteAdmin(ReadOnlyMixin, admin.ModelAdmin):
    list_display = ["name", "owner", "city", "country", "region"]
    list_filter = ["region", "country", "owner"]
    search_fields = ["name", "code", "city", "owner__name"]
    list_select_related = ["owner"]
    inlines = [SuiteInline, ApprovalInline, InspectionInline]


@admin.register(Suite)
class SuiteAdmin(ReadOnlyMixin, admin.ModelAdmin):
    list_display = ["name", "site", "kind", "gmp_grade", "status"]
    list_filter = ["kind", "gmp_grade", "status", "qualifications__modality"]
    search_fields = ["name", "site__name"]
    list_select_related = ["site"]
    inlines = [QualificationInline, EquipmentInline]


@admin.register(Equipment)
class EquipmentAdmin(ReadOnlyMixin, admin.ModelAdmin):
    list_display = ["tag", "kind", "working_volume_l", "throughput_units_per_h", "suite"]
    list_filter = ["kind"]
    search_fields = ["tag", "manufacturer", "suite__name", "suite__site__name"]
    list_select_related = ["suite__site"]


@admin.register(RegulatoryApproval)
class RegulatoryApprovalAdmin(ReadOnlyMixin, admin.ModelAdmin):
    list_display = ["site", "agency", "scope", "granted_on"]
    list_filter = ["agency"]
    search_fields = ["site__name", "scope"]
    list_select_related = ["site"]


@admin.register(Inspection)
class InspectionAdmin(ReadOnlyMixin, admin.ModelAdmin):
    list_display = ["site", "agency", "inspected_on", "outcome", "observations"]
    list_filter = ["agency", "outcome"]
    search_fields = ["site__name"]
    list_select_related = ["site"]
    date_hierarchy = "inspected_on"
