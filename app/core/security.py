"""Per-request security: request ids, headers (CSP without inline scripts), no caching of private pages."""

from __future__ import annotations

import functools
import io
import secrets
from typing import IO, Any

from flask import Flask, Request, Response, current_app, g
from flask.sessions import SecureCookieSessionInterface
from flask_login import current_user
from itsdangerous import URLSafeTimedSerializer
from werkzeug.exceptions import RequestEntityTooLarge
from werkzeug.formparser import FormDataParser


def _csp() -> str:
    return _csp_for(current_app.config.get("SENIM_FRAME_ANCESTORS") or "'none'")


@functools.cache
def _csp_for(ancestors: str) -> str:
    return "; ".join([
        "default-src 'self'",
        "script-src 'self'",
        "style-src 'self'",
        "img-src 'self' data:",
        "font-src 'self'",
        "connect-src 'self'",
        "object-src 'none'",
        "base-uri 'none'",
        "form-action 'self'",
        f"frame-ancestors {ancestors}",
    ])


#: Per-request values kept on ``g``. They are cleared at the start of each request because ``g``
#: lives on the app context, which a request reuses when one is already pushed (tests, CLI).
_REQUEST_G_KEYS = ("_login_user", "csrf_token", "senim_session", "senim_mfa_verified", "senim_session_expired",
                   "_flask_babel")


class _FormDataParser(FormDataParser):
    """Werkzeug counts MAX_FORM_PARTS for multipart bodies only; count url-encoded fields too."""

    def parse(self, stream: IO[bytes], mimetype: str, content_length: int | None,
              options: dict[str, str] | None = None) -> Any:
        if mimetype == "application/x-www-form-urlencoded" and self.max_form_parts is not None:
            body = stream.read()  # already limited to MAX_CONTENT_LENGTH
            if body.count(b"&") >= self.max_form_parts:
                raise RequestEntityTooLarge()
            stream = io.BytesIO(body)
        return super().parse(stream, mimetype, content_length, options)


class SenimRequest(Request):
    """The request class: the form-field limit applies to every form encoding."""

    form_data_parser_class = _FormDataParser


class SessionInterface(SecureCookieSessionInterface):
    """Flask's signed-cookie session, with its signing serializer built once per key set.

    Flask builds a new serializer for every request, and itsdangerous probes the JSON serializer each
    time; on a pupil's answer save that was a measurable share of the request (bench/README.md). The
    cache is keyed by the secret key and its fallbacks, so a key change takes effect at once.
    """

    def __init__(self) -> None:
        self._serializers: dict[tuple[Any, ...], URLSafeTimedSerializer | None] = {}

    def get_signing_serializer(self, app: Flask) -> URLSafeTimedSerializer | None:
        key = (app.secret_key, tuple(app.config.get("SECRET_KEY_FALLBACKS") or ()))
        if key not in self._serializers:
            if len(self._serializers) > 8:  # keys changed repeatedly (tests): keep the cache small
                self._serializers.clear()
            self._serializers[key] = super().get_signing_serializer(app)
        return self._serializers[key]


def _start_request() -> None:
    for key in _REQUEST_G_KEYS:
        g.pop(key, None)
    g.request_id = secrets.token_hex(8)
    # Load the user now, before any view changes state: the session loader may commit.
    _ = current_user.is_authenticated


def _add_headers(response: Response) -> Response:
    headers = response.headers
    headers.setdefault("Content-Security-Policy", _csp())
    headers["X-Content-Type-Options"] = "nosniff"
    headers["Referrer-Policy"] = "no-referrer"
    headers["Cross-Origin-Opener-Policy"] = "same-origin"
    headers["Cross-Origin-Resource-Policy"] = "same-origin"
    headers["Permissions-Policy"] = "camera=(), microphone=(), geolocation=(), payment=()"
    if current_app.config.get("SENIM_FRAME_ANCESTORS", "'none'") == "'none'":
        headers["X-Frame-Options"] = "DENY"
    if current_app.config.get("SENIM_HSTS"):
        headers["Strict-Transport-Security"] = "max-age=31536000; includeSubDomains"
    if not (response.mimetype or "").startswith(("text/css", "application/javascript", "image/")):
        headers["Cache-Control"] = "no-store"
    headers["X-Request-Id"] = g.get("request_id", "")
    return response


def register(app: Flask) -> None:
    """Install the request class and the request hooks."""
    app.request_class = SenimRequest
    app.session_interface = SessionInterface()
    app.before_request(_start_request)
    app.after_request(_add_headers)
