"""Writes of the spreadsheets room: storing an uploaded file for its preview, and committing it,
all or nothing, through the core services (each job its "created" history entry, counters and
messages; each handyman through the real assign transition)."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from typing import Any

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone

from .. import services
from ..errors import TransitionRefused
from ..models import Customer, Partner, partner_id_of
from . import selectors
from .models import Import
from .reading import FileRefused, read_sheet
from .validation import Report, check


class ImportRefused(Exception):
    """The stored file no longer passes its checks (or never could be read): nothing written.
    `report` holds the rows and their errors when there is one."""

    def __init__(self, message: str, report: Report | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.report = report


@dataclass
class Checked:
    """An upload's outcome: the stored import (None when its rows have errors, or when the very
    same file was imported before: then `done` is that first import) and its report."""

    upload: Import | None
    report: Report | None
    done: Import | None = None


def fingerprint(content: bytes) -> str:
    return hashlib.sha256(content).hexdigest()


def _check_actor(partner: Partner | int, actor: Any) -> None:
    partner_id = partner if isinstance(partner, int) else partner.pk
    if partner_id_of(actor) != partner_id:
        raise TransitionRefused("Only your partner's own users can import its jobs.")


def import_upload(*, partner: Partner, actor: Any, filename: str, content: bytes) -> Checked:
    """Check an uploaded file. A file whose every row passes is stored (once per file: the same
    bytes uploaded again reuse the stored import) for the commit; a file with errors is not
    stored at all: the person fixes it and uploads it again. A file with warnings only (a
    handyman booked twice at once) is stored: its preview asks to import anyway. Raises
    FileRefused for a file that cannot be read as a whole."""
    _check_actor(partner, actor)
    digest = fingerprint(content)
    done = selectors.first_commit_of(partner, digest)
    if done is not None:
        return Checked(None, None, done)
    report = check(read_sheet(content), partner=partner)
    if not report.ok:
        return Checked(None, report)
    upload = (
        Import.objects.filter(partner=partner, fingerprint=digest, status=Import.State.PREVIEWED)
        .order_by("pk")
        .first()
    )
    if upload is None:
        upload = Import.objects.create(
            partner=partner,
            created_by=actor,
            filename=filename[:255],
            content=content,
            fingerprint=digest,
            rows=len(report.rows),
        )
    return Checked(upload, report)


def import_check(*, upload: Import) -> Report:
    """The stored file's rows checked again, as they stand now."""
    return check(read_sheet(bytes(upload.content)), partner=upload.partner)


def import_commit(*, upload: Import, actor: Any, confirmed: str = "") -> Import:
    """Create every job of the stored file in ONE transaction, or none.

    `confirmed` is the preview's ``warnings_key``: the overlapping bookings the partner chose to
    import anyway. Refused (ImportRefused, with the report) when the rows have warnings now that
    are not exactly those, so that nothing is booked twice at once unseen.

    Answered as done (the first import, with ``replayed`` set) when this import or another
    import of the same bytes for this partner was committed already, including a commit racing
    this one (the fingerprint's partial UNIQUE constraint decides). Raises ImportRefused when the
    rows no longer pass (a date passed, someone booked the same job meanwhile, a handyman marked
    the day off)."""
    _check_actor(upload.partner_id, actor)
    try:
        return _commit(upload, actor, confirmed)
    except IntegrityError:
        first = selectors.first_commit_of(upload.partner, upload.fingerprint)
        if first is None:  # a partner reference taken by a concurrent import
            raise ImportRefused(
                "Some of these jobs were booked by someone else a moment ago. Nothing was "
                "imported: upload the file again to see which rows."
            ) from None
        first.replayed = True
        return first


def _unconfirmed(report: Report, confirmed: str) -> str:
    """Why the warnings stop the commit ("" when there are none, or the partner confirmed
    these very ones)."""
    key = report.warnings_key
    if key == confirmed or not key:
        return ""
    if not confirmed:
        return (
            "Some handymen would have two jobs at the same time. Nothing was imported: read the "
            "rows below, then import anyway or correct the file."
        )
    return (
        "The handymen's bookings have changed since the preview. Nothing was imported: read "
        "the rows below again, then import anyway or correct the file."
    )


def _commit(upload: Import, actor: Any, confirmed: str) -> Import:
    with transaction.atomic():
        locked = Import.objects.select_for_update().select_related("partner").get(pk=upload.pk)
        first = selectors.first_commit_of(locked.partner, locked.fingerprint)
        if first is not None:
            first.replayed = True
            return first
        try:
            report = import_check(upload=locked)
        except FileRefused as refused:  # cannot happen to a stored file, unless limits changed
            raise ImportRefused(refused.message) from None
        if not report.ok:
            raise ImportRefused(
                "Some rows no longer pass their checks. Nothing was imported: correct them and "
                "upload the file again.",
                report,
            )
        if refused := _unconfirmed(report, confirmed):
            raise ImportRefused(refused, report)
        partner = locked.partner
        customers: dict[int, Customer] = {}
        created: list[int] = []
        try:
            for row in report.rows:
                if not row.creates:
                    continue
                customer = row.customer
                if customer is None:
                    assert row.new_customer is not None
                    customer = customers.get(row.new_customer)
                    if customer is None:
                        person = report.new_customers[row.new_customer]
                        customer = services.customer_create(partner=partner, **person)
                        customers[row.new_customer] = customer
                start, end = row.window  # type: ignore[misc]
                installation = services.installation_schedule(
                    partner=partner,
                    customer=customer,
                    site_address=row.site_address,
                    scheduled_date=row.scheduled_date,  # type: ignore[arg-type]
                    window_start=start,
                    window_end=end,
                    notes=row.values["notes"],
                    actor=actor,
                    partner_reference=row.values["partner_reference"],
                )
                if row.handyman is not None:
                    # A row without a warning is checked again under the handyman's lock: a job
                    # booked for him since the check above stops the import.
                    services.installation_assign(
                        installation=installation,
                        handyman=row.handyman,
                        actor=actor,
                        confirm_conflict=bool(row.warnings),
                    )
                created.append(installation.pk)
        except (ValidationError, TransitionRefused) as error:
            messages = getattr(error, "messages", None) or [str(error)]
            raise ImportRefused(
                f"Row {row.number} could not be imported ({' '.join(messages)}). "
                "Nothing was imported."
            ) from None
        locked.status = Import.State.COMMITTED
        locked.committed_at = timezone.now()
        locked.committed_by = actor
        locked.jobs_created = len(created)
        locked.customers_created = len(customers)
        locked.installation_ids = created
        locked.save()
    return locked
