"""Campaign services: plan a screening, list its pupils with consent status, issue one-time codes."""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import select

from app.auth.models import User
from app.auth.permissions import Permission, visible_pupils
from app.consent import services as consent
from app.core import audit
from app.core.audit import AuditAction
from app.core.encryption import blind_index
from app.core.models import Pupil, School, SchoolClass
from app.extensions import db
from app.screening.models import Campaign, ScreeningSession
from app.screening.services import instrument_for, outside_age_range

#: Unambiguous characters for printed codes (no 0/O, 1/I/L).
CODE_ALPHABET = "23456789ABCDEFGHJKMNPQRSTUVWXYZ"
CODE_LENGTH = 8


class NoValidConsent(PermissionError):
    """The pupil has no valid parental consent: no session can be issued."""


def normalise_code(code: str) -> str:
    """Upper-case, without spaces and dashes (what the pupil types may differ in form)."""
    return "".join(ch for ch in code.upper() if ch.isalnum())


def code_hash(code: str) -> bytes:
    """Keyed HMAC of a one-time code (the only thing stored)."""
    return blind_index(normalise_code(code), scope="otc")


def new_code() -> str:
    """A random one-time code, e.g. "K7QM-4XPA"."""
    raw = "".join(secrets.choice(CODE_ALPHABET) for _ in range(CODE_LENGTH))
    return f"{raw[:4]}-{raw[4:]}"


def create_campaign(*, actor: User, school: School, title: str, instrument_refs: list[str],
                    classes: list[SchoolClass], opens_at: datetime, closes_at: datetime, mode: str) -> Campaign:
    """Plan a screening of ``classes`` (all of ``school``) and audit it."""
    if any(c.school_id != school.id for c in classes):
        raise ValueError("classes of another school")
    for ref in instrument_refs:  # UnknownInstrumentError: unknown, retired, or another school's local method
        instrument_for(ref, for_school=school.id)
    campaign = Campaign(school_id=school.id, title=title, instrument_refs=list(instrument_refs),
                        opens_at=opens_at, closes_at=closes_at, mode=mode, created_by_id=actor.id)
    campaign.classes = list(classes)
    db.session.add(campaign)
    db.session.flush()
    audit.record(actor, AuditAction.CAMPAIGN_CREATE, school_id=school.id, object_type="campaign",
                 object_id=campaign.uuid, details={"instruments": instrument_refs,
                                                   "classes": [c.id for c in classes], "mode": mode})
    db.session.commit()
    return campaign


@dataclass(frozen=True)
class CampaignPupil:
    """One row of the campaign page."""

    pupil: Pupil
    consented: bool
    sessions: list[ScreeningSession]
    #: The campaign's instruments this pupil is too young or too old for (no code is issued for them).
    out_of_age: tuple[str, ...] = ()


def refs_outside_age(campaign: Campaign, pupil: Pupil, on: date) -> tuple[str, ...]:
    """The campaign's instrument references whose age range excludes ``pupil`` on ``on``."""
    age = pupil.age_on(on)
    return tuple(ref for ref in campaign.instrument_refs if outside_age_range(instrument_for(ref), age))


def age_range_report(campaign: Campaign, pupils: list[Pupil], on: date) -> dict[str, int]:
    """For the planning page: per instrument reference, how many of ``pupils`` are outside its age range."""
    counts: dict[str, int] = {}
    for pupil in pupils:
        for ref in refs_outside_age(campaign, pupil, on):
            counts[ref] = counts.get(ref, 0) + 1
    return counts


def campaign_pupils(*, actor: User, campaign: Campaign) -> list[CampaignPupil]:
    """Pupils of the campaign's classes (within the actor's scope) with consent status; audited."""
    class_ids = [c.id for c in campaign.classes]
    pupils = list(db.session.execute(
        visible_pupils(actor, Permission.SCREENING_CAMPAIGNS).where(Pupil.class_id.in_(class_ids))
    ).scalars())
    consented = consent.consented_pupil_ids(p.id for p in pupils)
    sessions: dict[int, list[ScreeningSession]] = {}
    for s in db.session.execute(select(ScreeningSession).where(ScreeningSession.campaign_id == campaign.id)).scalars():
        sessions.setdefault(s.pupil_id, []).append(s)
    today = date.today()
    rows = [CampaignPupil(p, p.id in consented, sessions.get(p.id, []), refs_outside_age(campaign, p, today))
            for p in pupils]
    rows.sort(key=lambda r: (r.pupil.school_class.grade if r.pupil.school_class else 0,
                             r.pupil.school_class.letter if r.pupil.school_class else "",
                             r.pupil.last_name, r.pupil.first_name))
    audit.record_read(actor, AuditAction.CAMPAIGN_READ, school_id=campaign.school_id, object_type="campaign",
                      object_id=campaign.uuid, details={"count": len(rows)})
    return rows


def issue_session(*, actor: User, campaign: Campaign, pupil: Pupil,
                  instrument_ref: str) -> tuple[ScreeningSession, str]:
    """A new session and its one-time code (returned once, stored only as an HMAC). Not committed."""
    if not consent.has_valid_consent(pupil):
        raise NoValidConsent(pupil.id)
    code = new_code()
    session = ScreeningSession(campaign_id=campaign.id, pupil_id=pupil.id, school_id=pupil.school_id,
                               instrument_ref=instrument_ref, code_hash=code_hash(code),
                               code_expires_at=campaign.closes_at)
    db.session.add(session)
    return session, code


def issue_codes(*, actor: User, campaign: Campaign, pupils: list[Pupil]) -> list[tuple[Pupil, str, str]]:
    """Issue a code per consented pupil and campaign instrument; raise NoValidConsent for any other.

    Returns (pupil, instrument ref, code) for the print page; the codes are never stored in clear.
    """
    missing = [p for p in pupils if not consent.has_valid_consent(p)]
    if missing:
        raise NoValidConsent([p.id for p in missing])
    issued = []
    today = date.today()
    for pupil in pupils:
        outside = refs_outside_age(campaign, pupil, today)
        for ref in campaign.instrument_refs:
            if ref in outside:
                continue  # refused: the instrument is not meant for this pupil's age (the campaign page says so)
            _session, code = issue_session(actor=actor, campaign=campaign, pupil=pupil, instrument_ref=ref)
            issued.append((pupil, ref, code))
    audit.record(actor, AuditAction.SCREENING_CODES_ISSUED, school_id=campaign.school_id, object_type="campaign",
                 object_id=campaign.uuid, details={"pupils": [p.id for p in pupils], "count": len(issued)})
    db.session.commit()
    return issued
