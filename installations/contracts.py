"""The contract the customer reads and signs: the partner's own text, or the default one.

One place for it, so that the customer's page and the evidence pack (which keeps a copy of the
text at the moment of signing) can never word it differently."""

from __future__ import annotations

import hashlib
from datetime import date

from django.template.loader import render_to_string
from django.utils import timezone

from .models import Installation

# What the customer ticks to sign with their typed name (the customer page shows it, and the
# evidence pack keeps it with a typed signature).
TYPED_STATEMENT = "I agree that typing my full name above is my signature."
# What the customer ticks to sign the close checklist on the handyman's device with their typed
# name. The evidence pack prints it beside the name: a new wording changes the packs of past
# closes too, so reword it only if it still says what those customers agreed to.
COMPLETION_STATEMENT = (
    "I, the customer, confirm the work is finished. The full name I typed above is my signature."
)


def done_on(installation: Installation) -> date:
    """The day the work was done: its completion, which may be before or after the booked day
    (a visit finished early is signed for the day it happened)."""
    if installation.completed_at:
        return timezone.localdate(installation.completed_at)
    return installation.scheduled_date


def contract_text(installation: Installation) -> str:
    if installation.partner.contract_text.strip():
        return installation.partner.contract_text
    ctx = {
        "partner": installation.partner,
        "customer": installation.customer,
        "installation": installation,
        "done_on": done_on(installation),
        "is_follow_up": installation.kind == Installation.Kind.FOLLOW_UP,
    }
    return render_to_string("customer/default_contract.txt", ctx).strip()


def read_mark(installation: Installation, contract: str | None = None) -> str:
    """A mark of what the customer reads before signing: the contract as it reads now and the
    site's address beside it. The sign form carries it, so that a signature is refused when
    either changed while they read (the partner's new terms, a corrected address), and is taken
    when the office changed only what the page does not show (its notes for the handyman).
    `contract`: its `contract_text`, when the caller already has it."""
    if contract is None:
        contract = contract_text(installation)
    read = "\x1f".join((contract, installation.site_address))
    return hashlib.sha256(read.encode()).hexdigest()[:16]
