"""Per-request security: request ids, headers (CSP without inline scripts), no caching of private pages, and the
session cookie of Senim inside a Kundelik frame (app.core.framing)."""

from __future__ import annotations

import functools
import io
import secrets
from typing import IO, Any
from urllib.parse import unquote_to_bytes

from flask import Flask, Request, Response, abort, current_app, g, has_request_context, render_template, request
from flask.sessions import SecureCookieSessionInterface
from flask_login import current_user
from itsdangerous import URLSafeTimedSerializer
from werkzeug.exceptions import RequestEntityTooLarge
from werkzeug.formparser import FormDataParser

from app.core import framing

#: For files served for download (JSON exports): a browser that opens one instead of saving it runs nothing.
DOWNLOAD_CSP = "sandbox; default-src 'none'"


def _frame_ancestors() -> str:
    """The page's frame-ancestors: the configured origins, or 'none' for pages that are never framed."""
    if framing.is_top_level_only(current_app, request) and not request.environ.get(_OPEN_TOP_LEVEL):
        return framing.NONE
    return framing.csp_source_list(current_app)


@functools.cache
def _csp_for(ancestors: str) -> str:
    return "; ".join([
        "default-src 'self'",
        "script-src 'self'",
        "style-src 'self'",
        "img-src 'self' data:",
        "font-src 'self'",
        "connect-src 'self'",
        "worker-src 'self'",  # Street Law's service worker (/street-law/sw.js)
        "manifest-src 'self'",
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

    Inside a Kundelik frame (:func:`app.core.framing.embedded_request`) the session lives in a second cookie,
    ``SENIM_FRAME_SESSION_COOKIE_NAME``, that is ``SameSite=None; Secure; Partitioned``; everywhere else the
    standalone ``SameSite=Lax`` cookie is used exactly as before.
    """

    @staticmethod
    def _embedded(app: Flask) -> bool:
        return has_request_context() and framing.embedded_request(app, request)

    def get_cookie_name(self, app: Flask) -> str:
        if self._embedded(app):
            return str(app.config["SENIM_FRAME_SESSION_COOKIE_NAME"])
        return super().get_cookie_name(app)

    def get_cookie_secure(self, app: Flask) -> bool:
        return True if self._embedded(app) else super().get_cookie_secure(app)

    def get_cookie_samesite(self, app: Flask) -> str | None:
        return "None" if self._embedded(app) else super().get_cookie_samesite(app)

    def get_cookie_partitioned(self, app: Flask) -> bool:
        return True if self._embedded(app) else super().get_cookie_partitioned(app)

    def __init__(self) -> None:
        self._serializers: dict[tuple[Any, ...], URLSafeTimedSerializer | None] = {}

    def get_signing_serializer(self, app: Flask) -> URLSafeTimedSerializer | None:
        key = (app.secret_key, tuple(app.config.get("SECRET_KEY_FALLBACKS") or ()))
        if key not in self._serializers:
            if len(self._serializers) > 8:  # keys changed repeatedly (tests): keep the cache small
                self._serializers.clear()
            self._serializers[key] = super().get_signing_serializer(app)
        return self._serializers[key]


def _utf8(raw: bytes) -> bool:
    """Valid UTF-8 without a NUL: no text field of the app holds U+0000, and PostgreSQL refuses it in a query
    parameter (a NUL typed into the sign-in name or a search box was a 500 on PostgreSQL, fine on SQLite)."""
    if b"\x00" in raw:
        return False
    try:
        raw.decode("utf-8")
    except UnicodeDecodeError:
        return False
    return True


def _urlencoded_is_utf8(raw: bytes) -> bool:
    """Each percent-decoded name and value of ``a=b&c=d`` is valid UTF-8, without NUL."""
    return all(_utf8(unquote_to_bytes(part.replace(b"+", b" ")))
               for pair in raw.split(b"&") for part in pair.split(b"="))


def _text_is_utf8() -> bool:
    """The path, the query string and a form's text fields are valid UTF-8 (Werkzeug would silently replace bad
    bytes with U+FFFD) and hold no NUL."""
    if not _utf8(request.environ.get("PATH_INFO", "").encode("latin-1", "replace")) or "\ufffd" in request.path:
        return False
    if not _urlencoded_is_utf8(request.query_string):
        return False
    if request.method in ("POST", "PUT", "PATCH", "DELETE"):
        if request.mimetype == "application/x-www-form-urlencoded":
            return _urlencoded_is_utf8(request.get_data(cache=True))
        if request.mimetype == "multipart/form-data":  # already decoded with replacement by the parser
            return not any("\ufffd" in value or "\x00" in value
                           for _name, values in request.form.lists() for value in values)
    return True


def _start_request() -> None:
    for key in _REQUEST_G_KEYS:
        g.pop(key, None)
    g.request_id = secrets.token_hex(8)
    if not _text_is_utf8():
        abort(400)  # never store or act on U+FFFD-mangled input (security.md §7, issue 9 case 9)
    if framing.cross_site_write(current_app, request):
        abort(403)  # the framing site posting into the frame with the SameSite=None cookie (before CSRF reads it)
    # Load the user now, before any view changes state: the session loader may commit.
    _ = current_user.is_authenticated


#: request.environ key: this response is the "open in its own window" page of a never-framed page.
_OPEN_TOP_LEVEL = "senim.open_top_level"


def _open_top_level() -> tuple[str, int] | None:
    """A never-framed page asked for inside the frame: say so and link to it in a window of its own, instead
    of the browser's blank "refused to connect" frame."""
    if (request.method == "GET" and framing.embedding_enabled(current_app) and framing.frame_navigation(request)
            and framing.is_top_level_only(current_app, request)):
        request.environ[_OPEN_TOP_LEVEL] = True
        return render_template("core/open_top_level.html", target=request.full_path.rstrip("?")), 200
    return None


def _add_headers(response: Response) -> Response:
    headers = response.headers
    ancestors = _frame_ancestors()
    headers.setdefault("Content-Security-Policy", _csp_for(ancestors))
    headers["X-Content-Type-Options"] = "nosniff"
    headers["Referrer-Policy"] = "no-referrer"
    headers["Cross-Origin-Opener-Policy"] = "same-origin"
    headers["Cross-Origin-Resource-Policy"] = "same-origin"
    headers["Permissions-Policy"] = "camera=(), microphone=(), geolocation=(), payment=()"
    if ancestors == framing.NONE:  # X-Frame-Options cannot name origins: only sent when nobody may frame
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
    # First of all hooks (before CSRFProtect reads the form), so the raw body is still there to check.
    app.before_request_funcs.setdefault(None, []).insert(0, _start_request)
    app.before_request(_open_top_level)
    app.after_request(_add_headers)
