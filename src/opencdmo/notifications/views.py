"""The inbox (the caller's own notices only) and the per-event channel settings."""

from __future__ import annotations

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_POST
from django_scopes import scopes_disabled

from opencdmo.notifications import services
from opencdmo.notifications.models import Channel, Notification

SHOWN = 200


@login_required
def inbox(request: HttpRequest) -> HttpResponse:
    with scopes_disabled():
        notices = list(Notification.objects.filter(user=request.user)[:SHOWN])
    return render(request, "notifications/inbox.html", {"notices": notices})


@login_required
@require_POST
def mark_all_read(request: HttpRequest) -> HttpResponse:
    count = services.mark_read(request.user)
    messages.success(request, f"Marked {count} notice{'s' if count != 1 else ''} read.")
    return redirect("notifications:inbox")


@login_required
@require_POST
def open_notice(request: HttpRequest, pk: int) -> HttpResponse:
    """Mark one of the caller's notices read and go where it points; anyone else's is 404."""
    with scopes_disabled():
        notice = Notification.objects.filter(user=request.user, pk=pk).first()
    if notice is None:
        raise Http404("No such notice.")
    services.mark_read(request.user, [notice.pk])
    return redirect(notice.link)


class PreferencesForm(forms.Form):
    def __init__(self, *args: object, current: dict[str, str], **kwargs: object) -> None:
        super().__init__(*args, **kwargs)
        for event, label in services.EVENTS.items():
            self.fields[event] = forms.ChoiceField(
                label=label, choices=Channel.choices, initial=current[event]
            )


@login_required
def preferences(request: HttpRequest) -> HttpResponse:
    """Each event kind with the caller's channel: inbox and e-mail, inbox only, or off."""
    user = request.user
    current = {event: services.channel_for(user, event) for event in services.EVENTS}
    form = PreferencesForm(request.POST or None, current=current)
    if request.method == "POST" and form.is_valid():
        try:
            services.set_preferences(user, form.cleaned_data)
        except ValidationError as exc:
            for field, found in exc.message_dict.items():
                form.add_error(field if field in form.fields else None, found)
        else:
            messages.success(request, "Notification settings saved.")
            return redirect("notifications:preferences")
    return render(
        request,
        "notifications/preferences.html",
        {"form": form, "has_email": bool(user.email)},
        status=400 if form.errors else 200,
    )
