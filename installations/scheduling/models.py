"""Days a handyman cannot work."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils import timezone

__all__ = ["TimeOff"]


class TimeOff(models.Model):
    """One day a handyman has marked off: nobody assigns or moves a job onto it."""

    handyman = models.ForeignKey(
        "installations.Handyman", on_delete=models.CASCADE, related_name="time_off"
    )
    day = models.DateField()
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name = "day off"
        verbose_name_plural = "days off"
        ordering = ["day"]
        constraints = [
            # Adding the same day twice (double click, two tabs) stays one row.
            models.UniqueConstraint(fields=["handyman", "day"], name="time_off_unique_day"),
        ]
        # The unique index (handyman, day) also serves "this handyman's days"; the board's
        # "these handymen, this week" reads it with handyman IN (…) and a day range.

    def __str__(self) -> str:
        return f"{self.handyman_id} off on {self.day:%Y-%m-%d}"
