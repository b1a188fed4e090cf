"""Put back the site search's triggers on SQLite: 0019 added columns to the installations
table, which SQLite does by rebuilding the table, and the triggers went with the old one
(installations/search.py, ensure_fts). Nothing is done on PostgreSQL."""

from django.db import migrations

from installations import search


def ensure(apps, schema_editor):
    if schema_editor.connection.vendor == "sqlite":
        with schema_editor.connection.cursor() as cursor:
            search.ensure_fts(cursor)


class Migration(migrations.Migration):
    dependencies = [("installations", "0019_completion_signature_kind")]

    operations = [migrations.RunPython(ensure, migrations.RunPython.noop, elidable=False)]
