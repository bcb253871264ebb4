"""Server-side sessions: the signed cookie carries only a random token; the record here decides.

Logging out, changing the password or disabling the account revokes the records, so a copied cookie
stops working at once. Idle (15 or 30 minutes by role) and absolute (12 hours) limits are enforced on
every request.
"""

from __future__ import annotations

import hashlib
import secrets
from datetime import datetime, timedelta

from flask import Request, current_app, g, session
from sqlalchemy import select, update

from app.auth.models import User, UserSession
from app.core.models import utcnow
from app.extensions import db

#: How often last_seen_at is written (avoids a write on every request).
_TOUCH_INTERVAL = timedelta(seconds=60)


def _hash(token: str) -> str:
    return hashlib.sha256(token.encode("ascii")).hexdigest()


def idle_limit(user: User) -> timedelta:
    """15 minutes for roles that see sensitive data, 30 otherwise."""
    key = "SENIM_IDLE_TIMEOUT_SENSITIVE" if user.sees_sensitive_data else "SENIM_IDLE_TIMEOUT_DEFAULT"
    return current_app.config[key]


def start_session(user: User, *, ip: str | None, user_agent: str | None) -> UserSession:
    """Create a session record and a fresh cookie (new id at login: no session fixation)."""
    token = secrets.token_urlsafe(32)
    now = utcnow()
    record = UserSession(
        token_hash=_hash(token), user_id=user.id, created_at=now, last_seen_at=now,
        expires_at=now + current_app.config["SENIM_ABSOLUTE_TIMEOUT"], ip=ip,
        user_agent=(user_agent or "")[:200] or None, reauth_at=now,
    )
    db.session.add(record)
    language = session.get("language")
    session.clear()
    if language:
        session["language"] = language
    session["sid"] = token
    return record


def current_session() -> UserSession | None:
    """The session record of this request, if signed in."""
    return g.get("senim_session")


def end_session() -> None:
    """Revoke this request's session record and clear the cookie (the caller commits)."""
    record = current_session()
    if record is not None and record.revoked_at is None:
        record.revoked_at = utcnow()
    session.clear()


def revoke_all(user: User, *, except_current: bool = False, now: datetime | None = None) -> None:
    """Revoke every open session of ``user`` (password change, account disabled)."""
    statement = update(UserSession).where(
        UserSession.user_id == user.id, UserSession.revoked_at.is_(None)
    )
    current = current_session()
    if except_current and current is not None:
        statement = statement.where(UserSession.id != current.id)
    db.session.execute(statement.values(revoked_at=now or utcnow()))


def load_user_from_request(_request: Request) -> User | None:
    """Flask-Login request loader: validate the session record behind the cookie."""
    token = session.get("sid")
    if not token or not isinstance(token, str):
        return None
    record = db.session.execute(
        select(UserSession).where(UserSession.token_hash == _hash(token))
    ).scalar_one_or_none()
    now = utcnow()
    if record is None or record.revoked_at is not None or now >= record.expires_at:
        session.pop("sid", None)
        return None
    user = record.user
    if not user.active or now - record.last_seen_at > idle_limit(user):
        record.revoked_at = now
        db.session.commit()
        session.pop("sid", None)
        g.senim_session_expired = True
        return None
    if now - record.last_seen_at > _TOUCH_INTERVAL:
        record.last_seen_at = now
        db.session.commit()
    g.senim_session = record
    g.senim_mfa_verified = record.mfa_verified_at is not None
    return user
