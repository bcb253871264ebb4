"""The roster tests read English messages and import into classes of the current school year."""

from __future__ import annotations

import pytest
from flask import Flask
from flask.testing import FlaskClient

from app.extensions import db
from app.roster.services import current_school_year


@pytest.fixture
def client(app_ctx: Flask) -> FlaskClient:
    test_client = app_ctx.test_client()
    test_client.environ_base["HTTP_ACCEPT_LANGUAGE"] = "en"
    return test_client


@pytest.fixture
def year(world) -> int:
    """The current school year, with the world's classes moved into it (the upload form offers it)."""
    current = current_school_year()
    for school_class in (world.c7a, world.c8b, world.p3.school_class):
        school_class.school_year = current
    db.session.commit()
    return current
