"""Pupil self-completion: find a session by its one-time code, with per-IP throttling."""

from __future__ import annotations

from flask import current_app
from sqlalchemy import bindparam, func, select
from sqlalchemy.orm import joinedload

from app.auth.models import LoginFailure
from app.core import audit
from app.core.audit import AuditAction, Outcome
from app.core.models import utcnow
from app.extensions import db
from app.screening.campaigns import code_hash
from app.screening.models import Campaign, ScreeningSession, SessionStatus

#: LoginFailure.account_key for failed code entries (throttled per IP).
OTC_ACCOUNT_KEY = "otc"


def code_throttled(ip: str) -> bool:
    """True while this address has entered too many wrong codes recently."""
    since = utcnow() - current_app.config["SENIM_LOCKOUT_WINDOW"]
    count = db.session.execute(select(func.count()).select_from(LoginFailure).where(
        LoginFailure.account_key == OTC_ACCOUNT_KEY, LoginFailure.ip == ip, LoginFailure.at >= since)).scalar_one()
    return count >= current_app.config["SENIM_OTC_IP_THRESHOLD"]


def open_by_code(*, code: str, ip: str) -> ScreeningSession | None:
    """The open session for ``code``, or None (the failure is counted and audited; one generic answer)."""
    if code_throttled(ip):
        return None
    now = utcnow()
    found = db.session.execute(
        select(ScreeningSession).join(Campaign, Campaign.id == ScreeningSession.campaign_id).where(
            ScreeningSession.code_hash == code_hash(code), ScreeningSession.status != SessionStatus.COMPLETED.value,
            ScreeningSession.code_expires_at >= now, Campaign.opens_at <= now)
    ).scalar_one_or_none()
    if found is None:
        db.session.add(LoginFailure(account_key=OTC_ACCOUNT_KEY, ip=ip))
        audit.record(None, AuditAction.SCREENING_CODE_FAILED, outcome=Outcome.DENIED)
        db.session.commit()
    return found


#: Built once (it runs on every answer); the pupil comes in the same query, as saving needs its school and age.
_SESSION_BY_UUID = (select(ScreeningSession).options(joinedload(ScreeningSession.pupil, innerjoin=True))
                    .where(ScreeningSession.uuid == bindparam("session_uuid")))


def session_by_uuid(session_uuid: str | None) -> ScreeningSession | None:
    """The still-open session whose uuid the pupil's cookie holds."""
    if not session_uuid:
        return None
    found = db.session.execute(_SESSION_BY_UUID, {"session_uuid": session_uuid}).scalar_one_or_none()
    if found is None or found.status == SessionStatus.COMPLETED.value or found.code_expires_at < utcnow():
        return None
    return found


def choose_language(*, session: ScreeningSession, language: str) -> None:
    """Record the language of the texts the pupil answers in."""
    session.language = language
    db.session.commit()
