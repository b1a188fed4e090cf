"""The partner's webhook settings: endpoints (add, edit, send a test event, pause, resume, rotate,
delete) and the recent deliveries with their attempts and Redeliver. Every view starts with an
access helper scoped to the signed-in partner (another partner's endpoint is a 404); writes go
through services. Plain forms: a POST redirects with a flash message, except the two answers that
show a secret, which are rendered once and never stored in a session or a cache."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_http_methods

from .. import done_before
from ..errors import TransitionRefused
from ..models import Partner
from ..redirects import post_only
from . import selectors, services
from .delivery import WAIT_LIMIT
from .forms import EndpointCreateForm, EndpointForm, EndpointTestForm
from .models import WebhookDelivery, WebhookEndpoint

SETTINGS = "installations/webhooks/settings.html"
FORM = "installations/webhooks/endpoint_form.html"
SECRET = "installations/webhooks/secret.html"
DELETE = "installations/webhooks/delete.html"


def _partner_for(request: HttpRequest) -> Partner:
    profile = getattr(request.user, "partner_profile", None)
    if profile is None:
        raise Http404("These settings are for partner offices.")
    return profile.partner


def _endpoint_for_partner(request: HttpRequest, endpoint_id: int) -> WebhookEndpoint:
    partner = _partner_for(request)
    try:
        return selectors.endpoints_for_partner(partner).get(pk=endpoint_id)
    except WebhookEndpoint.DoesNotExist:
        raise Http404("No such endpoint.") from None


def _settings_url() -> str:
    return reverse("webhooks:settings")


def _secret_page(request: HttpRequest, endpoint: WebhookEndpoint, *, rotated: bool) -> HttpResponse:
    ctx = {"endpoint": endpoint, "secret": endpoint.secret, "rotated": rotated}
    response = render(request, SECRET, ctx, status=201 if not rotated else 200)
    response["Cache-Control"] = "no-store"  # the secret is shown once: never from a cache
    return response


def _settings(
    request: HttpRequest, partner: Partner, *, refusal: str = "", status: int = 200
) -> HttpResponse:
    endpoints = list(selectors.endpoints_with_waiting(partner))
    for endpoint in endpoints:
        # Its own one-time token per panel; no id attribute, so the page has no duplicate ids.
        endpoint.test_form = EndpointTestForm(auto_id=False)  # type: ignore[attr-defined]
    ctx = {
        "endpoints": endpoints,
        "deliveries": selectors.recent_deliveries(partner),
        "refusal": refusal,
        "wait_days": WAIT_LIMIT.days,
    }
    return render(request, SETTINGS, ctx, status=status)


@require_GET
@login_required
def settings_page(request: HttpRequest) -> HttpResponse:
    return _settings(request, _partner_for(request))


@require_http_methods(["GET", "POST"])
@login_required
def endpoint_new(request: HttpRequest) -> HttpResponse:
    partner = _partner_for(request)
    if request.method == "GET":
        return render(request, FORM, {"form": EndpointCreateForm(), "endpoint": None})
    form = EndpointCreateForm(request.POST)
    if not form.is_valid():
        return render(request, FORM, {"form": form, "endpoint": None}, status=422)
    data = form.cleaned_data
    try:
        endpoint = services.endpoint_create(
            partner=partner,
            url=data["url"],
            description=data["description"],
            event_types=data["event_types"],
            statuses=data["statuses"],
            token=data.get("token"),
        )
    except TransitionRefused as exc:
        form.add_error(None, str(exc))
        return render(request, FORM, {"form": form, "endpoint": None}, status=409)
    if endpoint.replayed:
        messages.info(
            request,
            "This endpoint was already added; its secret was shown then. "
            "Rotate the secret if you did not keep it.",
        )
        return HttpResponseRedirect(_settings_url())
    return _secret_page(request, endpoint, rotated=False)


@require_http_methods(["GET", "POST"])
@login_required
def endpoint_edit(request: HttpRequest, endpoint_id: int) -> HttpResponse:
    endpoint = _endpoint_for_partner(request, endpoint_id)
    if request.method == "GET":
        initial = {
            "url": endpoint.url,
            "description": endpoint.description,
            "event_types": endpoint.event_types,
            "statuses": endpoint.statuses,
        }
        return render(request, FORM, {"form": EndpointForm(initial=initial), "endpoint": endpoint})
    form = EndpointForm(request.POST)
    if not form.is_valid():
        return render(request, FORM, {"form": form, "endpoint": endpoint}, status=422)
    services.endpoint_update(endpoint=endpoint, **form.cleaned_data)
    messages.success(request, f"Saved: {endpoint.url}.")
    return HttpResponseRedirect(_settings_url())


@post_only("webhooks:settings")
@login_required
def endpoint_pause(request: HttpRequest, endpoint_id: int) -> HttpResponse:
    endpoint = services.endpoint_pause(endpoint=_endpoint_for_partner(request, endpoint_id))
    messages.success(
        request,
        f"Paused: nothing is sent to {endpoint.url} for now. Events wait and are sent when you "
        f"resume it (those older than {WAIT_LIMIT.days} days are not).",
    )
    return HttpResponseRedirect(_settings_url())


@post_only("webhooks:settings")
@login_required
def endpoint_resume(request: HttpRequest, endpoint_id: int) -> HttpResponse:
    endpoint = services.endpoint_resume(endpoint=_endpoint_for_partner(request, endpoint_id))
    messages.success(
        request, f"Resumed: the events that waited, and new ones, are sent to {endpoint.url}."
    )
    return HttpResponseRedirect(_settings_url())


@post_only("webhooks:settings")
@login_required
def endpoint_rotate(request: HttpRequest, endpoint_id: int) -> HttpResponse:
    endpoint = services.endpoint_rotate_secret(endpoint=_endpoint_for_partner(request, endpoint_id))
    return _secret_page(request, endpoint, rotated=True)


@post_only("webhooks:settings")
@login_required
def endpoint_test(request: HttpRequest, endpoint_id: int) -> HttpResponse:
    endpoint = _endpoint_for_partner(request, endpoint_id)
    form = EndpointTestForm(request.POST)
    if not form.is_valid():
        refusal = " ".join(form.non_field_errors())
        return _settings(request, _partner_for(request), refusal=refusal, status=422)
    try:
        sent = services.endpoint_send_test(
            endpoint=endpoint, actor=request.user, token=form.cleaned_data["token"]
        )
    except TransitionRefused as exc:
        return _settings(request, _partner_for(request), refusal=str(exc), status=409)
    where = "Its answer shows under “Recent deliveries” below; reload the page if it says Pending."
    if sent.replayed:
        messages.info(request, f"This test event was already queued for {endpoint.url}. {where}")
    elif endpoint.is_active:
        messages.success(request, f"A test event was queued for {endpoint.url}. {where}")
    else:
        messages.success(
            request,
            f"A test event was queued for {endpoint.url}, though it is paused: only the test "
            f"is sent, and the events that wait stay until you resume it. {where}",
        )
    return HttpResponseRedirect(_settings_url())


@require_http_methods(["GET", "POST"])
@login_required
def endpoint_delete(request: HttpRequest, endpoint_id: int) -> HttpResponse:
    try:
        endpoint = _endpoint_for_partner(request, endpoint_id)
    except Http404:
        deleted = done_before.recalled(request, DELETED, str(endpoint_id))
        if request.method != "POST" or deleted is None:
            raise
        messages.info(request, f"Already deleted: {deleted}. Nothing more is sent there.")
        return HttpResponseRedirect(_settings_url())
    if request.method == "GET":
        return render(request, DELETE, {"endpoint": endpoint})
    services.endpoint_delete(endpoint=endpoint)
    done_before.remember(request, DELETED, str(endpoint.pk), endpoint.url)
    messages.success(request, f"Deleted: {endpoint.url}. Nothing more is sent there.")
    return HttpResponseRedirect(_settings_url())


# A deleted endpoint leaves no row to find it by: whoever deleted it is remembered in their own
# session (done_before), so that their double click, resent form or second tab is answered as
# done; anyone else gets the 404 of an endpoint that never was.
DELETED = "webhooks_deleted"


@post_only("webhooks:settings")
@login_required
def delivery_redeliver(request: HttpRequest, endpoint_id: int, delivery_id: int) -> HttpResponse:
    partner = _partner_for(request)
    try:
        delivery = selectors.delivery_for_partner(partner, endpoint_id, delivery_id)
    except WebhookDelivery.DoesNotExist:
        raise Http404("No such delivery.") from None
    try:
        again = services.delivery_redeliver(delivery=delivery, actor=request.user)
    except TransitionRefused as exc:
        return _settings(request, partner, refusal=str(exc), status=409)
    if again.replayed:
        messages.info(request, f"{delivery.event.type} is already on its way again.")
    else:
        messages.success(request, f"{delivery.event.type} will be sent again in a moment.")
    return HttpResponseRedirect(_settings_url())
