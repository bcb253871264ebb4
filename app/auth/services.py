"""Sign-in, second factor, password changes: each one transaction with its audit entry."""

from __future__ import annotations

import enum
from dataclasses import dataclass
from datetime import datetime, timedelta

from argon2 import PasswordHasher
from blinker import Namespace
from flask import current_app
from sqlalchemy import func, select

from app.auth import passwords, sessions, totp
from app.auth.models import FailurePurpose, LoginFailure, User
from app.core import audit
from app.core.audit import AuditAction, Outcome
from app.core.encryption import blind_index
from app.core.models import utcnow
from app.extensions import db

#: Sent (in the failing attempt's transaction, before its COMMIT) when an account's sign-in is paused after too
#: many failures; receivers may queue mail or audit entries in that transaction. Sender: the User.
account_locked = Namespace().signal("senim-account-locked")


class LoginOutcome(enum.StrEnum):
    SUCCESS = "success"
    FAILED = "failed"  # wrong name or password, locked, disabled: one generic answer


@dataclass(frozen=True)
class LoginResult:
    outcome: LoginOutcome
    user: User | None = None


def hasher() -> PasswordHasher:
    """The application's argon2id hasher (parameters from configuration)."""
    cached = current_app.extensions.get("senim_hasher")
    if cached is None:
        cached = passwords.make_hasher(**current_app.config["SENIM_ARGON2"])
        current_app.extensions["senim_hasher"] = cached
    return cached


def account_key(username: str) -> str:
    """Key under which failures of one sign-in name are counted: a keyed HMAC (no plaintext, no plain hash)."""
    return blind_index(username.strip() or "\u2205", scope="login-failure").hex()


def failures_since(purpose: FailurePurpose, *, key: str | None = None, ip: str | None = None,
                   window: timedelta | None = None) -> int:
    """Attempts of one purpose within the window (default: the lockout window), by account key and/or address."""
    since = utcnow() - (window or current_app.config["SENIM_LOCKOUT_WINDOW"])
    query = select(func.count()).select_from(LoginFailure).where(
        LoginFailure.purpose == purpose.value, LoginFailure.at >= since)
    if key is not None:
        query = query.where(LoginFailure.account_key == key)
    if ip is not None:
        query = query.where(LoginFailure.ip == ip)
    return db.session.execute(query).scalar_one()


def count_failure(purpose: FailurePurpose, *, key: str, ip: str) -> None:
    """Count an attempt of ``purpose`` (in the caller's transaction)."""
    db.session.add(LoginFailure(purpose=purpose.value, account_key=key, ip=ip))


def is_locked(key: str) -> bool:
    """True while the account key has reached the password failure threshold within the window."""
    return failures_since(FailurePurpose.PASSWORD, key=key) >= current_app.config["SENIM_LOCKOUT_THRESHOLD"]


def ip_throttled(ip: str) -> bool:
    """True while one address has failed password sign-ins too often, across any accounts."""
    return failures_since(FailurePurpose.PASSWORD, ip=ip) >= current_app.config["SENIM_IP_THROTTLE_THRESHOLD"]


def find_user(username: str) -> User | None:
    """The account with this sign-in name (case-insensitive)."""
    name = username.strip().lower()
    return db.session.execute(select(User).where(User.username == name)).scalar_one_or_none()


def attempt_login(*, username: str, password: str, ip: str, user_agent: str | None) -> LoginResult:
    """Check a password; on success start a session. Every failure looks the same to the caller."""
    key = account_key(username)
    user = find_user(username)
    blocked = is_locked(key) or ip_throttled(ip)
    demo = current_app.config["ENV_NAME"] == "production" and _demo_sign_in(user, password)
    if user is None:
        passwords.verify_dummy(hasher(), password)  # same cost as a real check: no enumeration
        ok = False
    else:
        ok = passwords.verify_password(hasher(), user.password_hash, password)
    if ok and not blocked and not demo and user is not None and user.active:
        if passwords.needs_rehash(hasher(), user.password_hash):
            user.password_hash = passwords.hash_password(hasher(), password)
        user.last_login_at = utcnow()
        sessions.start_session(user, ip=ip, user_agent=user_agent)
        audit.record(user, AuditAction.LOGIN_SUCCESS, object_type="user", object_id=user.id)
        db.session.commit()
        return LoginResult(LoginOutcome.SUCCESS, user)

    reason = "locked" if blocked else ("demo_account" if demo else ("disabled" if ok else "credentials"))
    count_failure(FailurePurpose.PASSWORD, key=key, ip=ip)
    db.session.flush()
    audit.record(None, AuditAction.LOGIN_FAILED, outcome=Outcome.DENIED,
                 object_type="user", object_id=user.id if user else None,
                 details={"reason": reason, "account_key": key[:16]})
    if not blocked and is_locked(key):
        audit.record(None, AuditAction.LOCKOUT, outcome=Outcome.DENIED, object_type="user",
                     object_id=user.id if user else None, details={"account_key": key[:16]})
        if user is not None:
            account_locked.send(user)
    db.session.commit()
    return LoginResult(LoginOutcome.FAILED)


def _demo_sign_in(user: User | None, password: str) -> bool:
    from app.core.demo import is_demo_sign_in  # demo data is development-only; imported when asked

    return is_demo_sign_in(user, password)


def logout(user: User) -> None:
    """End the current session (its cookie stops working everywhere)."""
    sessions.end_session()
    audit.record(user, AuditAction.LOGOUT, object_type="user", object_id=user.id)
    db.session.commit()


def _mfa_key(user: User) -> str:
    return account_key(f"mfa:{user.uuid}")


def mfa_throttled(user: User) -> bool:
    """True after too many wrong codes within the lockout window."""
    return failures_since(FailurePurpose.MFA, key=_mfa_key(user)) >= current_app.config["SENIM_MFA_MAX_FAILURES"]


def _count_code_failure(user: User, ip: str) -> None:
    count_failure(FailurePurpose.MFA, key=_mfa_key(user), ip=ip)
    audit.record(user, AuditAction.MFA_FAILED, outcome=Outcome.DENIED, object_type="user", object_id=user.id)


def _code_failed(user: User, ip: str) -> None:
    _count_code_failure(user, ip)
    db.session.commit()


def _mark_verified(user: User, step: int) -> None:
    user.totp_last_step = step
    record = sessions.current_session()
    if record is not None:
        record.mfa_verified_at = utcnow()


def enroll_mfa(*, user: User, secret: str, code: str, ip: str) -> bool:
    """Save a new TOTP secret once the user proves it works with a code from their app."""
    step = None if mfa_throttled(user) else totp.verify_code(secret, code, last_used_step=None)
    if step is None:
        _code_failed(user, ip)
        return False
    user.totp_secret = secret
    _mark_verified(user, step)
    audit.record(user, AuditAction.MFA_ENROLLED, object_type="user", object_id=user.id)
    db.session.commit()
    return True


def check_mfa(*, user: User, code: str, ip: str) -> bool:
    """Check a second-factor code like :func:`verify_mfa`, inside the caller's transaction: the code's use (or the
    failure) and its audit entry are written but not committed, so a caller that grants something on success
    commits the check, the grant and their audit entries together."""
    if mfa_throttled(user) or user.totp_secret is None:
        _count_code_failure(user, ip)
        return False
    step = totp.verify_code(user.totp_secret, code, last_used_step=user.totp_last_step)
    if step is None:
        _count_code_failure(user, ip)
        return False
    _mark_verified(user, step)
    audit.record(user, AuditAction.MFA_VERIFIED, object_type="user", object_id=user.id)
    return True


def verify_mfa(*, user: User, code: str, ip: str) -> bool:
    """Check a second-factor code; a code is never accepted twice; too many failures throttle."""
    ok = check_mfa(user=user, code=code, ip=ip)
    db.session.commit()
    return ok


def reauthenticate(*, user: User, password: str, code: str | None, ip: str) -> bool:
    """Step-up: check the password (and the code, for roles with a second factor) again.

    On success the session counts as freshly authenticated (:mod:`app.auth.stepup`). A failure counts
    towards the same lockout as a failed sign-in, so the prompt cannot be used to guess the password.
    """
    key = account_key(user.username)
    blocked = is_locked(key) or ip_throttled(ip) or (user.requires_mfa and mfa_throttled(user))
    ok = passwords.verify_password(hasher(), user.password_hash, password)
    step = None
    if ok and user.requires_mfa:
        secret = user.totp_secret
        step = totp.verify_code(secret, code or "", last_used_step=user.totp_last_step) if secret else None
        ok = step is not None
    record = sessions.current_session()
    if ok and not blocked and record is not None:
        if step is not None:
            user.totp_last_step = step
        record.reauth_at = utcnow()
        audit.record(user, AuditAction.REAUTH, object_type="user", object_id=user.id)
        db.session.commit()
        return True
    count_failure(FailurePurpose.PASSWORD, key=key, ip=ip)
    db.session.flush()
    audit.record(user, AuditAction.REAUTH, outcome=Outcome.DENIED, object_type="user", object_id=user.id,
                 details={"reason": "locked" if blocked else "credentials"})
    if not blocked and is_locked(key):
        audit.record(user, AuditAction.LOCKOUT, outcome=Outcome.DENIED, object_type="user", object_id=user.id,
                     details={"account_key": key[:16]})
        account_locked.send(user)
    db.session.commit()
    return False


class SamePassword(ValueError):
    """The new password is the current one: a password someone else chose must be replaced, not kept."""


def change_password(*, user: User, current_password: str, new_password: str) -> bool:
    """Change the password, end the user's other sessions and lift a required change; False if the current
    password is wrong. Raises :class:`SamePassword` (nothing changed) if the new one is the current one."""
    if not passwords.verify_password(hasher(), user.password_hash, current_password):
        audit.record(user, AuditAction.PASSWORD_CHANGED, outcome=Outcome.DENIED,
                     object_type="user", object_id=user.id)
        db.session.commit()
        return False
    if passwords.same_password(current_password, new_password):
        raise SamePassword
    set_own_password(user=user, new_password=new_password, action=AuditAction.PASSWORD_CHANGED,
                     except_current=True)
    db.session.commit()
    return True


def set_own_password(*, user: User, new_password: str, action: AuditAction, except_current: bool = False,
                     now: datetime | None = None) -> None:
    """Store a password the user chose themselves: lift a required change, end their sessions (but this one
    with ``except_current``) and audit ``action``, in the caller's transaction."""
    was_required = user.password_change_required
    user.password_hash = passwords.hash_password(hasher(), new_password)
    user.password_changed_at = now or utcnow()
    user.password_change_required = False
    sessions.revoke_all(user, except_current=except_current, now=now)
    audit.record(user, action, object_type="user", object_id=user.id,
                 details={"was_required": True} if was_required else None)


def set_language(*, user: User, language: str) -> None:
    """Remember the user's interface language."""
    user.preferred_language = language
    db.session.commit()


def set_phone(*, user: User, phone: str) -> None:
    """Keep the user's work phone (normalised to +7…; empty removes it), audited in the same transaction."""
    from app.core.phone import normalise_phone

    user.phone = normalise_phone(phone)
    audit.record(user, AuditAction.ACCOUNT_PHONE_CHANGED, object_type="user", object_id=user.id,
                 details={"removed": user.phone is None})
    db.session.commit()


def policy_context(user: User | None, *, username: str = "") -> list[str]:
    """Words a password may not contain: the sign-in name, the person's and schools' names."""
    words = [username]
    if user is not None:
        words += [user.username, user.full_name or ""]
        for assignment in user.assignments:
            if assignment.school is not None:
                words += [assignment.school.name_kk, assignment.school.name_ru]
    return [w for w in words if w]
