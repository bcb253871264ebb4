"""Helpers for the screening workflow tests: consent, a campaign and a session with a known code."""

from __future__ import annotations

from datetime import date, timedelta

from app.consent.models import Consent
from app.consent.services import has_valid_consent, school_year_end, today_local
from app.core.models import Pupil, utcnow
from app.extensions import db
from app.screening.campaigns import code_hash
from app.screening.models import Campaign, ScreeningSession

ASQ = "asq@1.0"
ACUTE_ASQ = {"q1": 1, "q2": 0, "q3": 0, "q4": 0, "q5": 1}
NEGATIVE_ASQ = {"q1": 0, "q2": 0, "q3": 0, "q4": 0}


def consent(pupil: Pupil, *, withdrawn: bool = False, valid_until: date | None = None) -> Consent:
    record = Consent(pupil_id=pupil.id, school_id=pupil.school_id, method="paper",
                     valid_until=valid_until or school_year_end(today_local()),
                     withdrawn_at=utcnow() if withdrawn else None)
    db.session.add(record)
    db.session.commit()
    return record


def campaign(user, school, classes, refs=(ASQ,)) -> Campaign:
    now = utcnow()
    record = Campaign(school_id=school.id, title="Autumn", instrument_refs=list(refs),
                      opens_at=now - timedelta(days=1), closes_at=now + timedelta(days=7), mode="online",
                      created_by_id=user.id)
    record.classes = list(classes)
    db.session.add(record)
    db.session.commit()
    return record


def session_with_code(camp: Campaign, pupil: Pupil, code: str = "ABCD-2345", ref: str = ASQ,
                      language: str | None = None, *, consented: bool = True) -> ScreeningSession:
    """A sitting with a known code; its pupil gets a valid consent first unless they have one (codes are issued
    only with consent, and every step of a sitting checks it again)."""
    if consented and not has_valid_consent(pupil):
        consent(pupil)
    record = ScreeningSession(campaign_id=camp.id, pupil_id=pupil.id, school_id=pupil.school_id,
                              instrument_ref=ref, code_hash=code_hash(code), code_expires_at=camp.closes_at,
                              language=language)
    db.session.add(record)
    db.session.commit()
    return record
