from importlib import import_module

from django.apps import AppConfig
from django.contrib.admin import apps as admin_apps
from django.db import connections
from django.db.models.signals import post_migrate


def _search_triggers_in_place(sender, using: str = "default", **kwargs) -> None:
    # A migration that rebuilds a table on SQLite drops its triggers (search.ensure_fts).
    connection = connections[using]
    if connection.vendor == "sqlite":
        from . import search

        with connection.cursor() as cursor:
            search.ensure_fts(cursor)


class InstallationsConfig(AppConfig):
    name = "installations"
    verbose_name = "Installations"

    def ready(self) -> None:
        import_module(f"{self.name}.checks")
        # Each capability that follows the history connects its receivers here, one line each.
        for room in ("dashboard", "evidence", "live", "webhooks"):
            import_module(f"{self.name}.{room}.receivers")
        post_migrate.connect(_search_triggers_in_place, sender=self)


class PortalAdminConfig(admin_apps.AdminConfig):
    """django.contrib.admin with the project's site (installations/admin_site.py)."""

    default = False  # named in INSTALLED_APPS; InstallationsConfig stays this app's config
    default_site = "installations.admin_site.PortalAdminSite"
