"""Self-service password reset by e-mail ("Forgot your password?"; OWASP Forgot Password cheat sheet).

:func:`request_reset` answers every request the same way (the view shows one message whether or not an account
matched), queues at most one link per matching account through the mail outbox in the transaction that stores the
token, and throttles per address and per account through :class:`~app.auth.models.LoginFailure` rows of their own
(they do not count towards sign-in lockout, so a locked-out user can still reset). :func:`complete_reset` sets the
new password, spends the token, revokes every session and lifts a required change; it never signs the user in, so
roles with a second factor still give their code at the next sign-in.

A token is ``secrets.token_urlsafe(32)``; only its keyed HMAC is stored. It is single use, expires after
:data:`LIFETIME`, and is void once a newer link is sent or the password changes by any path (the row keeps an HMAC
of the password hash it was issued against). Nothing is queued or accepted unless ``SENIM_SMTP_HOST`` is set.
"""

from __future__ import annotations

import enum
import hmac
import secrets
from dataclasses import dataclass
from datetime import timedelta

from flask import current_app, has_request_context, request
from flask_babel import force_locale
from flask_babel import gettext as _
from sqlalchemy import func, or_, select, update

from app.auth import passwords
from app.auth.models import FailurePurpose, PasswordResetToken, User
from app.auth.services import SamePassword, count_failure, failures_since, hasher, set_own_password
from app.core import audit, mail
from app.core.audit import AuditAction, Outcome
from app.core.encryption import blind_index
from app.core.links import absolute_url
from app.core.models import utcnow
from app.extensions import db

#: How long a link works.
LIFETIME = timedelta(minutes=30)


class ResetRefused(enum.StrEnum):
    """Why a link does not work; the page says the same for all of them ("invalid or expired")."""

    UNKNOWN = "unknown"
    EXPIRED = "expired"
    SPENT = "spent"
    PASSWORD_CHANGED = "password_changed"  # noqa: S105  (a reason, not a password)
    DISABLED = "disabled"
    NOT_CONFIGURED = "not_configured"


class InvalidResetLink(Exception):
    """The link is unknown, expired, used, replaced, or its account changed: nothing was changed."""

    def __init__(self, reason: ResetRefused) -> None:
        super().__init__(reason.value)
        self.reason = reason


def available() -> bool:
    """True when reset links can be e-mailed (an SMTP host is configured)."""
    return mail.configured()


def token_hash(token: str) -> bytes:
    """Keyed HMAC of a link's token (hex first: the blind index casefolds, a token is case-sensitive)."""
    return blind_index(token.encode("utf-8").hex(), scope="pwreset")


def _fingerprint(user: User) -> bytes:
    return blind_index(user.password_hash.encode("utf-8").hex(), scope="pwreset-password")


def _request_key(identifier: str, user: User | None) -> str:
    """Per-account throttling key: the account when one matched (name or e-mail count together), else the text;
    a keyed HMAC, so what was typed leaves no plaintext and no plain hash."""
    subject = f"user:{user.uuid}" if user is not None else f"text:{identifier.strip()}"
    return blind_index(subject, scope="pwreset-request").hex()


def _requests_since(**where: str) -> int:
    return failures_since(FailurePurpose.RESET, window=current_app.config["SENIM_RESET_WINDOW"], **where)


def ip_throttled(ip: str) -> bool:
    """True while one address has asked for too many links, whatever the accounts."""
    return _requests_since(ip=ip) >= current_app.config["SENIM_RESET_IP_THRESHOLD"]


def _matching_users(identifier: str) -> list[User]:
    """Accounts whose sign-in name or e-mail address is ``identifier`` (case-insensitive)."""
    text = identifier.strip().lower()
    if not text:
        return []
    condition = User.username == text
    if "@" in text:
        condition = or_(condition, func.lower(User.email) == text)
    return list(db.session.execute(select(User).where(condition).order_by(User.id)).scalars())


def _eligible(user: User) -> bool:
    """Active staff and parent accounts with an address; pupils' accounts are reset at school."""
    return user.active and user.pupil_id is None and bool((user.email or "").strip())


def reset_url(token: str) -> str:
    """Absolute link to the reset page, from ``SENIM_BASE_URL`` (never from the request's Host)."""
    return absolute_url("auth.password_reset", token=token)


def _language(user: User, fallback: str) -> str:
    if user.preferred_language:
        return user.preferred_language
    for assignment in user.assignments:
        if assignment.school is not None and assignment.school.default_language:
            return str(assignment.school.default_language)
    return fallback


def _message(url: str) -> tuple[str, str]:
    subject = _("Senim: reset your password")
    body = "\n\n".join([
        _("Someone asked to reset the password of your Senim account. To choose a new password, open this link "
          "within 30 minutes (it works once):"),
        url,
        _("If it was not you, ignore this message: your password stays as it is. If it keeps happening, tell your "
          "school's administrator."),
    ]) + "\n"
    return subject, body


def _issue(user: User, *, language: str) -> None:
    """Store a new token for ``user`` (older ones void) and queue its e-mail, in the current transaction."""
    now = utcnow()
    db.session.execute(update(PasswordResetToken).where(
        PasswordResetToken.user_id == user.id, PasswordResetToken.spent_at.is_(None)).values(spent_at=now))
    token = secrets.token_urlsafe(32)
    db.session.add(PasswordResetToken(user_id=user.id, token_hash=token_hash(token),
                                      password_fingerprint=_fingerprint(user), created_at=now,
                                      expires_at=now + LIFETIME))
    url = reset_url(token)
    with force_locale(language):
        subject, body = _message(url)
    mail.queue(recipients=[user.email or ""], subject=subject, body=body, language=language)


def request_reset(*, identifier: str, ip: str, fallback_language: str) -> None:
    """Handle "forgot your password?" for a sign-in name or e-mail address; the caller shows the same answer
    whatever happened. Audited; commits."""
    if not available():
        return
    users = _matching_users(identifier)
    if ip_throttled(ip):
        audit.record(None, AuditAction.PASSWORD_RESET_REQUESTED, outcome=Outcome.DENIED,
                     details={"reason": "ip_throttled"})
        db.session.commit()
        return
    if not users:
        count_failure(FailurePurpose.RESET, key=_request_key(identifier, None), ip=ip)
        audit.record(None, AuditAction.PASSWORD_RESET_REQUESTED, outcome=Outcome.DENIED,
                     details={"reason": "no_account"})
        db.session.commit()
        return
    limit = current_app.config["SENIM_RESET_ACCOUNT_THRESHOLD"]
    for user in users:
        key = _request_key(identifier, user)
        throttled = _requests_since(key=key) >= limit
        count_failure(FailurePurpose.RESET, key=key, ip=ip)
        reason = "throttled" if throttled else (None if _eligible(user) else "not_eligible")
        if reason is None:
            _issue(user, language=_language(user, fallback_language))
        audit.record(None, AuditAction.PASSWORD_RESET_REQUESTED,
                     outcome=Outcome.DENIED if reason else Outcome.SUCCESS, object_type="user", object_id=user.id,
                     details={"reason": reason} if reason else None)
        db.session.flush()
    db.session.commit()


class NotEligible(ValueError):
    """The account cannot get a link: disabled, a pupil's, without an e-mail address, or mail not configured."""


def eligible_for_link(user: User) -> bool:
    """Whether a link can be e-mailed to ``user`` now (mail configured; active staff or parent with an address)."""
    return available() and _eligible(user)


def send_link(*, actor: User, user: User, fallback_language: str) -> None:
    """E-mail ``user`` a link to choose a new password, at an administrator's request. Audited; commits.

    Counted like a request from the forgot-password page, so the per-account limit applies here too.
    """
    if not eligible_for_link(user):
        raise NotEligible(user.id)
    key = _request_key(user.username, user)
    if _requests_since(key=key) >= current_app.config["SENIM_RESET_ACCOUNT_THRESHOLD"]:
        raise NotEligible(user.id)
    count_failure(FailurePurpose.RESET, key=key, ip=(request.remote_addr or "") if has_request_context() else "")
    _issue(user, language=_language(user, fallback_language))
    audit.record(actor, AuditAction.PASSWORD_RESET_REQUESTED, object_type="user", object_id=user.id,
                 details={"by": "administrator"})
    db.session.commit()


@dataclass(frozen=True)
class ResetLink:
    """A usable link: the token row and its account."""

    token: PasswordResetToken
    user: User


def check_link(token: str) -> ResetLink:
    """The token's row and account if the link may still be used; raises :class:`InvalidResetLink` otherwise."""
    if not available():
        raise InvalidResetLink(ResetRefused.NOT_CONFIGURED)
    if not token or len(token) > 100:
        raise InvalidResetLink(ResetRefused.UNKNOWN)
    row = db.session.execute(
        select(PasswordResetToken).where(PasswordResetToken.token_hash == token_hash(token))
    ).scalar_one_or_none()
    if row is None:
        raise InvalidResetLink(ResetRefused.UNKNOWN)
    user = db.session.get(User, row.user_id)
    if row.spent_at is not None:
        raise InvalidResetLink(ResetRefused.SPENT)
    if utcnow() >= row.expires_at:
        raise InvalidResetLink(ResetRefused.EXPIRED)
    if user is None or not user.active:
        raise InvalidResetLink(ResetRefused.DISABLED)
    if not hmac.compare_digest(row.password_fingerprint, _fingerprint(user)):
        raise InvalidResetLink(ResetRefused.PASSWORD_CHANGED)
    return ResetLink(row, user)


def reject(reason: ResetRefused) -> None:
    """Audit a refused link (the token's hash is not logged either)."""
    audit.record(None, AuditAction.PASSWORD_RESET_REFUSED, outcome=Outcome.DENIED, details={"reason": reason.value})
    db.session.commit()


def complete_reset(*, token: str, new_password: str) -> User:
    """Set the new password through a valid link: the link and any other open link of the account are spent,
    every session ends, a required change is lifted. Raises :class:`InvalidResetLink` or :class:`SamePassword`
    (nothing changed)."""
    link = check_link(token)
    user = link.user
    if passwords.verify_password(hasher(), user.password_hash, new_password):
        raise SamePassword
    now = utcnow()
    spent = db.session.connection().execute(update(PasswordResetToken).where(
        PasswordResetToken.id == link.token.id, PasswordResetToken.spent_at.is_(None)).values(spent_at=now))
    if spent.rowcount != 1:  # a concurrent request used it first
        db.session.rollback()
        raise InvalidResetLink(ResetRefused.SPENT)
    db.session.execute(update(PasswordResetToken).where(
        PasswordResetToken.user_id == user.id, PasswordResetToken.spent_at.is_(None)).values(spent_at=now))
    set_own_password(user=user, new_password=new_password, action=AuditAction.PASSWORD_RESET_COMPLETED, now=now)
    db.session.commit()
    return user
