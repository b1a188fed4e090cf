"""The evidence pack's downloads: the full record for the record's partner users and staff, and
the customer's copy (customer_copy.html says what it leaves out) from their signed link
once they have approved. The record's partner users and staff may also download each kept
customer's copy, the very file the customer got, to check what the customer holds."""

from __future__ import annotations

import logging

from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

from ..customer_links import LinkError, bad_link_counted, read_token, record_download_counted
from ..customer_status import customer_status
from ..models import CustomerActor
from ..services import actor_name
from ..statuses import Status
from ..views.customer import too_many
from . import selectors, services
from .models import EvidencePack

logger = logging.getLogger("installations")

# Where the customer's link still leads before approval: the pack waits for the approval.
AWAITING_APPROVAL = (Status.CONTRACT_SENT, Status.CONTRACT_SIGNED)


def _pdf(made: services.MadePack) -> HttpResponse:
    response = HttpResponse(made.pdf, content_type="application/pdf")
    response["Content-Disposition"] = f'attachment; filename="{made.filename}"'
    response["X-Content-Type-Options"] = "nosniff"
    response["X-Robots-Tag"] = "noindex"
    return response


@never_cache
@require_GET
@login_required
def customer_copy(request: HttpRequest, pk: int, pack_id: int) -> HttpResponse:
    """A kept customer's copy, byte for byte (not made again): 404 for another partner's
    record, a full pack or a copy made before copies were kept; 410 with a sentence when the
    stored file is gone or no longer matches the SHA-256 recorded when the customer got it."""
    pack = selectors.customer_copy_for(user=request.user, pk=pk, pack_id=pack_id)
    if pack is None:
        raise Http404("No such customer's copy.")
    try:
        pdf = services.customer_copy_read(pack=pack)
    except services.CopyUnavailable as exc:
        logger.error("%s", exc)
        ctx = {"pack": pack, "installation": pack.installation}
        return render(request, "installations/evidence/copy_unavailable.html", ctx, status=410)
    filename = f"installation-record-{pk}-copy-{pack.pk}.pdf"
    response = HttpResponse(pdf, content_type="application/pdf")
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    response["X-Content-Type-Options"] = "nosniff"
    response["X-Robots-Tag"] = "noindex"
    return response


@never_cache
@require_GET
@login_required
def pack(request: HttpRequest, pk: int) -> HttpResponse:
    installation = selectors.installation_for_evidence(user=request.user, pk=pk)
    if installation is None:
        raise Http404("No such installation.")
    made = services.evidence_pack_make(
        installation=installation, made_by_name=actor_name(request.user)
    )
    return _pdf(made)


def _unavailable(request: HttpRequest, ctx: dict, status: int) -> HttpResponse:
    response = render(request, "installations/evidence/unavailable.html", ctx, status=status)
    response["X-Robots-Tag"] = "noindex"
    return response


@never_cache
@require_GET
def customer_pack(request: HttpRequest, token: str) -> HttpResponse:
    """The same answers as the customer's pages for a bad link (404 not ours, 410 expired or
    replaced); before approval 404 (there is no pack yet), and 410 for a job that has left
    the customer's hands another way. Links that do not work count against the client's address,
    downloads against the link's day (429 past either)."""
    try:
        installation = read_token(token)
    except LinkError as error:
        if refused := bad_link_counted(request):
            return too_many(request, refused, reason="bad_link")
        partner = error.installation.partner if error.installation else None
        ctx = {"reason": error.reason, "partner": partner}
        return _unavailable(request, ctx, 404 if error.reason == "invalid" else 410)
    if installation.status != Status.CUSTOMER_APPROVED:
        waiting = installation.status in AWAITING_APPROVAL
        ctx = {
            "reason": "not_yet" if waiting else "moved_on",
            "partner": installation.partner,
            "installation": installation,
            "status_text": customer_status(installation),
            "token": token,
        }
        return _unavailable(request, ctx, 404 if waiting else 410)
    if refused := record_download_counted(installation):
        return too_many(request, refused, reason="record", partner=installation.partner)
    customer = CustomerActor(installation.pk, installation.customer.name)
    made = services.evidence_pack_make(
        installation=installation,
        made_by_name=actor_name(customer),
        copy=EvidencePack.Copy.CUSTOMER,
    )
    return _pdf(made)
