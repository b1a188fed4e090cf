"""The partner portal: the installation list, the Assign/Reassign/Reject actions, the detail page
and scheduling. Every page starts with the access helper; every write goes through services."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from typing import Any
from urllib.parse import urlsplit

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import NON_FIELD_ERRORS, ValidationError
from django.core.paginator import Paginator
from django.forms import Form
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect, QueryDict
from django.shortcuts import render
from django.urls import Resolver404, resolve, reverse
from django.utils import dateformat, timezone
from django.views.decorators.http import require_GET, require_http_methods
from django_htmx.http import (
    HttpResponseClientRedirect,
    reswap,
    retarget,
    trigger_client_event,
)

from .. import customer_picker, history_text, selectors, services
from ..bulk.outcome import take_bulk_outcome
from ..bulk.selectors import bulk_context, bulk_outcome_context
from ..filters import SEARCH_BOUND, SHORT_WINDOW, InstallationFilter, record_number
from ..formatting import duration_text
from ..forms import FollowUpForm, InstallationCreateForm, PartnerAssignForm, RebookForm, RejectForm
from ..live.selectors import partner_page_feed
from ..models import Installation, Partner
from ..redirects import post_only, redirect_back, safe_path
from ..refusals import refusal_sentence
from ..scheduling.new_installation import finding, unsent_form
from ..scheduling.rules import ScheduleConflict, may_reschedule
from ..statuses import GROUPS_BY_SLUG, VISITED_STATUSES, Status
from .common import WrongRole

PAGE_SIZE = 25
PAGE_SIZES = ("25", "50", "100")
LIST_TEMPLATE = "installations/list.html"
ACTION_TEMPLATE = "installations/action.html"


# --- Access -------------------------------------------------------------------------------------


def _partner_for(request: HttpRequest) -> Partner:
    """The signed-in user's partner. Users who act for no partner get 404 (these pages do not
    exist for them); on the list, their home, they are sent to their own page instead."""
    profile = getattr(request.user, "partner_profile", None)
    if profile is None:
        raise WrongRole("No partner for this user.")
    return profile.partner


def _installation_for_partner(request: HttpRequest, pk: int) -> Installation:
    partner = _partner_for(request)
    try:
        return selectors.installations_for_partner(partner).get(pk=pk)
    except Installation.DoesNotExist:
        raise Http404("No such installation.") from None


MAX_VERSION = 2**31 - 1
UNREADABLE_PAGE = "This page could not be read (it may be out of date): reload it and try again."


def _version(raw: str | None) -> int | None:
    """The version the page was drawn from; absent means no check. Anything that is not a
    version (a number from 1) raises ValueError: the view refuses it before calling a service."""
    if raw in (None, ""):
        return None
    if not (isinstance(raw, str) and raw.isascii() and raw.isdigit() and len(raw) <= 10):
        raise ValueError(raw)
    version = int(raw)
    if not 1 <= version <= MAX_VERSION:
        raise ValueError(raw)
    return version


def _target(data: QueryDict) -> str:
    return "row" if data.get("target") == "row" else "page"


def _back_url(raw_next: object, installation: Installation) -> str:
    """Where a plain (no-JavaScript) action returns: the safe `next` (else the record's page),
    at the changed row on the list (`#row-5`) or at the heading of the record's page, so that
    the person lands where they were and the confirmation is beside them."""
    detail = reverse("partner:detail", args=[installation.pk])
    path = safe_path(raw_next, detail).split("#", 1)[0]
    try:
        match = resolve(urlsplit(path).path)
    except Resolver404:
        return path
    if match.view_name == "partner:list":
        return f"{path}#row-{installation.pk}"
    if match.view_name == "partner:detail":
        return f"{path}#who-{match.kwargs['pk']}"
    return path


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


RESCHEDULE = selectors.Action("reschedule", "Reschedule")


def _actions(installation: Installation, user: Any) -> list[selectors.Action]:
    # Only the actions this portal has a page for (a partner user gets exactly these), and
    # Reschedule (not a transition: the scheduling room's rule says when).
    actions = [a for a in selectors.available_actions(installation, user) if a.name in ACTIONS]
    if may_reschedule(installation, user):
        actions.append(RESCHEDULE)
    return actions


def _rows(installations: Any, user: Any) -> list[Row]:
    # available_actions reads the user's (cached) profile: no query per row.
    return [Row(inst, _actions(inst, user)) for inst in installations]


def _active_group(query: QueryDict) -> str:
    group = query.get("group", "")
    return group if group in GROUPS_BY_SLUG else ""


def _list_filter(query: QueryDict, partner: Partner) -> tuple[InstallationFilter, bool]:
    filterset = InstallationFilter(
        query, queryset=selectors.installations_for_partner(partner), partner=partner
    )
    filterset.rows_wanted = _rows_wanted(query)
    return filterset, filterset.is_valid()


def _rows_wanted(query: QueryDict) -> int:
    """The list's rows up to the end of the page asked for (the last page a search beyond the
    bound has, at most): how far a search must find its matches (filters.search_beyond_bound).
    """
    size = _page_size(query)
    raw = query.get("page", "")
    number = int(raw) if raw.isascii() and raw.isdigit() and len(raw) < 7 else 1
    return max(1, min(number, -(-SEARCH_BOUND // size))) * size


def _cards_context(
    partner: Partner, query: QueryDict, filterset: InstallationFilter, valid: bool
) -> dict[str, Any]:
    """The cards count what the list would show for each group under the other active filters,
    so that a card and the list never disagree: the per-partner counters when only a group or
    status is chosen (one query over ten rows), one grouped COUNT otherwise. Returns the
    per-status counts too, from which the list's own count follows without a COUNT(*).

    Under a search nothing is counted beyond SEARCH_BOUND matches (issue 20): the matches are
    read up to the bound; beyond it the cards show no numbers and the list says "more than"."""
    narrowed = valid and filterset.narrows_beyond_status
    over_bound = False
    if valid and filterset.searching:
        hits = filterset.search_hits()
        over_bound = hits.over_bound
        by_status = {} if over_bound else hits.by_status()
    else:
        by_status = filterset.counts_by_status() if narrowed else None
    if by_status is None:
        by_status = selectors.status_counts(partner)
    status = filterset.form.cleaned_data.get("status") if valid else None
    if not valid:
        shown = 0
    elif not over_bound:
        shown = filterset.count(by_status)
    elif filterset.selected_statuses() != set(Status.values):
        # Thousands match the search; the group or status chosen may keep fewer: count them,
        # up to the bound again.
        shown = filterset.count_up_to(SEARCH_BOUND)
    else:
        shown = SEARCH_BOUND + 1
    return {
        "group_counts": selectors.group_counts(partner, by_status),
        "by_status": by_status,
        "shown": min(shown, SEARCH_BOUND) if over_bound else shown,
        "over_bound": over_bound and shown > SEARCH_BOUND,
        "cards_uncounted": over_bound,
        "search_bound": f"{SEARCH_BOUND:,}",  # "1,000": words, not a number to localise
        "short_search": filterset.short_term if valid and filterset.window_left_jobs_out else "",
        "short_window": f"{SHORT_WINDOW:,}",
        "active_group": _active_group(query),
        "cards_narrowed": narrowed,
        "exact_status_label": Status(status).label if status else "",
        "filter_query": query,
    }


def _record_number(partner: Partner, filterset: InstallationFilter) -> int | None:
    """The number the search is (`31`, `#31`) when it is one of this partner's records
    (another partner's number simply finds nothing)."""
    number = record_number(filterset.form.cleaned_data.get("q") or "")
    if (
        number is None
        or not selectors.installations_for_partner(partner).filter(pk=number).exists()
    ):
        return None
    return number


def _number_search(
    request: HttpRequest, number: int, filterset: InstallationFilter
) -> HttpResponse | None:
    """`#31` goes to that record; a bare `31` too, unless it also finds other installations
    (digits of a phone number or a house number: at 300,000 records most such searches are
    also some record's number), which the list then shows with a link to #31 above them."""
    explicit = filterset.form.cleaned_data["q"].strip().startswith("#")
    if not explicit and filterset.search_hits().ids != [number]:
        return None
    url = reverse("partner:detail", args=[number])
    if request.htmx:
        return HttpResponseClientRedirect(url)
    return HttpResponseRedirect(url)


def _page_size(query: QueryDict) -> int:
    """Rows per page: a few fixed choices (bulk actions take up to 100 rows at a time)."""
    raw = query.get("per_page", "")
    return int(raw) if raw in PAGE_SIZES else PAGE_SIZE


# The filters under "More filters": all but the search box.
NARROWING_FILTERS = ("group", "status", "handyman", "date_from", "date_to", "unassigned")
ORDERING_FILTERS = ("sort", "per_page")


def _more_filters(query: QueryDict, form: Any) -> dict[str, Any]:
    """How many of the folded filters narrow the list, and whether the fold starts open: when
    any of them is in use (a filter the user cannot see is a list that looks wrong) or wrong."""
    in_use = sum(1 for name in NARROWING_FILTERS if query.get(name))
    wrong = any(name in form.errors for name in NARROWING_FILTERS + ORDERING_FILTERS)
    ordered = any(query.get(name) for name in ORDERING_FILTERS)
    return {"more_filters_in_use": in_use, "more_filters_open": bool(in_use or wrong or ordered)}


def _page_context(
    request: HttpRequest,
    filterset: InstallationFilter,
    valid: bool,
    cards: dict[str, Any],
    query: QueryDict,
    next_url: str,
) -> dict[str, Any]:
    # A filter we cannot use shows its error and no rows, never a guess or a 500.
    queryset = selectors.list_rows(filterset.qs if valid else filterset.queryset.none())
    paginator = Paginator(queryset, _page_size(query))
    # The per-status counts already say how many rows the list has: no COUNT(*) over a large
    # partner's rows on every page.
    paginator.count = cards["shown"]
    page = paginator.get_page(query.get("page"))
    if page.number > 1:
        # A deep page's OFFSET would join customers and handymen for every row it skips:
        # find the page's ids from the index alone, then read just those rows.
        ids = list(queryset.values_list("pk", flat=True)[page.start_index() - 1 : page.end_index()])
        by_id = queryset.order_by().in_bulk(ids)
        page.object_list = [by_id[pk] for pk in ids if pk in by_id]
    rows = _rows(page.object_list, request.user)
    return {
        "filter": filterset,
        "form": filterset.form,
        "filters_valid": valid,
        "page": page,
        "rows": rows,
        "has_filters": any(v for k, v in query.items() if k not in ("page", "per_page")),
        **_more_filters(query, filterset.form),
        "next_url": next_url,
        "per_page": _page_size(query),
        "per_page_choices": [int(size) for size in PAGE_SIZES],
        **cards,
        **bulk_context(rows, filterset.form.fields["handyman"].handymen),
    }


def list_context(
    request: HttpRequest, partner: Partner, query: QueryDict, next_url: str
) -> dict[str, Any]:
    """The list page's context for `query` (its filters and page), for pages that answer with
    the list as it now is (bulk actions)."""
    filterset, valid = _list_filter(query, partner)
    cards = _cards_context(partner, query, filterset, valid)
    return _page_context(request, filterset, valid, cards, query, next_url)


@require_GET
@login_required
def installation_list(request: HttpRequest) -> HttpResponse:
    partner = _partner_for(request)
    filterset, valid = _list_filter(request.GET, partner)
    cards_only = request.htmx.target == "cards" and not request.htmx.history_restore_request
    number = _record_number(partner, filterset) if valid and not cards_only else None
    if number is not None and (to_record := _number_search(request, number, filterset)):
        return to_record
    # The live feed's stamp is read before the page's counts and rows (see live.selectors).
    full_page = not request.htmx or request.htmx.history_restore_request
    live = partner_page_feed(request.user) if full_page else None
    cards = _cards_context(partner, request.GET, filterset, valid)
    if cards_only:
        # After an action the cards refresh themselves, within the same filters.
        return render(request, f"{LIST_TEMPLATE}#cards", cards)
    ctx = _page_context(request, filterset, valid, cards, request.GET, request.get_full_path())
    ctx["live"] = live
    ctx["number_match"] = number
    if request.htmx and not request.htmx.history_restore_request:
        return render(request, f"{LIST_TEMPLATE}#results", ctx)
    # After a plain (no-JavaScript) bulk action: its result, once.
    ctx.update(bulk_outcome_context(take_bulk_outcome(request), ctx["rows"]))
    return render(request, LIST_TEMPLATE, ctx)


# --- Assign / Reassign / Reject -----------------------------------------------------------------


@dataclass(frozen=True)
class ActionSpec:
    title: str
    submit: str
    form: Callable[..., Form]
    perform: Callable[[Installation, Form, Any, int | None], Installation]
    # The sentence that confirms the change, about the record as it now is.
    confirm: Callable[[Installation], str]


def _assign_form(installation: Installation, data: Any = None) -> Form:
    return PartnerAssignForm(data, partner=installation.partner, day=installation.scheduled_date)


def _reassign_form(installation: Installation, data: Any = None) -> Form:
    return PartnerAssignForm(
        data,
        partner=installation.partner,
        day=installation.scheduled_date,
        exclude=installation.handyman_id,
    )


def _reject_form(installation: Installation, data: Any = None) -> Form:
    return RejectForm(data)


def _with_handyman(service: Callable[..., Installation]) -> Callable[..., Installation]:
    """Assign and reassign: the service with the handyman chosen in the dialog."""
    return lambda inst, form, actor, version: service(
        installation=inst,
        handyman=form.cleaned_data["handyman"],
        actor=actor,
        expected_version=version,
        # The second, explicit "Assign anyway" after a conflict warning.
        confirm_conflict=form.data.get("confirm_conflict") == "1",
    )


def _who(installation: Installation) -> str:
    return f"#{installation.pk} ({installation.customer.name})"


# Explicit dispatch: the URL picks one of these, never getattr on input.
ACTIONS: dict[str, ActionSpec] = {
    "assign": ActionSpec(
        "Assign a handyman",
        "Assign",
        _assign_form,
        _with_handyman(services.installation_assign),
        lambda inst: f"{inst.handyman.display_name} is assigned to {_who(inst)}.",
    ),
    "reassign": ActionSpec(
        "Reassign to another handyman",
        "Reassign",
        _reassign_form,
        _with_handyman(services.installation_reassign),
        lambda inst: f"Reassigned {_who(inst)} to {inst.handyman.display_name}.",
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
        lambda inst: f"{_who(inst)} is rejected.",
    ),
}


def _row_response(
    request: HttpRequest,
    installation: Installation,
    *,
    message: str = "",
    confirmation: str = "",
    status: int = 200,
) -> HttpResponse:
    """The row as it now is (for htmx), with a refusal or a confirmation under it. The event
    refreshes the cards and carries the confirmation to the page's polite live region."""
    installation = _installation_for_partner(request, installation.pk)
    data = request.POST if request.method == "POST" else request.GET
    ctx = {
        "row": Row(installation, _actions(installation, request.user)),
        "row_message": message,
        "row_confirmation": confirmation,
        "next_url": safe_path(data.get("next"), reverse("partner:list")),
    }
    response = render(request, f"{LIST_TEMPLATE}#installation-row", ctx, status=status)
    response = retarget(response, f"#row-{installation.pk}")
    response = reswap(response, "outerHTML")
    event = {"id": installation.pk, "message": confirmation}
    return trigger_client_event(response, "installations-changed", event)


def _action_page(
    request: HttpRequest,
    installation: Installation,
    action: str,
    *,
    form: Form | None,
    version: int | None,
    message: str = "",
    conflict: ScheduleConflict | None = None,
    status: int = 200,
) -> HttpResponse:
    """The action's form: inside the dialog for htmx (errors stay there), a full page without.
    After a conflict, the question "… anyway?" re-posting exactly the choice it warned about."""
    spec = ACTIONS[action]
    data = request.POST if request.method == "POST" else request.GET
    ctx = {
        "installation": installation,
        "action": action,
        "spec": spec,
        "form": form,
        "version": version if version is not None else installation.version,
        "message": message,
        "conflict": conflict,
        "confirm_fields": [(n, data.get(n, "")) for n in form.fields] if conflict and form else [],
        "target": _target(data),
        "next_url": safe_path(data.get("next"), reverse("partner:detail", args=[installation.pk])),
        "action_url": reverse(f"partner:{action}", args=[installation.pk]),
    }
    if request.htmx:
        response = render(request, f"{ACTION_TEMPLATE}#action-form", ctx, status=status)
        response = retarget(response, "#action-dialog-body")
        return reswap(response, "innerHTML")
    return render(request, ACTION_TEMPLATE, ctx, status=status)


def _refused(
    request: HttpRequest, installation: Installation, action: str, message: str, version: int | None
) -> HttpResponse:
    if request.htmx and _target(request.POST or request.GET) == "row":
        return _row_response(request, installation, message=message, status=409)
    return _action_page(
        request, installation, action, form=None, version=version, message=message, status=409
    )


def _done(request: HttpRequest, updated: Installation, action: str) -> HttpResponse:
    """Confirm in words: under the row and in the live region (htmx, list), or as a flash
    message on the page the person came from, at the row or the heading."""
    return _answer_done(request, updated, ACTIONS[action].confirm(updated))


def _answer_done(request: HttpRequest, updated: Installation, confirmation: str) -> HttpResponse:
    """The answer to a change that was made (or found already made), with its sentence."""
    if request.htmx and _target(request.POST) == "row":
        return _row_response(request, updated, confirmation=confirmation)
    messages.success(request, confirmation)
    back = _back_url(request.POST.get("next"), updated)
    if request.htmx:
        current, target = urlsplit(request.htmx.current_url or ""), urlsplit(back)
        if (current.path, current.query) != (target.path, target.query):
            return HttpResponseClientRedirect(back)
        if target.fragment and target.fragment != current.fragment:
            # Only the #fragment differs: going there just scrolls, then htmx reloads once.
            response = HttpResponseClientRedirect(back)
        else:
            # The very page shown (the board): a reload alone. With HX-Redirect as well htmx
            # would load it twice, and the first load could take the message the second shows.
            response = HttpResponse()
        response["HX-Refresh"] = "true"
        return response
    return redirect_back(back, reverse("partner:detail", args=[updated.pk]))


STALE_KEPT = (
    "Someone else changed this installation a moment ago: it is now “{status}”. Nothing was "
    "changed yet: check it, then press “{submit}” again (what you entered is kept)."
)


def _still_possible_after_a_change(
    current: Installation, action: str, version: int | None, user: Any
) -> bool:
    """The refusal was only the page's version: the record changed meanwhile (a note, a
    date) and still allows the action."""
    return (
        version is not None
        and current.version != version
        and action in {a.name for a in _actions(current, user)}
    )


def _action_view(request: HttpRequest, pk: int, action: str) -> HttpResponse:
    installation = _installation_for_partner(request, pk)
    spec = ACTIONS[action]
    data = request.POST if request.method == "POST" else request.GET
    # Every input is read and checked before a service is called: a page we cannot read
    # changes nothing and sends nothing.
    try:
        version = _version(data.get("version"))
    except ValueError:
        version, unreadable = None, True
    else:
        unreadable = False
    allowed = {a.name for a in _actions(installation, request.user)}

    if request.method == "GET":
        if action not in allowed:
            message = refusal_sentence(installation, action)
            return _refused(request, installation, action, message, version)
        return _action_page(
            request, installation, action, form=spec.form(installation), version=version
        )

    form = spec.form(installation, request.POST)
    if form.is_valid() and not unreadable:
        try:
            updated = spec.perform(installation, form, request.user, version)
        except ScheduleConflict as conflict:
            return _action_page(
                request,
                installation,
                action,
                form=form,
                version=version,
                conflict=conflict,
                status=409,
            )
        except services.TransitionRefused as refused:
            current = refused.installation or installation
            if _still_possible_after_a_change(current, action, version, request.user):
                # Changed under the open dialog (the live page said so), but the action still
                # applies: the form again, with what was typed, at the version now shown.
                kept = spec.form(current, request.POST)
                message = STALE_KEPT.format(status=current.get_status_display(), submit=spec.submit)
                return _action_page(
                    request,
                    current,
                    action,
                    form=kept,
                    version=current.version,
                    message=message,
                    status=409,
                )
            return _refused(request, current, action, refused.message, version)
        except ValidationError as error:
            _apply_service_errors(form, error)
        else:
            return _done(request, updated, action)
    if unreadable:
        form.add_error(None, UNREADABLE_PAGE)
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


def _day(value) -> str:
    return dateformat.format(value, "D j M Y")


def _tomorrow():
    return timezone.localdate() + timedelta(days=1)


def _record_with_visits(
    request: HttpRequest, pk: int
) -> tuple[Installation, dict[str, list[Installation]]]:
    """The partner's record `pk` with its follow-up visits, its rebookings and the customer's
    other installations, read in one query (`selectors.record_with_visits`): each query's ORM
    work was a visible share of the record page (docs/profile.md), and issue 20 keeps a page
    at ≤ 8 queries."""
    rows = sorted(
        selectors.record_with_visits(_partner_for(request), pk),
        key=lambda row: (row.scheduled_date, row.pk),
    )
    record = next((row for row in rows if row.pk == pk), None)
    if record is None:  # another partner's record, or none: the same answer
        raise Http404("No such installation.")
    related = [row for row in rows if row is not record]
    return record, {
        "follow_ups": [r for r in related if r.parent_id == pk],
        "rebookings": [r for r in related if r.rebooked_from_id == pk],
        "other_installations": [
            r for r in reversed(related) if r.customer_id == record.customer_id
        ],
    }


def _detail_context(
    request: HttpRequest,
    installation: Installation,
    visits: dict[str, list[Installation]],
    *,
    follow_up_form: Form | None = None,
    rebook_form: Form | None = None,
    message: str = "",
) -> dict[str, Any]:
    dead = installation.status in REBOOKABLE
    # Rebooked once (services.installation_rebook): the copy is where to go on from.
    can_rebook = dead and not visits["rebookings"]
    return {
        "installation": installation,
        "actions": _actions(installation, request.user),
        "history": history_text.record_history(installation),
        "time_on_site": duration_text(installation.time_on_site),
        **visits,
        "photos": installation.photos.all(),
        "messages_list": selectors.messages_of(installation),
        "can_follow_up": installation.status in VISITED_STATUSES,
        "can_rebook": can_rebook,
        "follow_up_form": follow_up_form
        or (
            FollowUpForm(initial={"scheduled_date": _tomorrow()})
            if installation.status in VISITED_STATUSES
            else None
        ),
        "rebook_form": rebook_form
        or (RebookForm(initial={"scheduled_date": _tomorrow()}) if can_rebook else None),
        "message": message,
        "next_url": request.get_full_path(),
    }


@require_GET
@login_required
def installation_detail(request: HttpRequest, pk: int) -> HttpResponse:
    live = partner_page_feed(request.user)  # before the record: see live.selectors
    installation, visits = _record_with_visits(request, pk)
    ctx = {**_detail_context(request, installation, visits), "live": live}
    return render(request, "installations/detail.html", ctx)


def _to_record(request: HttpRequest, record: Installation, confirmation: str) -> HttpResponse:
    """A created (or found again) record's page, at its heading, with the confirmation."""
    messages.success(request, confirmation)
    url = reverse("partner:detail", args=[record.pk])
    return redirect_back(f"{url}#who-{record.pk}", url)


def _follow_up_confirmation(child: Installation, token: Any) -> str:
    when = f"{_day(child.scheduled_date)}"
    if child.replayed and child.creation_token != token:
        return (
            f"A follow-up visit is already booked: #{child.pk} on {when}. "
            "Nothing new was booked; change that visit if needed."
        )
    return f"Follow-up visit #{child.pk} is booked for {when}."


@post_only("partner:detail", "pk")
@login_required
def installation_follow_up(request: HttpRequest, pk: int) -> HttpResponse:
    installation, visits = _record_with_visits(request, pk)
    form = FollowUpForm(request.POST)
    if form.is_valid():
        token = form.cleaned_data["token"]
        try:
            child = services.installation_book_follow_up(
                installation=installation,
                actor=request.user,
                scheduled_date=form.cleaned_data["scheduled_date"],
                notes=form.cleaned_data["notes"].strip(),
                token=token,
            )
        except services.TransitionRefused as refused:
            ctx = _detail_context(request, installation, visits, message=refused.message)
            return render(request, "installations/detail.html", ctx, status=409)
        except ValidationError as error:
            _apply_service_errors(form, error)
        else:
            return _to_record(request, child, _follow_up_confirmation(child, token))
    ctx = _detail_context(request, installation, visits, follow_up_form=form)
    return render(request, "installations/detail.html", ctx, status=422)


@post_only("partner:detail", "pk")
@login_required
def installation_rebook(request: HttpRequest, pk: int) -> HttpResponse:
    installation, visits = _record_with_visits(request, pk)
    form = RebookForm(request.POST)
    if form.is_valid():
        try:
            new = services.installation_rebook(
                installation=installation,
                actor=request.user,
                scheduled_date=form.cleaned_data["scheduled_date"],
                token=form.cleaned_data["token"],
            )
        except services.TransitionRefused as refused:
            ctx = _detail_context(request, installation, visits, message=refused.message)
            return render(request, "installations/detail.html", ctx, status=409)
        except ValidationError as error:
            _apply_service_errors(form, error)
        else:
            return _to_record(
                request,
                new,
                f"Rebooked #{installation.pk} as #{new.pk} on {_day(new.scheduled_date)}.",
            )
    ctx = _detail_context(request, installation, visits, rebook_form=form)
    return render(request, "installations/detail.html", ctx, status=422)


# --- Scheduling ---------------------------------------------------------------------------------


@require_http_methods(["GET", "POST"])
@login_required
def installation_new(request: HttpRequest) -> HttpResponse:
    partner = _partner_for(request)
    if request.method == "POST" and not finding(request):
        # Without JavaScript the search box is the form's own: what it holds is kept, answered.
        picker = customer_picker.pick(
            partner, request.POST.get("customer_q"), request.POST.get("customer")
        )
        form = InstallationCreateForm(request.POST, partner=partner, picker=picker)
        if form.is_valid():
            data = form.cleaned_data
            start, end = form.window_times
            try:
                installation = services.installation_schedule(
                    partner=partner,
                    customer=data["customer"],
                    new_customer={
                        "name": data["new_name"],
                        "phone": data["new_phone"].strip(),
                        "email": data["new_email"],
                    },
                    site_address=data["site_address"],
                    scheduled_date=data["scheduled_date"],
                    window_start=start,
                    window_end=end,
                    notes=data["notes"],
                    actor=request.user,
                    token=data["token"],
                )
            except services.TransitionRefused as refused:
                form.add_error(None, refused.message)
            except ValidationError as error:
                _apply_service_errors(form, error)
            else:
                return _to_record(
                    request,
                    installation,
                    f"Installation #{installation.pk} for {installation.customer.name} is "
                    f"scheduled on {_day(installation.scheduled_date)}.",
                )
        ctx = {"form": form, "picker": picker}
        return render(request, "installations/new.html", ctx, status=422)
    # The page to fill in; or the same page after "Find" without JavaScript, all typed kept.
    defaults = {"scheduled_date": _tomorrow(), "window": "08-10"}
    picker, form = unsent_form(request, partner, defaults)
    ctx = {"form": form, "picker": picker, "finding": finding(request)}
    if request.htmx and request.htmx.target == "customer-choices":
        return render(request, "installations/new.html#customer-choices", ctx)
    return render(request, "installations/new.html", ctx)
