"""Partner- and staff-facing actions about customer links and messages.

A plain POST redirects back to the installation's page with a flash message; an htmx POST returns
the messages panel as it now is. A refused action answers 409 with a sentence; a re-send asked
for too soon answers 429 (htmx) or a flash message, saying when it is possible.
"""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import get_object_or_404, render
from django.urls import NoReverseMatch, reverse

from .. import notifications, selectors
from ..models import Installation, Message, is_staff, partner_id_of
from ..redirects import post_only, safe_path
from ..services import TransitionRefused

PANEL = "installations/_messages_panel.html"


def _installation_for_partner(request: HttpRequest, pk: int) -> Installation:
    partner_id = partner_id_of(request.user)
    if partner_id is None:
        raise Http404
    return get_object_or_404(
        Installation.objects.select_related("partner", "customer"), pk=pk, partner_id=partner_id
    )


def _installation_for_staff(request: HttpRequest, pk: int) -> Installation:
    # As the admin's "Retry delivery" action: staff who may change messages.
    if not (is_staff(request.user) and request.user.has_perm("installations.change_message")):
        raise Http404
    return get_object_or_404(Installation.objects.select_related("partner", "customer"), pk=pk)


def _detail_url(request: HttpRequest, installation: Installation) -> str:
    """Where to go back to: the page the form was on, else the installation's page for this role
    (partner users: the detail page; staff: the installation in admin)."""
    name = (
        "partner:detail"
        if partner_id_of(request.user)
        else "admin:installations_installation_change"
    )
    try:
        default = reverse(name, args=[installation.pk])
    except NoReverseMatch:
        default = f"/installations/{installation.pk}/"
    return safe_path(request.POST.get("next"), default)


def _panel(
    request: HttpRequest, installation: Installation, *, status: int = 200, **extra
) -> HttpResponse:
    ctx = {
        "installation": installation,
        "messages_list": list(selectors.messages_of(installation)),
        "next_url": _detail_url(request, installation),
        **extra,
    }
    return render(request, PANEL, ctx, status=status)


def _refused(request: HttpRequest, installation: Installation, message: str) -> HttpResponse:
    if request.htmx:
        return _panel(request, installation, status=409, panel_error=message)
    ctx = {
        "installation": installation,
        "message": message,
        "back_url": _detail_url(request, installation),
        "next_url": _detail_url(request, installation),
        "messages_list": list(selectors.messages_of(installation)),
    }
    return render(request, "notifications/refused.html", ctx, status=409)


@post_only("partner:detail", "pk")
@login_required
def resend_link(request: HttpRequest, pk: int) -> HttpResponse:
    installation = _installation_for_partner(request, pk)
    try:
        sent = notifications.contract_link_resend(installation=installation, actor=request.user)
    except notifications.ResendTooSoon as pause:
        # 429: the request was understood and is fine, just not now; the sentence says when.
        if request.htmx:
            return _panel(request, installation, status=429, panel_error=pause.message)
        messages.warning(request, pause.message)
        return HttpResponseRedirect(_detail_url(request, installation))
    except TransitionRefused as refused:
        return _refused(request, refused.installation or installation, refused.message)
    installation.refresh_from_db()
    sentence = notifications.resend_answer(sent, installation.customer.name, request.user)
    if request.htmx:
        return _panel(request, installation, panel_notice=sentence)
    messages.success(request, sentence)
    return HttpResponseRedirect(_detail_url(request, installation))


@post_only("partner:detail", "pk")
@login_required
def retry_message(request: HttpRequest, pk: int, message_id: int) -> HttpResponse:
    installation = _installation_for_staff(request, pk)
    message = get_object_or_404(Message, pk=message_id, installation=installation)
    # The page's version: the panel's form sends it, the admin's Retry button sends the change
    # form with its _fsm_version.
    version = request.POST.get("version") or request.POST.get("_fsm_version", "")
    try:
        retried = notifications.message_retry(
            message=message,
            expected_version=int(version) if version.isascii() and version.isdigit() else None,
        )
    except TransitionRefused as refused:
        return _refused(request, installation, refused.message)
    if not getattr(retried, "replayed", False):
        sentence = f"The message to {message.recipient} will be sent again."
    elif retried.status == Message.State.SENT:
        sentence = f"The message to {message.recipient} was sent: there is nothing to retry."
    else:
        sentence = f"The message to {message.recipient} is already waiting to be sent again."
    if request.htmx:
        return _panel(request, installation, panel_notice=sentence)
    messages.success(request, sentence)
    return HttpResponseRedirect(_detail_url(request, installation))
