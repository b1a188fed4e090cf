"""CSV export of the partner's list and the bulk-scheduling import (upload, preview, commit)."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import (
    Http404,
    HttpRequest,
    HttpResponse,
    HttpResponseRedirect,
    StreamingHttpResponse,
)
from django.shortcuts import render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_GET, require_http_methods

from .. import selectors as core_selectors
from ..filters import InstallationFilter
from ..forms import WINDOWS
from ..models import Partner
from ..redirects import post_only
from ..views.partner import _partner_for
from . import export, selectors, services
from .forms import UploadForm
from .reading import COLUMNS, MAX_BYTES, MAX_ROWS, FileRefused
from .validation import DATE_FORMATS, WINDOW_TEXT

IMPORT_TEMPLATE = "installations/spreadsheets/import.html"
MAX_IDS = 1000


# --- Export -------------------------------------------------------------------------------------


def _ids(raw: list[str]) -> list[int] | None:
    """The `id=` parameters as numbers; ValueError for anything that is not a record number."""
    if not raw:
        return None
    if len(raw) > MAX_IDS:
        raise ValueError("too many")
    ids = []
    for value in raw:
        value = value.strip().lstrip("#")
        if not (value.isascii() and value.isdigit() and len(value) <= 18):
            raise ValueError(value)
        ids.append(int(value))
    return ids


@require_GET
@login_required
def export_csv(request: HttpRequest) -> HttpResponse:
    """Exactly the rows of the list under the same filters (all pages), or of the chosen ids
    among them, streamed."""
    partner = _partner_for(request)
    filterset = InstallationFilter(
        request.GET, queryset=core_selectors.installations_for_partner(partner), partner=partner
    )
    problems: list[str] = []
    try:
        ids = _ids(request.GET.getlist("id"))
    except ValueError:
        ids = None
        problems.append(
            f"The chosen installations could not be read (at most {MAX_IDS:,}, by number). "
            "Choose them again on the list."
        )
    if not filterset.is_valid():
        problems += [error for errors in filterset.errors.values() for error in errors]
    if problems:
        ctx = {"problems": problems, "list_url": reverse("partner:list")}
        return render(request, "installations/spreadsheets/export_refused.html", ctx, status=422)
    rows = selectors.export_queryset(filterset.qs, ids)
    response = StreamingHttpResponse(export.stream(rows), content_type="text/csv; charset=utf-8")
    filename = f"installations-{timezone.localdate():%Y-%m-%d}.csv"
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    response["Cache-Control"] = "private, no-store"
    return response


# --- Import -------------------------------------------------------------------------------------


def _example_rows() -> list[list[str]]:
    day = timezone.localdate() + timezone.timedelta(days=7)
    windows = list(WINDOWS.values())
    return [
        [
            "Ana Souza",
            "07700 900123",
            "ana@example.com",
            "12 High Street, Leeds LS1 4AB",
            "",
            day.isoformat(),
            f"{windows[0][0]:%H:%M}-{windows[0][1]:%H:%M}",
            "Ring the bell twice",
            "",
            "ORDER-1001",
        ],
        [
            "Jürgen Müller",
            "",
            "jurgen@example.com",
            "4 Mill Lane, York YO1 7HB",
            "Unit 3, Mill Lane, York YO1 7HB",
            (day + timezone.timedelta(days=1)).isoformat(),
            f"{windows[3][0]:%H:%M}-{windows[3][1]:%H:%M}",
            "",
            "",
            "ORDER-1002",
        ],
    ]


@require_GET
@login_required
def import_template(request: HttpRequest) -> HttpResponse:
    """The file to fill in: every column, and two example rows to overwrite."""
    _partner_for(request)
    header = [column.name for column in COLUMNS.values()]
    body = "".join(export.lines_of([header, *_example_rows()]))
    response = HttpResponse(body.encode("utf-8"), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = 'attachment; filename="installations-import-template.csv"'
    return response


def _page_context(partner: Partner, form: UploadForm) -> dict[str, Any]:
    return {
        "form": form,
        "max_mb": MAX_BYTES // (1024 * 1024),
        "max_rows_text": f"{MAX_ROWS:,}",
        "columns": COLUMNS,
        "windows": WINDOW_TEXT,
        "date_examples": "2026-05-31, 31/05/2026, 31/05/26 or 31.05.2026",
        "date_formats": DATE_FORMATS,
        "recent": selectors.recent_imports(partner),
        "upload": None,
        "report": None,
        "refused": "",
        "filename": "",
    }


@require_http_methods(["GET", "POST"])
@login_required
def import_page(request: HttpRequest) -> HttpResponse:
    """GET: the upload form, or with `?upload=` a stored file's preview (checked again now) or,
    once imported, what it created. POST: upload a file: a file whose rows all pass is stored and
    its preview shown (303 to it); otherwise the errors, row by row, and nothing stored."""
    partner = _partner_for(request)
    if request.method == "POST":
        return _upload(request, partner)
    ctx = _page_context(partner, UploadForm())
    public_id = request.GET.get("upload")
    if public_id is not None:
        upload = selectors.import_for_partner(partner, public_id)
        if upload is None:
            raise Http404("No such import.")
        ctx["upload"] = upload
        if not upload.is_committed:
            try:
                ctx["report"] = services.import_check(upload=upload)
            except FileRefused as refused:
                ctx["refused"] = refused.message
    return render(request, IMPORT_TEMPLATE, ctx)


def _preview_url(upload: Any) -> str:
    return f"{reverse('spreadsheets:import')}?upload={upload.public_id}"


def _already(done: Any) -> str:
    when = timezone.localtime(done.committed_at)
    return (
        f"This file was already imported on {when.day} {when:%b %Y at %H:%M} "
        f"({done.jobs_created} installation{'' if done.jobs_created == 1 else 's'}): "
        "nothing was added."
    )


def _upload(request: HttpRequest, partner: Partner) -> HttpResponse:
    form = UploadForm(request.POST, request.FILES)
    ctx = _page_context(partner, form)
    if not form.is_valid():
        return render(request, IMPORT_TEMPLATE, ctx, status=422)
    file = form.cleaned_data["file"]
    try:
        checked = services.import_upload(
            partner=partner, actor=request.user, filename=file.name or "", content=file.read()
        )
    except FileRefused as refused:
        form.add_error("file", refused.message)
        return render(request, IMPORT_TEMPLATE, ctx, status=422)
    if checked.done is not None:
        messages.info(request, _already(checked.done))
        return HttpResponseRedirect(_preview_url(checked.done), status=303)
    if checked.upload is None:
        ctx["report"] = checked.report
        ctx["filename"] = file.name
        return render(request, IMPORT_TEMPLATE, ctx, status=422)
    return HttpResponseRedirect(_preview_url(checked.upload), status=303)


@post_only("spreadsheets:import")
@login_required
def import_commit(request: HttpRequest) -> HttpResponse:
    """Import the stored file the preview showed: all its jobs, or none."""
    partner = _partner_for(request)
    public_id = request.POST.get("upload", "")
    if not public_id:
        ctx = _page_context(partner, UploadForm())
        ctx["refused"] = "Upload a file first: there was nothing to import."
        return render(request, IMPORT_TEMPLATE, ctx, status=422)
    upload = selectors.import_for_partner(partner, public_id)
    if upload is None:
        raise Http404("No such import.")
    try:
        done = services.import_commit(
            upload=upload, actor=request.user, confirmed=request.POST.get("confirm_conflicts", "")
        )
    except services.ImportRefused as refused:
        # What the preview said is no longer true, or overlaps were not confirmed: a 409, with
        # the rows as they check now (and the button to import anyway, if they all pass).
        ctx = _page_context(partner, UploadForm())
        ctx.update(upload=upload, report=refused.report, refused=refused.message)
        return render(request, IMPORT_TEMPLATE, ctx, status=409)
    if done.replayed:
        messages.info(request, _already(done))
    else:
        messages.success(
            request,
            f"Imported {done.jobs_created} installation{'' if done.jobs_created == 1 else 's'} "
            f"from {done.filename or 'your file'}.",
        )
    return HttpResponseRedirect(_preview_url(done), status=303)
