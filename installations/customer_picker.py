"""Choosing one of the partner's customers on the new-installation form.

The form used to offer every customer in one <select>: for a partner with 100,000 customers that
was a 4.7 MB page drawn in 6.5 s. The partner now types a piece of the name, phone, email or
address and chooses among the oldest few matches (search.first_customers: the same ones for
a short text and a long one, on either database); the form never draws more than those and the
one already chosen.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from . import search
from .filters import SEARCH_MAX_LENGTH
from .models import Customer, Partner

SHOWN = 10
MIN_LENGTH = 2


@dataclass(frozen=True)
class Picker:
    query: str = ""
    matches: list[Customer] = field(default_factory=list)
    more: bool = False  # more than SHOWN customers match
    chosen: Customer | None = None

    @property
    def too_short(self) -> bool:
        return 0 < len(self.query) < MIN_LENGTH

    @property
    def choices(self) -> list[Customer]:
        """The customers the form offers: the chosen one first, then the matches."""
        rest = [c for c in self.matches if self.chosen is None or c.pk != self.chosen.pk]
        return [self.chosen, *rest] if self.chosen else rest


def _chosen(partner: Partner, raw: str | None) -> Customer | None:
    """The partner's customer whose id `raw` is; anything else (another partner's, garbage)
    is no choice here, and the form's own validation says so if it was posted."""
    try:
        pk = int(raw or "")
    except ValueError:
        return None
    return partner.customers.filter(pk=pk).first()


def pick(partner: Partner, query: str | None, chosen: str | None) -> Picker:
    query = (query or "").strip()[:SEARCH_MAX_LENGTH]
    customer = _chosen(partner, chosen)
    if len(query) < MIN_LENGTH:
        return Picker(query=query, chosen=customer)
    found = search.first_customers(partner, query, SHOWN + 1)  # the oldest, oldest first
    # The oldest ten, listed by name to be found by eye; the eleventh only says there are more
    # (sorted before the cut, a newer customer could take an older one's place).
    shown = sorted(found[:SHOWN], key=lambda c: (c.name.casefold(), c.pk))
    return Picker(query=query, matches=shown, more=len(found) > SHOWN, chosen=customer)


def label(customer: Customer) -> str:
    """What tells two customers of the same name apart: how to reach them and where they live."""
    parts = [customer.name, customer.phone or customer.email, customer.address]
    return " · ".join(part for part in parts if part)
