import pytest

from app.extensions import db


@pytest.fixture
def english(world):
    """Every user of the world reads English (the tests below compare English words)."""
    for user in world.users.values():
        user.preferred_language = "en"
    db.session.commit()
    return world
