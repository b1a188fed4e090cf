"""Rows read with a plain cursor get the types a queryset gives them (installations/rawsql.py):
on SQLite a cursor gives dates, times and datetimes as text, and the board's lane and the
dashboard's stuck jobs read rows that way."""

from __future__ import annotations

from datetime import date, datetime, time

import pytest
from django.db import connection
from django.utils import timezone

from installations.models import Installation
from installations.rawsql import row_reader
from installations.statuses import Status

pytestmark = pytest.mark.django_db

NAMES = ["id", "scheduled_date", "window_start", "window_end", "assigned_at", "arrived_at"]


def test_a_cursor_row_read_with_its_fields_is_what_the_queryset_gives(cast):
    inst = cast.installation(Status.INSTALLER_ASSIGNED)
    Installation.objects.filter(pk=inst.pk).update(assigned_at=timezone.now())
    fields = [Installation._meta.get_field(name) for name in NAMES]
    with connection.cursor() as cursor:
        cursor.execute(
            # Through a subquery, as the lane reads them: no declared column types reach the
            # driver, so nothing is converted before the reader.
            "SELECT * FROM (SELECT {} FROM {} WHERE id = %s) picked".format(
                ", ".join(connection.ops.quote_name(f.column) for f in fields),
                connection.ops.quote_name(Installation._meta.db_table),
            ),
            [inst.pk],
        )
        row = cursor.fetchone()

    values = row_reader([*fields[:-1], None])(row)

    expected = list(Installation.objects.filter(pk=inst.pk).values_list(*NAMES).get())
    assert values[:-1] == expected[:-1]
    assert [type(v) for v in values[1:5]] == [date, time, time, datetime]
    assert timezone.is_aware(values[4])
    assert values[-1] is None  # a column without a field is left as the driver gave it
