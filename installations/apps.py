from importlib import import_module

from django.apps import AppConfig
from django.contrib.admin import apps as admin_apps


class InstallationsConfig(AppConfig):
    name = "installations"
    verbose_name = "Installations"

    def ready(self) -> None:
        import_module(f"{self.name}.checks")
        # Each capability that follows the history connects its receivers here, one line each.
        for room in ("dashboard", "evidence", "live", "webhooks"):
            import_module(f"{self.name}.{room}.receivers")


class PortalAdminConfig(admin_apps.AdminConfig):
    """django.contrib.admin with the project's site (installations/admin_site.py)."""

    default = False  # named in INSTALLED_APPS; InstallationsConfig stays this app's config
    default_site = "installations.admin_site.PortalAdminSite"
