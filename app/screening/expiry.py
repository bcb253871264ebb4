"""Closing abandoned sessions (``flask screening close-expired``, from cron).

A pupil may stop half-way and never come back. Once the code has expired (or the campaign has closed), what
was answered is submitted through :func:`~app.screening.services.submit_result`, so that rules that only run
on submit still fire (e.g. ASQ: a positive screen with the acuity question unanswered is treated as acute).
A session with no answers is marked expired without a result. Each session is closed in a transaction of
its own, with its audit entry; a closed session is never picked up again, so running twice is harmless.

First, sittings whose pupil's parental consent has expired (or was withdrawn) are stopped without a result
(app/screening/stopping.py): a draft answered with consent is never scored after the consent ended.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from flask import current_app
from sqlalchemy import or_, select
from sqlalchemy.exc import IntegrityError

from app.consent.services import today_local, valid_consent_exists
from app.core import audit
from app.core.audit import AuditAction
from app.core.models import utcnow
from app.extensions import db
from app.screening.instruments import UnknownInstrumentError
from app.screening.models import Campaign, ScreeningSession, SessionStatus
from app.screening.scoring import ScoringInputError
from app.screening.services import submit_result
from app.screening.stopping import ScreeningStopped, stop_lapsed

_OPEN = (SessionStatus.ISSUED.value, SessionStatus.IN_PROGRESS.value)


@dataclass(frozen=True)
class ClosedCount:
    """What one run did."""

    submitted: int = 0
    expired: int = 0
    #: Stopped because the pupil's parental consent ended (no result).
    stopped: int = 0

    @property
    def total(self) -> int:
        return self.submitted + self.expired + self.stopped


def expired_sessions(now: datetime) -> list[int]:
    """Ids of sessions still open although their code has expired or their campaign has closed."""
    return list(db.session.execute(
        select(ScreeningSession.id).join(Campaign, Campaign.id == ScreeningSession.campaign_id)
        .where(ScreeningSession.status.in_(_OPEN),
               or_(ScreeningSession.code_expires_at < now, Campaign.closes_at < now))
        .order_by(ScreeningSession.id)).scalars())


def lapsed_sessions() -> list[int]:
    """Ids of unfinished sessions whose pupil has no valid parental consent today."""
    return list(db.session.execute(
        select(ScreeningSession.id).where(ScreeningSession.status.in_(_OPEN),
                                          ~valid_consent_exists(ScreeningSession.pupil_id, today_local()))
        .order_by(ScreeningSession.id)).scalars())


def _mark_expired(session: ScreeningSession, now: datetime, reason: str) -> None:
    session.status = SessionStatus.EXPIRED.value
    session.code_expires_at = min(session.code_expires_at, now)  # the code stops working everywhere
    session.draft_ct = None
    audit.record(None, AuditAction.SCREENING_SESSION_CLOSED, school_id=session.school_id,
                 pupil_id=session.pupil_id, object_type="screening_session", object_id=session.uuid,
                 details={"instrument": session.instrument_ref, "answered": 0, "submitted": False,
                          "reason": reason})
    db.session.commit()


def close_session(session: ScreeningSession, now: datetime) -> bool:
    """Submit what was answered (True) or mark the session expired (False), with an audit entry."""
    draft = {k: v for k, v in session.draft.items() if v is not None}
    if not draft:
        _mark_expired(session, now, "no_answers")
        return False
    session.code_expires_at = min(session.code_expires_at, now)
    # Recorded first, committed by submit_result together with the result: both or neither.
    audit.record(None, AuditAction.SCREENING_SESSION_CLOSED, school_id=session.school_id,
                 pupil_id=session.pupil_id, object_type="screening_session", object_id=session.uuid,
                 details={"instrument": session.instrument_ref, "answered": len(draft), "submitted": True,
                          "reason": "expired"})
    try:
        submit_result(actor=None, session=session, answers=draft)
    except (ScoringInputError, UnknownInstrumentError):
        # The draft no longer scores (should not happen: drafts are checked on save). Keep no result,
        # but close the session so that it is not retried forever; the log names the session only.
        db.session.rollback()  # drop the audit entry recorded above (submit_result has rolled back already)
        current_app.logger.warning("session %s could not be scored on expiry; closed without a result", session.id)
        _mark_expired(db.session.get_one(ScreeningSession, session.id), now, "not_scorable")
        return False
    return True


def close_expired(now: datetime | None = None) -> ClosedCount:
    """Close every abandoned session (each in its own transaction); returns how many of each kind."""
    now = now or utcnow()
    stopped = sum(1 for session_id in lapsed_sessions() if stop_lapsed(session_id))
    submitted = expired = 0
    for session_id in expired_sessions(now):
        session = db.session.get(ScreeningSession, session_id)
        if session is None or session.status not in _OPEN:  # closed meanwhile by another run
            continue
        try:
            closed_with_result = close_session(session, now)
        except IntegrityError:  # another run submitted it a moment ago (results are unique per session)
            db.session.rollback()
            continue
        except ScreeningStopped:  # consent ended since the first step: stopped, nothing submitted
            stopped += 1
            continue
        if closed_with_result:
            submitted += 1
        else:
            expired += 1
    return ClosedCount(submitted, expired, stopped)
