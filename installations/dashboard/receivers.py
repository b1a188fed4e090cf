"""The dashboard follows the history: every entry moves its rollups in the same transaction."""

from django.dispatch import receiver

from ..signals import history_recorded
from .services import dashboard_record_change


@receiver(history_recorded, dispatch_uid="dashboard_rollups")
def _on_history_recorded(sender, *, change, installation, **kwargs) -> None:
    dashboard_record_change(change=change, installation=installation)
