"""The list's bulk bar: one POST with the selected rows, answered with the list as it now is.

htmx gets the list's `#results` fragment (table, bar and a result panel) and the summary for the
page's polite live region; a plain POST is redirected back to the list (its filters and page)
where the result is shown once. Bad input (no handyman, no reason, more than 100 rows, a page
we cannot read) re-renders the list with the error and the selection kept (422), changing nothing.
"""

from __future__ import annotations

import json
from dataclasses import replace
from typing import Any
from urllib.parse import urlencode, urlsplit

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect, QueryDict
from django.shortcuts import render
from django.urls import Resolver404, resolve, reverse
from django_htmx.http import HttpResponseClientRedirect

from ..models import Partner
from ..redirects import post_only, safe_path
from ..views.partner import LIST_TEMPLATE, UNREADABLE_PAGE, _partner_for, list_context
from .forms import BulkForm, selection
from .outcome import keep_bulk_outcome
from .selectors import bulk_outcome_context
from .services import (
    BulkResult,
    check_selection_size,
    installations_bulk_assign,
    installations_bulk_reject,
)

RESULT_ANCHOR = "#bulk-result"
# The list's own parameters that are not filters: an export gets the filters and the ids.
NOT_FILTERS = ("page", "per_page")


def _list_url(request: HttpRequest) -> str:
    """The list page (with its filters and page) the bar was on; the plain list otherwise."""
    default = reverse("partner:list")
    path = safe_path(request.POST.get("next"), default).split("#", 1)[0]
    try:
        match = resolve(urlsplit(path).path)
    except Resolver404:
        return default
    return path if match.view_name == "partner:list" else default


def _list_query(list_url: str) -> QueryDict:
    return QueryDict(urlsplit(list_url).query)


def _render_list(
    request: HttpRequest,
    partner: Partner,
    list_url: str,
    *,
    result: BulkResult | None = None,
    form: BulkForm | None = None,
    errors: list[str] | None = None,
    selected: list[int] | tuple[int, ...] = (),
    status: int = 200,
) -> HttpResponse:
    ctx = list_context(request, partner, _list_query(list_url), list_url)
    ctx.update(bulk_outcome_context(result, ctx["rows"], selected=selected))
    ctx["bulk_form"] = form
    ctx["bulk_errors"] = errors or []
    if request.htmx:
        response = render(request, f"{LIST_TEMPLATE}#results", ctx, status=status)
        if result is not None:
            # bulk.js says it in the page's polite live region.
            response["HX-Trigger"] = json.dumps({"bulk-done": {"message": result.summary()}})
        return response
    return render(request, LIST_TEMPLATE, ctx, status=status)


def _export(request: HttpRequest, list_url: str, ids: list[int]) -> HttpResponse:
    """To the spreadsheet export with the list's filters and the selected ids (a GET there, so
    that the form's CSRF token never lands in a URL)."""
    export_url = reverse("spreadsheets:export")
    query = [(k, v) for k, v in _list_query(list_url).lists() if k not in NOT_FILTERS]
    params = [(k, v) for k, values in query for v in values] + [("id", pk) for pk in ids]
    url = f"{export_url}?{urlencode(params)}"
    return HttpResponseClientRedirect(url) if request.htmx else HttpResponseRedirect(url)


def _perform(request: HttpRequest, partner: Partner, form: BulkForm, rows: dict) -> BulkResult:
    data = form.cleaned_data
    if data["action"] == "assign":
        return installations_bulk_assign(
            partner=partner,
            rows=rows,
            handyman=data["handyman"],
            actor=request.user,
            confirm_conflict=data["confirm_conflict"],
        )
    return installations_bulk_reject(
        partner=partner, rows=rows, reason=data["reason"], actor=request.user
    )


def _kept(form: BulkForm) -> dict[str, str]:
    """The bar's choices as the person made them, for the rows left selected."""
    data = form.cleaned_data
    return {
        "reason": data.get("reason") or "",
        "handyman": str(data["handyman"].pk) if data.get("handyman") else "",
        "confirm_conflict": "1" if data.get("confirm_conflict") else "",
    }


def _error_sentences(error: ValidationError) -> list[str]:
    return list(error.messages)


@post_only("partner:list")
@login_required
def bulk_apply(request: HttpRequest) -> HttpResponse:
    partner = _partner_for(request)
    list_url = _list_url(request)
    form = BulkForm(request.POST, partner=partner)
    # Every input is read and checked before a service is called: a page we cannot read
    # changes nothing.
    try:
        rows = selection(request.POST)
    except ValueError:
        errors = [UNREADABLE_PAGE]
        return _render_list(request, partner, list_url, form=form, errors=errors, status=422)
    selected = list(rows)
    refuse: dict[str, Any] = {"form": form, "selected": selected, "status": 422}
    if not form.is_valid():
        return _render_list(request, partner, list_url, **refuse)
    try:
        check_selection_size(rows)
        if form.cleaned_data["action"] == "export":
            return _export(request, list_url, selected)
        result = _perform(request, partner, form, rows)
        if result.refused:
            result = replace(result, kept=_kept(form))
    except ValidationError as error:
        return _render_list(request, partner, list_url, errors=_error_sentences(error), **refuse)
    if request.htmx:
        return _render_list(request, partner, list_url, result=result)
    (messages.warning if result.refused else messages.success)(request, result.summary())
    keep_bulk_outcome(request, result)
    return HttpResponseRedirect(f"{list_url}{RESULT_ANCHOR}")
