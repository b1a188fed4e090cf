"""A person's own actions remembered: in their session the last few, per ledger; an admin add
form's token in the database, for thirty days."""

from __future__ import annotations

import uuid
from datetime import timedelta

import pytest
from django.contrib.sessions.backends.db import SessionStore
from django.test import RequestFactory
from django.utils import timezone

from installations import done_before
from installations.models import AdminAdd


def _request():
    request = RequestFactory().post("/")
    request.session = SessionStore()
    return request


def test_a_remembered_action_is_recalled_in_its_own_ledger_only():
    request = _request()
    done_before.remember(request, "deleted", "7", "https://example.com/hook")

    assert done_before.recalled(request, "deleted", "7") == "https://example.com/hook"
    assert done_before.recalled(request, "deleted", "8") is None
    assert done_before.recalled(request, "added", "7") is None


def test_a_ledger_keeps_the_last_twenty_actions_so_the_session_stays_small():
    request = _request()
    for n in range(25):
        done_before.remember(request, "added", str(n), n)

    assert [done_before.recalled(request, "added", str(n)) for n in (4, 5, 24)] == [None, 5, 24]
    assert len(request.session["added"]) == done_before.KEPT == 20


@pytest.mark.django_db
def test_an_add_forms_claim_is_answered_for_thirty_days_then_forgotten(cast):
    token = uuid.uuid4()
    assert done_before.claim_add(token, cast.superuser, "installations.Customer") is None
    customer = cast.installation().customer
    done_before.added(token, customer)
    claim = AdminAdd.objects.filter(token=token)

    claim.update(created_at=timezone.now() - timedelta(days=29, hours=23))
    earlier = done_before.claim_add(token, cast.superuser, "installations.Customer")
    assert earlier is not None and earlier.object_id == str(customer.pk)

    claim.update(created_at=timezone.now() - timedelta(days=30, minutes=1))
    assert done_before.claim_add(token, cast.superuser, "installations.Customer") is None
    assert claim.get().object_id == ""  # this send's own claim now, nothing added by it yet
