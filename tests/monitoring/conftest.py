"""The monitoring pages are read in English in these tests (the users' chosen language)."""

from __future__ import annotations

import pytest

from app.extensions import db


@pytest.fixture
def world(world):
    for user in world.users.values():
        user.preferred_language = "en"
    db.session.commit()
    return world
