"""Fixtures of the security acceptance suite: throwaway app instances on the test database."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest
from flask import Flask

from app import create_app
from app.extensions import db

#: Environment variables that decide how a production app starts; each test sets its own.
PRODUCTION_ENV = (
    "SECRET_KEY", "DATABASE_URL", "SENIM_ENCRYPTION_KEYS", "SENIM_BLIND_INDEX_KEY", "SENIM_TRUSTED_HOSTS",
    "SENIM_FRAME_ANCESTORS", "SENIM_BEHIND_PROXY", "SENIM_SMTP_HOST", "SENIM_MAIL_FROM", "SENIM_BASE_URL",
)


@pytest.fixture
def make_app(app: Flask) -> Iterator[Callable[..., Flask]]:
    """Build extra app instances (``testing`` ones on the suite's database); their engines are closed after."""
    made: list[Flask] = []

    def build(config_name: str = "testing", **overrides: Any) -> Flask:
        if config_name == "testing":
            overrides.setdefault("SQLALCHEMY_DATABASE_URI", app.config["SQLALCHEMY_DATABASE_URI"])
        instance = create_app(config_name, overrides)
        made.append(instance)
        return instance

    yield build
    for instance in made:
        with instance.app_context():
            db.engine.dispose()


@pytest.fixture
def clean_env(monkeypatch: pytest.MonkeyPatch) -> pytest.MonkeyPatch:
    """No production setting leaks in from the environment of the test run."""
    for name in PRODUCTION_ENV:
        monkeypatch.delenv(name, raising=False)
    return monkeypatch
