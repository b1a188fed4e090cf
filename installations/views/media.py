"""Every upload (photos, signatures) is served here, never straight from MEDIA_ROOT: a customer's
signature must not be public to whoever has the URL.

Templates keep `{{ file.url }}` (MEDIA_URL + the stored name); this view finds the record that owns
the name, checks who is asking (the record's partner users, staff, the assigned handyman, or the
holder of a valid customer link, remembered in the session by the customer page), then streams
the file through the storage with the content type of the verified image format. Anyone else,
and any name no record owns, gets 404. A proxy can take over the sending (X-Accel-Redirect for
nginx, X-Sendfile for Apache/lighttpd), set by MEDIA_ACCEL_REDIRECT_PREFIX / MEDIA_X_SENDFILE.
"""

from __future__ import annotations

import io
import re
from urllib.parse import quote

from django.conf import settings
from django.core.files.storage import Storage
from django.db.models import Q
from django.db.models.fields.files import FieldFile
from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.utils.crypto import constant_time_compare
from django.views.decorators.http import require_GET
from PIL import Image, UnidentifiedImageError

from ..models import (
    Installation,
    InstallationPhoto,
    can_assigned_handyman,
    may_read_record,
)
from .customer import CUSTOMER_STATUSES, LINKS_SESSION_KEY

# What an upload may be, by the format Pillow reads from its bytes (never by its name).
IMAGE_TYPES = {"JPEG": "image/jpeg", "PNG": "image/png"}
# The shape of every name we store (generated names, models._photo_path/_signature_path): anything
# else, a NUL that PostgreSQL refuses in a query among them, is no file of ours, before any query.
STORED_NAME = re.compile(r"^[A-Za-z0-9_-]+(?:/[A-Za-z0-9_-]+)*\.[a-z0-9]{1,5}$")


def _owner(name: str) -> tuple[Installation, FieldFile]:
    """The installation that owns the stored name, and its file; 404 if no record owns it."""
    if len(name) > 255 or not STORED_NAME.match(name):
        raise Http404("No such file.")
    photo = (
        InstallationPhoto.objects.select_related("installation").filter(image=name).first()
        if name
        else None
    )
    if photo is not None:
        return photo.installation, photo.image
    installation = (
        Installation.objects.filter(
            Q(completion_signature=name) | Q(contract_signature=name)
        ).first()
        if name
        else None
    )
    if installation is None:
        raise Http404("No such file.")
    if installation.completion_signature.name == name:
        return installation, installation.completion_signature
    return installation, installation.contract_signature


def _holds_customer_link(request: HttpRequest, installation: Installation) -> bool:
    nonce = request.session.get(LINKS_SESSION_KEY, {}).get(str(installation.pk))
    return (
        isinstance(nonce, str)
        and bool(installation.link_nonce)
        and constant_time_compare(nonce, installation.link_nonce)
        and installation.status in CUSTOMER_STATUSES
    )


def _may_see(request: HttpRequest, installation: Installation) -> bool:
    user = request.user
    return (
        may_read_record(installation, user)
        or can_assigned_handyman(installation, user)
        or _holds_customer_link(request, installation)
    )


# `?size=thumb`: the picture fitted into twice the record page's 160×120 (sharp on a phone's
# screen), so that a page of twenty photos is not a hundred megabytes on mobile data.
THUMB_BOX = (320, 240)


def _thumbnail(storage: Storage, name: str) -> HttpResponse:
    """The image scaled down in memory (a JPEG decodes at a fraction of its size: `draft`), in
    its own format (a PNG keeps its clear pixels); 404 for anything that is not one we store."""
    try:
        with storage.open(name, "rb") as handle, Image.open(handle) as image:
            found = image.format or ""
            if found not in IMAGE_TYPES:
                raise Http404("No such file.")
            image.draft(image.mode, THUMB_BOX)
            image.thumbnail(THUMB_BOX)
            buffer = io.BytesIO()
            image.save(buffer, format=found, **({"quality": 80} if found == "JPEG" else {}))
    except (OSError, UnidentifiedImageError, Image.DecompressionBombError) as exc:
        raise Http404("No such file.") from exc
    return HttpResponse(buffer.getvalue(), content_type=IMAGE_TYPES[found])


def _content_type(storage: Storage, name: str) -> str:
    """The type of the image the bytes really are; 404 for anything that is not one we store."""
    try:
        with storage.open(name, "rb") as handle, Image.open(handle) as image:
            content_type = IMAGE_TYPES.get(image.format or "")
    except (OSError, UnidentifiedImageError, Image.DecompressionBombError):
        content_type = None
    if content_type is None:
        raise Http404("No such file.")
    return content_type


def _whole(storage: Storage, name: str) -> HttpResponse:
    content_type = _content_type(storage, name)
    accel_prefix = settings.MEDIA_ACCEL_REDIRECT_PREFIX
    if accel_prefix:
        # nginx sends the file from an `internal` location; the headers set here are kept.
        response = HttpResponse(content_type=content_type)
        response["X-Accel-Redirect"] = f"{accel_prefix.rstrip('/')}/{quote(name)}"
    elif settings.MEDIA_X_SENDFILE:
        response = HttpResponse(content_type=content_type)
        response["X-Sendfile"] = storage.path(name)
    else:
        response = FileResponse(storage.open(name, "rb"), content_type=content_type)
    return response


@require_GET
def serve(request: HttpRequest, name: str) -> HttpResponse:
    installation, file = _owner(name)
    if not _may_see(request, installation):
        raise Http404("No such file.")
    if request.GET.get("size") == "thumb":
        response = _thumbnail(file.storage, file.name)
    else:
        response = _whole(file.storage, file.name)
    response["Content-Disposition"] = "inline"
    response["X-Content-Type-Options"] = "nosniff"
    # Private: a shared cache must never keep a customer's signature for the next person.
    response["Cache-Control"] = "private, max-age=3600"
    response["X-Robots-Tag"] = "noindex"
    return response
