"""What the evidence pack keeps: the contract text as signed, and each pack made."""

from __future__ import annotations

from django.db import models
from django.utils import timezone

from ..models import Installation

__all__ = ["EvidencePack", "SignedContract"]


class SignedContract(models.Model):
    """The contract text exactly as the customer read it when signing, stored in the signing
    transaction (receivers.py): the partner's own text may be edited later, and an override may
    change the completion date the default text names, but the pack shows what was signed."""

    installation = models.OneToOneField(
        Installation, on_delete=models.CASCADE, related_name="signed_contract"
    )
    text = models.TextField()
    # With a typed signature: the statement the customer ticked, as worded then.
    statement = models.CharField(max_length=300, blank=True)
    signed_at = models.DateTimeField(default=timezone.now)

    def __str__(self) -> str:
        return f"Contract signed for installation {self.installation_id}"


def _customer_copy_path(pack: EvidencePack, filename: str) -> str:
    # Never served by the media view (no photo or signature has this name): only by the
    # partner's download of the customer's copy, which checks who asks and the bytes' SHA-256.
    return f"evidence/{pack.installation_id}/record-{pack.pdf_sha256}.pdf"


class EvidencePack(models.Model):
    """One evidence pack made: its content fingerprint (printed on its last page), the SHA-256
    of the PDF file itself (a file cannot print its own hash), who made it and when, and which
    copy it is: the full record (partner users, staff) or the customer's copy (their link), whose
    PDF is kept."""

    class Copy(models.TextChoices):
        FULL = "full", "Full record"
        # Without the partner's internal notes, reasons, staff names and override diffs.
        CUSTOMER = "customer", "Customer’s copy"

    installation = models.ForeignKey(
        Installation, on_delete=models.CASCADE, related_name="evidence_packs"
    )
    # SHA-256 of the canonical content (evidence/images.py `fingerprint`): the same for two
    # packs of an unchanged record, different as soon as anything in it changed.
    sha256 = models.CharField("content fingerprint (SHA-256)", max_length=64)
    pdf_sha256 = models.CharField("SHA-256 of the PDF file", max_length=64)
    made_at = models.DateTimeField(default=timezone.now)
    made_by_name = models.CharField(max_length=150)
    copy = models.CharField(max_length=8, choices=Copy.choices, default=Copy.FULL)
    size = models.PositiveIntegerField("size in bytes")
    # The customer's copy as they were given it, byte for byte, so that the partner can check
    # what the customer holds. Empty for the full record (made again on every download) and for
    # customer's copies made before copies were kept.
    file = models.FileField(upload_to=_customer_copy_path, blank=True, max_length=200)

    class Meta:
        ordering = ["-made_at", "-id"]
        indexes = [
            models.Index(fields=["installation", "made_at"], name="evidence_pack_inst"),
            # Staff look a copy up by either fingerprint (admin search).
            models.Index(fields=["sha256"], name="evidence_pack_sha256"),
            models.Index(fields=["pdf_sha256"], name="evidence_pack_pdf_sha256"),
        ]

    def __str__(self) -> str:
        what = "Customer’s copy" if self.copy == self.Copy.CUSTOMER else "Evidence pack"
        return f"{what} {self.sha256[:12]} of installation {self.installation_id}"
