"""Campaign services: plan a screening, list its pupils with consent status, issue (and replace) one-time codes."""

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
from app.core.models import Pupil, School, SchoolClass, new_uuid, utcnow
from app.extensions import db
from app.screening import cards
from app.screening.models import Campaign, CodeBatch, ScreeningSession, SessionStatus
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
    #: Without valid consent: how and when the last consent ended (None if there never was one, or consented).
    consent_end: consent.ConsentEnd | None = None


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
    ends = consent.consent_ends(p.id for p in pupils if p.id not in consented)
    today = consent.today_local()
    rows = [CampaignPupil(p, p.id in consented, sessions.get(p.id, []), refs_outside_age(campaign, p, today),
                          ends.get(p.id)) for p in pupils]
    rows.sort(key=lambda r: (r.pupil.school_class.grade if r.pupil.school_class else 0,
                             r.pupil.school_class.letter if r.pupil.school_class else "",
                             r.pupil.last_name, r.pupil.first_name))
    audit.record_read(actor, AuditAction.CAMPAIGN_READ, school_id=campaign.school_id, object_type="campaign",
                      object_id=campaign.uuid, details={"count": len(rows)})
    return rows


def issue_session(*, actor: User, campaign: Campaign, pupil: Pupil,
                  instrument_ref: str) -> tuple[ScreeningSession, str]:
    """A new session and its one-time code (the session keeps only its HMAC). Not committed."""
    if not consent.has_valid_consent(pupil):
        raise NoValidConsent(pupil.id)
    code = new_code()
    session = ScreeningSession(campaign_id=campaign.id, pupil_id=pupil.id, school_id=pupil.school_id,
                               instrument_ref=instrument_ref, code_hash=code_hash(code),
                               code_expires_at=campaign.closes_at)
    db.session.add(session)
    return session, code


#: Sittings whose code still opens them (if not expired by time).
_LIVE = (SessionStatus.ISSUED.value, SessionStatus.IN_PROGRESS.value)


class ReplaceNotConfirmed(ValueError):
    """Some chosen pupils already have live codes: issuing again replaces them, which must be confirmed first."""


@dataclass(frozen=True)
class IssuePlan:
    """What issuing codes to one pupil will do, per campaign instrument (in the campaign's order)."""

    pupil: Pupil
    #: Instruments that get a new sitting and code.
    new: tuple[str, ...]
    #: Live sittings (issued or in progress) whose code will be replaced: the old code stops working.
    replace: tuple[ScreeningSession, ...]
    #: Instruments the pupil has already completed in this campaign: no new code.
    completed: tuple[str, ...]


def plan_issue(*, campaign: Campaign, pupils: list[Pupil], now: datetime | None = None) -> list[IssuePlan]:
    """Per pupil: which instruments get a new code, which live codes are replaced, which are already done."""
    now = now or utcnow()
    by_key: dict[tuple[int, str], list[ScreeningSession]] = {}
    for s in db.session.execute(select(ScreeningSession).where(
            ScreeningSession.campaign_id == campaign.id, ScreeningSession.pupil_id.in_([p.id for p in pupils]))
            .order_by(ScreeningSession.id)).scalars():
        by_key.setdefault((s.pupil_id, s.instrument_ref), []).append(s)
    plans = []
    today = consent.today_local()
    for pupil in pupils:
        new: list[str] = []
        replace: list[ScreeningSession] = []
        completed: list[str] = []
        outside = refs_outside_age(campaign, pupil, today)
        for ref in campaign.instrument_refs:
            if ref in outside:
                continue  # refused: the instrument is not meant for this pupil's age (the campaign page says so)
            sittings = by_key.get((pupil.id, ref), [])
            live = [s for s in sittings if s.status in _LIVE and s.code_expires_at >= now]
            if any(s.status == SessionStatus.COMPLETED.value for s in sittings):
                completed.append(ref)
            elif live:
                replace.append(_sitting_to_keep(live))
            else:
                new.append(ref)
        plans.append(IssuePlan(pupil, tuple(new), tuple(replace), tuple(completed)))
    return plans


def _sitting_to_keep(live: list[ScreeningSession]) -> ScreeningSession:
    # Codes issued before replacement existed may have left several live sittings of one instrument: keep the one
    # the pupil has started (else the newest); replacing its code stops the others (see _replace).
    started = [s for s in live if s.status == SessionStatus.IN_PROGRESS.value]
    return started[0] if started else live[-1]


def _replace(*, actor: User, session: ScreeningSession, now: datetime) -> str:
    """A new code for a live sitting: the old code stops working, and so does a browser still holding the sitting
    (its uuid changes; the draft, bound to the uuid, is re-encrypted and kept). Other live sittings of the same
    pupil and instrument in the campaign are expired. Audited; not committed."""
    others = db.session.execute(select(ScreeningSession).where(
        ScreeningSession.campaign_id == session.campaign_id, ScreeningSession.pupil_id == session.pupil_id,
        ScreeningSession.instrument_ref == session.instrument_ref, ScreeningSession.id != session.id,
        ScreeningSession.status.in_(_LIVE))).scalars()
    for other in others:
        other.status, other.code_expires_at, other.draft_ct = SessionStatus.EXPIRED.value, now, None
        audit.record(actor, AuditAction.SCREENING_CODE_REPLACED, school_id=other.school_id, pupil_id=other.pupil_id,
                     object_type="screening_session", object_id=other.uuid,
                     details={"instrument": other.instrument_ref, "duplicate": True})
    previous = session.uuid
    draft = session.draft_json if session.draft_ct is not None else None
    code = new_code()
    session.uuid, session.code_hash, session.draft_ct = new_uuid(), code_hash(code), None
    if draft is not None:
        session.draft_json = draft
    audit.record(actor, AuditAction.SCREENING_CODE_REPLACED, school_id=session.school_id, pupil_id=session.pupil_id,
                 object_type="screening_session", object_id=session.uuid,
                 details={"instrument": session.instrument_ref, "previous": previous})
    return code


@dataclass(frozen=True)
class IssuedCodes:
    """What one issue did: the codes (also kept, encrypted, in ``batch`` for printing) and how many replaced."""

    #: (pupil, instrument ref, code), in card order.
    codes: list[tuple[Pupil, str, str]]
    replaced: int
    #: The printable cards; None when there was nothing to issue (every instrument already completed).
    batch: CodeBatch | None


def issue_codes(*, actor: User, campaign: Campaign, pupils: list[Pupil], replace: bool = False) -> IssuedCodes:
    """Issue codes to consented pupils: one card per pupil listing a code for each campaign instrument (not for
    instruments already completed, nor outside the pupil's age range). Raises NoValidConsent for a pupil without
    consent; ReplaceNotConfirmed when a chosen pupil has a live code and ``replace`` is False (nothing is changed).
    With ``replace``, a live code is replaced rather than duplicated. One transaction, audited.
    """
    missing = [p for p in pupils if not consent.has_valid_consent(p)]
    if missing:
        raise NoValidConsent([p.id for p in missing])
    now = utcnow()
    plans = plan_issue(campaign=campaign, pupils=pupils, now=now)
    if not replace and any(plan.replace for plan in plans):
        raise ReplaceNotConfirmed([plan.pupil.id for plan in plans if plan.replace])
    issued: list[tuple[Pupil, str, str]] = []
    for plan in plans:
        codes = {s.instrument_ref: _replace(actor=actor, session=s, now=now) for s in plan.replace}
        for ref in plan.new:
            _session, codes[ref] = issue_session(actor=actor, campaign=campaign, pupil=plan.pupil, instrument_ref=ref)
        issued += [(plan.pupil, ref, codes[ref]) for ref in campaign.instrument_refs if ref in codes]
    batch = cards.new_batch(actor=actor, campaign=campaign, issued=issued) if issued else None
    replaced = sum(len(plan.replace) for plan in plans)
    audit.record(actor, AuditAction.SCREENING_CODES_ISSUED, school_id=campaign.school_id, object_type="campaign",
                 object_id=campaign.uuid, details={"pupils": [p.id for p in pupils], "count": len(issued),
                                                   "replaced": replaced,
                                                   "batch": batch.uuid if batch is not None else None})
    db.session.commit()
    return IssuedCodes(issued, replaced, batch)
