"""Migration 0019: closes signed before typed completion signatures existed are "drawn"."""

from __future__ import annotations

import pytest

from installations.models import Installation
from installations.statuses import Status
from tests.migrating import latest, migrate

BEFORE = [("installations", "0018_admin_date_index")]
AFTER = [("installations", "0019_completion_signature_kind")]


@pytest.mark.django_db(transaction=True)
def test_closes_signed_before_the_migration_are_marked_drawn(cast):
    signed = cast.installation(Status.INSTALLATION_COMPLETED)
    assert signed.completion_signature
    unsigned = cast.installation(Status.INSTALLATION_IN_PROGRESS)
    try:
        try:
            migrate(BEFORE)  # the two columns go; the rows and the signature file names stay
        finally:
            migrate(AFTER)  # and come back, filled in by the data migration
        kinds = dict(Installation.objects.values_list("pk", "completion_signature_kind"))
        assert kinds == {signed.pk: "drawn", unsigned.pk: ""}
    finally:
        # The later migrations too (0020 puts back the search triggers a rebuild drops): the
        # tests after this one run on the schema they expect.
        migrate(latest())
