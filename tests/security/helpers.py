"""Shared helpers of the security suite: the route walk, signed-in clients, page checks."""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, inspect, select, text
from werkzeug.test import TestResponse

from app.auth.models import User
from app.auth.permissions import PUBLIC_ENDPOINTS, Permission, endpoint_permission
from app.core.audit import AuditEntry
from app.extensions import db
from tests.factories import login

#: Endpoints of the sign-in flow itself: a holder may be sent on (e.g. /mfa -> /mfa/enroll) instead of 200; and
#: pages that send a holder on to their own page (the guidance library's front page sends a parent to the parents'
#: articles; the former /parents/guidance address leads to the library).
FLOW_ENDPOINTS = frozenset({"auth.mfa_verify", "auth.mfa_enroll", "guidance.library", "guidance.old_list"})

#: The public endpoints this suite has reviewed; a new one must be added here on purpose.
REVIEWED_PUBLIC_ENDPOINTS = frozenset({
    "static", "auth.login", "core.set_language", "core.healthz",
    # Pupil self-completion of a screening: no account, the personal one-time code opens one session
    # (app/screening/views/pupil.py); the pages show only the questionnaire, never a name.
    "screening.enter_code", "screening.choose_language", "screening.question", "screening.pause",
    "screening.finished",
    # The calm page a pupil sees when parental consent has ended (issue 8 item 10): static text and helplines, no
    # session needed, nothing about the pupil or why.
    "screening.unavailable",
    # "Forgot your password?" (app/auth/reset.py): one answer for every request, throttled; the reset page opens
    # only with an unspent, unexpired e-mailed token and changes nothing else.
    "auth.password_forgot", "auth.password_reset",
    # "Sign in with Kundelik" (app/kundelik/views.py): 404 unless a Kundelik client is configured; the start only
    # redirects to Kundelik with a fresh state; the callback accepts a code only with the state pending in this
    # browser's session (single use, 10 minutes) and signs in only an account a documented rule links.
    "kundelik.start", "kundelik.callback",
    # Help for pupils (app/help): the directory is public information; "ask for help" takes a message for a
    # school's psychologist without an account (CSRF, rate-limited per browser and address, stores nothing that
    # identifies the sender) and the "sent" page shows help lines only.
    "help.directory", "help.ask", "help.sent",
    # Street Law (app/streetlaw): public texts, identical for every viewer (no name, no form, national help lines
    # only) because phones keep them offline; the manifest; the service worker, whose scope is /street-law/ and
    # which keeps only those pages and static files (tests/streetlaw/test_offline.py).
    "street_law.index", "street_law.home", "street_law.page", "street_law.offline", "street_law.manifest",
    "street_law.service_worker",
})

#: Pupil routes that send an in-scope user on (302) when a precondition is missing, e.g. consent.
CONDITIONAL_PUPIL_ROUTES = frozenset({"screening.paper_entry"})


def route_query(endpoint: str) -> dict[str, str]:
    """Query parameters a route needs besides its URL parameters (so in scope does not 404 for them)."""
    if endpoint == "screening.paper_entry":
        from app.screening.services import registry

        return {"instrument": next(iter(registry())).ref, "language": "ru"}
    return {}

_INLINE_SCRIPT = re.compile(r"<script\b(?![^>]*\bsrc\s*=)[^>]*>", re.IGNORECASE)
_SCRIPT_BODY = re.compile(r"<script\b[^>]*>\s*[^<\s][^<]*</script>", re.IGNORECASE)
_STYLE_ATTR = re.compile(r"<[a-zA-Z][^>]*\sstyle\s*=", re.IGNORECASE)
_HANDLER_ATTR = re.compile(r"<[a-zA-Z][^>]*\son[a-z]+\s*=", re.IGNORECASE)


def unguarded_endpoints(app: Flask) -> list[str]:
    """Endpoints that are neither public nor guarded by @require (fail closed: must be empty)."""
    return sorted(
        endpoint for endpoint, view in app.view_functions.items()
        if endpoint not in PUBLIC_ENDPOINTS and endpoint_permission(view) is None
    )


@dataclass(frozen=True)
class Route:
    endpoint: str
    path: str
    permission: Permission


def guarded_get_routes(app: Flask, *, arguments: frozenset[str] = frozenset()) -> list[Route]:
    """Every GET route guarded by @require whose URL parameters are exactly ``arguments``."""
    routes = []
    for rule in app.url_map.iter_rules():
        permission = endpoint_permission(app.view_functions[rule.endpoint])
        if "GET" not in (rule.methods or ()) or permission is None or set(rule.arguments) != arguments:
            continue
        routes.append(Route(rule.endpoint, rule.rule, permission))
    return sorted(routes, key=lambda r: r.path)


def path_for(route: Route, **values: str) -> str:
    """The route's path with its ``<name>`` parameters filled in."""
    return re.sub(r"<(?:[^:<>]+:)?([^<>]+)>", lambda m: values[m.group(1)], route.path)


def signed_in(app: Flask, user: User) -> FlaskClient:
    """A fresh client signed in as ``user`` (second factor included)."""
    client = app.test_client()
    response = login(client, user)
    assert response.status_code == 302, f"sign-in of {user.username} failed"
    return client


def location_path(response: TestResponse) -> str:
    return urlsplit(response.headers.get("Location", "")).path


def audit_count(**filters: Any) -> int:
    query = select(func.count()).select_from(AuditEntry)
    for name, value in filters.items():
        query = query.where(getattr(AuditEntry, name) == value)
    return db.session.execute(query).scalar_one()


def inline_code_problems(body: str) -> list[str]:
    """Inline scripts, style attributes and on*= handlers (all forbidden by the CSP)."""
    problems = []
    for label, pattern in (("inline <script>", _INLINE_SCRIPT), ("script body", _SCRIPT_BODY),
                           ("style attribute", _STYLE_ATTR), ("on*= handler", _HANDLER_ATTR)):
        match = pattern.search(body)
        if match:
            problems.append(f"{label}: {match.group(0)[:80]!r}")
    return problems


def header_problems(response: TestResponse, *, authenticated: bool) -> list[str]:
    """Security headers every HTML response must carry."""
    headers = response.headers
    csp = headers.get("Content-Security-Policy", "")
    problems = [f"CSP lacks {d}" for d in ("object-src 'none'", "base-uri 'none'", "frame-ancestors 'none'")
                if d not in csp]
    expected = {"X-Content-Type-Options": "nosniff", "Referrer-Policy": "no-referrer",
                "Cross-Origin-Opener-Policy": "same-origin"}
    problems += [f"{name} is {headers.get(name)!r}" for name, value in expected.items() if headers.get(name) != value]
    if authenticated and "no-store" not in headers.get("Cache-Control", ""):
        problems.append("Cache-Control lacks no-store")
    return problems


def all_text_values(*, tables: list[str] | None = None) -> Iterator[tuple[str, str, Any]]:
    """(table, column, value) of every text or binary cell of every table (a dump, read with SQL)."""
    names = tables or sorted(inspect(db.engine).get_table_names())
    for table in names:
        for row in db.session.execute(text(f'SELECT * FROM "{table}"')).mappings():  # noqa: S608 - names from the schema
            for column, value in row.items():
                if isinstance(value, str | bytes | memoryview):
                    yield table, column, value


def contains(value: Any, needle: str) -> bool:
    """True if ``needle`` occurs in a text or binary cell (UTF-8 for binary)."""
    if isinstance(value, memoryview):
        value = bytes(value)
    if isinstance(value, bytes):
        return needle.encode("utf-8") in value
    return needle in value


def without_tokens(body: str, *ids: str) -> str:
    """A page with its CSRF tokens (time-stamped) and the given ids blanked, for byte comparison."""
    body = re.sub(r'(name="csrf_token"[^>]*value=)"[^"]*"', r'\1""', body)
    for value in ids:
        body = body.replace(value, "<id>")
    return body


def strip_values(body: str) -> str:
    """A page without its form values (CSRF tokens, echoed input)."""
    return re.sub(r'value="[^"]*"', 'value=""', body)
