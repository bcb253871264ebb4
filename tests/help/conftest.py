import pytest

from app.extensions import db
from app.help.models import HelpService


@pytest.fixture(autouse=True)
def _empty_directory(app_ctx):
    """Start from an empty directory (the migration seeds the national numbers into a fresh database)."""
    db.session.execute(HelpService.__table__.delete())
    db.session.commit()
