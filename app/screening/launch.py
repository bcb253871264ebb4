"""Instruments that an alert rule launches (``launch_instrument`` in instrument.yaml).

When a rule that names another instrument fires in a pupil's sitting (PHQ-A question 9 ≥ 1 → ASQ, the NIMH
pathway; WHO-5 ≤ 28 % → PHQ-A), the pupil goes on to that instrument at once, in the same browser session and
without a new code: the sitting is recorded as a session and result of its own, for the same pupil in the same
campaign. A rule evaluated ``on_answer`` launches when the answer that fires it is saved (the pupil comes back to
the rest of the interrupted sitting afterwards); a rule evaluated ``on_submit`` launches when the sitting is
submitted. Consent and the instrument's ages are checked again; an instrument the pupil already has a sitting
for in the campaign is never started twice (an open one is continued instead), and a rule's launch is tried once
per sitting. A launching rule of urgent or acute severity means an adult will see the pupil today, so the
pupil's end page says so with the help lines, whether or not the launched instrument could be given.

Nothing here commits: :func:`app.screening.services.save_answer` and
:func:`app.screening.services.submit_sitting` start the follow-ups in the transaction that stores the answer
(or the result) and its alerts.
"""

from __future__ import annotations

import enum
import secrets
from collections.abc import Collection, Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from flask import current_app
from sqlalchemy import select

from app.consent import services as consent
from app.core import audit
from app.core.audit import AuditAction, Outcome
from app.core.models import Pupil
from app.extensions import db
from app.screening.campaigns import code_hash
from app.screening.instrument_model import Instrument
from app.screening.instruments import UnknownInstrumentError
from app.screening.models import Campaign, ScreeningSession, SessionStatus
from app.screening.rules import Severity
from app.screening.services import instrument_for, outside_age_range, registry

#: Severities of a launching rule that promise the pupil an adult today (the alert's deadline).
_ADULT_COMES = frozenset({Severity.URGENT, Severity.ACUTE})
_OPEN = (SessionStatus.ISSUED.value, SessionStatus.IN_PROGRESS.value)


class Refusal(enum.StrEnum):
    """Why a launched instrument was not started (the alert stays whatever the reason)."""

    CONSENT = "consent"  # no valid parental consent any more
    AGE = "age"          # outside the launched instrument's ages
    DONE = "done"        # the pupil already has a closed sitting of it in this campaign
    UNKNOWN = "unknown"  # the data names an instrument that does not exist (or is retired)


@dataclass(frozen=True)
class Launch:
    """One instrument to launch: its id as the data names it, and the rule that fired."""

    instrument_id: str
    rule: str
    severity: Severity


@dataclass
class FollowUps:
    """What the end of a sitting leads to."""

    #: Sittings the pupil goes on to, in order (new ones, or open ones of the campaign continued).
    sessions: list[ScreeningSession] = field(default_factory=list)
    #: (instrument id, reason) of each launch that could not be started.
    refused: list[tuple[str, Refusal]] = field(default_factory=list)
    #: True when an urgent or acute launching rule fired: an adult will come (the end page says so).
    adult_comes: bool = False

    def then(self, other: FollowUps) -> FollowUps:
        """These follow-ups, then ``other``'s (an answer's launches, then its sitting's submission's)."""
        return FollowUps([*self.sessions, *other.sessions], [*self.refused, *other.refused],
                         self.adult_comes or other.adult_comes)


def launches(instrument: Instrument, rule_ids: Iterable[str]) -> list[Launch]:
    """The instruments that the fired rules ``rule_ids`` launch, in the order of the instrument's rules.

    Each target once (the first rule naming it), never the instrument itself.
    """
    fired = set(rule_ids)
    found: dict[str, Launch] = {}
    for rule in instrument.alerts:
        target = rule.launch_instrument
        if rule.id in fired and target and target != _bare(instrument.id) and target not in found:
            found[target] = Launch(target, rule.id, rule.severity)
    return list(found.values())


def answer_rules(instrument: Instrument, rule_ids: Iterable[str]) -> set[str]:
    """Those of ``rule_ids`` that are evaluated at each answer (their launches were made when they fired)."""
    fired = set(rule_ids)
    return {rule.id for rule in instrument.alerts if rule.id in fired and rule.evaluate == "on_answer"}


def _instrument_id(ref: str) -> str:
    """"asq" of "asq@1.1", "local:3:mood" of "local:3:mood@1.0"."""
    return ref.rpartition("@")[0]


def _bare(instrument_id: str) -> str:
    """The id as instrument.yaml names it ("mood" of a local method's "local:3:mood")."""
    return instrument_id.rpartition(":")[2]


def resolve(instrument_id: str, *, school_id: int, campaign: Campaign | None = None) -> Instrument:
    """The version to give of the instrument named ``instrument_id`` (raises UnknownInstrumentError).

    The campaign's own version if it plans the instrument, else the current shipped version, else the
    school's local method of that id (its newest version not retired).
    """
    if campaign is not None:
        for ref in campaign.instrument_refs:
            if _bare(_instrument_id(ref)) == instrument_id:
                return instrument_for(ref)
    if instrument_id in registry().ids():
        return registry().get(instrument_id)
    from app.screening import local  # imports the services this module imports

    methods = [m for m in local.school_methods([school_id], include_retired=False) if m.instrument_id == instrument_id]
    if not methods:
        raise UnknownInstrumentError(f"no instrument {instrument_id!r} to launch")
    return instrument_for(methods[0].ref, for_school=school_id)


def refusal(instrument: Instrument, pupil: Pupil, *, now: datetime) -> Refusal | None:
    """Why ``pupil`` may not take ``instrument`` now (consent, age), or None."""
    if not consent.has_valid_consent(pupil):
        return Refusal.CONSENT
    if outside_age_range(instrument, pupil.age_on(consent.local_day(now))):
        return Refusal.AGE
    return None


def _language(instrument: Instrument, language: str | None) -> str | None:
    """The sitting's language if the launched instrument has texts in it; None lets the pupil choose."""
    texts = instrument.texts.get(language or "")
    return language if texts is not None and texts.status != "not_available" else None


def start_follow_ups(*, session: ScreeningSession, instrument: Instrument, rule_ids: Collection[str],
                     now: datetime, launched_before: Collection[str] = (),
                     audit_lane: int | None = None) -> FollowUps:
    """Start (or find) the sittings that the fired rules of ``session`` launch, with their audit entries.

    ``rule_ids``: every rule of the sitting that has fired (they decide whether an adult comes);
    ``launched_before``: those of them whose launches were already made (or refused) at an earlier step of the
    sitting: their instruments are neither started nor refused again. Not committed: called by the service that
    saves an answer of ``session`` or submits it, in its transaction (``audit_lane``: that transaction's chain).
    """
    fired = launches(instrument, rule_ids)
    follow = FollowUps(adult_comes=any(launch.severity in _ADULT_COMES for launch in fired))
    done = {launch.instrument_id for launch in launches(instrument, launched_before)}
    wanted = [launch for launch in fired if launch.instrument_id not in done]
    if not wanted:
        return follow
    pupil, campaign = session.pupil, session.campaign
    existing = list(db.session.execute(select(ScreeningSession).where(
        ScreeningSession.campaign_id == session.campaign_id, ScreeningSession.pupil_id == session.pupil_id,
        ScreeningSession.id != session.id)).scalars())
    for launch in wanted:
        try:
            target = resolve(launch.instrument_id, school_id=session.school_id, campaign=campaign)
        except UnknownInstrumentError:
            _refuse(follow, session, launch, Refusal.UNKNOWN, audit_lane)
            continue
        same = [s for s in existing if _instrument_id(s.instrument_ref) == target.id]
        reason = refusal(target, pupil, now=now)
        if reason is None and same and not any(s.status in _OPEN and s.code_expires_at >= now for s in same):
            reason = Refusal.DONE  # launched (or taken) once already in this campaign: never twice
        if reason is not None:
            _refuse(follow, session, launch, reason, audit_lane)
            continue
        new = not same
        if same:  # an open sitting of the campaign (its code printed): the pupil goes on in it now
            sitting = next(s for s in same if s.status in _OPEN and s.code_expires_at >= now)
            sitting.language = sitting.language or _language(target, session.language)
        else:
            sitting = ScreeningSession(
                campaign_id=session.campaign_id, pupil_id=session.pupil_id, school_id=session.school_id,
                instrument_ref=target.ref, language=_language(target, session.language),
                # A code nobody is told (the pupil goes on in this browser): unguessable, never typed.
                code_hash=code_hash(secrets.token_urlsafe(32)),
                # No card to come back with: the sitting closes (close-expired submits what was answered, so an
                # abandoned positive ASQ gets its fail-safe) once the pupil's browser session could have ended.
                code_expires_at=min(session.code_expires_at, now + _sitting_time()))
            db.session.add(sitting)
            db.session.flush()
            existing.append(sitting)
        follow.sessions.append(sitting)
        # No pupil and no rule in the entry: that a follow-up started says something about the answers.
        audit.record(None, AuditAction.SCREENING_SESSION_LAUNCHED, school_id=session.school_id,
                     object_type="screening_session", object_id=sitting.uuid,
                     details={"from": session.uuid, "instrument": target.ref, "new": new}, lane=audit_lane)
    return follow


def _sitting_time() -> timedelta:
    return current_app.config["SENIM_LAUNCHED_SITTING_TIME"]


def _refuse(follow: FollowUps, session: ScreeningSession, launch: Launch, reason: Refusal,
            audit_lane: int | None) -> None:
    follow.refused.append((launch.instrument_id, reason))
    audit.record(None, AuditAction.SCREENING_SESSION_LAUNCHED, outcome=Outcome.DENIED, school_id=session.school_id,
                 object_type="screening_session", object_id=session.uuid,
                 details={"instrument": launch.instrument_id, "reason": str(reason)}, lane=audit_lane)


def paper_follow_ups(*, instrument: Instrument, rule_ids: Iterable[str], school_id: int) -> list[Instrument]:
    """For paper entry: the instruments the psychologist should give now (resolved for the school)."""
    found = []
    for launch in launches(instrument, rule_ids):
        try:
            found.append(resolve(launch.instrument_id, school_id=school_id))
        except UnknownInstrumentError:
            continue
    return found
