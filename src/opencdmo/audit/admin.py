from django.contrib import admin
from django.db.models import QuerySet
from django.http import HttpRequest

from opencdmo.audit.models import AuditEntry


@admin.register(AuditEntry)
class AuditEntryAdmin(admin.ModelAdmin):
    """Read-only: entries are never edited or deleted, not even here."""

    list_display = ("chain", "seq", "at", "actor_name", "action", "object_repr")
    list_filter = ("action",)
    search_fields = ("object_repr", "reason", "actor_name")

    def get_queryset(self, request: HttpRequest) -> QuerySet[AuditEntry]:
        return AuditEntry.objects.with_scopes_disabled().all()

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False
