"""Small helpers to make demo and test data through the real service layer."""

from __future__ import annotations

import io
from datetime import time
from typing import Any

from django.core.files.uploadedfile import SimpleUploadedFile
from PIL import Image, ImageDraw

from . import services
from .models import CustomerActor, Installation
from .statuses import Status


def png_bytes(size: tuple[int, int] = (120, 60), colour: str = "white") -> bytes:
    image = Image.new("RGB", size, colour)
    ImageDraw.Draw(image).line((5, size[1] - 10, size[0] - 5, 10), fill="black", width=3)
    buffer = io.BytesIO()
    image.save(buffer, format="PNG")
    return buffer.getvalue()


def photo_upload(name: str = "finished.png") -> SimpleUploadedFile:
    return SimpleUploadedFile(name, png_bytes((320, 240), "#9cc"), content_type="image/png")


# The steps that lead to each status, from SCHEDULED.
PATHS: dict[str, tuple[str, ...]] = {
    Status.SCHEDULED: (),
    Status.INSTALLER_ASSIGNED: ("assign",),
    Status.EN_ROUTE: ("assign", "set_off"),
    Status.INSTALLATION_IN_PROGRESS: ("assign", "set_off", "arrive"),
    Status.INSTALLATION_COMPLETED: ("assign", "set_off", "arrive", "complete"),
    Status.CONTRACT_SENT: ("assign", "set_off", "arrive", "complete", "send_contract"),
    Status.CONTRACT_SIGNED: ("assign", "set_off", "arrive", "complete", "send_contract", "sign"),
    Status.CUSTOMER_APPROVED: (
        "assign",
        "set_off",
        "arrive",
        "complete",
        "send_contract",
        "sign",
        "approve",
    ),
    Status.CANCELLED: ("assign", "cancel"),
    Status.REJECTED: ("reject",),
}


def walk_to(
    installation: Installation,
    status: str,
    *,
    partner_user: Any,
    handyman: Any,
    staff: Any,
) -> Installation:
    """Move a SCHEDULED installation to `status` through every real transition on the way."""
    for step in PATHS[status]:
        if step == "assign":
            # Demo and test data pile jobs on one handyman's slot on purpose: not a conflict.
            installation = services.installation_assign(
                installation=installation,
                handyman=handyman,
                actor=partner_user,
                confirm_conflict=True,
            )
        elif step == "reject":
            installation = services.installation_reject(
                installation=installation, reason="Outside our service area.", actor=partner_user
            )
        elif step == "set_off":
            installation = services.installation_set_off(
                installation=installation, eta_minutes=30, actor=handyman.user
            )
        elif step == "arrive":
            installation = services.installation_arrive(
                installation=installation, actor=handyman.user
            )
        elif step == "complete":
            installation = services.installation_complete(
                installation=installation,
                photos=[photo_upload()],
                signature_png=png_bytes(),
                notes="All fitted and tested.",
                actor=handyman.user,
            )
        elif step == "send_contract":
            installation = services.installation_send_contract(
                installation=installation, actor=handyman.user
            )
        elif step == "sign":
            installation = services.installation_sign(
                installation=installation,
                name=installation.customer.name,
                signature_png=png_bytes(),
                ip="127.0.0.1",
                actor=CustomerActor(installation.pk, installation.customer.name),
            )
        elif step == "approve":
            installation = services.installation_approve(
                installation=installation,
                actor=CustomerActor(installation.pk, installation.customer.name),
            )
        elif step == "cancel":
            installation = services.installation_cancel(
                installation=installation, reason="Customer moved house.", actor=staff
            )
    return installation


WINDOWS = ((time(8), time(10)), (time(10), time(12)), (time(13), time(15)), (time(15), time(17)))
