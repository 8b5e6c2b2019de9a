"""Login, password change and reset, organisation pages, the caller's API tokens, and user
management."""

from __future__ import annotations

import time
from typing import Any

from django import forms
from django.conf import settings
from django.contrib import messages
from django.contrib.auth import login as auth_login
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import Count
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse, reverse_lazy
from django.utils import timezone
from django.utils.encoding import force_bytes
from django.utils.http import url_has_allowed_host_and_scheme, urlsafe_base64_encode
from django.views.decorators.http import require_POST
from django_scopes import scopes_disabled

from opencdmo.accounts import services, totp
from opencdmo.accounts.forms import (
    ActiveForm,
    CodeForm,
    DisableTwoFactorForm,
    FirstPasswordForm,
    InviteForm,
    LoginForm,
    OwnPasswordChangeForm,
    ResetPasswordForm,
    ResetRequestForm,
    RoleForm,
    TokenForm,
    TwoFactorPolicyForm,
)
from opencdmo.accounts.middleware import TWO_FACTOR_PASSED
from opencdmo.accounts.models import ApiToken, Organisation, User
from opencdmo.core.inputs import add_service_errors
from opencdmo.core.tenancy import authorise_change, get_changeable_or_404

PENDING_SECOND_STEP = "two_factor_pending"
"""Session key: who passed the password step and still owes a code, since when, going where."""
SECOND_STEP_S = 300
SETUP_SECRET = "two_factor_setup"
"""Session key: the encrypted secret shown on the set-up page until a code confirms it."""


class LoginView(auth_views.LoginView):
    """The password step; users with two-factor sign-in go on to the code step, not signed in
    until it passes."""

    template_name = "accounts/login.html"
    authentication_form = LoginForm
    redirect_authenticated_user = True

    def form_valid(self, form: Any) -> HttpResponse:
        user = form.get_user()
        if not user.has_two_factor:
            return super().form_valid(form)
        self.request.session[PENDING_SECOND_STEP] = {
            "user": user.pk,
            "backend": user.backend,
            "at": time.time(),
            "next": self.get_success_url(),
        }
        return redirect("login-two-factor")


def _pending_second_step(request: HttpRequest) -> tuple[User, dict[str, Any]] | None:
    pending = request.session.get(PENDING_SECOND_STEP)
    if not pending or time.time() - pending["at"] > SECOND_STEP_S:
        return None
    user = User.objects.filter(pk=pending["user"], is_active=True).first()
    return (user, pending) if user is not None else None


def login_two_factor(request: HttpRequest) -> HttpResponse:
    """The code step: a current code or a recovery code signs the user in."""
    found = _pending_second_step(request)
    if found is None:
        request.session.pop(PENDING_SECOND_STEP, None)
        messages.info(request, "Sign in with your password first; the code step lasts 5 minutes.")
        return redirect("login")
    user, pending = found
    form = CodeForm(request.POST or None)
    form.fields["code"].help_text += " Lost your phone? Type one of your recovery codes."
    if request.method == "POST" and form.is_valid():
        try:
            services.verify_second_factor(user, form.cleaned_data["code"], step="sign-in code")
        except ValidationError as exc:
            add_service_errors(form, exc)
        else:
            del request.session[PENDING_SECOND_STEP]
            auth_login(request, user, backend=pending["backend"])
            request.session[TWO_FACTOR_PASSED] = user.pk
            return redirect(pending["next"])
    status = 400 if form.errors else 200
    return render(request, "accounts/login_two_factor.html", {"form": form}, status=status)


@login_required
def two_factor(request: HttpRequest) -> HttpResponse:
    """Set up two-factor sign-in (secret, URI, confirming code), or turn it off."""
    if request.user.has_two_factor:
        return _two_factor_on(request)
    stored = request.session.get(SETUP_SECRET)
    secret = totp.decrypt(stored) if stored else totp.new_secret()
    request.session[SETUP_SECRET] = totp.encrypt(secret)
    form = CodeForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            codes = services.enable_two_factor(_caller(request), secret, form.cleaned_data["code"])
        except ValidationError as exc:
            add_service_errors(form, exc)
        else:
            del request.session[SETUP_SECRET]
            request.session[TWO_FACTOR_PASSED] = request.user.pk
            next_url = _safe_next(request)
            context = {"codes": codes, "next": next_url}
            return render(request, "accounts/two_factor_codes.html", context)
    context = {
        "form": form,
        "secret": " ".join(secret[i : i + 4] for i in range(0, len(secret), 4)),
        "uri": totp.provisioning_uri(secret, request.user.username),
        "next": _safe_next(request),
    }
    return render(request, "accounts/two_factor.html", context, status=400 if form.errors else 200)


def _caller(request: HttpRequest) -> User:
    """The signed-in user itself, not the request's lazy wrapper, for the services to save."""
    return User.objects.select_related("organisation").get(pk=request.user.pk)


def _two_factor_on(request: HttpRequest) -> HttpResponse:
    form = DisableTwoFactorForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            services.disable_two_factor(
                _caller(request), form.cleaned_data["password"], form.cleaned_data["code"]
            )
        except ValidationError as exc:
            add_service_errors(form, exc)
        else:
            messages.success(request, "Two-factor sign-in is off.")
            return redirect("two-factor")
    context = {
        "disable_form": form,
        "codes_left": services.recovery_codes_left(request.user),
        "required": bool(
            request.user.organisation and request.user.organisation.require_two_factor
        ),
    }
    return render(request, "accounts/two_factor.html", context, status=400 if form.errors else 200)


def _safe_next(request: HttpRequest) -> str:
    """Where to go after setting up, if it is a page of this site."""
    target = request.GET.get("next") or request.POST.get("next") or ""
    allowed = url_has_allowed_host_and_scheme(
        target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    )
    return target if target and allowed else ""


@login_required
def two_factor_policy(request: HttpRequest) -> HttpResponse:
    """An organisation's administrator requires two-factor sign-in of its members, or not."""
    organisation = _organisation_asked(request) or request.user.organisation
    authorise_change(request.user, User(organisation=organisation))
    form = TwoFactorPolicyForm(
        request.POST or None, initial={"required": "1" if organisation.require_two_factor else "0"}
    )
    if request.method == "POST" and form.is_valid():
        try:
            services.set_two_factor_required(
                request.user,
                organisation,
                form.cleaned_data["required"],
                form.cleaned_data["reason"],
            )
        except ValidationError as exc:
            add_service_errors(form, exc)
        else:
            messages.success(request, "The two-factor rule is saved.")
            return redirect(request.get_full_path())
    members = services.managed_users(request.user, organisation).filter(is_active=True)
    context = {"organisation": organisation, "form": form, "members": members}
    return render(
        request, "accounts/two_factor_policy.html", context, status=400 if form.errors else 200
    )


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
    own = Organisation.tenancy.owns(request.user, organisation)
    members = organisation.users.filter(is_active=True).order_by("role") if own else []
    return render(
        request,
        "accounts/organisation_detail.html",
        {"organisation": organisation, "sites": sites, "members": members, "own": own},
    )


@login_required
def account(request: HttpRequest) -> HttpResponse:
    """The caller's API tokens: create one (its secret shown this once), list, revoke."""
    new_secret = ""
    form = TokenForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            _, new_secret = services.issue_token(
                request.user,
                form.cleaned_data["name"],
                scope=form.cleaned_data["scope"],
                expires_in_days=form.cleaned_data["expires_in_days"],
            )
        except ValidationError as exc:
            add_service_errors(form, exc)
        else:
            form = TokenForm()
    tokens = ApiToken.objects.filter(user=request.user)
    context = {"form": form, "tokens": tokens, "new_secret": new_secret, "now": timezone.now()}
    return render(request, "accounts/account.html", context, status=400 if form.errors else 200)


@login_required
@require_POST
def revoke_token(request: HttpRequest, token_id: int) -> HttpResponse:
    token = get_changeable_or_404(ApiToken, request.user, pk=token_id)
    services.revoke_token(request.user, token)
    messages.success(request, f"Token '{token.name}' revoked.")
    return redirect("account")


# --- user management -----------------------------------------------------------------------


def _organisation_asked(request: HttpRequest) -> Organisation | None:
    """The organisation named in the query, if the caller manages its users (else 404)."""
    slug = request.GET.get("organisation", "")
    if not slug:
        return None
    organisation = Organisation.objects.filter(slug=slug).first()
    if organisation is None:
        raise Http404("No such organisation.")
    authorise_change(request.user, User(organisation=organisation))
    return organisation


@login_required
def user_list(request: HttpRequest) -> HttpResponse:
    """The users the caller administers, grouped by organisation."""
    organisation = _organisation_asked(request)
    users = services.managed_users(request.user, organisation)
    return render(
        request,
        "accounts/user_list.html",
        {"users": users, "organisation": organisation, "invite_query": request.GET.urlencode()},
    )


def _invited_page(request: HttpRequest, user: User, token: str) -> HttpResponse:
    """The one-time set-password link, shown to the administrator to pass on."""
    uid = urlsafe_base64_encode(force_bytes(user.pk))
    link = request.build_absolute_uri(reverse("set-password", args=[uid, token]))
    context = {
        "invited": user,
        "link": link,
        "link_days": _link_days(),
    }
    return render(request, "accounts/user_invited.html", context)


@login_required
def user_invite(request: HttpRequest) -> HttpResponse:
    """Invite a person; the one-time set-password link is shown once, to pass on."""
    if not User.tenancy.may_change(request.user):
        raise PermissionDenied("Your role may not manage users.")
    organisation = _organisation_asked(request) or request.user.organisation
    form = InviteForm(
        request.POST or None,
        organisation=organisation,
        choose_organisation=User.tenancy.curates(request.user),
    )
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            user, token = services.invite_user(
                request.user,
                organisation=data.get("organisation") or organisation,
                username=data["username"],
                email=data["email"],
                role=data["role"],
                first_name=data["first_name"],
                last_name=data["last_name"],
                reason=data["reason"],
            )
        except ValidationError as exc:
            add_service_errors(form, exc)
        else:
            return _invited_page(request, user, token)
    return render(
        request, "accounts/user_invite.html", {"form": form, "organisation": organisation}
    )


def _user_page(request: HttpRequest, user: User, **forms_: forms.Form) -> HttpResponse:
    context = {
        "managed": user,
        "role_form": RoleForm(
            organisation=user.organisation, initial={"role": user.role}, auto_id="role_%s"
        ),
        "active_form": ActiveForm(auto_id="active_%s"),
        **forms_,
    }
    status = 400 if any(f.errors for f in forms_.values()) else 200
    return render(request, "accounts/user_detail.html", context, status=status)


@login_required
def user_detail(request: HttpRequest, pk: int) -> HttpResponse:
    return _user_page(request, services.get_managed_user(request.user, pk))


@login_required
@require_POST
def user_change_role(request: HttpRequest, pk: int) -> HttpResponse:
    user = services.get_managed_user(request.user, pk)
    form = RoleForm(request.POST, organisation=user.organisation, auto_id="role_%s")
    if form.is_valid():
        try:
            services.change_role(
                request.user, user, form.cleaned_data["role"], form.cleaned_data["reason"]
            )
        except ValidationError as exc:
            add_service_errors(form, exc)
        else:
            user.refresh_from_db()
            messages.success(request, f"{user} is now {user.get_role_display()}.")
            return redirect("user", pk=user.pk)
    return _user_page(request, user, role_form=form)


@login_required
@require_POST
def user_set_active(request: HttpRequest, pk: int) -> HttpResponse:
    user = services.get_managed_user(request.user, pk)
    form = ActiveForm(request.POST, auto_id="active_%s")
    active = request.POST.get("active") == "1"
    if form.is_valid():
        try:
            services.set_active(request.user, user, active, form.cleaned_data["reason"])
        except ValidationError as exc:
            add_service_errors(form, exc)
        else:
            state = "reactivated" if active else "deactivated"
            messages.success(request, f"{user} is {state}.")
            return redirect("user", pk=user.pk)
    return _user_page(request, user, active_form=form)


@login_required
@require_POST
def user_new_link(request: HttpRequest, pk: int) -> HttpResponse:
    """A fresh set-password link for someone invited who has not set a password yet."""
    user = services.get_managed_user(request.user, pk)
    try:
        token = services.set_password_link(request.user, user)
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
        return redirect("user", pk=user.pk)
    return _invited_page(request, user, token)


class SetPasswordView(auth_views.PasswordResetConfirmView):
    """The invited person's one-time link: choose a password, then sign in."""

    template_name = "accounts/set_password.html"
    form_class = FirstPasswordForm
    success_url = reverse_lazy("login")

    def get_user(self, uidb64: str) -> User | None:
        """Looked up outside any tenant scope: the visitor is not signed in yet."""
        with scopes_disabled():
            return super().get_user(uidb64)

    def form_valid(self, form: Any) -> HttpResponse:
        messages.success(self.request, "Your password is set. Sign in with your username.")
        return super().form_valid(form)


# --- passwords: change your own, reset a forgotten one --------------------------------------


class PasswordChangeView(auth_views.PasswordChangeView):
    """Old password and the new one twice; the other sessions of the user end, this one stays."""

    template_name = "accounts/password_change.html"
    form_class = OwnPasswordChangeForm
    success_url = reverse_lazy("home")

    def form_valid(self, form: Any) -> HttpResponse:
        messages.success(
            self.request, "Your password is changed; your other sessions have been signed out."
        )
        return super().form_valid(form)


class PasswordResetView(auth_views.PasswordResetView):
    """Ask for a reset link by e-mail address; the answer never says whether it is known."""

    template_name = "accounts/password_reset.html"
    form_class = ResetRequestForm
    email_template_name = "accounts/password_reset_email.txt"
    subject_template_name = "accounts/password_reset_subject.txt"
    success_url = reverse_lazy("password-reset-sent")


class PasswordResetSentView(auth_views.PasswordResetDoneView):
    template_name = "accounts/password_reset_sent.html"

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        return {**super().get_context_data(**kwargs), "link_days": _link_days()}


class PasswordResetConfirmView(auth_views.PasswordResetConfirmView):
    """The e-mailed one-time link: choose a new password, then sign in with it."""

    template_name = "accounts/password_reset_confirm.html"
    form_class = ResetPasswordForm
    success_url = reverse_lazy("login")

    def get_user(self, uidb64: str) -> User | None:
        """Looked up outside any tenant scope: the visitor is not signed in."""
        with scopes_disabled():
            return super().get_user(uidb64)

    def form_valid(self, form: Any) -> HttpResponse:
        messages.success(self.request, "Your password is reset. Sign in with it.")
        return super().form_valid(form)


def _link_days() -> int:
    return max(1, settings.PASSWORD_RESET_TIMEOUT // 86400)
