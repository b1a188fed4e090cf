"""The one ledger that lives in the database: an admin add form's one-time token, claimed by
its first send inside the transaction that adds the row. A session cannot hold it: two sends at
the same moment (a double click on a slow page) both read the session before either writes it,
and both would add. The claim's primary key makes the second wait for the first's commit
(PostgreSQL's unique index; SQLite's write lock, taken at BEGIN IMMEDIATE) and then find it."""

from __future__ import annotations

from django.db import models
from django.utils import timezone

__all__ = ["AdminAdd"]


class AdminAdd(models.Model):
    token = models.UUIDField(primary_key=True)
    # Whose form it was (a login's id, not a key: deleting a login does not list its claims
    # among what goes with it) and what it adds: a token is answered only to the same person's
    # same page.
    user_pk = models.IntegerField()
    model = models.CharField(max_length=100)
    # Empty when its send added nothing (the form refused for its errors): sent again,
    # corrected, it adds. A send that finds the claim locks it first (claim_add), so it waits
    # for another send of the same page under way and then finds what that one added.
    object_id = models.CharField(max_length=64, blank=True)
    created_at = models.DateTimeField(default=timezone.now, db_index=True)

    class Meta:
        verbose_name = "admin add form sent"
        verbose_name_plural = "admin add forms sent"

    def __str__(self) -> str:
        return f"{self.model} {self.object_id or '(adding)'}"
