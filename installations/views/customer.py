"""The customer's pages: no account, only a signed link (customer_links) for one installation.

Every request re-checks the token. A bad token changes nothing and says why: 404 when the link is
not ours or its installation is gone (nothing about the partner is revealed), 410 Gone when it is
genuine but expired or replaced by a newer one, or when the job has moved on (cancelled; a job
booked again says for when, customer_status.moved_to, and nothing more of the new one).
A POST that the job's current status no longer allows (signing twice) answers 409 with the page
as it now is. Too many links that do not work from one address, or too many POSTs to one link,
answer 429 with a page that says how long to wait (customer_links' limits), and change nothing.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from functools import wraps
from typing import Any

from django.core.exceptions import ValidationError
from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.cache import add_never_cache_headers
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET
from PIL import Image, UnidentifiedImageError

from .. import services
from ..contracts import TYPED_STATEMENT, contract_text, done_on, read_mark
from ..customer_links import MAX_AGE, LinkError, bad_link_counted, link_post_counted, read_token
from ..customer_status import customer_status, moved_to, new_link_sent
from ..evidence.selectors import contract_as_signed
from ..formatting import duration_text
from ..models import CustomerActor, Installation, Partner
from ..ratelimit.services import Refused, client_ip
from ..redirects import post_only
from ..signatures import decode_signature
from ..statuses import Status

# The statuses in which the customer's link leads somewhere.
CUSTOMER_STATUSES = (Status.CONTRACT_SENT, Status.CONTRACT_SIGNED, Status.CUSTOMER_APPROVED)
PHOTO_TYPES = {"JPEG": "image/jpeg", "PNG": "image/png"}
# {"<installation id>": "<link nonce>"} of the links this browser has opened (views/media.py).
LINKS_SESSION_KEY = "customer_links"


def _link_error(request: HttpRequest, error: LinkError) -> HttpResponse:
    status = 404 if error.reason == "invalid" else 410
    partner = error.installation.partner if error.installation else None
    ctx = {"reason": error.reason, "partner": partner}
    response = render(request, "customer/link_error.html", ctx, status=status)
    response["X-Robots-Tag"] = "noindex"
    return response


def too_many(
    request: HttpRequest, refused: Refused, *, reason: str, partner: Partner | None = None
) -> HttpResponse:
    """429 with a page that says how long to wait; `Retry-After` says it to scripts."""
    ctx = {"reason": reason, "refused": refused, "partner": partner}
    response = render(request, "customer/too_many.html", ctx, status=429)
    response["Retry-After"] = str(refused.retry_after)
    response["X-Robots-Tag"] = "noindex"
    add_never_cache_headers(response)
    return response


def _with_link(*, moved_on_status: int) -> Callable[[Callable], Callable]:
    """For the views behind a link: the view gets the installation of a valid token whose
    record is still with the customer; otherwise the page that says why (a record that has
    moved on is 410 on the page itself, 409 for a step posted to it)."""

    def decorator(view: Callable) -> Callable:
        @wraps(view)
        def wrapper(request: HttpRequest, token: str, *args: Any, **kwargs: Any) -> HttpResponse:
            try:
                installation = read_token(token)
            except LinkError as error:
                if refused := bad_link_counted(request):
                    return too_many(request, refused, reason="bad_link")
                return _link_error(request, error)
            if request.method == "POST" and (refused := link_post_counted(installation)):
                return too_many(request, refused, reason="busy", partner=installation.partner)
            if installation.status not in CUSTOMER_STATUSES:
                return _moved_on(request, installation, status=moved_on_status)
            # This browser holds a valid link: the media view may show it this record's uploads.
            _remember_link(request, installation)
            return view(request, token, installation, *args, **kwargs)

        return wrapper

    return decorator


def _remember_link(request: HttpRequest, installation: Installation) -> None:
    """The media view shows this browser the record's uploads while this nonce stays current."""
    links, key = request.session.get(LINKS_SESSION_KEY, {}), str(installation.pk)
    if links.get(key) != installation.link_nonce:
        request.session[LINKS_SESSION_KEY] = {**links, key: installation.link_nonce}


def _moved_on(request: HttpRequest, installation: Installation, status: int) -> HttpResponse:
    ctx = {
        "reason": "moved_on",
        "partner": installation.partner,
        "installation": installation,
        "status_text": customer_status(installation),
        "moved_to": moved_to(installation),
        "new_link_sent": new_link_sent(installation),
    }
    return render(request, "customer/link_error.html", ctx, status=status)


@dataclass
class Photo:
    url: str
    width: int | None
    height: int | None


def _photos(installation: Installation, token: str) -> list[Photo]:
    """Each photo with its size, so that the page keeps its layout while they load."""
    photos = []
    for item in installation.photos.all():
        try:
            width, height = item.image.width, item.image.height
        except (OSError, ValueError):  # a file gone missing: no size, the page still renders
            width = height = None
        photos.append(Photo(reverse("customer:photo", args=[token, item.pk]), width, height))
    return photos


def _contract_shown(installation: Installation) -> tuple[str, str]:
    """The contract the page shows and the mark the sign form carries (empty when there is
    nothing to sign). Before signing, the contract as it reads today; once signed, the text the
    customer signed (kept at signing), which a later edit of the partner's terms or an override
    of the record does not change: the page stays the customer's record. Rendered once for
    both: the default contract is a template."""
    signed, _, _ = contract_as_signed(installation)
    to_sign = installation.status == Status.CONTRACT_SENT
    today = contract_text(installation) if to_sign or not signed else ""
    return signed or today, read_mark(installation, today) if to_sign else ""


def _page(
    request: HttpRequest,
    installation: Installation,
    token: str,
    *,
    status: int = 200,
    errors: dict | None = None,
    notice: str = "",
    name: str = "",
    typed: bool = False,
    signature: str = "",
) -> HttpResponse:
    shown, mark = _contract_shown(installation)
    ctx = {
        "installation": installation,
        "partner": installation.partner,
        "customer": installation.customer,
        "token": token,
        "photos": _photos(installation, token),
        "time_on_site": duration_text(installation.time_on_site),
        "status_text": customer_status(installation),
        "done_on": done_on(installation),
        "is_follow_up": installation.kind == Installation.Kind.FOLLOW_UP,
        "contract_text": shown,
        "read_mark": mark,
        "typed_statement": TYPED_STATEMENT,
        "link_days": MAX_AGE.days,
        "errors": errors or {},
        "notice": notice,
        "name": name,
        "typed": typed,
        "signature": signature,
        "Status": Status,
    }
    response = render(request, "customer/page.html", ctx, status=status)
    response["X-Robots-Tag"] = "noindex"
    return response


@never_cache
@require_GET
@_with_link(moved_on_status=410)
def page(request: HttpRequest, token: str, installation: Installation) -> HttpResponse:
    return _page(request, installation, token)


def _refused_notice(current: Installation) -> str:
    """A step refused by the service (the job changed meanwhile): its message speaks to the
    office ("Someone else changed…", the office's status), so the customer reads their own."""
    return (
        "Nothing was changed: this page changed while you were sending. "
        f"It now says: {customer_status(current)}."
    )


ALREADY_SIGNED = "This contract is already signed. Nothing was changed."


def _drawn_version(request: HttpRequest) -> int | None:
    """The version the sign form was drawn from; None when missing or garbled (then the job's
    current version is expected, as before the form carried one)."""
    try:
        return int(request.POST.get("version", ""))
    except ValueError:
        return None


def _customer(installation: Installation) -> CustomerActor:
    return CustomerActor(installation.pk, installation.customer.name)


@never_cache
@post_only("customer:page", "token")
@_with_link(moved_on_status=409)
def sign(request: HttpRequest, token: str, installation: Installation) -> HttpResponse:
    drawn_from = _drawn_version(request)
    signed = installation.status != Status.CONTRACT_SENT
    # From a page drawn before the signing, the form may be this very signature sent again (a
    # double tap, a retry after a lost answer): the service recognises it, below. Anything
    # else that finds the contract signed is refused as before.
    if signed and drawn_from in (None, installation.version):
        return _page(request, installation, token, status=409, notice=ALREADY_SIGNED)
    name = request.POST.get("name", "").strip()[:120]
    # Ticking the statement makes the typed name the signature: no drawing, no pointer needed.
    typed = request.POST.get("typed_signature") == "yes"
    errors: dict[str, list[str]] = {}
    signature_png = b""
    if not name:
        errors["name"] = ["Type your full name."]
    drawing = request.POST.get("signature", "")
    if not typed:
        try:
            signature_png = decode_signature(drawing)
        except ValidationError as exc:
            errors["signature"] = exc.messages
            if not drawing.strip():
                errors["signature"] = [
                    "Please sign in the box, or tick the statement below to sign with your "
                    "typed name."
                ]
    # A readable drawing goes back into the box, so that a missing name costs only the name.
    kept = drawing if signature_png else ""
    if errors and signed:
        return _page(request, installation, token, status=409, notice=ALREADY_SIGNED)
    if errors:
        return _page(
            request,
            installation,
            token,
            status=422,
            errors=errors,
            name=name,
            typed=typed,
            signature=kept,
        )

    def signing(expected_version: int | None) -> Installation:
        return services.installation_sign(
            installation=installation,
            name=name,
            signature_png=signature_png,
            ip=client_ip(request),  # as the limits see it (TRUSTED_PROXY_COUNT)
            actor=_customer(installation),
            expected_version=expected_version,
            typed=typed,
        )

    read = request.POST.get("read", "")
    try:
        if read and not signed and read != read_mark(installation):
            # The partner's terms or the address changed while they read: not what they sign.
            raise services.TransitionRefused("", installation=installation)
        try:
            installation = signing(installation.version if drawn_from is None else drawn_from)
        except services.TransitionRefused as refused:
            current = refused.installation or installation
            # The job moved on from the page only in what the page does not show (the office's
            # notes for the handyman): what they read is what there is, so it is signed.
            if current.status != Status.CONTRACT_SENT or read != read_mark(current):
                raise
            installation = signing(current.version)
    except services.TransitionRefused as refused:
        current = refused.installation or installation
        if current.status != Status.CONTRACT_SENT and signed:
            return _page(request, current, token, status=409, notice=ALREADY_SIGNED)
        if current.status == Status.CONTRACT_SENT:
            # Still to sign, but not the page they read (the terms or the address changed, or a
            # page without its mark): the contract as it now is, with what they typed and drew.
            notice = (
                f"Nothing was changed: {current.partner.name} changed the details of your "
                "installation while you were signing. Please read them again, then sign."
            )
            return _page(
                request,
                current,
                token,
                status=409,
                notice=notice,
                name=name,
                typed=typed,
                signature=kept,
            )
        return _page(request, current, token, status=409, notice=_refused_notice(current))
    except ValidationError as exc:
        errors = exc.message_dict if hasattr(exc, "error_dict") else {"name": exc.messages}
        return _page(
            request, installation, token, status=422, errors=errors, name=name, signature=kept
        )
    # Opens at the thanks for signing and the Approve button, not at the top of a long page.
    return redirect(reverse("customer:page", args=[token]) + "#approve")


@never_cache
@post_only("customer:page", "token")
@_with_link(moved_on_status=409)
def approve(request: HttpRequest, token: str, installation: Installation) -> HttpResponse:
    if installation.status == Status.CUSTOMER_APPROVED:
        # Only the customer approves, so this is their own approval again (a double tap on a
        # slow connection, whose second answer is the one shown; a second tab): answered as
        # done, with the page that says when they approved.
        return redirect("customer:page", token=token)
    if installation.status != Status.CONTRACT_SIGNED:
        notice = "Please sign the contract first, then approve the installation."
        return _page(request, installation, token, status=409, notice=notice)
    try:
        services.installation_approve(
            installation=installation,
            actor=_customer(installation),
            expected_version=installation.version,
        )
    except services.TransitionRefused as refused:
        current = refused.installation or installation
        return _page(request, current, token, status=409, notice=_refused_notice(current))
    return redirect("customer:page", token=token)


@require_GET
def photo(request: HttpRequest, token: str, photo_id: int) -> HttpResponse:
    """Stream one completion photo to the holder of a valid link (media is not served publicly)."""
    try:
        installation = read_token(token)
    except LinkError:
        if refused := bad_link_counted(request):
            return too_many(request, refused, reason="bad_link")
        raise Http404 from None
    if installation.status not in CUSTOMER_STATUSES:
        raise Http404
    item = installation.photos.filter(pk=photo_id).first()
    if item is None or not item.image:
        raise Http404
    try:
        handle = item.image.open("rb")
    except OSError:
        raise Http404 from None
    try:
        with Image.open(handle) as image:
            content_type = PHOTO_TYPES.get(image.format or "")
    except (UnidentifiedImageError, OSError):
        content_type = None
    if content_type is None:
        handle.close()
        raise Http404
    handle.seek(0)
    response = FileResponse(handle, content_type=content_type)
    response["Content-Disposition"] = "inline"
    response["X-Content-Type-Options"] = "nosniff"
    response["Cache-Control"] = "private, max-age=3600"
    response["X-Robots-Tag"] = "noindex"
    return response
