"""The partner portal: the installation list, the Assign/Reassign/Reject actions, the detail page
and scheduling. Every page starts with the access helper; every write goes through services."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from django.contrib.auth.decorators import login_required
from django.core.exceptions import NON_FIELD_ERRORS, ValidationError
from django.core.paginator import Paginator
from django.db import transaction
from django.forms import Form
from django.http import Http404, HttpRequest, HttpResponse, QueryDict
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_GET, require_http_methods, require_POST
from django_htmx.http import reswap, retarget, trigger_client_event

from .. import selectors, services
from ..filters import InstallationFilter
from ..formatting import duration_text
from ..forms import FollowUpForm, InstallationCreateForm, PartnerAssignForm, RebookForm, RejectForm
from ..models import Installation, Partner
from ..redirects import redirect_back, safe_path
from ..statuses import GROUPS_BY_SLUG, Status

PAGE_SIZE = 25
LIST_TEMPLATE = "installations/list.html"
ACTION_TEMPLATE = "installations/action.html"


# --- Access -------------------------------------------------------------------------------------


def _partner_for(request: HttpRequest) -> Partner:
    """The signed-in user's partner. Users who act for no partner get 404: these pages do not
    exist for them (the home page already sends handymen and staff elsewhere)."""
    profile = getattr(request.user, "partner_profile", None)
    if profile is None:
        raise Http404("No partner for this user.")
    return profile.partner


def _installation_for_partner(request: HttpRequest, pk: int) -> Installation:
    partner = _partner_for(request)
    try:
        return selectors.installations_for_partner(partner).get(pk=pk)
    except Installation.DoesNotExist:
        raise Http404("No such installation.") from None


def _version(raw: str | None) -> int | None:
    """The version the page was drawn from. Absent: no check. Not a number: a page we cannot
    trust, so 0 (versions start at 1) makes the service refuse it as stale."""
    if raw in (None, ""):
        return None
    try:
        return int(raw)
    except (TypeError, ValueError):
        return 0


def _apply_service_errors(form: Form, error: ValidationError) -> None:
    """Put a service's ValidationError on the form: known fields inline, the rest on top."""
    if not hasattr(error, "error_dict"):
        form.add_error(None, error)
        return
    for field, errors in error.error_dict.items():
        form.add_error(field if field in form.fields else NON_FIELD_ERRORS, errors)


# --- The list -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Row:
    installation: Installation
    actions: list[selectors.Action]


def _actions(installation: Installation, user: Any) -> list[selectors.Action]:
    # Only the actions this portal has a page for (a partner user gets exactly these).
    return [a for a in selectors.available_actions(installation, user) if a.name in ACTIONS]


def _rows(installations: Any, user: Any) -> list[Row]:
    # available_actions reads the user's (cached) profile: no query per row.
    return [Row(inst, _actions(inst, user)) for inst in installations]


def _active_group(query: QueryDict) -> str:
    group = query.get("group", "")
    return group if group in GROUPS_BY_SLUG else ""


def _cards_context(
    partner: Partner, query: QueryDict, by_status: dict[str, int] | None = None
) -> dict[str, Any]:
    return {
        "group_counts": selectors.group_counts(partner, by_status),
        "active_group": _active_group(query),
        "filter_query": query,
    }


@require_GET
@login_required
def installation_list(request: HttpRequest) -> HttpResponse:
    partner = _partner_for(request)
    if request.htmx.target == "cards" and not request.htmx.history_restore_request:
        # After an action the cards refresh themselves: one query over the counters.
        return render(request, f"{LIST_TEMPLATE}#cards", _cards_context(partner, request.GET))
    filterset = InstallationFilter(
        request.GET, queryset=selectors.installations_for_partner(partner), partner=partner
    )
    valid = filterset.is_valid()
    # A filter we cannot use shows its error and no rows, never a guess or a 500.
    queryset = filterset.qs if valid else filterset.queryset.none()
    by_status = selectors.status_counts(partner)
    paginator = Paginator(queryset, PAGE_SIZE)
    if valid and (known := filterset.known_count(by_status)) is not None:
        # The counters already know how many rows a status filter matches: no COUNT(*) over
        # a large partner's rows on every page.
        paginator.count = known
    page = paginator.get_page(request.GET.get("page"))
    if page.number > 1:
        # A deep page's OFFSET would join customers and handymen for every row it skips:
        # find the page's ids from the index alone, then read just those rows.
        ids = list(queryset.values_list("pk", flat=True)[page.start_index() - 1 : page.end_index()])
        by_id = queryset.order_by().in_bulk(ids)
        page.object_list = [by_id[pk] for pk in ids if pk in by_id]
    ctx = {
        "filter": filterset,
        "form": filterset.form,
        "filters_valid": valid,
        "page": page,
        "rows": _rows(page.object_list, request.user),
        "has_filters": any(v for k, v in request.GET.items() if k != "page"),
        "next_url": request.get_full_path(),
        **_cards_context(partner, request.GET, by_status),
    }
    if request.htmx and not request.htmx.history_restore_request:
        return render(request, f"{LIST_TEMPLATE}#results", ctx)
    return render(request, LIST_TEMPLATE, ctx)


# --- Assign / Reassign / Reject -----------------------------------------------------------------


@dataclass(frozen=True)
class ActionSpec:
    title: str
    submit: str
    form: Callable[..., Form]
    perform: Callable[[Installation, Form, Any, int | None], Installation]


def _assign_form(installation: Installation, data: Any = None) -> Form:
    return PartnerAssignForm(data, partner=installation.partner, day=installation.scheduled_date)


def _reject_form(installation: Installation, data: Any = None) -> Form:
    return RejectForm(data)


def _with_handyman(service: Callable[..., Installation]) -> Callable[..., Installation]:
    """Assign and reassign: the service with the handyman chosen in the dialog."""
    return lambda inst, form, actor, version: service(
        installation=inst,
        handyman=form.cleaned_data["handyman"],
        actor=actor,
        expected_version=version,
    )


# Explicit dispatch: the URL picks one of these, never getattr on input.
ACTIONS: dict[str, ActionSpec] = {
    "assign": ActionSpec(
        "Assign a handyman",
        "Assign",
        _assign_form,
        _with_handyman(services.installation_assign),
    ),
    "reassign": ActionSpec(
        "Reassign to another handyman",
        "Reassign",
        _assign_form,
        _with_handyman(services.installation_reassign),
    ),
    "reject": ActionSpec(
        "Reject this installation",
        "Reject",
        _reject_form,
        lambda inst, form, actor, version: services.installation_reject(
            installation=inst,
            reason=form.cleaned_data["reason"],
            actor=actor,
            expected_version=version,
        ),
    ),
}


def _not_allowed_message(installation: Installation, action: str) -> str:
    return (
        f"This installation is “{installation.get_status_display()}”, so it can no longer be "
        f"{services.VERBS[action]}. Nothing was changed."
    )


def _row_response(
    request: HttpRequest, installation: Installation, *, message: str = "", status: int = 200
) -> HttpResponse:
    """The row as it now is (for htmx). The cards refresh themselves on the event."""
    installation = _installation_for_partner(request, installation.pk)
    data = request.POST if request.method == "POST" else request.GET
    ctx = {
        "row": Row(installation, _actions(installation, request.user)),
        "row_message": message,
        "next_url": safe_path(data.get("next"), reverse("partner:list")),
    }
    response = render(request, f"{LIST_TEMPLATE}#installation-row", ctx, status=status)
    response = retarget(response, f"#row-{installation.pk}")
    response = reswap(response, "outerHTML")
    return trigger_client_event(response, "installations-changed", {"id": installation.pk})


def _action_page(
    request: HttpRequest,
    installation: Installation,
    action: str,
    *,
    form: Form | None,
    version: int | None,
    message: str = "",
    status: int = 200,
) -> HttpResponse:
    spec = ACTIONS[action]
    data = request.POST if request.method == "POST" else request.GET
    ctx = {
        "installation": installation,
        "action": action,
        "spec": spec,
        "form": form,
        "version": version if version is not None else installation.version,
        "message": message,
        "target": "row" if data.get("target") == "row" else "page",
        "next_url": safe_path(data.get("next"), reverse("partner:detail", args=[installation.pk])),
        "action_url": reverse(f"partner:{action}", args=[installation.pk]),
    }
    if request.htmx:
        response = render(request, f"{ACTION_TEMPLATE}#action-form", ctx, status=status)
        response = retarget(response, "#action-dialog-body")
        return reswap(response, "innerHTML")
    return render(request, ACTION_TEMPLATE, ctx, status=status)


def _action_view(request: HttpRequest, pk: int, action: str) -> HttpResponse:
    installation = _installation_for_partner(request, pk)
    spec = ACTIONS[action]
    allowed = {a.name for a in _actions(installation, request.user)}
    data = request.POST if request.method == "POST" else request.GET
    version = _version(data.get("version"))
    row_target = request.htmx and data.get("target") == "row"

    if request.method == "GET":
        if action not in allowed:
            message = _not_allowed_message(installation, action)
            if row_target:
                return _row_response(request, installation, message=message, status=409)
            return _action_page(
                request,
                installation,
                action,
                form=None,
                version=version,
                message=message,
                status=409,
            )
        return _action_page(
            request, installation, action, form=spec.form(installation), version=version
        )

    form = spec.form(installation, request.POST)
    if form.is_valid():
        try:
            updated = spec.perform(installation, form, request.user, version)
        except services.TransitionRefused as refused:
            current = refused.installation or installation
            if row_target:
                return _row_response(request, current, message=refused.message, status=409)
            return _action_page(
                request,
                current,
                action,
                form=None,
                version=version,
                message=refused.message,
                status=409,
            )
        except ValidationError as error:
            _apply_service_errors(form, error)
        else:
            if row_target:
                return _row_response(request, updated)
            return redirect_back(request.POST.get("next"), reverse("partner:detail", args=[pk]))
    return _action_page(request, installation, action, form=form, version=version, status=422)


@require_http_methods(["GET", "POST"])
@login_required
def installation_assign(request: HttpRequest, pk: int) -> HttpResponse:
    return _action_view(request, pk, "assign")


@require_http_methods(["GET", "POST"])
@login_required
def installation_reassign(request: HttpRequest, pk: int) -> HttpResponse:
    return _action_view(request, pk, "reassign")


@require_http_methods(["GET", "POST"])
@login_required
def installation_reject(request: HttpRequest, pk: int) -> HttpResponse:
    return _action_view(request, pk, "reject")


# --- Detail -------------------------------------------------------------------------------------


REBOOKABLE = (Status.CANCELLED, Status.REJECTED)


def _tomorrow():
    return timezone.localdate() + timedelta(days=1)


def _detail_context(
    request: HttpRequest,
    installation: Installation,
    *,
    follow_up_form: Form | None = None,
    rebook_form: Form | None = None,
    message: str = "",
) -> dict[str, Any]:
    can_rebook = installation.status in REBOOKABLE
    return {
        "installation": installation,
        "actions": _actions(installation, request.user),
        "history": installation.history.all(),
        "time_on_site": duration_text(installation.time_on_site),
        "other_installations": selectors.installations_for_partner(installation.partner_id)
        .filter(customer_id=installation.customer_id)
        .exclude(pk=installation.pk)
        .order_by("-scheduled_date", "-id"),
        "follow_ups": installation.follow_ups.order_by("scheduled_date", "id"),
        "rebookings": installation.rebookings.order_by("scheduled_date", "id"),
        "photos": installation.photos.all(),
        "messages_list": installation.messages.all(),
        "can_follow_up": not can_rebook,
        "can_rebook": can_rebook,
        "follow_up_form": follow_up_form
        or (None if can_rebook else FollowUpForm(initial={"scheduled_date": _tomorrow()})),
        "rebook_form": rebook_form
        or (RebookForm(initial={"scheduled_date": _tomorrow()}) if can_rebook else None),
        "message": message,
        "next_url": request.get_full_path(),
    }


@require_GET
@login_required
def installation_detail(request: HttpRequest, pk: int) -> HttpResponse:
    installation = _installation_for_partner(request, pk)
    return render(request, "installations/detail.html", _detail_context(request, installation))


@require_POST
@login_required
def installation_follow_up(request: HttpRequest, pk: int) -> HttpResponse:
    installation = _installation_for_partner(request, pk)
    form = FollowUpForm(request.POST)
    if form.is_valid():
        try:
            child = services.installation_book_follow_up(
                installation=installation,
                actor=request.user,
                scheduled_date=form.cleaned_data["scheduled_date"],
                notes=form.cleaned_data["notes"].strip(),
            )
        except services.TransitionRefused as refused:
            ctx = _detail_context(request, installation, message=refused.message)
            return render(request, "installations/detail.html", ctx, status=409)
        except ValidationError as error:
            _apply_service_errors(form, error)
        else:
            return redirect("partner:detail", pk=child.pk)
    ctx = _detail_context(request, installation, follow_up_form=form)
    return render(request, "installations/detail.html", ctx, status=422)


@require_POST
@login_required
def installation_rebook(request: HttpRequest, pk: int) -> HttpResponse:
    installation = _installation_for_partner(request, pk)
    form = RebookForm(request.POST)
    if form.is_valid():
        try:
            new = services.installation_rebook(
                installation=installation,
                actor=request.user,
                scheduled_date=form.cleaned_data["scheduled_date"],
            )
        except services.TransitionRefused as refused:
            ctx = _detail_context(request, installation, message=refused.message)
            return render(request, "installations/detail.html", ctx, status=409)
        except ValidationError as error:
            _apply_service_errors(form, error)
        else:
            return redirect("partner:detail", pk=new.pk)
    ctx = _detail_context(request, installation, rebook_form=form)
    return render(request, "installations/detail.html", ctx, status=422)


# --- Scheduling ---------------------------------------------------------------------------------


@require_http_methods(["GET", "POST"])
@login_required
def installation_new(request: HttpRequest) -> HttpResponse:
    partner = _partner_for(request)
    status = 200
    if request.method == "POST":
        form = InstallationCreateForm(request.POST, partner=partner)
        if form.is_valid():
            data = form.cleaned_data
            start, end = form.window_times
            try:
                with transaction.atomic():
                    customer = data["customer"]
                    site_address = data["site_address"].strip()
                    if customer is None:
                        customer = services.customer_create(
                            partner=partner,
                            name=data["new_name"],
                            address=site_address,
                            phone=data["new_phone"].strip(),
                            email=data["new_email"],
                        )
                    installation = services.installation_create(
                        partner=partner,
                        customer=customer,
                        site_address=site_address or customer.address,
                        scheduled_date=data["scheduled_date"],
                        window_start=start,
                        window_end=end,
                        notes=data["notes"],
                        actor=request.user,
                    )
            except ValidationError as error:
                _apply_service_errors(form, error)
            else:
                return redirect("partner:detail", pk=installation.pk)
        status = 422
    else:
        form = InstallationCreateForm(
            partner=partner, initial={"scheduled_date": _tomorrow(), "window": "08-10"}
        )
    return render(request, "installations/new.html", {"form": form}, status=status)
