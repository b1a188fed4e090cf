"""Signals the service layer sends. New capabilities listen here instead of growing services.py."""

from django.dispatch import Signal

# Sent inside the writing transaction right after a history entry (StatusChange) is stored:
# creation, every transition, reschedule and admin override. Arguments: ``change`` (the new
# StatusChange) and ``installation`` (the row as just saved, locked by the transaction).
# Receivers write their own rows in the same transaction (so they commit or roll back with the
# change) and leave anything that leaves the database to ``transaction.on_commit``.
history_recorded = Signal()

# Sent inside the writing transaction when an installation's details are edited without a history
# entry (services.installation_update: address, date, window, notes). Argument: ``installation``
# (the row as just saved). The live feed numbers these edits too, since partners see them.
installation_edited = Signal()
