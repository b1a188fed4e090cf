"""FTS5 trigram tables for the partner list's search on SQLite (see installations/search.py).

PostgreSQL has its trigram GIN indexes (0003) and nothing is done there."""

from django.db import migrations

from installations import search


def create(apps, schema_editor):
    if schema_editor.connection.vendor == "sqlite":
        with schema_editor.connection.cursor() as cursor:
            search.create_fts(cursor)


def drop(apps, schema_editor):
    if schema_editor.connection.vendor == "sqlite":
        with schema_editor.connection.cursor() as cursor:
            search.drop_fts(cursor)


class Migration(migrations.Migration):
    dependencies = [("installations", "0015_live")]

    operations = [migrations.RunPython(create, drop, elidable=False)]
