# A job without a handyman now counts its wait from a week before its window even when it was
# created later (dashboard.rollups.waiting_since): a job booked tomorrow is stuck the day it is
# made. The stored clocks of the open Scheduled jobs, recomputed. Both rules are copied here as
# they stand today (0025's pattern), so that this migration keeps meaning what it meant if
# waiting_since changes later; backwards puts back 0025's rule.

from datetime import UTC, datetime, timedelta

from django.db import migrations
from django.utils import timezone

LEAD = timedelta(days=7)
BATCH = 2000


def _recount(apps, *, from_the_week_before: bool) -> None:
    DashboardJob = apps.get_model("installations", "DashboardJob")
    Installation = apps.get_model("installations", "Installation")
    zone = timezone.get_current_timezone()
    rows = (
        Installation.objects.filter(status="SCHEDULED", dashboard__isnull=False)
        .order_by()
        .values_list("pk", "created_at", "updated_at", "scheduled_date", "window_start")
    )
    batch = []
    for pk, created_at, updated_at, day, start in rows.iterator(BATCH):
        since = (timezone.make_aware(datetime.combine(day, start), zone) - LEAD).astimezone(UTC)
        if not from_the_week_before:
            since = max(created_at or updated_at, since)
        batch.append(DashboardJob(installation_id=pk, since=since))
        if len(batch) >= BATCH:
            DashboardJob.objects.bulk_update(batch, ["since"])
            batch = []
    DashboardJob.objects.bulk_update(batch, ["since"])


def forwards(apps, schema_editor):
    _recount(apps, from_the_week_before=True)


def backwards(apps, schema_editor):
    _recount(apps, from_the_week_before=False)


class Migration(migrations.Migration):

    dependencies = [
        ("installations", "0026_live_change_status_changed"),
    ]

    operations = [
        migrations.RunPython(forwards, backwards),
    ]
