"""A person's own actions remembered in their session: the last few, per ledger."""

from __future__ import annotations

from django.contrib.sessions.backends.db import SessionStore
from django.test import RequestFactory

from installations import done_before


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
