"""Localised error pages without tracebacks, and the fail-closed handlers for audit and crypto errors."""

from __future__ import annotations

import contextlib
import logging

from flask import Flask, g, render_template, request
from flask_login import current_user
from flask_wtf.csrf import CSRFError
from sqlalchemy.exc import OperationalError
from werkzeug.exceptions import HTTPException, SecurityError

from app.core import audit
from app.core.crypto import DecryptionError
from app.extensions import db

log = logging.getLogger("senim")

_PAGES = {400, 401, 403, 404, 405, 413, 429, 500, 503}


def _render(code: int, template: str | None = None) -> tuple[str, int]:
    name = template or f"errors/{code if code in _PAGES else 500}.html"
    if code == 401:
        name = "errors/403.html"
    return render_template(name, code=code, request_id=g.get("request_id", "")), code


def _http_error(exc: HTTPException) -> tuple[str, int] | HTTPException:
    if exc.code is None or exc.code < 400:
        return exc
    if isinstance(exc, SecurityError):
        # An untrusted Host header: no URL can be built for it, so no page template either.
        return "Bad Request", 400
    return _render(exc.code)


def _csrf_error(exc: CSRFError) -> tuple[str, int]:
    db.session.rollback()
    try:
        audit.record_now(current_user, audit.AuditAction.CSRF_FAILED, outcome=audit.Outcome.DENIED,
                         details={"endpoint": request.endpoint})
    except audit.AuditUnavailable:
        log.error("audit unavailable while recording a CSRF failure", extra={"request_id": g.get("request_id")})
    return _render(400)


def _audit_unavailable(exc: audit.AuditUnavailable) -> tuple[str, int]:
    log.error("audit write failed; request refused (request %s)", g.get("request_id"))
    return _render(503)


def _integrity_error(exc: DecryptionError) -> tuple[str, int]:
    db.session.rollback()
    log.error("decryption failed (request %s)", g.get("request_id"))
    # The integrity page is shown even when the audit write fails: it shows no data.
    # A school's data key that does not unwrap (app.core.school_keys) is that school's incident: its chain.
    school_id = getattr(exc, "school_id", None)
    with contextlib.suppress(audit.AuditUnavailable):
        audit.record_now(current_user, audit.AuditAction.CRYPTO_INTEGRITY_FAILED, outcome=audit.Outcome.FAILED,
                         school_id=school_id, details={"endpoint": request.endpoint})
    return _render(500, "errors/integrity.html")


def _database_down(exc: OperationalError) -> tuple[str, int]:
    db.session.rollback()
    log.error("database unavailable (request %s)", g.get("request_id"))
    return _render(503)


def _unexpected(exc: Exception) -> tuple[str, int]:
    db.session.rollback()
    log.exception("unhandled error (request %s)", g.get("request_id"))
    return _render(500)


def register(app: Flask) -> None:
    """Install the error handlers."""
    app.register_error_handler(CSRFError, _csrf_error)
    app.register_error_handler(HTTPException, _http_error)
    app.register_error_handler(audit.AuditUnavailable, _audit_unavailable)
    app.register_error_handler(DecryptionError, _integrity_error)
    app.register_error_handler(OperationalError, _database_down)
    app.register_error_handler(Exception, _unexpected)
