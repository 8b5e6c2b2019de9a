"""Login, organisation pages and the caller's API tokens."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import Count
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_POST

from opencdmo.accounts import services
from opencdmo.accounts.forms import LoginForm, TokenForm
from opencdmo.accounts.models import ApiToken, Organisation


class LoginView(auth_views.LoginView):
    template_name = "accounts/login.html"
    authentication_form = LoginForm
    redirect_authenticated_user = True


@login_required
def organisation_list(request: HttpRequest) -> HttpResponse:
    organisations = (
        Organisation.objects.exclude(kind="platform")
        .annotate(site_count=Count("sites"))
        .order_by("kind", "name")
    )
    return render(request, "accounts/organisation_list.html", {"organisations": organisations})


@login_required
def organisation_detail(request: HttpRequest, slug: str) -> HttpResponse:
    organisation = get_object_or_404(Organisation.objects.exclude(kind="platform"), slug=slug)
    sites = organisation.sites.order_by("name") if organisation.is_cdmo else []
    own = organisation.pk == request.user.organisation_id
    members = organisation.users.filter(is_active=True).order_by("role") if own else []
    return render(
        request,
        "accounts/organisation_detail.html",
        {"organisation": organisation, "sites": sites, "members": members, "own": own},
    )


@login_required
def account(request: HttpRequest) -> HttpResponse:
    new_secret = ""
    form = TokenForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            _, new_secret = services.issue_token(request.user, form.cleaned_data["name"])
        except (PermissionDenied, ValidationError) as exc:
            messages.error(request, str(exc))
    tokens = ApiToken.objects.filter(user=request.user)
    return render(
        request, "accounts/account.html", {"form": form, "tokens": tokens, "new_secret": new_secret}
    )


@login_required
@require_POST
def revoke_token(request: HttpRequest, token_id: int) -> HttpResponse:
    token = get_object_or_404(ApiToken.objects.filter(user=request.user), pk=token_id)
    services.revoke_token(request.user, token)
    messages.success(request, f"Token '{token.name}' revoked.")
    return redirect("account")
