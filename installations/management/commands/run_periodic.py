"""The small scheduler beside the worker: every few minutes, queue the 3-day contract reminders
and hand over messages whose delivery is due (django-tasks has no periodic jobs of its own).
In production a cron entry running `send_contract_reminders` does the same."""

import time

from django.core.management import call_command
from django.core.management.base import BaseCommand
from django.db import close_old_connections


class Command(BaseCommand):
    help = "Run send_contract_reminders every --interval seconds until stopped."

    def add_arguments(self, parser):
        parser.add_argument("--interval", type=int, default=300)
        parser.add_argument("--once", action="store_true", help="Run one round and stop.")

    def handle(self, *args, **options):
        while True:
            try:
                call_command("send_contract_reminders", stdout=self.stdout)
            except Exception as exc:  # keep the scheduler alive; the next round retries
                self.stderr.write(f"Periodic round failed: {exc}")
            if options["once"]:
                return
            # Like a request ending: drop a connection that broke or aged out meanwhile.
            close_old_connections()
            time.sleep(max(5, options["interval"]))
