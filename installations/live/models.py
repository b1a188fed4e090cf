"""The change feed's two tables: a gap-free sequence per scope, and what each number changed.

A scope is one partner ("p:<id>") or one handyman ("h:<id>"). Every history entry (and every
edit that writes none) bumps the scopes that can see the installation, inside the writing
transaction: the counter's row stays locked until commit, so numbers are handed out in commit
order and a reader that sees number N has already been able to see every number before it."""

from __future__ import annotations

from django.db import models

from ..models import Handyman, Installation, Partner

__all__ = ["LiveChange", "LiveCounter"]


class LiveCounter(models.Model):
    scope = models.CharField(max_length=24, unique=True)
    seq = models.PositiveBigIntegerField(default=0)

    class Meta:
        verbose_name = "live counter"

    def __str__(self) -> str:
        return f"{self.scope}: {self.seq}"


class LiveChange(models.Model):
    """Installation `installation` changed at number `seq` of its partner's (or handyman's)
    sequence. Exactly one of partner/handyman is set. "What changed since N" is one range scan
    of the (scope, seq) unique index."""

    partner = models.ForeignKey(
        Partner, on_delete=models.CASCADE, null=True, blank=True, related_name="+"
    )
    handyman = models.ForeignKey(
        Handyman, on_delete=models.CASCADE, null=True, blank=True, related_name="+"
    )
    seq = models.PositiveBigIntegerField()
    installation = models.ForeignKey(
        Installation, on_delete=models.CASCADE, related_name="+", db_index=False
    )
    # False for a change that kept the status (details edited, a new day, a reassignment, an
    # override): the page says "details changed", not the status it already showed.
    status_changed = models.BooleanField(default=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["partner", "seq"], name="live_partner_seq"),
            models.UniqueConstraint(fields=["handyman", "seq"], name="live_handyman_seq"),
            models.CheckConstraint(
                condition=models.Q(partner__isnull=False, handyman__isnull=True)
                | models.Q(partner__isnull=True, handyman__isnull=False),
                name="live_one_scope",
            ),
        ]
        indexes = [models.Index(fields=["created_at"], name="live_created")]

    def __str__(self) -> str:
        return f"#{self.installation_id} at {self.seq}"
