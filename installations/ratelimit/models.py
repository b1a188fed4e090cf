"""One counter per key and fixed window (ratelimit/services.py)."""

from __future__ import annotations

from django.db import models

__all__ = ["RateCount"]


class RateCount(models.Model):
    """How many requests one key (a limit's name and its subject: an address, a link) made in
    the window that starts at `window_start`. Rows whose window has ended are deleted as new
    ones are written."""

    key = models.CharField(max_length=100)
    window_start = models.DateTimeField()
    ends_at = models.DateTimeField()
    count = models.PositiveIntegerField(default=0)

    class Meta:
        # Staff meet these as "rate-limit counters" (admin/blocks.py) and grant their view and
        # delete permissions by that name.
        verbose_name = "rate-limit counter"
        constraints = [
            models.UniqueConstraint(fields=["key", "window_start"], name="rate_count_key_window")
        ]
        indexes = [models.Index(fields=["ends_at"], name="rate_count_ends_at")]

    def __str__(self) -> str:
        # In words, as the blocks page shows it: a key may hold what staff should not read
        # (an address, a link's token), and str() reaches logs, the shell and Django's pages.
        from .blocks import describe  # blocks reads this model

        return describe([self])[0].sentence
