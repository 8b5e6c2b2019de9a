"""Admin deletions that ask why, as every other deletion on the platform does."""

from __future__ import annotations

from typing import Any

from django.contrib import admin, messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect


class ReasonedDeleteAdmin(admin.ModelAdmin):
    """The delete confirmation asks for a reason; a deletion without one is not made.

    ``deletion_reason`` gives subclasses the reason typed, for their audited ``delete_model``.
    """

    delete_confirmation_template = "admin/delete_with_reason.html"

    def delete_view(
        self, request: HttpRequest, object_id: str, extra_context: dict[str, Any] | None = None
    ) -> HttpResponse:
        if (
            request.method == "POST"
            and request.POST.get("post")
            and not self.deletion_reason(request)
        ):
            messages.error(request, "Give a reason for the deletion; nothing was deleted.")
            return redirect(request.get_full_path())
        return super().delete_view(request, object_id, extra_context)

    @staticmethod
    def deletion_reason(request: HttpRequest) -> str:
        return str(request.POST.get("reason", "")).strip()
