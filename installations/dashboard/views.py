"""The partner's dashboard: charts and tables over the period in the URL, stuck jobs, and the
form that sets the stuck-job thresholds. Reads come from the rollups (selectors.py)."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.urls import reverse
from django.views.decorators.http import require_GET

from ..models import Partner
from ..redirects import post_only
from ..statuses import NON_TERMINAL_STATUSES, Status
from ..views.common import WrongRole
from . import selectors, services
from .forms import ThresholdsForm, seen_text
from .presenters import page_context

TEMPLATE = "installations/dashboard/page.html"


def _partner_for(request: HttpRequest) -> Partner:
    """The signed-in user's partner; any other role gets 404 (this page is not theirs)."""
    profile = getattr(request.user, "partner_profile", None)
    if profile is None:
        raise WrongRole("No partner for this user.")
    return profile.partner


def _render(
    request: HttpRequest,
    partner: Partner,
    weeks: int,
    form: ThresholdsForm | None,
    status=200,
    changed: dict[str, int] | None = None,
) -> HttpResponse:
    dash = selectors.dashboard(partner=partner, weeks=weeks)
    ctx = page_context(dash, f"{reverse('dashboard:page')}?")
    initial = {**dash.thresholds, "seen": seen_text(dash.thresholds)}
    ctx["form"] = form or ThresholdsForm(initial=initial)
    ctx["changed"] = changed and [
        (Status(s).label, hours) for s, hours in changed.items() if s in NON_TERMINAL_STATUSES
    ]
    ctx["thresholds_url"] = reverse("dashboard:thresholds")
    # htmx asking to restore history wants the whole page (it swaps it into <body>); the
    # portal's htmx config reloads instead, but the answer stays right if that ever changes.
    fragment = bool(request.htmx) and not request.htmx.history_restore_request
    name = f"{TEMPLATE}#dashboard-body" if fragment else TEMPLATE
    return render(request, name, ctx, status=status)


@require_GET
@login_required
def dashboard(request: HttpRequest) -> HttpResponse:
    partner = _partner_for(request)
    return _render(request, partner, selectors.weeks_from(request.GET.get("weeks")), None)


@post_only("dashboard:page")
@login_required
def thresholds(request: HttpRequest) -> HttpResponse:
    partner = _partner_for(request)
    weeks = selectors.weeks_from(request.POST.get("weeks"))
    form = ThresholdsForm(request.POST)
    if not form.is_valid():
        return _render(request, partner, weeks, form, status=422)
    try:
        services.dashboard_thresholds_update(
            partner=partner,
            actor=request.user,
            hours=form.hours(),
            seen=form.cleaned_data["seen"],
        )
    except services.ThresholdsChanged as changed:
        # The hours typed stay in the form; what is saved now is said, and becomes what the
        # form has seen: sent again, it replaces them knowingly.
        data = request.POST.copy()
        data["seen"] = seen_text(changed.current)
        form = ThresholdsForm(data)
        form.is_valid()
        return _render(request, partner, weeks, form, status=409, changed=changed.current)
    messages.success(request, "Stuck-job thresholds saved.")
    if request.htmx:
        return _render(request, partner, weeks, None)
    return HttpResponseRedirect(f"{reverse('dashboard:page')}?weeks={weeks}#stuck")
