"""Pages: the batch list and a batch's page (facts, results, data, upload, export)."""

from __future__ import annotations

from typing import Any

import numpy as np
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_POST

from opencdmo.accounts.roles import EDIT_BATCHES
from opencdmo.core.inputs import add_service_errors
from opencdmo.core.tenancy import get_changeable_or_404, get_visible_or_404
from opencdmo.manufacturing import services
from opencdmo.manufacturing.charts import trajectory
from opencdmo.manufacturing.forms import (
    CONNECTION_FORM_FIELDS,
    BatchFilterForm,
    ConnectionForm,
    OfflineResultForm,
    StateForm,
    UploadForm,
)
from opencdmo.manufacturing.models import Batch, OpcConnection
from opencdmo.manufacturing.opcua.connections import (
    create_connection,
    feeding,
    nodes_from_text,
    nodes_to_text,
    update_connection,
)
from opencdmo.network.models import Site, Suite

MAX_UPLOAD_BYTES = 5 * 2**20
"""Uploads are ingested while the page waits: 1.9 MB of CSV (242,000 values) took 3 s on a
busy two-core machine, most of it reading the CSV, so 5 MB stays well inside a request's
time; larger files go through ``opencdmo ingest``."""


def _batches() -> Any:
    return Batch.objects.select_related("project__product", "project__sponsor", "site", "suite")


@login_required
def batch_list(request: HttpRequest) -> HttpResponse:
    """Batches the caller's organisation makes, or that are made for its projects."""
    visible = Batch.objects.all()
    sites = sorted(set(visible.values_list("site_id", "site__name")), key=lambda s: s[1])
    projects = sorted(set(visible.values_list("project_id", "project__name")), key=lambda p: p[1])
    form = BatchFilterForm(request.GET or None, sites=sites, projects=projects)
    batches = _batches()
    if form.is_valid():
        data = form.cleaned_data
        if data["state"]:
            batches = batches.filter(state=data["state"])
        if data["site"] is not None:
            batches = batches.filter(site_id=data["site"])
        if data["project"] is not None:
            batches = batches.filter(project_id=data["project"])
    context = {"batches": batches.select_related("equipment")[:500], "form": form}
    return render(request, "manufacturing/batch_list.html", context)


def _variables(batch: Batch) -> list[dict[str, Any]]:
    data = services.process_data(batch)
    latest = services.current_file(batch)
    counts = latest.counts if latest else {}
    return [
        {
            "name": name,
            "unit": data.units.get(name, ""),
            "count": counts.get(name, 0),
            "chart": trajectory(data.time_h, data.values[:, j]),
        }
        for j, name in enumerate(data.variables)
    ]


@login_required
def batch_detail(request: HttpRequest, pk: int) -> HttpResponse:
    batch = get_visible_or_404(_batches(), request.user, pk=pk)
    may_change = Batch.tenancy.may_change(request.user, batch)
    next_states = services.TRANSITIONS.get(batch.state, ())
    reads_data = services.reads_process_data(request.user, batch)
    context = {
        "batch": batch,
        "results": list(batch.offline_results.all()),
        "variables": _variables(batch) if reads_data else [],
        "latest": services.current_file(batch) if reads_data else None,
        "data_withheld": services.DATA_WITHHELD if not reads_data else "",
        "may_change": may_change,
        "may_upload": may_change and batch.state in services.WRITABLE_STATES,
        "next_state": Batch.State(next_states[0]) if next_states else None,
        "state_form": StateForm(initial={"to": next_states[0]} if next_states else None),
        "upload_form": UploadForm(),
        "result_form": OfflineResultForm(),
        "max_upload_mb": MAX_UPLOAD_BYTES // 2**20,
        "connections": feeding(batch) if may_change and batch.state == "running" else [],
        "last_values": _last_values(batch) if reads_data and batch.state == "running" else [],
    }
    return render(request, "manufacturing/batch_detail.html", context)


def _last_values(batch: Batch) -> list[dict[str, Any]]:
    """Each variable's newest stored value and its time, for a running batch."""
    data = services.process_data(batch)
    rows = []
    for j, name in enumerate(data.variables):
        measured = ~np.isnan(data.values[:, j])
        if measured.any():
            last = int(np.flatnonzero(measured)[-1])
            rows.append(
                {
                    "name": name,
                    "value": float(data.values[last, j]),
                    "unit": data.units.get(name, ""),
                    "time_h": float(data.time_h[last]),
                }
            )
    return rows


@login_required
def connection_list(request: HttpRequest) -> HttpResponse:
    """The OPC UA connections of the caller's CDMO's sites, with the collector's view of each."""
    if getattr(request.user.organisation, "kind", "") != "cdmo":
        raise PermissionDenied("OPC UA connections belong to a CDMO's sites.")
    connections = OpcConnection.objects.select_related("site", "suite").order_by(
        "site__name", "name"
    )
    return render(
        request,
        "manufacturing/connections.html",
        {"connections": connections, "can_edit": request.user.can(EDIT_BATCHES)},
    )


def _connection_form(request: HttpRequest, initial: dict[str, Any] | None = None) -> ConnectionForm:
    if getattr(request.user.organisation, "kind", "") != "cdmo" or not request.user.can(
        EDIT_BATCHES
    ):
        raise PermissionDenied("Your role may not record OPC UA connections.")
    sites = Site.objects.filter(owner=request.user.organisation).order_by("name")
    suites = (
        Suite.objects.filter(site__in=sites).select_related("site").order_by("site__name", "name")
    )
    return ConnectionForm(
        request.POST if request.method == "POST" else None,
        initial=initial,
        sites=[(site.pk, site.name) for site in sites],
        suites=[(suite.pk, f"{suite.site.name} / {suite.name}") for suite in suites],
    )


def _connection_fields(form: ConnectionForm) -> dict[str, Any]:
    """The form's values as the connection services take them (the password apart)."""
    data = form.cleaned_data
    fields = {name: data[name] for name in CONNECTION_FORM_FIELDS}
    fields["nodes"] = nodes_from_text(data["nodes"])
    # The choices hold only the caller's own sites and suites, so the ids are theirs.
    fields["suite"] = Suite.objects.get(pk=data["suite"]) if data["suite"] else None
    return fields


@login_required
def connection_new(request: HttpRequest) -> HttpResponse:
    """Record an OPC UA connection of one of the caller's CDMO's sites."""
    form = _connection_form(request)
    if request.method == "POST" and form.is_valid():
        try:
            site = Site.objects.get(pk=form.cleaned_data["site"])
            fields = _connection_fields(form)
            connection = create_connection(
                site,
                actor=request.user,
                reason=form.cleaned_data["reason"],
                password=form.cleaned_data["password"],
                **fields,
            )
        except ValidationError as exc:
            add_service_errors(form, exc)
        else:
            messages.success(request, f"Recorded the connection {connection.name}.")
            return redirect("manufacturing:connections")
    return render(request, "manufacturing/connection_form.html", {"form": form, "connection": None})


@login_required
def connection_edit(request: HttpRequest, pk: int) -> HttpResponse:
    """Change a connection; the collector picks the change up when it next reads its record."""
    connection = get_changeable_or_404(OpcConnection.objects.all(), request.user, pk=pk)
    initial = {
        "site": connection.site_id,
        "suite": connection.suite_id,
        "nodes": nodes_to_text(connection.nodes),
        **{name: getattr(connection, name) for name in CONNECTION_FORM_FIELDS},
    }
    form = _connection_form(request, initial)
    form.fields["site"].disabled = True
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        password = "" if data["clear_password"] else (data["password"] or None)
        try:
            update_connection(
                connection,
                actor=request.user,
                reason=data["reason"],
                password=password,
                **_connection_fields(form),
            )
        except ValidationError as exc:
            add_service_errors(form, exc)
        else:
            messages.success(request, f"Changed the connection {connection.name}.")
            return redirect("manufacturing:connections")
    return render(
        request, "manufacturing/connection_form.html", {"form": form, "connection": connection}
    )


@login_required
@require_POST
def batch_state(request: HttpRequest, pk: int) -> HttpResponse:
    batch = get_changeable_or_404(Batch.objects.all(), request.user, pk=pk)
    form = StateForm(request.POST)
    if not form.is_valid():
        messages.error(request, "Give a reason for the change of state.")
        return redirect("manufacturing:batch", pk)
    try:
        services.change_state(
            batch,
            to=form.cleaned_data["to"],
            actor=request.user,
            reason=form.cleaned_data["reason"],
        )
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    else:
        messages.success(request, f"Batch {batch.lot} is now {batch.get_state_display().lower()}.")
    return redirect("manufacturing:batch", pk)


@login_required
@require_POST
def batch_upload(request: HttpRequest, pk: int) -> HttpResponse:
    """Ingest an uploaded file into the batch while the page waits (up to 5 MB).

    The page's script sends the file with ``X-Upload-Progress`` to show the upload's progress;
    it is answered 204 with the batch page in ``X-Location``, so the messages wait for the
    page it then opens. Without the script the form posts and is redirected as usual.
    """
    batch = get_changeable_or_404(Batch.objects.all(), request.user, pk=pk)
    form = UploadForm(request.POST, request.FILES)
    if not form.is_valid():
        messages.error(request, "Choose a file to ingest.")
        return _back_to_batch(request, pk)
    upload = form.cleaned_data["file"]
    if upload.size is not None and upload.size > MAX_UPLOAD_BYTES:
        messages.error(
            request,
            f"{upload.name} is larger than {MAX_UPLOAD_BYTES // 2**20} MB; ingest it with "
            "'opencdmo ingest'.",
        )
        return _back_to_batch(request, pk)
    try:
        report = services.ingest_file(
            b"".join(upload.chunks()),
            name=upload.name,
            actor=request.user,
            lot=batch.lot,
            reason=form.cleaned_data["reason"],
        )
    except (services.IngestError, ValidationError, PermissionDenied) as exc:
        text = " ".join(exc.messages) if isinstance(exc, ValidationError) else str(exc)
        messages.error(request, f"Nothing ingested. {text}")
    else:
        for line in report.lines():
            messages.success(request, line)
    return _back_to_batch(request, pk)


def _back_to_batch(request: HttpRequest, pk: int) -> HttpResponse:
    url = reverse("manufacturing:batch", args=[pk])
    if request.headers.get("X-Upload-Progress"):
        return HttpResponse(status=204, headers={"X-Location": url})
    return redirect(url)


@login_required
@require_POST
def batch_result(request: HttpRequest, pk: int) -> HttpResponse:
    """Record an offline result of the batch against its specification."""
    batch = get_changeable_or_404(Batch.objects.all(), request.user, pk=pk)
    form = OfflineResultForm(request.POST)
    if form.is_valid():
        fields = {k: v for k, v in form.cleaned_data.items() if k != "reason"}
        try:
            result = services.add_offline_result(
                batch, actor=request.user, reason=form.cleaned_data["reason"], **fields
            )
        except ValidationError as exc:
            messages.error(request, " ".join(exc.messages))
        else:
            verdict = {True: "in spec", False: "out of spec", None: "no specification"}
            messages.success(request, f"{result.attribute} recorded ({verdict[result.in_spec]}).")
    else:
        problems = "; ".join(f"{name}: {' '.join(e)}" for name, e in form.errors.items())
        messages.error(request, f"Nothing recorded. {problems}")
    return redirect("manufacturing:batch", pk)


@login_required
def batch_export(request: HttpRequest, pk: int) -> HttpResponse:
    """The long CSV of ``opencdmo export`` (the API's ``format=csv`` streams the same)."""
    batch = get_visible_or_404(Batch.objects.all(), request.user, pk=pk)
    services.require_process_data(request.user, batch)
    response = HttpResponse("".join(services.export_csv(batch)), content_type="text/csv")
    response["Content-Disposition"] = f'attachment; filename="{services.file_name(batch)}.csv"'
    return response
