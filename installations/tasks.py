"""Background work, run by django-tasks (the database backend's `manage.py db_worker` in
production). Tasks take ids, never objects, and re-read everything under lock."""

from __future__ import annotations

from django_tasks import task


@task()
def deliver_message(message_id: int) -> str:
    from . import notifications

    return notifications.deliver(message_id)


@task()
def deliver_due_messages() -> int:
    from . import notifications

    return notifications.deliver_due_messages()


@task()
def send_contract_reminders() -> int:
    from . import notifications

    return notifications.queue_contract_reminders()
