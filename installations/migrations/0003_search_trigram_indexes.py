"""Trigram indexes for the partner list's search (PostgreSQL only).

The search is `UPPER(column) LIKE UPPER('%text%')` (Django's `icontains`); only a trigram GIN
index on the same expression can answer a match in the middle of a value. SQLite has no such
index: there the search reads the partner's rows (see docs/benchmarks.md). `pg_trgm` ships with
PostgreSQL and is a trusted extension (15+), so the database owner may create it.
"""

from django.db import migrations

INDEXES = {
    "search_customer_name": ("installations_customer", "name"),
    "search_customer_phone": ("installations_customer", "phone"),
    "search_customer_email": ("installations_customer", "email"),
    "search_customer_address": ("installations_customer", "address"),
    "search_inst_site_address": ("installations_installation", "site_address"),
}


def create(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    schema_editor.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
    for name, (table, column) in INDEXES.items():
        schema_editor.execute(
            f'CREATE INDEX IF NOT EXISTS "{name}" ON "{table}" '
            f'USING gin ((UPPER("{column}"::text)) gin_trgm_ops)'
        )


def drop(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    for name in INDEXES:
        schema_editor.execute(f'DROP INDEX IF EXISTS "{name}"')


class Migration(migrations.Migration):
    dependencies = [("installations", "0002_list_indexes")]

    operations = [migrations.RunPython(create, drop, elidable=False)]
