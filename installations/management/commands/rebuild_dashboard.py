"""Recompute the dashboard's rollups from the history and the installations (after a bulk load,
or to prove the incremental ones right)."""

from django.core.management.base import BaseCommand

from ...dashboard.services import dashboard_rebuild


class Command(BaseCommand):
    help = "Recompute the dashboard rollups from the rows (all partners, or --partner ID ...)."

    def add_arguments(self, parser) -> None:
        parser.add_argument("--partner", type=int, action="append", dest="partners")

    def handle(self, *args, partners=None, **options) -> None:
        counts = dashboard_rebuild(partner_ids=partners)
        if options["verbosity"]:
            self.stdout.write(", ".join(f"{n} {what}" for what, n in counts.items()))
