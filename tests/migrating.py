"""Moving the test database along the migrations, for tests of a data migration."""

from __future__ import annotations

from django.db import connection
from django.db.migrations.executor import MigrationExecutor


def latest() -> list[tuple[str, str]]:
    """The app's newest migrations, to come back to after a test went back in time."""
    return MigrationExecutor(connection).loader.graph.leaf_nodes("installations")


def migrate(target: list[tuple[str, str]]) -> None:
    executor = MigrationExecutor(connection)
    executor.loader.build_graph()
    executor.migrate(target)
