from django.contrib import admin
from django.contrib.auth.admin import UserAdmin
from django.db.models import QuerySet
from django.http import HttpRequest

from opencdmo.accounts.models import ApiToken, Organisation, User


@admin.register(Organisation)
class OrganisationAdmin(admin.ModelAdmin):
    list_display = ("name", "kind", "country", "is_demo")
    list_filter = ("kind", "is_demo")
    search_fields = ("name", "slug")
    prepopulated_fields = {"slug": ("name",)}


@admin.register(User)
class OpencdmoUserAdmin(UserAdmin):
    list_display = ("username", "organisation", "role", "is_active", "locked_until")
    list_filter = ("role", "is_active", "organisation__kind")
    fieldsets = (
        *UserAdmin.fieldsets,
        (
            "Organisation",
            {"fields": ("organisation", "role", "failed_login_count", "locked_until")},
        ),
    )


@admin.register(ApiToken)
class ApiTokenAdmin(admin.ModelAdmin):
    list_display = ("name", "prefix", "user", "created_at", "last_used_at", "revoked_at")
    readonly_fields = ("prefix", "digest", "created_at", "last_used_at")

    def get_queryset(self, request: HttpRequest) -> QuerySet[ApiToken]:
        return ApiToken.objects.with_scopes_disabled().select_related("user")
