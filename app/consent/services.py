"""Give, record and withdraw consent; the one check of whether a pupil may be screened."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date
from typing import Any

from sqlalchemy import exists, select

from app.auth.models import User
from app.consent.models import Consent, ConsentMethod, ConsentScope
from app.core import audit
from app.core.audit import AuditAction
from app.core.models import Pupil, PupilGuardian, utcnow
from app.extensions import db


class NotLegalRepresentative(PermissionError):
    """Only a legal representative of the pupil can give or withdraw consent online."""


def school_year_end(day: date) -> date:
    """31 May that ends the school year ``day`` falls in (June-August count towards the next one)."""
    return date(day.year + (1 if day.month >= 6 else 0), 5, 31)


def today_local() -> date:
    """Today in the school's time zone (Kazakhstan: UTC+5)."""
    from zoneinfo import ZoneInfo

    from flask import current_app

    return utcnow().astimezone(ZoneInfo(current_app.config["BABEL_DEFAULT_TIMEZONE"])).date()


def _valid(on: date, scope: ConsentScope):
    return (Consent.withdrawn_at.is_(None), Consent.valid_until >= on, Consent.scope == scope.value)


def current_consent(pupil: Pupil, *, on: date | None = None,
                    scope: ConsentScope = ConsentScope.PSYCHODIAGNOSTICS) -> Consent | None:
    """The pupil's valid consent (newest), or None."""
    query = (select(Consent).where(Consent.pupil_id == pupil.id, *_valid(on or today_local(), scope))
             .order_by(Consent.given_at.desc()).limit(1))
    return db.session.execute(query).scalar_one_or_none()


def read_consent(*, actor: User, pupil: Pupil) -> Consent | None:
    """:func:`current_consent` for a consent page; the opening is audited before anything is shown."""
    audit.record_read(actor, AuditAction.CONSENT_READ, school_id=pupil.school_id, pupil_id=pupil.id,
                      object_type="pupil", object_id=pupil.uuid)
    return current_consent(pupil)


def has_valid_consent(pupil: Pupil, *, on: date | None = None) -> bool:
    """True iff a non-withdrawn, unexpired psychodiagnostics consent exists for the pupil."""
    return current_consent(pupil, on=on) is not None


def consented_pupil_ids(pupil_ids: Iterable[int], *, on: date | None = None) -> set[int]:
    """Which of ``pupil_ids`` have valid consent (one query)."""
    ids = list(pupil_ids)
    if not ids:
        return set()
    query = select(Consent.pupil_id).where(Consent.pupil_id.in_(ids),
                                           *_valid(on or today_local(), ConsentScope.PSYCHODIAGNOSTICS))
    return set(db.session.execute(query).scalars())


def valid_consent_exists(pupil_id: Any, on: Any) -> Any:
    """The same check as :func:`has_valid_consent`, as an SQL ``EXISTS`` over the pupil id expression ``pupil_id``
    on the day ``on`` (a value or a bind parameter), for statements that must check consent and change a row at
    once (a pupil's answer save: app/screening/services.py)."""
    return exists(select(Consent.id).where(Consent.pupil_id == pupil_id,
                                           *_valid(on, ConsentScope.PSYCHODIAGNOSTICS)))


@dataclass(frozen=True)
class ConsentEnd:
    """How a pupil's last consent ended: "withdrawn" or "expired", and on which day."""

    kind: str
    day: date


def consent_ends(pupil_ids: Iterable[int], *, on: date | None = None) -> dict[int, ConsentEnd]:
    """For those of ``pupil_ids`` without valid consent whose newest consent was withdrawn or has expired: how and
    when it ended (one query). Pupils who never had a consent are not in the answer."""
    ids = list(pupil_ids)
    if not ids:
        return {}
    day = on or today_local()
    newest: dict[int, Consent] = {}
    for record in db.session.execute(select(Consent).where(
            Consent.pupil_id.in_(ids), Consent.scope == ConsentScope.PSYCHODIAGNOSTICS.value)
            .order_by(Consent.given_at)).scalars():
        newest[record.pupil_id] = record
    ends = {}
    for pupil_id, record in newest.items():
        if record.withdrawn_at is not None:
            ends[pupil_id] = ConsentEnd("withdrawn", local_day(record.withdrawn_at))
        elif record.valid_until < day:
            ends[pupil_id] = ConsentEnd("expired", record.valid_until)
    return ends


def local_day(moment: Any) -> date:
    """The school's date (Kazakhstan: UTC+5) at an aware moment: ages, school years and "today" are in it."""
    from zoneinfo import ZoneInfo

    from flask import current_app

    return moment.astimezone(ZoneInfo(current_app.config["BABEL_DEFAULT_TIMEZONE"])).date()


def is_legal_representative(user: User, pupil: Pupil) -> bool:
    """True if ``user`` is linked to ``pupil`` as a legal representative."""
    query = select(PupilGuardian.id).where(PupilGuardian.pupil_id == pupil.id, PupilGuardian.user_id == user.id,
                                           PupilGuardian.is_legal_representative.is_(True))
    return db.session.execute(query).first() is not None


def _add(*, actor: User, pupil: Pupil, method: ConsentMethod, given_on: date) -> Consent:
    consent = Consent(pupil_id=pupil.id, school_id=pupil.school_id, method=method.value,
                      scope=ConsentScope.PSYCHODIAGNOSTICS.value, valid_until=school_year_end(given_on),
                      given_by_id=actor.id if method is ConsentMethod.ONLINE else None,
                      recorded_by_id=actor.id if method is ConsentMethod.PAPER else None)
    db.session.add(consent)
    db.session.flush()
    audit.record(actor, AuditAction.CONSENT_GIVEN, school_id=pupil.school_id, pupil_id=pupil.id,
                 object_type="consent", object_id=consent.uuid,
                 details={"method": method.value, "scope": consent.scope,
                          "valid_until": consent.valid_until.isoformat()})
    db.session.commit()
    return consent


def record_paper_consent(*, actor: User, pupil: Pupil, signed_on: date) -> Consent:
    """Staff record a signed paper consent form; valid until the end of that school year."""
    return _add(actor=actor, pupil=pupil, method=ConsentMethod.PAPER, given_on=signed_on)


def give_online_consent(*, actor: User, pupil: Pupil) -> Consent:
    """A legal representative consents online for their child."""
    if not is_legal_representative(actor, pupil):
        raise NotLegalRepresentative(pupil.id)
    return _add(actor=actor, pupil=pupil, method=ConsentMethod.ONLINE, given_on=today_local())


def withdraw_consent(*, actor: User, pupil: Pupil, as_parent: bool = False) -> int:
    """Withdraw every valid consent of the pupil and stop the pupil's unfinished sittings, in one transaction;
    returns how many records were withdrawn.

    The stopped sittings' codes no longer work and their draft answers are erased; results already submitted and
    alerts already raised stay (app/screening/stopping.py).
    """
    if as_parent and not is_legal_representative(actor, pupil):
        raise NotLegalRepresentative(pupil.id)
    consents = list(db.session.execute(select(Consent).where(
        Consent.pupil_id == pupil.id, Consent.withdrawn_at.is_(None))).scalars())
    now = utcnow()
    method = ConsentMethod.ONLINE if as_parent else ConsentMethod.PAPER
    for consent in consents:
        consent.withdrawn_at, consent.withdrawn_by_id, consent.withdrawn_method = now, actor.id, method.value
        audit.record(actor, AuditAction.CONSENT_WITHDRAWN, school_id=pupil.school_id, pupil_id=pupil.id,
                     object_type="consent", object_id=consent.uuid, details={"by_parent": as_parent})
    if consents:
        # Screening depends on consent, not the other way round: imported here, where the two meet.
        from app.screening.models import StopReason
        from app.screening.stopping import stop_sittings

        stop_sittings(actor=actor, pupil_id=pupil.id, reason=StopReason.CONSENT_WITHDRAWN, now=now)
    db.session.commit()
    return len(consents)


def consent_history(pupil: Pupil) -> list[Consent]:
    """All consent records of the pupil, newest first."""
    return list(db.session.execute(
        select(Consent).where(Consent.pupil_id == pupil.id).order_by(Consent.given_at.desc())).scalars())
