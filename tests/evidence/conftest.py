"""A job that has been through everything the evidence pack shows, through the real services:
a reschedule, an assignment, the ETA, arrival, three photos, notes, both signatures, the
signer's address, approval, an admin override, and messages in different delivery states."""

from __future__ import annotations

import io
from dataclasses import dataclass
from datetime import datetime, time, timedelta
from unittest import mock

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone
from pypdf import PdfReader

from installations import services
from installations.demo import png_bytes
from installations.models import CustomerActor, Installation, Message
from installations.scheduling.services import installation_reschedule
from installations.statuses import Status

from ..factories import CustomerFactory, make_installation

NOTES = "Fitted the dishwasher; the old tap leaked, replaced its washer."
SIGNER = "Jane Q. Customer"
SIGNER_IP = "203.0.113.7"
COMPLETION_SIGNER = "Jane Typed-Name Customer"
OVERRIDE_REASON = "Customer gave the wrong house number"
RESCHEDULE_REASON = "Customer asked for the afternoon"
ZONE = timezone.get_current_timezone()


def at(hour: int, minute: int, second: int = 0, *, day: int = 0) -> datetime:
    base = timezone.localdate() + timedelta(days=day)
    return datetime.combine(base, time(hour, minute, second), tzinfo=ZONE)


def photo(name: str, colour: str) -> SimpleUploadedFile:
    return SimpleUploadedFile(name, png_bytes((640, 480), colour), content_type="image/png")


def pdf_text(pdf: bytes) -> str:
    reader = PdfReader(io.BytesIO(pdf))
    return "\n".join(page.extract_text() for page in reader.pages)


@dataclass(frozen=True)
class EmbeddedImage:
    width: int
    height: int
    filter: str
    stream_bytes: int  # the image as stored in the PDF (still encoded)


def embedded_images(pdf: bytes) -> list[EmbeddedImage]:
    """Each image object of the PDF once, read from its dictionary (WeasyPrint's pages share
    their resources, so asking every page for its decoded images would decode them all again
    for every page)."""
    reader = PdfReader(io.BytesIO(pdf))
    found: dict[int, EmbeddedImage] = {}

    def walk(resources) -> None:
        xobjects = (resources or {}).get("/XObject") or {}
        for ref in xobjects.values():
            key = getattr(ref, "idnum", None)
            if key in found:
                continue
            obj = ref.get_object()
            if obj.get("/Subtype") == "/Image":
                found[key] = EmbeddedImage(
                    int(obj["/Width"]), int(obj["/Height"]), str(obj.get("/Filter")), len(obj._data)
                )
            elif obj.get("/Subtype") == "/Form":
                walk(obj.get("/Resources"))

    for page in reader.pages:
        walk(page.get("/Resources"))
    return list(found.values())


def reschedule(installation: Installation, actor) -> Installation:
    """Move the job from 09:00–11:00 to 13:00–15:00 the same day (scheduling room's service:
    history kind "rescheduled" with `changes` {field: [old, new]}, messages to the customer
    and to the assigned handyman). Made in the morning: a window that has already ended today
    is refused, whatever the hour the suite runs at."""
    morning = timezone.localtime().replace(hour=8, minute=0)
    with mock.patch("installations.scheduling.rules.local_now", return_value=morning):
        return installation_reschedule(
            installation=installation.pk,
            actor=actor,
            scheduled_date=installation.scheduled_date,
            window_start=time(13),
            window_end=time(15),
            reason=RESCHEDULE_REASON,
        )


def build_approved(cast, *, typed: bool = False, typed_completion: bool = False) -> Installation:
    customer = CustomerFactory(
        partner=cast.partner, name="Jane Customer", email="jane@example.com", phone="+447700900555"
    )
    inst = make_installation(
        partner=cast.partner,
        actor=cast.partner_user,
        customer=customer,
        site_address="12 Acacia Avenue, Leeds",
        scheduled_date=timezone.localdate(),
        window_start=time(9),
        window_end=time(11),
    )
    inst = services.installation_assign(
        installation=inst.pk, handyman=cast.handyman, actor=cast.partner_user
    )
    inst = reschedule(inst, cast.partner_user)
    inst = services.installation_set_off(
        installation=inst, eta_minutes=40, actor=cast.handyman.user
    )
    inst = services.installation_arrive(installation=inst, actor=cast.handyman.user)
    inst = services.installation_complete(
        installation=inst,
        photos=[photo("a.png", "#c33"), photo("b.png", "#3c3"), photo("c.png", "#33c")],
        signature_png=b"" if typed_completion else png_bytes((300, 120)),
        signer_name=COMPLETION_SIGNER if typed_completion else "",
        typed=typed_completion,
        notes=NOTES,
        actor=cast.handyman.user,
    )
    # Known times, so that the pack's sentences can be checked word for word: set off 13:05,
    # promised 13:45, arrived 13:52:30 (inside the 13:00–15:00 window, 7 minutes late on the
    # ETA), finished 15:20 (1 hour 27 minutes on site). Photos added a minute apart.
    Installation.objects.filter(pk=inst.pk).update(
        departed_at=at(13, 5),
        expected_arrival_at=at(13, 45),
        arrived_at=at(13, 52, 30),
        completed_at=at(15, 20),
    )
    for n, p in enumerate(inst.photos.order_by("id")):
        type(p).objects.filter(pk=p.pk).update(created_at=at(15, 10 + n, 5))
    inst = services.installation_send_contract(installation=inst.pk, actor=cast.handyman.user)
    customer_actor = CustomerActor(inst.pk, customer.name)
    inst = services.installation_sign(
        installation=inst,
        name=SIGNER,
        signature_png=b"" if typed else png_bytes((300, 120)),
        ip=SIGNER_IP,
        actor=customer_actor,
        typed=typed,
    )
    inst = services.installation_approve(installation=inst, actor=customer_actor)
    inst = services.installation_override(
        installation=inst,
        actor=cast.superuser,
        reason=OVERRIDE_REASON,
        changes={"site_address": "14 Acacia Avenue, Leeds"},
    )
    messages = list(
        inst.messages.exclude(template__startswith="partner_")
        .exclude(template__endswith="_handyman")
        .order_by("id")
    )
    assert messages, "the job's transitions queue messages to the customer"
    Message.objects.filter(pk=messages[0].pk).update(
        status=Message.State.SENT, sent_at=at(13, 5, 9), attempts=1
    )
    if len(messages) > 1:
        Message.objects.filter(pk=messages[1].pk).update(
            status=Message.State.FAILED, attempts=5, last_error="SMTP 550 mailbox unavailable"
        )
    assert inst.status == Status.CUSTOMER_APPROVED
    return Installation.objects.select_related("partner", "customer", "handyman__user").get(
        pk=inst.pk
    )


@pytest.fixture
def approved(cast) -> Installation:
    return build_approved(cast)
