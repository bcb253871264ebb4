"""Saving answers and results: score, store, raise alerts and audit in one short transaction.

An alert is never lost: the result, its alerts and the audit entry commit together or not at all.
Rules marked ``on_answer`` (e.g. ASQ acuity "yes") already fire when a draft answer is autosaved, and such a rule
that launches another instrument (PHQ-A question 9 → ASQ) starts it then, in the same transaction (launch.py).
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, replace
from datetime import datetime, time, timedelta
from pathlib import Path
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo

from flask import current_app
from sqlalchemy import Date, bindparam, func, select, update

from app.auth.models import User
from app.consent import services as consent
from app.core import audit
from app.core.audit import AuditAction
from app.core.database import end_autocommit
from app.core.models import Pupil, age_on, utcnow
from app.extensions import db
from app.screening import notify, stopping
from app.screening.instruments import Instrument, InstrumentRegistry, load_registry
from app.screening.models import (
    Alert,
    AlertDetails,
    FlagLevel,
    ScreeningResult,
    ScreeningSession,
    SessionStatus,
    pupil_ref,
)
from app.screening.rules import Severity
from app.screening.scoring import Alert as RuleAlert
from app.screening.scoring import ScoreResult, check_answers, score

if TYPE_CHECKING:
    from app.screening.launch import FollowUps  # imports this module
    from app.screening.selfservice import OpenSession  # imports this module's importers

_SEVERITY_FLAG = {Severity.ACUTE: FlagLevel.ACUTE, Severity.URGENT: FlagLevel.URGENT,
                  Severity.ROUTINE: FlagLevel.ROUTINE}


class SessionClosed(ValueError):
    """The session is completed (or expired); nothing more can be saved."""


def registry() -> InstrumentRegistry:
    """The instruments, loaded and validated once per application."""
    cache = current_app.extensions.setdefault("senim_instruments", {})
    if "registry" not in cache:
        cache["registry"] = load_registry(Path(current_app.config["SENIM_INSTRUMENTS_DIR"]))
    return cache["registry"]


def instrument_for(ref: str, *, for_school: int | None = None) -> Instrument:
    """The instrument for an "id@version" reference, or a local method's "local:<school>:<id>@<version>".

    ``for_school`` (choosing an instrument for new use): a local method resolves only for that school
    and only while not retired; shipped instruments are unaffected.
    """
    if ref.startswith("local:"):
        from app.screening import local  # imports this module

        return local.resolve(ref, for_school=for_school)
    instrument_id, _, version = ref.partition("@")
    return registry().get(instrument_id, version or None)


def outside_age_range(instrument: Instrument, age: int | None) -> bool:
    """True when ``age`` is outside the ages the instrument is meant for (its audience in instrument.yaml)."""
    if age is None:
        return False
    return ((instrument.min_age is not None and age < instrument.min_age)
            or (instrument.max_age is not None and age > instrument.max_age))


def alert_due_at(severity: str, raised_at: datetime) -> datetime:
    """The acknowledgement deadline for an alert of ``severity`` raised at ``raised_at``."""
    rule = current_app.config["SENIM_ALERT_DEADLINES"].get(severity, timedelta(0))
    if isinstance(rule, timedelta):
        return raised_at + rule
    zone = ZoneInfo(current_app.config["BABEL_DEFAULT_TIMEZONE"])
    hour, minute = (int(p) for p in current_app.config["SENIM_SCHOOL_DAY_ENDS"].split(":"))
    local = raised_at.astimezone(zone)
    end = datetime.combine(local.date(), time(hour, minute), tzinfo=zone)
    if end <= local:  # raised after hours: the end of the next day
        end += timedelta(days=1)
    return end.astimezone(raised_at.tzinfo)


def flag_level(result: ScoreResult) -> FlagLevel:
    """Coarse outcome: the highest alert severity."""
    return max((_SEVERITY_FLAG[a.severity] for a in result.alerts), default=FlagLevel.NONE)


#: Severities by urgency, for upgrading an alert.
SEVERITY_RANK = {"routine": 0, "urgent": 1, "acute": 2}
#: Deadlines are stored rounded up to this step (the escalation job's period), so that a deadline does not give
#: away the second an answer was saved.
DEADLINE_STEP = timedelta(minutes=5)


def _round_up(moment: datetime) -> datetime:
    step = int(DEADLINE_STEP.total_seconds())
    seconds = int(moment.timestamp())
    rounded = -(-seconds // step) * step
    return datetime.fromtimestamp(rounded, tz=moment.tzinfo)


def open_alerts_of_pupil(pupil_id: int) -> list[Alert]:
    """The pupil's unresolved alerts (found by the keyed reference)."""
    return list(db.session.execute(select(Alert).where(
        Alert.pupil_ref == pupil_ref(pupil_id), Alert.resolved_at.is_(None))).scalars())


def _ordered(rule_alerts: tuple[RuleAlert, ...]) -> list[RuleAlert]:
    return sorted(rule_alerts, key=lambda a: -SEVERITY_RANK[str(a.severity)])


@dataclass(frozen=True)
class _Raised:
    #: The alerts that need attention now (new, or upgraded to a higher severity).
    alerts: list[Alert]
    #: The rules that the sitting's alerts (resolved ones too) held before: fired at an earlier answer.
    earlier: frozenset[str] = frozenset()


def _raise_alerts(*, actor: User | None, rule_alerts: tuple[RuleAlert, ...], pupil_id: int, school_id: int,
                  instrument_ref: str, session_id: int | None, result: ScreeningResult | None,
                  audit_lane: int | None = None, partial: frozenset[str] = frozenset()) -> _Raised:
    """Raise, upgrade or extend the sitting's alert for the fired rules (same transaction); returns the alerts
    that need attention now (new, or upgraded to a higher severity) and the rules the sitting had raised before.

    One open alert per sitting: a more severe rule that fires later (ASQ question 5 after question 1, or an
    abandoned ASQ at close-expired) upgrades it, asks for a new acknowledgement and keeps the earlier severity in
    its history; a rule as severe or less is added to its rules. ``partial``: rules that fired on the answered
    items alone.
    """
    if not rule_alerts and result is None:
        return _Raised([])  # nothing fired and no result to attach earlier alerts to: no query
    sitting: list[Alert] = []
    if session_id is not None:
        sitting = [a for a in db.session.execute(select(Alert).where(Alert.pupil_ref == pupil_ref(pupil_id)))
                   .scalars() if a.session_id == session_id]
    earlier = frozenset(rule for alert in sitting for rule in alert.details.rules)
    current = next((a for a in sitting if a.resolved_at is None), None)
    raised: list[Alert] = []
    upgraded: set[int] = set()  # id() of the alerts upgraded (not new) in this call
    now = utcnow()
    fired = _ordered(rule_alerts)
    if fired:
        top, rules = str(fired[0].severity), tuple(a.rule for a in fired)
        if current is None:
            current = Alert(school_id=school_id, due_at=_round_up(alert_due_at(top, now)))
            current.details = AlertDetails(
                pupil_id=pupil_id, school_id=school_id, instrument_ref=instrument_ref, severity=top, rules=rules,
                raised_at=now, session_id=session_id, result_id=result.id if result is not None else None,
                partial=bool(partial & set(rules)))
            db.session.add(current)
            sitting.append(current)
            raised.append(current)
        else:
            before = current.details
            new_rules = tuple(r for r in rules if r not in before.rules)
            if SEVERITY_RANK[top] > SEVERITY_RANK[before.severity]:
                ordered = (fired[0].rule, *(r for r in before.rules + new_rules if r != fired[0].rule))
                current.details = replace(
                    before, severity=top, rules=ordered, partial=before.partial or bool(partial & set(new_rules)),
                    history=(*before.history, (before.severity, before.rules[0], now.isoformat())))
                current.due_at = min(current.due_at, _round_up(alert_due_at(top, now)))
                current.acknowledged_at, current.acknowledged_by_id = None, None  # a new acknowledgement is needed
                raised.append(current)
                upgraded.add(id(current))
            elif new_rules:
                current.details = replace(before, rules=before.rules + new_rules,
                                          partial=before.partial or bool(partial & set(new_rules)))
    if raised:
        db.session.flush()
        # Same transaction: a committed alert always has its e-mail queued. Before the audit entries, whose
        # chain head stays locked until the COMMIT; sent after it, outside the request (app/core/mail.py).
        notify.queue_raised(school_id=school_id, severities=[alert.severity for alert in raised])
    for alert in raised:
        # No pupil, rule or severity in the audit row: the alert's details say that, encrypted (issue 9 case 3).
        audit.record(actor, AuditAction.ALERT_UPGRADED if id(alert) in upgraded else AuditAction.ALERT_RAISED,
                     school_id=school_id, object_type="alert", object_id=alert.uuid, lane=audit_lane)
    if result is not None:  # alerts raised earlier from answers belong to the result too
        for alert in sitting:
            if alert.result_id != result.id:
                alert.details = replace(alert.details, result_id=result.id)
    return _Raised(raised, earlier)


def with_answer(draft: Mapping[str, int | None], item_id: str, value: int | None) -> dict[str, int | None]:
    """The draft as :func:`save_answer` stores it after saving ``value`` for ``item_id`` (no None values).

    Lets the pupil's page go on without reading the session back after the commit.
    """
    answers: dict[str, int | None] = {k: v for k, v in draft.items() if v is not None and k != item_id}
    if value is not None:
        answers[item_id] = value
    return answers


def _has_on_answer_rules(instrument: Instrument) -> bool:
    return any(rule.evaluate == "on_answer" for rule in instrument.alerts)


_SESSIONS = ScreeningSession.__table__
#: The draft as one prepared Core statement (no ORM unit of work on the hot path); never reopens a session
#: that another request has just completed or a withdrawal has stopped, and saves nothing unless the pupil's
#: parental consent is valid ``today``: the consent check and the save are one statement.
_SAVE_DRAFT = (
    update(_SESSIONS)
    .where(_SESSIONS.c.id == bindparam("session_id"),
           # Two comparisons, not IN (...): a prepared statement has no expanding parameters.
           _SESSIONS.c.status != SessionStatus.COMPLETED.value, _SESSIONS.c.status != SessionStatus.STOPPED.value,
           consent.valid_consent_exists(_SESSIONS.c.pupil_id, bindparam("today", type_=Date)))
    .values(draft_ct=bindparam("draft_ct"), status=SessionStatus.IN_PROGRESS.value,
            started_at=func.coalesce(_SESSIONS.c.started_at, bindparam("now", type_=_SESSIONS.c.started_at.type)))
)


@dataclass(frozen=True)
class Saved:
    """A saved answer: the alerts that need attention now, and the sittings its rules launched (launch.py)."""

    alerts: list[Alert]
    #: Sittings to take at once, before the rest of this one (PHQ-A question 9 → ASQ); empty for most answers.
    follow_ups: FollowUps


def save_answer(*, session: OpenSession, item_id: str, value: int | None) -> Saved:
    """Autosave one draft answer (encrypted) and raise any on-answer alert, in one short transaction.

    An on-answer rule that fires for the first time in the sitting and names another instrument
    (``launch_instrument``) starts that instrument's sitting in the same transaction (launch.py): the answer, its
    alert and the launch commit together.

    The hot path of self-completion (bench/run_submit.py measures it): no statement here depends on the
    size of the school, and the audit chain's head is locked only by the last statements before COMMIT.
    Its audit entries go to a lane chain of the school (by session), so that pupils answering at the same
    time do not queue on one head row. Raises :class:`~app.screening.stopping.ScreeningStopped` (nothing saved,
    the sitting stopped) when the pupil's consent has been withdrawn or has expired.
    """
    from app.screening import launch as launcher  # imports this module

    now = utcnow()
    if not session.is_open(now):
        raise SessionClosed(session.id)
    instrument = instrument_for(session.instrument_ref)
    answers = dict(session.draft)
    answers[item_id] = value
    checked = check_answers(instrument, answers)  # ScoringInputError on a bad item or value
    draft = json.dumps({k: v for k, v in checked.items() if v is not None}, sort_keys=True)
    save = (_SAVE_DRAFT, {"session_id": session.id, "now": now, "today": consent.today_local(),
                          "draft_ct": ScreeningSession.draft_json.encrypt_for(session.uuid, draft)})
    fired: tuple[RuleAlert, ...] = ()
    if _has_on_answer_rules(instrument):  # scales and bands are not needed before the submission
        age = age_on(session.birth_date, consent.local_day(now))
        fired = score(instrument, checked, age=age, stage="answer").alerts
    raised = _Raised([])
    follow_ups = launcher.FollowUps()
    try:
        if fired:  # one transaction: the draft (its row locked first, as below), the alerts, the entries
            end_autocommit()
            if db.session.connection().execute(*save).rowcount != 1:
                raise SessionClosed(session.id)  # completed meanwhile (another tab, or close-expired)
            raised = _raise_alerts(actor=None, rule_alerts=fired, pupil_id=session.pupil_id,
                                   school_id=session.school_id, instrument_ref=instrument.ref,
                                   session_id=session.id, result=None, audit_lane=session.id)
            rules = {a.rule for a in fired}
            if launcher.launches(instrument, rules - raised.earlier):  # a launching rule fired for the first time
                # Rules fired at an earlier answer launched then: their instruments are not launched (or refused)
                # again, even if an answer changed in between (the alert stays, and so does the launch).
                follow_ups = launcher.start_follow_ups(
                    session=db.session.get_one(ScreeningSession, session.id), instrument=instrument,
                    rule_ids=rules, launched_before=raised.earlier, now=now, audit_lane=session.id)
            together = None
        else:
            together = save
        # Without an alert the draft is written by the audit entry's own statement: on PostgreSQL that one
        # statement is the whole change, atomic by itself, and runs without BEGIN/COMMIT round trips.
        saved = audit.record(None, AuditAction.SCREENING_ANSWER_SAVED, school_id=session.school_id,
                             pupil_id=session.pupil_id, object_type="screening_session", object_id=session.uuid,
                             details={"item": item_id}, lane=session.id, together=together,
                             autocommit=not fired)
        if together is not None and saved != 1:
            raise SessionClosed(session.id)  # completed meanwhile: nothing is saved, no entry written
        db.session.commit()
    except SessionClosed:
        db.session.rollback()  # nothing of this answer is kept, its alerts neither
        if stopping.stop_lapsed(session.id):  # consent withdrawn or expired, rather than completed
            raise stopping.ScreeningStopped(session.id) from None
        raise
    except Exception:
        db.session.rollback()
        raise
    return Saved(raised.alerts, follow_ups)


def submit_result(*, actor: User | None, session: ScreeningSession | None, answers: Mapping[str, object],
                  pupil: Pupil | None = None, instrument: Instrument | None = None,
                  language: str | None = None) -> ScreeningResult:
    """Score ``answers``, store the result, raise its alerts and audit it, in one transaction.

    Self-completion passes the ``session`` (pupil, instrument and language come from it); paper entry
    passes ``pupil``, ``instrument`` and ``language`` with ``session=None``. A sitting whose pupil's consent has
    been withdrawn or has expired is stopped instead and nothing is saved
    (:class:`~app.screening.stopping.ScreeningStopped`). Nothing is launched: a sitting
    closed for the pupil (close-expired) has nobody to go on; the pupil's own submission is :func:`submit_sitting`.
    """
    return _submit(actor=actor, session=session, answers=answers, pupil=pupil, instrument=instrument,
                   language=language, launch=False).result


@dataclass(frozen=True)
class Submitted:
    """A pupil's submitted sitting: its result, and the sittings its alert rules launch (see launch.py)."""

    result: ScreeningResult
    follow_ups: FollowUps


def submit_sitting(*, session: ScreeningSession, answers: Mapping[str, object]) -> Submitted:
    """The pupil's own submission: :func:`submit_result`, and in the same transaction the sittings that its
    fired rules launch (``launch_instrument``: PHQ-A question 9 → ASQ), for the same pupil and campaign."""
    return _submit(actor=None, session=session, answers=answers, pupil=None, instrument=None, language=None,
                   launch=True)


def _submit(*, actor: User | None, session: ScreeningSession | None, answers: Mapping[str, object],
            pupil: Pupil | None, instrument: Instrument | None, language: str | None, launch: bool) -> Submitted:
    from app.screening import launch as launcher  # imports this module

    if session is not None:
        # The sitting's row locked: a withdrawal committing now is waited for and then seen (it stops the row).
        db.session.refresh(session, with_for_update=True)
        if session.status == SessionStatus.COMPLETED:
            raise SessionClosed(session.id)
        if stopping.consent_lapsed(session):
            db.session.rollback()  # nothing of the caller's transaction is kept either
            stopping.stop_lapsed(session.id)
            raise stopping.ScreeningStopped(session.id)
        pupil, instrument = session.pupil, instrument_for(session.instrument_ref)
        language = session.language or "ru"
    if pupil is None or instrument is None or language is None:
        raise ValueError("paper entry needs the pupil, the instrument and the language")
    texts = instrument.text(language)
    checked = check_answers(instrument, answers)
    now = utcnow()
    age = pupil.age_on(consent.local_day(now))
    scored = score(instrument, checked, age=age)
    try:
        result = ScreeningResult(
            session_id=session.id if session is not None else None,
            campaign_id=session.campaign_id if session is not None else None,
            pupil_id=pupil.id, school_id=pupil.school_id, class_id=pupil.class_id,
            instrument_id=instrument.id, instrument_version=instrument.version, language=language,
            text_version=texts.text_version, text_status=texts.status,
            mode="online" if session is not None else "paper",
            entered_by_id=actor.id if actor is not None and session is None else None,
            age=age, completed_at=now,
        )
        result.answers_json = json.dumps(checked, sort_keys=True)
        result.scores_json = json.dumps(scored.as_dict(), sort_keys=True)
        db.session.add(result)
        db.session.flush()
        if session is not None:
            session.status, session.completed_at = SessionStatus.COMPLETED.value, now
            session.draft_ct = None  # the answers now live (encrypted) in the result only
        _raise_alerts(actor=actor, rule_alerts=scored.alerts, pupil_id=pupil.id, school_id=pupil.school_id,
                      instrument_ref=instrument.ref, session_id=session.id if session is not None else None,
                      result=result, partial=frozenset(a.rule for a in scored.alerts if a.partial))
        follow_ups = launcher.FollowUps()
        if launch and session is not None and any(rule.launch_instrument for rule in instrument.alerts):
            # The rules fired now and those fired at an answer since changed (the alert stays: so does the adult's
            # visit). On-answer rules launched when their answer was saved: only on-submit rules launch now.
            fired = {a.rule for a in scored.alerts} | {r for a in result.alerts for r in a.details.rules}
            follow_ups = launcher.start_follow_ups(session=session, instrument=instrument, rule_ids=fired, now=now,
                                                   launched_before=launcher.answer_rules(instrument, fired))
        audit.record(actor, AuditAction.SCREENING_SUBMIT, school_id=pupil.school_id, pupil_id=pupil.id,
                     object_type="screening_result", object_id=result.uuid,
                     details={"instrument": instrument.ref, "language": language, "mode": result.mode})
        db.session.commit()
    except Exception:
        db.session.rollback()
        raise
    return Submitted(result, follow_ups)


def result_alert_severities(result: ScreeningResult) -> set[str]:
    """Severities of the alerts attached to ``result``."""
    return {a.severity for a in result.alerts}
