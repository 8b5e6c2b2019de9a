"""The audit-trail page for QA and administrators."""

from __future__ import annotations

from django import forms
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.db.models import Q
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from opencdmo.accounts.roles import VIEW_AUDIT
from opencdmo.audit.models import AuditEntry


class AuditFilter(forms.Form):
    action = forms.CharField(required=False)
    actor = forms.CharField(required=False)
    object_type = forms.CharField(required=False)
    text = forms.CharField(required=False, label="Object or reason contains")
    since = forms.DateField(required=False, widget=forms.DateInput(attrs={"type": "date"}))
    until = forms.DateField(required=False, widget=forms.DateInput(attrs={"type": "date"}))


@login_required
def trail(request: HttpRequest) -> HttpResponse:
    if not request.user.can(VIEW_AUDIT):
        raise PermissionDenied
    form = AuditFilter(request.GET or None)
    entries = AuditEntry.objects.order_by("-seq")
    if form.is_valid():
        data = form.cleaned_data
        if data["action"]:
            entries = entries.filter(action__icontains=data["action"])
        if data["actor"]:
            entries = entries.filter(actor_name__icontains=data["actor"])
        if data["object_type"]:
            entries = entries.filter(object_type__icontains=data["object_type"])
        if data["text"]:
            entries = entries.filter(
                Q(object_repr__icontains=data["text"]) | Q(reason__icontains=data["text"])
            )
        if data["since"]:
            entries = entries.filter(at__date__gte=data["since"])
        if data["until"]:
            entries = entries.filter(at__date__lte=data["until"])
    page = Paginator(entries, 50).get_page(request.GET.get("page"))
    query = request.GET.copy()
    query.pop("page", None)
    return render(
        request, "audit/trail.html", {"form": form, "page": page, "query": query.urlencode()}
    )
