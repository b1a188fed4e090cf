# The stuck list counts a job's wait from its booked day when that is later than its entry into
# the status (dashboard.rollups.waiting_since): the stored clocks of the open jobs this changes,
# recomputed. The rule is copied here as it stands today, so that this migration keeps meaning
# what it meant if waiting_since changes later.

from datetime import UTC, datetime, timedelta

from django.db import migrations
from django.utils import timezone

LEAD = {"SCHEDULED": timedelta(days=7), "INSTALLER_ASSIGNED": timedelta(0)}
BATCH = 2000


def _recount(apps, *, booked_day_counts: bool) -> None:
    DashboardJob = apps.get_model("installations", "DashboardJob")
    Installation = apps.get_model("installations", "Installation")
    zone = timezone.get_current_timezone()
    rows = (
        Installation.objects.filter(status__in=LEAD, dashboard__isnull=False)
        .order_by()
        .values_list(
            "pk", "status", "created_at", "assigned_at", "updated_at", "scheduled_date", "window_start"
        )
    )
    batch = []
    for pk, status, created_at, assigned_at, updated_at, day, start in rows.iterator(BATCH):
        since = (created_at if status == "SCHEDULED" else assigned_at) or updated_at
        if booked_day_counts:
            opens = timezone.make_aware(datetime.combine(day, start), zone) - LEAD[status]
            since = max(since, opens.astimezone(UTC))
        batch.append(DashboardJob(installation_id=pk, since=since))
        if len(batch) >= BATCH:
            DashboardJob.objects.bulk_update(batch, ["since"])
            batch = []
    DashboardJob.objects.bulk_update(batch, ["since"])


def forwards(apps, schema_editor):
    _recount(apps, booked_day_counts=True)


def backwards(apps, schema_editor):
    _recount(apps, booked_day_counts=False)


class Migration(migrations.Migration):

    dependencies = [
        ("installations", "0024_evidence_pack_customer_copy_file"),
    ]

    operations = [
        migrations.RunPython(forwards, backwards),
    ]
