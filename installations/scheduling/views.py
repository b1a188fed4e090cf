"""Pages of the scheduling room: the partner's Reschedule form (a dialog with htmx, a page
without) and the handyman's days off. Thin: access, form, one service call, an answer."""

from __future__ import annotations

from datetime import date
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_http_methods
from django_htmx.http import reswap, retarget

from ..errors import TransitionRefused
from ..models import Handyman, Installation
from ..redirects import post_only, safe_path
from ..refusals import refusal_sentence
from ..views.common import WrongRole
from ..views.partner import (
    UNREADABLE_PAGE,
    _answer_done,
    _apply_service_errors,
    _installation_for_partner,
    _row_response,
    _still_possible_after_a_change,
    _target,
    _version,
)
from . import selectors, services
from .forms import DayOffForm, RescheduleForm
from .rules import ScheduleConflict, may_reschedule
from .text import day_text, jobs_text, slot_text

RESCHEDULE_TEMPLATE = "installations/scheduling/reschedule.html"
DAYS_OFF_TEMPLATE = "installations/scheduling/days_off.html"
DAYS_OFF_PARTIAL = "installations/scheduling/_days_off.html#days-off"


# --- Reschedule ---------------------------------------------------------------------------------


def _confirmed(data: Any) -> bool:
    return data.get("confirm_conflict") == "1"


def _reschedule_page(
    request: HttpRequest,
    installation: Installation,
    *,
    form: RescheduleForm | None,
    version: int | None,
    message: str = "",
    conflict: ScheduleConflict | None = None,
    status: int = 200,
) -> HttpResponse:
    """The form: inside the dialog for htmx (errors and the conflict question stay there), a full
    page without JavaScript."""
    data = request.POST if request.method == "POST" else request.GET
    detail = reverse("partner:detail", args=[installation.pk])
    ctx = {
        "installation": installation,
        "form": form,
        "version": version if version is not None else installation.version,
        "message": message,
        "conflict": conflict,
        # The confirmation re-posts exactly what was asked, so "Move anyway" can only confirm
        # the slot the warning was about.
        "confirm_fields": (
            [
                (name, data.get(name, ""))
                for name in ("scheduled_date", "window", "reason", "handyman")
                if name != "handyman" or data.get(name)
            ]
            if conflict
            else []
        ),
        "target": _target(data),
        "next_url": safe_path(data.get("next"), detail),
        "action_url": reverse("scheduling:reschedule", args=[installation.pk]),
    }
    if request.htmx:
        response = render(request, f"{RESCHEDULE_TEMPLATE}#reschedule-form", ctx, status=status)
        response = retarget(response, "#action-dialog-body")
        return reswap(response, "innerHTML")
    return render(request, RESCHEDULE_TEMPLATE, ctx, status=status)


def _refused(
    request: HttpRequest, installation: Installation, message: str, version: int | None
) -> HttpResponse:
    if request.htmx and _target(request.POST or request.GET) == "row":
        return _row_response(request, installation, message=message, status=409)
    return _reschedule_page(
        request, installation, form=None, version=version, message=message, status=409
    )


def _handyman_given(request: HttpRequest, installation: Installation) -> Handyman | None | bool:
    """The board's drop on another handyman's day sends him with the move (one change): one
    of the partner's handymen, None when none is sent, False for any other value."""
    raw = request.POST.get("handyman", "")
    if not raw:
        return None
    if not raw.isascii() or not raw.isdigit() or len(raw) > 9:
        return False
    found = installation.partner.handymen.select_related("user").filter(pk=int(raw)).first()
    return found if found is not None else False


def _confirmation(installation: Installation) -> str:
    when = slot_text(
        installation.scheduled_date, installation.window_start, installation.window_end
    )
    if installation.replayed:
        return f"#{installation.pk} ({installation.customer.name}) is on {when}."
    return f"Moved #{installation.pk} ({installation.customer.name}) to {when}."


def _done(request: HttpRequest, updated: Installation, *, given: bool = False) -> HttpResponse:
    said = _confirmation(updated)
    if given and updated.handyman is not None:
        said += f" {updated.handyman.display_name} is assigned to it."
    return _answer_done(request, updated, said)


@require_http_methods(["GET", "POST"])
@login_required
def reschedule(request: HttpRequest, pk: int) -> HttpResponse:
    installation = _installation_for_partner(request, pk)
    data = request.POST if request.method == "POST" else request.GET
    try:
        version = _version(data.get("version"))
    except ValueError:
        version, unreadable = None, True
    else:
        unreadable = False

    if request.method == "GET":
        if not may_reschedule(installation, request.user):
            message = refusal_sentence(installation, "reschedule")
            return _refused(request, installation, message, version)
        form = RescheduleForm(installation=installation)
        return _reschedule_page(request, installation, form=form, version=version)

    form = RescheduleForm(request.POST, installation=installation)
    handyman = _handyman_given(request, installation)
    if handyman is False:
        return _refused(request, installation, "Choose one of your handymen.", version)
    if form.is_valid() and not unreadable:
        start, end = form.window_times
        try:
            updated = services.installation_reschedule(
                installation=installation,
                actor=request.user,
                scheduled_date=form.cleaned_data["scheduled_date"],
                window_start=start,
                window_end=end,
                reason=form.cleaned_data["reason"],
                expected_version=version,
                confirm_conflict=_confirmed(request.POST),
                handyman=handyman,
            )
        except ScheduleConflict as conflict:
            return _reschedule_page(
                request, installation, form=form, version=version, conflict=conflict, status=409
            )
        except TransitionRefused as refused:
            current = refused.installation or installation
            if handyman is None and _still_possible_after_a_change(
                current, "reschedule", version, request.user
            ):
                # Changed under the open form (another tab moved it, or assigned it), and it
                # may still be moved: the form again with what was typed, at the version now
                # shown, as Assign does (partner.STALE_KEPT), rather than a Close button.
                return _reschedule_page(
                    request,
                    current,
                    form=RescheduleForm(request.POST, installation=current),
                    version=current.version,
                    message=_stale_kept(current),
                    status=409,
                )
            return _refused(request, current, refused.message, version)
        except ValidationError as error:
            _apply_service_errors(form, _on_the_window(error))
        else:
            return _done(request, updated, given=handyman is not None)
    if unreadable:
        form.add_error(None, UNREADABLE_PAGE)
    return _reschedule_page(request, installation, form=form, version=version, status=422)


def _stale_kept(current: Installation) -> str:
    when = slot_text(current.scheduled_date, current.window_start, current.window_end)
    return (
        f"Someone else changed this installation a moment ago: it is now on {when}, "
        f"“{current.get_status_display()}”. Nothing was changed yet: check it, then press "
        "“Reschedule” again (what you entered is kept)."
    )


def _on_the_window(error: ValidationError) -> ValidationError:
    """The service speaks of the window's end; the form has one "Arrival window" field."""
    if hasattr(error, "error_dict") and "window_end" in error.error_dict:
        errors = dict(error.error_dict)
        errors["window"] = errors.pop("window_end")
        return ValidationError(errors)
    return error


# --- Days off -----------------------------------------------------------------------------------


def _own_handyman(request: HttpRequest) -> Handyman:
    handyman = getattr(request.user, "handyman", None)
    if handyman is None:
        raise WrongRole("No handyman here.")
    return handyman


def days_off_context(handyman: Handyman, form: DayOffForm | None = None, note: str = "") -> dict:
    return {
        "handyman": handyman,
        "days_off": [
            (row.day, f"{day_text(row.day)} {row.day.year}")
            for row in selectors.upcoming_days_off(handyman, timezone.localdate())
        ],
        "day_off_form": form or DayOffForm(),
        "days_off_note": note,
    }


def _days_off_answer(
    request: HttpRequest, handyman: Handyman, *, form=None, note: str = "", status: int = 200
) -> HttpResponse:
    ctx = days_off_context(handyman, form, note)
    if request.htmx:
        return render(request, DAYS_OFF_PARTIAL, ctx, status=status)
    if status == 200 and request.method == "POST":
        messages.success(request, note)
        return redirect(f"{reverse('handyman:jobs')}#days-off-heading")
    return render(request, DAYS_OFF_TEMPLATE, ctx, status=status)


def _jobs_kept(handyman: Handyman, day: date) -> str:
    """A day off does not take his jobs off him: say which he still has that day (the office
    sees them flagged on the board, to move or give to someone else)."""
    jobs = selectors.jobs_kept_on(handyman, day)
    if not jobs:
        return ""
    listed = jobs_text(jobs)
    return (
        f" You still have {len(jobs)} job{'' if len(jobs) == 1 else 's'} that day ({listed}): "
        "the office sees them flagged and will move them or give them to someone else."
    )


@require_http_methods(["GET", "POST"])
@login_required
def days_off(request: HttpRequest) -> HttpResponse:
    """GET: the handyman's days off on a page of their own. POST: add one (a second add of the
    same day is answered as done)."""
    handyman = _own_handyman(request)
    if request.method == "GET":
        return _days_off_answer(request, handyman)
    form = DayOffForm(request.POST)
    if form.is_valid():
        day = form.cleaned_data["day"]
        try:
            _, added = services.time_off_add(handyman=handyman, day=day, actor=request.user)
        except ValidationError as error:
            _apply_service_errors(form, error)
        else:
            when = f"{day_text(day)} {day.year}"
            note = f"{when} is marked off." if added else f"{when} was already marked off."
            return _days_off_answer(request, handyman, note=note + _jobs_kept(handyman, day))
    return _days_off_answer(request, handyman, form=form, status=422)


@post_only("scheduling:days_off")
@login_required
def day_off_remove(request: HttpRequest) -> HttpResponse:
    handyman = _own_handyman(request)
    form = DayOffForm(request.POST)
    if form.is_valid():
        day = form.cleaned_data["day"]
        try:
            services.time_off_remove(handyman=handyman, day=day, actor=request.user)
        except ValidationError as error:
            _apply_service_errors(form, error)
        else:
            note = f"{day_text(day)} {day.year} is a working day again."
            return _days_off_answer(request, handyman, note=note)
    return _days_off_answer(request, handyman, form=form, status=422)
