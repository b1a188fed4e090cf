"""Signals the service layer sends. New capabilities listen here instead of growing services.py."""

from django.dispatch import Signal

# Sent inside the writing transaction right after a history entry (StatusChange) is stored:
# creation, every transition, reschedule and admin override. Arguments: ``change`` (the new
# StatusChange) and ``installation`` (the row as just saved, locked by the transaction).
# Receivers write their own rows in the same transaction (so they commit or roll back with the
# change) and leave anything that leaves the database to ``transaction.on_commit``.
history_recorded = Signal()
