"""Absolute links for mail and printed cards (always from the configured public address), and the safe local
``next`` a page returns to."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

from flask import current_app, url_for


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


def safe_next(target: str | None, default: str | None = None) -> str:
    """``target`` if it is a path on this site, else ``default`` (else the home page): a ``next`` parameter
    never leads elsewhere (no open redirect: no scheme, no host, no "//" or "\\" a browser reads as a host, no
    control characters or spaces a browser would strip)."""
    fallback = default or url_for("core.index")
    if not target:
        return fallback
    parts = urlsplit(target)
    if (parts.scheme or parts.netloc or not target.startswith("/") or target.startswith("//") or "\\" in target
            or any(ch.isspace() or ord(ch) < 0x20 or ord(ch) == 0x7F for ch in target)):
        return fallback
    return target
