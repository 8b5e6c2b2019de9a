from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.utils.html import format_html

from opencdmo.core.tenancy import get_visible_or_404
from tests.platform.shared_records.models import SharedRecord


@login_required
def record_page(request: HttpRequest, pk: int) -> HttpResponse:
    """One shared record, for its owner and the sponsor it is shared with."""
    record = get_visible_or_404(SharedRecord, request.user, pk=pk)
    return HttpResponse(format_html("<h1>{}</h1><p>{}</p>", record.title, record.status))
