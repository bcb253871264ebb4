"""Migration tests: an app on a database file of its own, and the migrations folder."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from flask import Flask
from sqlalchemy import Connection, inspect, text

from app import create_app
from app.extensions import db

MIGRATIONS = str(Path(__file__).resolve().parent.parent / "migrations")


@contextmanager
def scratch_app(database_url: str) -> Iterator[Flask]:
    """An app on ``database_url`` (empty: the test runs the migrations it needs), inside its app context."""
    app = create_app("testing", {"SQLALCHEMY_DATABASE_URI": database_url})
    with app.app_context():
        try:
            yield app
        finally:
            db.engine.dispose()


def model_drift(*words: str) -> list[object]:
    """Differences between the models and the migrated database (alembic autogenerate) that mention any of
    ``words`` (table or column names): empty when the models and their migration agree."""
    from alembic.autogenerate import compare_metadata
    from alembic.migration import MigrationContext

    with db.engine.connect() as connection:
        diff = compare_metadata(MigrationContext.configure(connection), db.metadata)
    return [d for d in diff if any(word in repr(d) for word in words)]


def assert_tables_come_and_go(database_url: str, *, before: str, revision: str, tables: set[str]) -> None:
    """Upgrading from ``before`` to ``revision`` creates ``tables``, downgrading drops them, upgrading again
    creates them again."""
    from flask_migrate import downgrade, upgrade

    def present() -> set[str]:
        return tables & set(inspect(db.engine).get_table_names())

    with scratch_app(database_url):
        upgrade(directory=MIGRATIONS, revision=before)
        assert not present()
        upgrade(directory=MIGRATIONS, revision=revision)
        assert present() == tables
        downgrade(directory=MIGRATIONS, revision=before)
        assert not present()
        upgrade(directory=MIGRATIONS, revision=revision)
        assert present() == tables


def insert_school(connection: Connection) -> None:
    """Region 1, district 1 and school 1, written with SQL (a migration test's models may not match yet)."""
    connection.execute(text("INSERT INTO regions (id, name_kk, name_ru) VALUES (1, 'r', 'r')"))
    connection.execute(text("INSERT INTO districts (id, region_id, name_kk, name_ru) VALUES (1, 1, 'd', 'd')"))
    connection.execute(text("INSERT INTO schools (id, district_id, name_kk, name_ru, default_language) "
                            "VALUES (1, 1, 's', 's', 'kk')"))
