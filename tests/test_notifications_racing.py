"""Exactly once under real concurrency: threads with their own connections, on both databases
(PostgreSQL: row and advisory locks; SQLite: the write lock taken at BEGIN IMMEDIATE)."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from installations import notifications, sms
from installations.models import Installation, Message
from installations.statuses import Status

from .racing import race

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture(autouse=True)
def _queue_but_do_not_run(settings):
    # The dummy backend accepts tasks and runs none: the threads below are the workers.
    settings.TASKS = {"default": {"BACKEND": "django_tasks.backends.dummy.DummyBackend"}}
    settings.SMS_BACKEND = "installations.sms.InMemoryBackend"
    sms.InMemoryBackend.outbox.clear()


def test_workers_racing_for_one_message_send_it_once(cast):
    installation = cast.installation(Status.EN_ROUTE)
    message = installation.messages.get(template=notifications.ON_THE_WAY)
    assert message.status == Message.State.PENDING
    results = race(8, lambda i: notifications.deliver(message.pk))
    assert sorted(results) == ["sent"] + ["skipped"] * 7, results
    message.refresh_from_db()
    assert (message.status, message.attempts) == (Message.State.SENT, 1)
    assert len(sms.InMemoryBackend.outbox) == 1


def test_reminder_runs_at_once_send_one_reminder(cast):
    installation = cast.installation(Status.CONTRACT_SENT)
    Installation.objects.filter(pk=installation.pk).update(
        contract_sent_at=timezone.now() - timedelta(days=4)
    )
    results = race(4, lambda i: notifications.queue_contract_reminders())
    assert sorted(results) == [0, 0, 0, 1], results
    reminders = installation.messages.filter(template=notifications.CONTRACT_REMINDER)
    assert reminders.count() == 2  # one email and one text
