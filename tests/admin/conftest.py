"""The admin tests read English messages: the client asks for English."""

from __future__ import annotations

import pytest
from flask import Flask
from flask.testing import FlaskClient


@pytest.fixture
def client(app_ctx: Flask) -> FlaskClient:
    test_client = app_ctx.test_client()
    test_client.environ_base["HTTP_ACCEPT_LANGUAGE"] = "en"
    return test_client
