"""Stopping a pupil's unfinished sittings when parental consent ends (withdrawn, or expired).

What a withdrawal (or an expiry) does, decided once here and described in README.md ("Consent"):

- Sittings not yet finished (issued or in progress) are stopped: their codes stop working at once and their draft
  answers are erased. Nothing answered after that is saved, and the draft is never turned into a result.
- Results submitted before stay: they were given with consent, and the psychologist may already be acting on them.
- Alerts already raised stay open in the inbox, whatever raised them (a draft answer included): an alert is never
  lost. Their details are encrypted and name no answer.

Withdrawal stops the sittings in its own transaction (app/consent/services.py). An expiry has no moment of its own:
code entry, every answer save, the submission and ``flask screening close-expired`` each check consent and stop the
sitting when it has lapsed.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import select

from app.core import audit
from app.core.audit import AuditAction
from app.core.models import utcnow
from app.extensions import db
from app.screening.models import ScreeningSession, SessionStatus, StopReason

_OPEN = (SessionStatus.ISSUED.value, SessionStatus.IN_PROGRESS.value)


class ScreeningStopped(Exception):
    """The pupil's parental consent is no longer valid: the sitting is stopped and nothing more is saved."""


def stop_session(session: ScreeningSession, *, actor: Any, reason: StopReason, now: datetime) -> None:
    """Stop one unfinished sitting: the code stops working, the draft is erased; audited. Not committed."""
    answered = len([v for v in session.draft.values() if v is not None]) if session.draft_ct is not None else 0
    session.status, session.stopped_at, session.stop_reason = SessionStatus.STOPPED.value, now, reason.value
    session.draft_ct = None
    audit.record(actor, AuditAction.SCREENING_SESSION_STOPPED, school_id=session.school_id,
                 pupil_id=session.pupil_id, object_type="screening_session", object_id=session.uuid,
                 details={"instrument": session.instrument_ref, "reason": reason.value, "answered": answered})


def stop_sittings(*, actor: Any, pupil_id: int, reason: StopReason, now: datetime | None = None) -> int:
    """Stop every unfinished sitting of the pupil (rows locked first); returns how many. Not committed."""
    now = now or utcnow()
    sessions = list(db.session.execute(
        select(ScreeningSession).where(ScreeningSession.pupil_id == pupil_id, ScreeningSession.status.in_(_OPEN))
        .order_by(ScreeningSession.id).with_for_update().execution_options(populate_existing=True)).scalars())
    for session in sessions:
        stop_session(session, actor=actor, reason=reason, now=now)
    return len(sessions)


def lapsed_reason(pupil_id: int) -> StopReason:
    """Why a pupil without valid consent has none now: withdrawn if the newest record was withdrawn, else expired."""
    from app.consent.services import consent_ends

    end = consent_ends([pupil_id]).get(pupil_id)
    return StopReason.CONSENT_WITHDRAWN if end is not None and end.kind == "withdrawn" else StopReason.CONSENT_EXPIRED


def consent_lapsed(session: ScreeningSession) -> bool:
    """True if the sitting is stopped, or unfinished while the pupil has no valid consent."""
    from app.consent.services import has_valid_consent

    if session.status == SessionStatus.STOPPED.value:
        return True
    return session.status in _OPEN and not has_valid_consent(session.pupil)


def stop_lapsed(session_id: int) -> bool:
    """In a transaction of its own: lock the sitting and stop it if the pupil's consent has lapsed; True if it is
    stopped (now or before). Callers roll their own transaction back first: nothing of it is kept."""
    session = db.session.execute(select(ScreeningSession).where(ScreeningSession.id == session_id)
                                 .with_for_update().execution_options(populate_existing=True)).scalar_one()
    lapsed = consent_lapsed(session)
    if lapsed and session.status != SessionStatus.STOPPED.value:
        stop_session(session, actor=None, reason=lapsed_reason(session.pupil_id), now=utcnow())
    db.session.commit()
    return lapsed
