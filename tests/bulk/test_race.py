"""Two identical bulk requests at once, on both databases (a double click, a resent form racing the
first): real threads, separate connections. Each row is changed exactly once, and both answers
report every row as done."""

from __future__ import annotations

import pytest

from installations.bulk.services import BulkResult, installations_bulk_assign
from installations.models import Installation, PartnerStatusCount, StatusChange
from installations.statuses import Status

from ..racing import race

pytestmark = pytest.mark.django_db(transaction=True)


def test_two_identical_bulk_assigns_change_each_row_once(cast):
    rows = [cast.installation() for _ in range(12)]
    page = {inst.pk: inst.version for inst in rows}

    results = race(
        2,
        lambda i: installations_bulk_assign(
            partner=cast.partner, rows=page, handyman=cast.handyman, actor=cast.partner_user
        ),
    )

    assert all(isinstance(r, BulkResult) for r in results), results
    for result in results:
        assert [r.pk for r in result.changed] == list(page), result.refused
    # Between them, each row was changed by one and recognised as its own repeat by the other.
    repeated = [sum(1 for r in result.changed if r.repeated) for result in results]
    assert sum(repeated) == len(rows), repeated
    for inst in rows:
        assert StatusChange.objects.filter(installation=inst, transition="assign").count() == 1
        assert Installation.objects.get(pk=inst.pk).version == inst.version + 1
    counts = dict(
        PartnerStatusCount.objects.filter(partner=cast.partner).values_list("status", "count")
    )
    assert counts[Status.INSTALLER_ASSIGNED] == len(rows) and counts[Status.SCHEDULED] == 0
