"""The audit-trail page for QA and administrators, its exports and its chain check."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.db.models import Max
from django.http import HttpRequest, HttpResponse, StreamingHttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_GET, require_POST

from opencdmo.accounts.roles import VIEW_AUDIT
from opencdmo.audit.export import (
    MAX_PDF_ENTRIES,
    PdfUnavailableError,
    record_export,
    render_pdf,
    stream_csv,
)
from opencdmo.audit.labels import labelled
from opencdmo.audit.trail import AuditFilter, filtered_entries, visible_entries
from opencdmo.audit.verification import check_chains, run_chain_check

PAGE_SIZE = 50
CHECK_SESSION_KEY = "audit_chain_check"


def _reviewer(request: HttpRequest) -> Any:
    if not request.user.can(VIEW_AUDIT):
        raise PermissionDenied
    return request.user


def _query(request: HttpRequest) -> str:
    query = request.GET.copy()
    query.pop("page", None)
    return query.urlencode()


def _back_to_trail(request: HttpRequest, query: str | None = None) -> HttpResponse:
    """The page with the filter the reviewer was using."""
    query = _query(request) if query is None else query
    return redirect(f"{reverse('audit:trail')}?{query}" if query else reverse("audit:trail"))


def _file_name(user: Any, extension: str) -> str:
    slug = getattr(user.organisation, "slug", "") or "platform"
    return f"audit-trail-{slug}-{timezone.now():%Y%m%dT%H%M%SZ}.{extension}"


@login_required
@require_GET
def trail(request: HttpRequest) -> HttpResponse:
    _reviewer(request)
    entries = visible_entries()
    form = AuditFilter(request.GET or None, entries)
    page = Paginator(filtered_entries(entries, form.applied()), PAGE_SIZE).get_page(
        request.GET.get("page")
    )
    context = {
        "form": form,
        "page": page,
        "rows": labelled(page),
        "query": _query(request),
        "check": request.session.pop(CHECK_SESSION_KEY, None),
        "max_pdf_entries": MAX_PDF_ENTRIES,
    }
    return render(request, "audit/trail.html", context)


@login_required
@require_POST
def verify(request: HttpRequest) -> HttpResponse:
    """Run the chain check; the verdict shows once on the page the reviewer came from."""
    check = run_chain_check(_reviewer(request))
    request.session[CHECK_SESSION_KEY] = check.as_dict()
    return _back_to_trail(request, request.POST.get("query", ""))


def _export_selection(request: HttpRequest) -> tuple[Any, AuditFilter, Any]:
    """The reviewer, the filter and the entries the page shows for this query, frozen now."""
    user = _reviewer(request)
    entries = visible_entries()
    form = AuditFilter(request.GET or None, entries)
    selected = filtered_entries(entries, form.applied())
    newest = selected.aggregate(newest=Max("id"))["newest"] or 0
    return user, form, selected.filter(id__lte=newest)


@login_required
@require_GET
def export_csv(request: HttpRequest) -> StreamingHttpResponse:
    user, form, selected = _export_selection(request)
    record_export(user, kind="csv", entries=selected.count(), filter_used=form.described())
    response = StreamingHttpResponse(
        stream_csv(selected, user), content_type="text/csv; charset=utf-8"
    )
    response["Content-Disposition"] = f'attachment; filename="{_file_name(user, "csv")}"'
    return response


@login_required
@require_GET
def export_pdf(request: HttpRequest) -> HttpResponse:
    user, form, selected = _export_selection(request)
    count = selected.count()
    if count > MAX_PDF_ENTRIES:
        messages.error(
            request,
            f"This filter selects {count:,} entries; a PDF holds at most {MAX_PDF_ENTRIES:,}. "
            "Narrow the filter (dates, action, who) or export CSV, which has no limit.",
        )
        return _back_to_trail(request)
    check = check_chains(user)
    context = {
        "user": user,
        "rows": labelled(selected),
        "count": count,
        "filter_used": form.described(),
        "check": check.as_dict(),
        "generated_at": timezone.now(),
        "max_pdf_entries": MAX_PDF_ENTRIES,
    }
    try:
        pdf = render_pdf(context)
    except PdfUnavailableError as exc:
        messages.error(request, str(exc))
        return _back_to_trail(request)
    record_export(user, kind="pdf", entries=count, filter_used=form.described())
    response = HttpResponse(pdf, content_type="application/pdf")
    response["Content-Disposition"] = f'attachment; filename="{_file_name(user, "pdf")}"'
    return response
