"""Site directory, site profile, and the owner's editors for suites, equipment and private details."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from functools import partial

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse, QueryDict
from django.shortcuts import redirect, render
from django.template.loader import render_to_string
from django.utils import timezone
from django.utils.cache import patch_vary_headers
from django.utils.http import urlencode
from django.utils.text import capfirst

from opencdmo.accounts.roles import EDIT_NETWORK, IMPORT_NETWORK, VIEW_NETWORK, VIEW_PRIVATE_SITE
from opencdmo.core.tenancy import get_changeable_or_404, get_visible_or_404
from opencdmo.network import importer, services
from opencdmo.network.cache import cached, network_version, query_key
from opencdmo.network.capabilities import attach_capabilities, capabilities_of
from opencdmo.network.choices import SuiteKind
from opencdmo.network.forms import (
    ChangeForm,
    EquipmentForm,
    ImportForm,
    PrivateProfileForm,
    SiteFilterForm,
    SuiteForm,
)
from opencdmo.network.import_jobs import queue_import
from opencdmo.network.models import Equipment, ImportJob, Site, SitePrivateProfile, Suite
from opencdmo.network.search import find_sites, region_counts, site_points
from opencdmo.network.tasks import lease_expired
from opencdmo.network.worldmap import MAP_VIEWBOX, land_paths, markers, project

PAGE_SIZE = 20
LAND_PATHS = land_paths()
SUITE_KIND_ORDER = {kind: position for position, kind in enumerate(SuiteKind.values)}


def _query_string(params: QueryDict, *, page: int = 1) -> str:
    """The filters that were actually set (and the page, past the first) for links and history."""
    kept = [(k, v) for k, values in params.lists() if k != "page" for v in values if v.strip()]
    if page > 1:
        kept.append(("page", str(page)))
    return urlencode(kept)


def _require(request: HttpRequest, permission: str) -> None:
    if not request.user.can(permission):
        raise PermissionDenied("Your role does not allow this.")


@dataclass(frozen=True)
class DirectoryView:
    """The rendered directory for one query: the whole content and the htmx results swap."""

    content: str
    results: str
    page_number: int


def _render_directory(params: QueryDict) -> DirectoryView:
    countries = list(Site.objects.order_by("country").values_list("country", flat=True).distinct())
    form = SiteFilterForm(params or None, countries=countries)
    sites = find_sites(form.query())
    page = Paginator(sites, PAGE_SIZE).get_page(params.get("page"))
    context = {
        "problems": form.problems(),
        "page": page,
        "sites": attach_capabilities(list(page.object_list)),
        "query": _query_string(params),
        "regions": region_counts(sites),
        "markers": markers(site_points(sites)),
        "land": LAND_PATHS,
        "viewbox": MAP_VIEWBOX,
    }
    results = render_to_string("network/_results.html", context)
    content = render_to_string("network/_directory.html", {"form": form, "results": results})
    return DirectoryView(content=content, results=results, page_number=page.number)


@login_required
def directory(request: HttpRequest) -> HttpResponse:
    """Filterable, sortable list of sites with a world plot; htmx swaps only the results.

    Everything below the navigation is the same for every reader, so it is rendered once per
    network version and query string (see ``opencdmo.network.cache``).
    """
    _require(request, VIEW_NETWORK)
    key = "directory:" + query_key((k, v) for k, vs in request.GET.lists() for v in vs)
    view = cached(network_version(), key, partial(_render_directory, request.GET))
    fragment = request.htmx and not request.htmx.history_restore_request
    if fragment:
        response = HttpResponse(view.results)
    else:
        response = render(request, "network/directory.html", {"content": view.content})
    patch_vary_headers(response, ["HX-Request"])
    if fragment:
        shown = _query_string(request.GET, page=view.page_number)
        response["HX-Push-Url"] = f"{request.path}?{shown}" if shown else request.path
    return response


@login_required
def site_detail(request: HttpRequest, pk: int) -> HttpResponse:
    """A site's public profile; its private profile only for the owner's entitled roles."""
    _require(request, VIEW_NETWORK)
    site = get_visible_or_404(Site.objects.select_related("owner"), request.user, pk=pk)
    own = Site.tenancy.owns(request.user, site)
    private = None
    if own and request.user.can(VIEW_PRIVATE_SITE):
        private = SitePrivateProfile.objects.filter(site=site).first() or SitePrivateProfile()
    can_edit = services.can_edit_site(request.user, site)
    profile = cached(
        network_version(),
        f"site:{site.pk}:{int(can_edit)}",
        partial(_render_profile, site, can_edit),
    )
    context = {"site": site, "private": private, "can_edit": can_edit, "profile": profile}
    return render(request, "network/site_detail.html", context)


@dataclass(frozen=True)
class SiteProfile:
    """A site's public profile, rendered: the part above the private details and the rest."""

    head: str
    body: str


def _render_profile(site: Site, can_edit: bool) -> SiteProfile:
    suites = sorted(
        site.suites.prefetch_related("equipment", "qualifications"),
        key=lambda suite: (SUITE_KIND_ORDER.get(suite.kind, 99), suite.name),
    )
    context = {
        "site": site,
        "suites": suites,
        "capabilities": capabilities_of(site),
        "approvals": site.approvals.order_by("agency", "-granted_on"),
        "inspections": site.inspections.order_by("-inspected_on"),
        "can_edit": can_edit,
        "land": LAND_PATHS,
        "viewbox": MAP_VIEWBOX,
        "marker": project(site.longitude, site.latitude),
    }
    return SiteProfile(
        head=render_to_string("network/_site_head.html", context),
        body=render_to_string("network/_site_body.html", context),
    )


def _change_page(
    request: HttpRequest,
    form: ChangeForm,
    *,
    save: Callable[..., object],
    site: Site,
    title: str,
) -> HttpResponse:
    """Show ``form``; on a valid POST call ``save(reason=…, **changes)`` and go to the site."""
    if request.method == "POST" and form.is_valid():
        try:
            save(actor=request.user, reason=form.cleaned_data["reason"], **form.changes())
        except ValidationError as exc:
            form.show_rejection(exc)
        else:
            if form.edited():
                messages.success(request, f"{capfirst(title)} saved.")
            else:
                messages.info(request, "Nothing changed, so nothing was recorded.")
            return redirect("network:site", pk=site.pk)
    return render(request, "network/edit.html", {"form": form, "site": site, "title": title})


def _posted(request: HttpRequest) -> QueryDict | None:
    return request.POST if request.method == "POST" else None


@login_required
def suite_edit(request: HttpRequest, pk: int) -> HttpResponse:
    """The owning CDMO changes a suite, giving a reason; another CDMO's suite is a 404."""
    _require(request, EDIT_NETWORK)
    suite = get_changeable_or_404(Suite.objects.select_related("site"), request.user, pk=pk)
    return _change_page(
        request,
        SuiteForm.for_suite(suite, _posted(request)),
        save=partial(services.update_suite, suite),
        site=suite.site,
        title=f"suite {suite.name}",
    )


@login_required
def equipment_edit(request: HttpRequest, pk: int) -> HttpResponse:
    """The owning CDMO changes a piece of equipment; capabilities follow at once."""
    _require(request, EDIT_NETWORK)
    equipment = get_changeable_or_404(
        Equipment.objects.select_related("suite__site"), request.user, pk=pk
    )
    return _change_page(
        request,
        EquipmentForm.for_record(equipment, _posted(request)),
        save=partial(services.update_equipment, equipment),
        site=equipment.suite.site,
        title=f"equipment {equipment.tag} in {equipment.suite.name}",
    )


@login_required
def private_profile_edit(request: HttpRequest, pk: int) -> HttpResponse:
    """The owning CDMO sets its private commercial details for a site."""
    _require(request, EDIT_NETWORK)
    site = get_changeable_or_404(Site, request.user, pk=pk)
    profile = SitePrivateProfile.objects.filter(site=site).first() or SitePrivateProfile(site=site)
    return _change_page(
        request,
        PrivateProfileForm.for_record(profile, _posted(request)),
        save=partial(services.update_private_profile, site),
        site=site,
        title=f"private details of {site.name}",
    )


@login_required
def import_page(request: HttpRequest) -> HttpResponse:
    """Upload a file to import in the background; the list polls until every job is done."""
    _require(request, IMPORT_NETWORK)
    form = ImportForm(request.POST or None, request.FILES or None)
    if request.method == "POST" and form.is_valid():
        try:
            job = queue_import(
                actor=request.user,
                upload=form.cleaned_data["file"],
                kind=form.cleaned_data["kind"],
                dry_run=form.cleaned_data["dry_run"],
            )
        except ValidationError as exc:
            for field, errors in exc.message_dict.items():
                form.add_error(field if field in form.fields else None, errors)
        else:
            messages.success(request, f"{job.filename} is queued for import.")
            return redirect("network:import")
    jobs = list(ImportJob.objects.select_related("user")[:20])
    now = timezone.now()
    # A job whose worker stopped changes only when another worker takes it up: ask rarely.
    lost = {job.pk for job in jobs if lease_expired(job, now)}
    pending = [job for job in jobs if job.is_pending]
    poll_s = 2 if any(job.pk not in lost for job in pending) else 30 if pending else None
    template = "network/_import_jobs.html" if request.htmx else "network/import.html"
    context = {"form": form, "jobs": jobs, "poll_s": poll_s, "lost": lost}
    return render(request, template, context)


@login_required
def import_job(request: HttpRequest, pk: int) -> HttpResponse:
    """One import's outcome: the first problems found in the file, the others counted."""
    _require(request, IMPORT_NETWORK)
    job = get_visible_or_404(ImportJob.objects.select_related("user"), request.user, pk=pk)
    context = {"job": job, "max_problems": importer.MAX_PROBLEMS}
    return render(request, "network/import_job.html", context)
