"""Absolute links for mail and printed cards: always from the configured public address."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

from flask import current_app


def absolute_url(endpoint: str, **values: Any) -> str:
    """Absolute link built from ``SENIM_BASE_URL``, never from the request's Host header (security.md B25).

    The path comes from the URL map alone, so a prefix the app is mounted under belongs in the base URL.
    """
    path = current_app.url_map.bind("senim.invalid").build(endpoint, values)
    return str(current_app.config["SENIM_BASE_URL"]).rstrip("/") + path


def base_url_problem(value: str, *, production: bool) -> str | None:
    """Why ``value`` cannot be Senim's public address, or None if it can."""
    parts = urlsplit(value.strip())
    if parts.scheme not in ("http", "https") or not parts.hostname:
        return "SENIM_BASE_URL must be an absolute address such as https://senim.example.kz"
    if production and parts.scheme != "https":
        return "SENIM_BASE_URL must start with https:// in production"
    if parts.query or parts.fragment or parts.username or parts.password:
        return "SENIM_BASE_URL must not contain a query, a fragment or credentials"
    return None
