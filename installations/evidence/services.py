"""Making an evidence pack: render it, keep its fingerprints. The slow part (images, WeasyPrint)
runs outside any transaction; the one row is written after it."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from typing import Any

from django.core.files.base import ContentFile
from django.template.loader import render_to_string
from django.utils import timezone

from ..contracts import COMPLETION_STATEMENT
from ..models import Installation
from . import images, selectors
from .models import EvidencePack

TEMPLATE = "installations/evidence/pack.html"
CUSTOMER_TEMPLATE = "installations/evidence/customer_copy.html"


@dataclass(frozen=True)
class PhotoItem:
    number: int
    photo: Any  # InstallationPhoto
    asset: images.Asset


@dataclass(frozen=True)
class MadePack:
    pdf: bytes
    pack: EvidencePack

    @property
    def filename(self) -> str:
        if self.pack.copy == EvidencePack.Copy.CUSTOMER:
            return f"installation-record-{self.pack.installation_id}.pdf"
        return f"evidence-installation-{self.pack.installation_id}.pdf"


def evidence_pack_make(
    *, installation: Installation, made_by_name: str, copy: str = EvidencePack.Copy.FULL
) -> MadePack:
    """Render the installation's evidence pack and keep its fingerprint (see images.py for what
    exactly is hashed). `copy`: the full record (partner users, staff) or the customer's copy,
    which has its own template, reading and fingerprint prefix and is kept as its own row."""
    for_customer = copy == EvidencePack.Copy.CUSTOMER
    template = CUSTOMER_TEMPLATE if for_customer else TEMPLATE
    evidence = (
        selectors.customer_evidence_for(installation)
        if for_customer
        else selectors.evidence_for(installation)
    )
    photos = [
        PhotoItem(n, photo, images.prepare(f"photo-{photo.pk}", photo.image, photo=True))
        for n, photo in enumerate(evidence.photos, start=1)
    ]
    handyman_signature = (
        images.prepare("signature-completion", installation.completion_signature, photo=False)
        if installation.completion_signature
        else None
    )
    customer_signature = (
        images.prepare("signature-contract", installation.contract_signature, photo=False)
        if installation.contract_signature
        else None
    )
    assets = [item.asset for item in photos] + [
        a for a in (handyman_signature, customer_signature) if a is not None
    ]
    ctx: dict[str, Any] = {
        "evidence": evidence,
        "installation": installation,
        "partner": installation.partner,
        "customer": installation.customer,
        "photos": photos,
        "handyman_signature": handyman_signature,
        "customer_signature": customer_signature,
        # Shown with a typed completion signature only; the template keeps that branch within
        # the drawn one's lines, so a drawn record's pack reads (and hashes) exactly as before.
        "completion_statement": COMPLETION_STATEMENT,
    }
    content = render_to_string(f"{template}#content", ctx)
    prefix = images.CUSTOMER_COPY_PREFIX if for_customer else images.FINGERPRINT_PREFIX
    sha256 = images.fingerprint(content, assets, prefix=prefix)
    made_at = timezone.now()
    html = render_to_string(
        template, {**ctx, "sha256": sha256, "made_at": made_at, "made_by_name": made_by_name}
    )
    # Imported here, not at the top: WeasyPrint's import costs a second (see pdf.py).
    from .pdf import html_to_pdf

    pdf = html_to_pdf(html, {asset.name: asset for asset in assets})
    pack = EvidencePack(
        installation=installation,
        sha256=sha256,
        pdf_sha256=hashlib.sha256(pdf).hexdigest(),
        made_at=made_at,
        made_by_name=made_by_name[:150],
        copy=copy,
        size=len(pdf),
    )
    if for_customer:
        # The very bytes the customer is given, kept (the partner can download them and check
        # what the customer holds). Written before the row, so that no row names a missing file.
        pack.file.save("record.pdf", ContentFile(pdf), save=False)
    pack.save()
    return MadePack(pdf, pack)


class CopyUnavailable(Exception):
    """A kept customer's copy cannot be given: its file is gone, or its bytes are no longer
    those whose SHA-256 was recorded when the customer got them."""


def customer_copy_read(*, pack: EvidencePack) -> bytes:
    """The customer's copy exactly as the customer got it, checked against its recorded
    SHA-256: a file changed or lost in the storage is refused, never passed off as theirs."""
    try:
        with pack.file.open("rb") as handle:
            pdf = handle.read()
    except (OSError, ValueError) as exc:
        raise CopyUnavailable(f"The file of customer's copy {pack.pk} cannot be read.") from exc
    if hashlib.sha256(pdf).hexdigest() != pack.pdf_sha256:
        raise CopyUnavailable(f"The file of customer's copy {pack.pk} is not the one given.")
    return pdf
