# "Installer assigned" used to default to 336 hours (14 days), counted from the assignment; since
# 0025 its clock starts at the window and the default is 24 hours. The settings form stores every
# status's hours, so a partner who saved it for another status stored 336 without choosing it,
# and it now means "14 days past the day": a missed visit off the list for two weeks. Saved
# values equal to the old default take the new one. Backwards changes nothing: a 24 moved here
# cannot be told from a 24 a partner saved, and 24 is the meaning the old default stood for.

from django.db import migrations

STATUS = "INSTALLER_ASSIGNED"
OLD_DEFAULT = 14 * 24
NEW_DEFAULT = 24


def forwards(apps, schema_editor):
    DashboardThresholds = apps.get_model("installations", "DashboardThresholds")
    for row in DashboardThresholds.objects.order_by("pk").iterator(500):
        if row.hours.get(STATUS) == OLD_DEFAULT:
            row.hours[STATUS] = NEW_DEFAULT
            row.save(update_fields=["hours"])


class Migration(migrations.Migration):

    dependencies = [
        ("installations", "0027_dashboard_unassigned_jobs_count_from_a_week_before"),
    ]

    operations = [
        migrations.RunPython(forwards, migrations.RunPython.noop),
    ]
