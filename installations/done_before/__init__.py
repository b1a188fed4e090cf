"""What a person did, remembered for when no row can say it: a deleted row leaves nothing to
find, and an added one cannot be told from someone else's. Their double click, resent form or
second tab is then answered as done; anyone else meets the ordinary answer (a 404, an add).

Two ledgers: the person's session (the webhook endpoint's delete, the password links), and the
database for the admin's adds, where two sends at the same moment must not both add
(`claim_add`, models.AdminAdd)."""

from __future__ import annotations

import uuid
from datetime import timedelta
from typing import Any

from django.db import IntegrityError, transaction
from django.http import HttpRequest
from django.utils import timezone

from .models import AdminAdd

KEPT = 20  # per session ledger: the last few actions, enough for any repeat
CLAIMS_KEPT = timedelta(days=30)  # an add page left open longer adds again


def remember(request: HttpRequest, ledger: str, key: str, value: Any) -> None:
    """Keep `value` (JSON-serialisable) under `key` in the session's `ledger`."""
    entries = {**request.session.get(ledger, {}), key: value}
    request.session[ledger] = dict(list(entries.items())[-KEPT:])


def recalled(request: HttpRequest, ledger: str, key: str) -> Any:
    """What was kept under `key`, or None."""
    return request.session.get(ledger, {}).get(key)


def claim_add(token: uuid.UUID, user: Any, model: str) -> AdminAdd | None:
    """Claim an add form's token for this send, inside the caller's transaction: None when the
    claim is this send's, else the earlier send's claim, locked until the caller's transaction
    ends (waited for while another send holds it: a first send's new claim, or an old claim
    whose send added nothing or whose row is gone, which a send at the same moment re-uses)."""
    AdminAdd.objects.filter(created_at__lt=timezone.now() - CLAIMS_KEPT).delete()
    try:
        with transaction.atomic():
            AdminAdd.objects.create(token=token, user_pk=user.pk, model=model)
    except IntegrityError:
        return AdminAdd.objects.select_for_update().get(token=token)
    return None


def added(token: uuid.UUID, obj: Any) -> None:
    """The claimed send added `obj`: what a later send of the same form is answered with."""
    AdminAdd.objects.filter(token=token).update(object_id=str(obj.pk))
