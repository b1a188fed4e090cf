"""Uploaded CSV files of the bulk-scheduling import, kept between the preview and the commit."""

from __future__ import annotations

import uuid

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone

__all__ = ["Import"]


class Import(models.Model):
    """One uploaded file, stored server-side so that the commit never trusts the browser: the
    commit reads these bytes again and validates them again.

    A file is committed at most once per partner (the fingerprint's partial UNIQUE constraint),
    whoever clicks, however often: a second commit of the same bytes finds the first import."""

    class State(models.TextChoices):
        PREVIEWED = "previewed", "Checked, not imported yet"
        COMMITTED = "committed", "Imported"

    # In URLs instead of the sequential id, so that an import's address says nothing about others.
    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    partner = models.ForeignKey(
        "installations.Partner", on_delete=models.CASCADE, related_name="imports"
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    filename = models.CharField(max_length=255, blank=True)
    content = models.BinaryField()
    # SHA-256 of the bytes as uploaded.
    fingerprint = models.CharField(max_length=64)
    status = models.CharField(max_length=12, choices=State.choices, default=State.PREVIEWED)
    rows = models.PositiveIntegerField(default=0)
    jobs_created = models.PositiveIntegerField(default=0)
    customers_created = models.PositiveIntegerField(default=0)
    # The jobs this import created, in file order (at most the row limit).
    installation_ids = models.JSONField(default=list, blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    committed_at = models.DateTimeField(null=True, blank=True)
    committed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["partner", "created_at"], name="import_partner_created")]
        constraints = [
            models.UniqueConstraint(
                fields=["partner", "fingerprint"],
                condition=Q(status="committed"),
                name="import_committed_once",
            )
        ]

    # Set (never stored) when a commit was answered with an import that had already happened.
    replayed: bool = False

    def __str__(self) -> str:
        return f"Import {self.pk} ({self.filename or 'file'})"

    @property
    def is_committed(self) -> bool:
        return self.status == self.State.COMMITTED
