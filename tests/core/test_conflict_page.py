"""One conflict page: every feature with optimistic locking renders app/templates/_conflict.html, no copy of it."""

from __future__ import annotations

from pathlib import Path

import pytest
from jinja2 import TemplateNotFound

import app as app_package

APP_DIR = Path(app_package.__file__).parent


def test_there_is_one_conflict_template(app):
    copies = sorted(str(p.relative_to(APP_DIR)) for p in APP_DIR.rglob("*conflict*.html"))
    assert copies == ["templates/_conflict.html"]
    with pytest.raises(TemplateNotFound):
        app.jinja_env.get_template("monitoring/conflict.html")


def test_no_view_renders_the_template_itself():
    """Views go through app.core.conflict_page.render_conflict (which sets the form's version)."""
    offenders = [str(p.relative_to(APP_DIR)) for p in APP_DIR.rglob("*.py")
                 if "conflict.html" in p.read_text(encoding="utf-8") and p.name != "conflict_page.py"]
    assert offenders == []
