"""Remind customers whose contract has waited 3 days unsigned (or signed, unapproved), and
deliver anything overdue.

Safe to run as often as you like (e.g. hourly from cron): each contract send gets at most one
reminder. It also hands over messages and webhooks whose delivery is due but not queued (a lost
queue entry, or a retry on a backend that cannot schedule)."""

from django.core.management.base import BaseCommand

from installations import notifications
from installations.webhooks import delivery as webhook_delivery


class Command(BaseCommand):
    help = "Send the 3-day reminder for unsigned contracts (idempotent) and deliver due messages."

    def add_arguments(self, parser):
        parser.add_argument(
            "--no-deliver",
            action="store_true",
            help="Only create reminder messages; leave delivery to the worker.",
        )

    def handle(self, *args, **options):
        reminded = notifications.queue_contract_reminders()
        self.stdout.write(f"Reminders queued for {reminded} installation(s).")
        if not options["no_deliver"]:
            sent = notifications.deliver_due_messages()
            self.stdout.write(f"Due messages delivered: {sent}.")
            arrived = webhook_delivery.deliver_due()
            self.stdout.write(f"Due webhooks delivered: {arrived}.")
