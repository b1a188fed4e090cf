"""Signals the service layer sends. New capabilities listen here instead of growing services.py."""

from django.dispatch import Signal

# Sent inside the writing transaction right after a history entry (StatusChange) is stored:
# creation, every transition, reschedule and admin override. Arguments: ``change`` (the new
# StatusChange) and ``installation`` (the row as just saved, locked by the transaction).
# Receivers write their own rows in the same transaction (so they commit or roll back with the
# change) and leave anything that leaves the database to ``transaction.on_commit``.
history_recorded = Signal()

# Sent inside the writing transaction when an installation's details are edited without a history
# entry (services.installation_update: site address, notes). Arguments: ``installation`` (the row
# as just saved), ``changes`` ({field: [old, new]} of the fields whose value changed, as stored:
# empty when the edit changed nothing) and ``by`` (the actor's name as the history writes it).
# The live feed numbers these edits too, since partners see them; webhooks send the changes.
installation_edited = Signal()
