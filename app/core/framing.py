"""Embedding Senim in Kundelik: who may frame it, which requests come from inside a frame, which pages never do.

Senim is framed only when ``SENIM_FRAME_ANCESTORS`` lists origins (the Kundelik hosts); otherwise every page
answers ``frame-ancestors 'none'`` and ``X-Frame-Options: DENY``. Inside a cross-site frame the browser does not
send the standalone site's ``SameSite=Lax`` session cookie, so a request the browser marks as a frame
navigation (``Sec-Fetch-Dest: iframe``) gets a second, *partitioned* session cookie instead (CHIPS:
``SameSite=None; Secure; Partitioned``): the browser keeps it for Senim-inside-Kundelik only, never sends it to
Senim opened on its own nor inside another site. README, section "Embedding in Kundelik", gives the reasons.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Callable, Iterable
from typing import Any, TypeVar

from flask import Flask, Request

F = TypeVar("F", bound=Callable[..., Any])

NONE = "'none'"
#: An origin a CSP source list accepts for a framing page: scheme, host (a leading "*." allowed), optional port.
_ORIGIN = re.compile(r"^(https?)://(\*\.)?[a-z0-9]([a-z0-9-]*[a-z0-9])?(\.[a-z0-9]([a-z0-9-]*[a-z0-9])?)*(:\d{1,5})?$")
#: Fetch Metadata destinations of a navigation inside a frame.
_FRAME_DESTINATIONS = frozenset({"iframe", "frame"})
#: Path prefixes whose pages are never framed, decorator or not (administration: accounts, roles, keys).
TOP_LEVEL_PATH_PREFIXES = ("/admin/",)
_ENVIRON_KEY = "senim.embedded"


def parse_ancestors(value: str | Iterable[str] | None, *, production: bool) -> tuple[str, ...]:
    """The origins allowed to frame Senim, checked; () means nobody. Raises ValueError saying what is wrong.

    Accepts a space- or comma-separated string or a list; ``'none'`` (or nothing) alone means not embeddable.
    Production accepts https:// origins only.
    """
    items = re.split(r"[\s,]+", value) if isinstance(value, str) else list(value or ())
    origins = [item.strip().rstrip("/").lower() for item in items if item and item.strip()]
    if not origins or origins == [NONE]:
        return ()
    if NONE in origins:
        raise ValueError("SENIM_FRAME_ANCESTORS: 'none' cannot be combined with origins")
    for origin in origins:
        if origin == "'self'":
            continue
        match = _ORIGIN.match(origin)
        if not match:
            raise ValueError(f"SENIM_FRAME_ANCESTORS: {origin!r} is not an origin such as https://kundelik.kz "
                             "(scheme and host, optional port, no path)")
        if production and match.group(1) != "https":
            raise ValueError(f"SENIM_FRAME_ANCESTORS: {origin!r} must start with https:// in production")
    return tuple(dict.fromkeys(origins))


def ancestors(app: Flask) -> tuple[str, ...]:
    """The configured framing origins (checked at start-up; () when Senim is not embeddable)."""
    value = app.config.get("SENIM_FRAME_ANCESTORS")
    return _parsed(value if isinstance(value, str) else " ".join(value or ()))


@functools.cache
def _parsed(value: str) -> tuple[str, ...]:
    return parse_ancestors(value, production=False)


def csp_source_list(app: Flask) -> str:
    """The ``frame-ancestors`` source list of a page that may be framed."""
    return " ".join(ancestors(app)) or NONE


def embedding_enabled(app: Flask) -> bool:
    """True when some origin may frame Senim."""
    return bool(ancestors(app))


def embedded_request(app: Flask, request: Request) -> bool:
    """True when ``request`` comes from Senim inside a frame, so it carries the partitioned session cookie.

    A frame navigation says so (``Sec-Fetch-Dest: iframe``); a top-level one says ``document``. For the
    rest (a script's request, a browser without Fetch Metadata) the cookie the browser chose to send decides:
    inside the frame it sends only the partitioned one.
    """
    cached = request.environ.get(_ENVIRON_KEY)
    if cached is not None:
        return bool(cached)
    embedded = False
    if embedding_enabled(app):
        destination = request.headers.get("Sec-Fetch-Dest", "")
        if destination in _FRAME_DESTINATIONS:
            embedded = True
        elif destination != "document":
            embedded = (app.config["SENIM_FRAME_SESSION_COOKIE_NAME"] in request.cookies
                        and app.config["SESSION_COOKIE_NAME"] not in request.cookies)
    request.environ[_ENVIRON_KEY] = embedded
    return embedded


def frame_navigation(request: Request) -> bool:
    """True when the browser says this request loads a page into a frame."""
    return request.headers.get("Sec-Fetch-Dest", "") in _FRAME_DESTINATIONS


def top_level_only(view: F) -> F:
    """Mark a view whose page is never framed, whatever SENIM_FRAME_ANCESTORS says (clickjacking)."""
    view.senim_top_level_only = True  # type: ignore[attr-defined]
    return view


def is_top_level_only(app: Flask, request: Request) -> bool:
    """True for pages that are never framed: marked views and everything under TOP_LEVEL_PATH_PREFIXES."""
    view = app.view_functions.get(request.endpoint or "")
    return bool(getattr(view, "senim_top_level_only", False)) or request.path.startswith(TOP_LEVEL_PATH_PREFIXES)


def cross_site_write(app: Flask, request: Request) -> bool:
    """An embedded request that changes state but does not come from Senim's own page (Fetch Metadata).

    The partitioned cookie is ``SameSite=None``: the framing site could post a form into the frame with it.
    CSRF tokens refuse that already; this refuses it before any form is read.
    """
    if request.method in ("GET", "HEAD", "OPTIONS") or not embedded_request(app, request):
        return False
    return request.headers.get("Sec-Fetch-Site", "same-origin") not in ("same-origin", "none")
