"""The change feed: `GET ?since=N&from=<page path>&rows=<ids on the page>`.

At rest (nothing changed since N) it is one indexed query and a bodiless 304, found with the
page's signed feed key and without the session (see `at_rest`). Otherwise, through the login, it
answers JSON: the new stamp, the changed installations (id, version, the sentence to announce),
the swaps for the page asking, rendered by that page's renderer (pages.py), and which changed
ones now belong on the page but are not on it (`entered`) among all it changed (`ids`): the
page keeps its "N more now match" count by id, so a new job that changes again is still one."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

from django.contrib.auth.decorators import login_required
from django.http import (
    Http404,
    HttpRequest,
    HttpResponse,
    HttpResponseBadRequest,
    HttpResponseNotModified,
    JsonResponse,
    QueryDict,
)
from django.urls import Resolver404, resolve
from django.views.decorators.http import require_GET

from ..models import handyman_of, partner_id_of
from . import selectors
from .pages import RENDERERS, Locate, Page

MAX_ROWS = 500  # ids a page may say it shows (a board shows a few hundred cards at most)


def _since(raw: str | None) -> int | None:
    if raw is None:
        return None
    if not (raw.isascii() and raw.isdigit() and len(raw) <= 18):
        raise ValueError(raw)
    return int(raw)


def _on_page(raw: str) -> dict[int, str]:
    """`12,13:today,14:2026-12-05` → {12: "", 13: "today", 14: "2026-12-05"} (junk skipped)."""
    found: dict[int, str] = {}
    for item in raw.split(",")[:MAX_ROWS]:
        pk, _, where = item.partition(":")
        if pk.isascii() and pk.isdigit() and len(pk) <= 10:
            found[int(pk)] = where[:16]
    return found


def _page(
    request: HttpRequest, owner_id: int, changed: list[int], prefix: str | tuple[str, ...]
) -> Page | None:
    """The page asking, if it is one of the owner's own pages that has a renderer."""
    raw = request.GET.get("from", "")
    if not raw.startswith("/") or raw.startswith("//") or len(raw) > 2000:
        return None
    parts = urlsplit(raw)
    try:
        match = resolve(parts.path)
    except (Resolver404, ValueError):
        return None
    if not match.view_name.startswith(prefix) or match.view_name not in RENDERERS:
        return None
    return Page(
        request=request,
        owner_id=owner_id,
        changed=changed,
        view_name=match.view_name,
        kwargs=match.kwargs,
        query=QueryDict(parts.query),
        path=f"{parts.path}?{parts.query}" if parts.query else parts.path,
        on_page=_on_page(request.GET.get("rows", "")),
    )


def _say(installation: Any, status_changed: bool, where: str = "") -> str:
    """What a page says of a change: its status ("#41 Alice Moreau: En route"), or, when the
    change kept the status (an address, a note, a new day), that its details changed; then
    where the record now is, if the page says it (the board)."""
    what = installation.get_status_display() if status_changed else "details changed"
    now = f", now {where}" if where else ""
    return f"#{installation.pk} {installation.customer.name}: {what}{now}"


def _feed(
    request: HttpRequest,
    owner_id: int | None,
    changes_of: Any,
    stamp_of: Any,
    prefix: str | tuple[str, ...],
) -> HttpResponse:
    if owner_id is None:
        raise Http404("No change feed for this user.")
    try:
        since = _since(request.GET.get("since"))
    except ValueError:
        return HttpResponseBadRequest("`since` must be a stamp this page was given.")
    if since is None:  # "what is the stamp now?"
        return _json({"stamp": stamp_of(owner_id), "changed": [], "parts": [], "entered": []})
    changes = changes_of(owner_id, since=since)
    if not changes.installation_ids:
        return HttpResponseNotModified()
    body: dict[str, Any] = {"stamp": changes.stamp, "changed": [], "parts": [], "entered": []}
    if changes.gap:
        body["reload"] = True
    elif (page := _page(request, owner_id, changes.installation_ids, prefix)) is not None:
        try:
            parts, entered = RENDERERS[page.view_name](page)
        except Locate as ask:
            # A page that lists only what it is asked about: the same question again, with
            # where these records sit (`rows`, `located=1`); nothing is applied meanwhile.
            return _json({"stamp": since, "locate": ask.pks, "changed": [], "parts": []})
        shown = {p.installation.pk: p for p in parts if p.installation is not None}
        body["entered"] = list(entered)
        body["ids"] = changes.installation_ids  # all in the scope: the page's own partner's
        body["changed"] = [
            {
                "pk": pk,
                "version": p.installation.version,
                "say": p.say or _say(p.installation, pk in changes.status_changed, p.where),
                **({"kind": p.kind} if p.kind != "info" else {}),  # news unless said otherwise
            }
            for pk, p in shown.items()
        ]
        body["parts"] = [
            {
                "target": p.target,
                "html": p.html,
                "pk": getattr(p.installation, "pk", None),
                "pks": list(p.pks),
            }
            for p in parts
            if p.target
        ]
    return _json(body)


def _json(body: dict[str, Any]) -> HttpResponse:
    response = JsonResponse(body)
    response["Cache-Control"] = "no-store"
    return response


def at_rest(request: HttpRequest, kind: str) -> bool:
    """Nothing changed since the page's stamp, by the page's own feed key: answered with ONE
    indexed query and without reading the session or the user (the floor every signed-in
    request would otherwise pay twice over). A missing, forged or expired key, or a garbled
    stamp, is simply not at rest: the request goes through the login as any other."""
    owner_id = selectors.feed_key_owner(request.GET.get("key", ""), kind)
    if owner_id is None:
        return False
    try:
        since = _since(request.GET.get("since"))
    except ValueError:
        return False
    if since is None:
        return False
    return not selectors.changed_since(kind=kind, owner_id=owner_id, since=since)


@require_GET
def partner_feed(request: HttpRequest) -> HttpResponse:
    """The partner's pages (list, detail, and any page registered in pages.py)."""
    if at_rest(request, "p"):
        return HttpResponseNotModified()
    return _partner_changes(request)


@login_required
def _partner_changes(request: HttpRequest) -> HttpResponse:
    # The login already read the user's partner (one query with the user): no lookup here.
    return _feed(
        request,
        partner_id_of(request.user),
        lambda owner, since: selectors.partner_changes(partner_id=owner, since=since),
        selectors.partner_stamp,
        ("partner:", "board:"),  # the partner's pages and the dispatch board
    )


@require_GET
def handyman_feed(request: HttpRequest) -> HttpResponse:
    """The handyman's page."""
    if at_rest(request, "h"):
        return HttpResponseNotModified()
    return _handyman_changes(request)


@login_required
def _handyman_changes(request: HttpRequest) -> HttpResponse:
    handyman = handyman_of(request.user)
    return _feed(
        request,
        handyman.pk if handyman is not None else None,
        lambda owner, since: selectors.handyman_changes(handyman_id=owner, since=since),
        selectors.handyman_stamp,
        "handyman:",
    )
