"""Migration tests: an app on a database file of its own, and the migrations folder."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from flask import Flask

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
