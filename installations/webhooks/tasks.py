"""The worker's entry points for webhooks (django-tasks). Tasks take ids and re-read under lock."""

from __future__ import annotations

from django_tasks import task


@task()
def deliver_webhook(delivery_id: int) -> str:
    from . import delivery

    return delivery.deliver(delivery_id)


@task()
def deliver_due_webhooks() -> int:
    from . import delivery

    return delivery.deliver_due()
