"""Shared fixtures: one migrated database per test worker (SQLite or PostgreSQL), emptied after each test.

Set ``SENIM_TEST_DATABASE_URL`` to a PostgreSQL URL to run the suite there; each xdist worker then
gets a database of its own, created from that URL's server and dropped at the end.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskClient
from hypothesis import settings
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from app import create_app
from app.core.translations_build import compile_catalogs
from app.extensions import db
from tests import factories

# Hypothesis: no per-example deadline; a loaded 2-core CI machine makes timings meaningless.
settings.register_profile("senim", deadline=None)
settings.load_profile("senim")

# Before any app exists: Flask-Babel remembers a missing .mo as "English" for the whole process.
compile_catalogs()

pytest_plugins: list[str] = []


def _worker() -> str:
    return os.environ.get("PYTEST_XDIST_WORKER", "main")


def _postgres_url(base_url: str) -> str:
    """Create a fresh database for this worker on the server of ``base_url``; return its URL."""
    url = make_url(base_url)
    name = re.sub(r"\W", "_", f"{url.database}_{_worker()}")
    admin = create_engine(url.set(database="postgres"), isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    admin.dispose()
    return url.set(database=name).render_as_string(hide_password=False)


@pytest.fixture(scope="session")
def database_url(tmp_path_factory: pytest.TempPathFactory) -> str:
    base = os.environ.get("SENIM_TEST_DATABASE_URL", "")
    if base.startswith("postgresql"):
        return _postgres_url(base)
    path = tmp_path_factory.mktemp("db") / f"senim-{_worker()}.db"
    return f"sqlite:///{path}"


@pytest.fixture(scope="session")
def app(database_url: str) -> Iterator[Flask]:
    application = create_app("testing", {"SQLALCHEMY_DATABASE_URI": database_url})
    from flask_migrate import upgrade

    with application.app_context():
        upgrade(directory=str(Path(__file__).resolve().parent.parent / "migrations"))
    yield application
    with application.app_context():
        db.engine.dispose()


def _empty_database() -> None:
    """Delete every row (PostgreSQL: as superuser, past the audit table's append-only triggers)."""
    db.session.rollback()
    tables = [t.name for t in reversed(db.metadata.sorted_tables)]
    with db.engine.begin() as conn:
        if db.engine.dialect.name == "postgresql":
            # DELETE on a few small tables is much faster than TRUNCATE; replica mode skips the triggers.
            conn.execute(text("SET LOCAL session_replication_role = replica"))
        for table in tables:
            conn.execute(text(f'DELETE FROM "{table}"'))  # noqa: S608 - table names from our metadata
    db.session.remove()


@pytest.fixture
def app_ctx(app: Flask) -> Iterator[Flask]:
    with app.app_context():
        yield app
        _empty_database()


@pytest.fixture
def client(app_ctx: Flask) -> FlaskClient:
    return app_ctx.test_client()


@pytest.fixture
def world(app_ctx: Flask) -> factories.World:
    """The catalogue's fixtures: schools S1 and S2, classes 7A and 8B, pupils, staff, a parent."""
    return factories.build_world()


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    on_postgres = os.environ.get("SENIM_TEST_DATABASE_URL", "").startswith("postgresql")
    for item in items:
        if on_postgres and "sqlite_only" in item.keywords:
            item.add_marker(pytest.mark.skip(reason="SQLite only"))
        if not on_postgres and "postgres_only" in item.keywords:
            item.add_marker(pytest.mark.skip(reason="PostgreSQL only"))
