"""Pupil records: create, update and read, each with its audit entry."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from sqlalchemy import func, select

from app.auth.models import User
from app.auth.permissions import Permission, can_see_pupil, pupil_scope, visible_pupils
from app.consent.services import has_valid_consent
from app.core import audit
from app.core.audit import AuditAction, AuditEntry
from app.core.models import Pupil, SchoolClass, pupil_name_index
from app.extensions import db
from app.screening.alerts import open_alerts_by_pupil


class DuplicateIIN(ValueError):
    """Another pupil already has this IIN."""


def _iin_taken(iin: str, *, except_id: int | None = None) -> bool:
    from app.core.encryption import blind_index

    query = select(Pupil.id).where(Pupil.iin_bidx == blind_index(iin, scope="iin"))
    if except_id is not None:
        query = query.where(Pupil.id != except_id)
    return db.session.execute(query).first() is not None


def create_pupil(*, actor: User, school_class: SchoolClass, last_name: str, first_name: str,
                 patronymic: str | None, iin: str | None, birth_date: date, sex: str,
                 kundelik_id: str | None = None) -> Pupil:
    """Add a pupil to a class (names and IIN encrypted) and audit it."""
    if iin and _iin_taken(iin):
        raise DuplicateIIN(iin)
    pupil = Pupil(school_id=school_class.school_id, class_id=school_class.id, birth_date=birth_date,
                  sex=sex, kundelik_id=kundelik_id or None)
    pupil.set_identity(last_name=last_name, first_name=first_name, patronymic=patronymic, iin=iin)
    db.session.add(pupil)
    db.session.flush()
    audit.record(actor, AuditAction.PUPIL_CREATE, school_id=pupil.school_id, pupil_id=pupil.id,
                 object_type="pupil", object_id=pupil.uuid)
    db.session.commit()
    return pupil


def update_pupil(*, actor: User, pupil: Pupil, school_class: SchoolClass, last_name: str, first_name: str,
                 patronymic: str | None, iin: str | None, birth_date: date, sex: str) -> Pupil:
    """Change a pupil's record (the school stays; the class may change within it) and audit it."""
    if iin and _iin_taken(iin, except_id=pupil.id):
        raise DuplicateIIN(iin)
    pupil.class_id = school_class.id
    pupil.birth_date = birth_date
    pupil.sex = sex
    pupil.set_identity(last_name=last_name, first_name=first_name, patronymic=patronymic, iin=iin)
    audit.record(actor, AuditAction.PUPIL_UPDATE, school_id=pupil.school_id, pupil_id=pupil.id,
                 object_type="pupil", object_id=pupil.uuid)
    db.session.commit()
    return pupil


def list_pupils(*, actor: User, class_id: int | None = None, name: str | None = None) -> list[Pupil]:
    """Pupils in the actor's scope, optionally in one class or with an exact name; audited."""
    query = visible_pupils(actor, Permission.PUPIL_LIST)
    if class_id is not None:
        query = query.where(Pupil.class_id == class_id)
    if name:
        parts = name.split()
        if len(parts) < 2:
            return []
        # The blind index is per school: compare against the index for each school in scope.
        school_ids = db.session.execute(
            select(Pupil.school_id).where(pupil_scope(actor, Permission.PUPIL_LIST)).distinct()
        ).scalars().all()
        indexes = [pupil_name_index(s, parts[0], " ".join(parts[1:])) for s in school_ids]
        query = query.where(Pupil.name_bidx.in_(indexes))
    pupils = list(db.session.execute(query.order_by(Pupil.class_id, Pupil.id)).scalars())
    pupils.sort(key=lambda p: (p.school_class.grade if p.school_class else 0,
                               p.school_class.letter if p.school_class else "", p.last_name, p.first_name))
    audit.record_read(actor, AuditAction.PUPIL_SEARCH if name else AuditAction.PUPIL_LIST,
                      details={"class_id": class_id, "count": len(pupils), "search": bool(name)})
    return pupils


def count_pupils(*, actor: User, class_id: int | None = None) -> int:
    """How many pupils the list would show (the same scope)."""
    query = select(func.count()).select_from(visible_pupils(actor, Permission.PUPIL_LIST).subquery())
    if class_id is not None:
        query = select(func.count()).select_from(
            visible_pupils(actor, Permission.PUPIL_LIST).where(Pupil.class_id == class_id).subquery()
        )
    return db.session.execute(query).scalar_one()


def read_pupil(*, actor: User, pupil: Pupil) -> Pupil:
    """Audit the opening of a pupil's record before it is shown."""
    audit.record_read(actor, AuditAction.PUPIL_READ, school_id=pupil.school_id, pupil_id=pupil.id,
                      object_type="pupil", object_id=pupil.uuid)
    return pupil


def access_log(*, actor: User, pupil: Pupil, limit: int = 500) -> list[AuditEntry]:
    """Who opened or changed this pupil's record, and denied attempts; the viewing is audited too."""
    entries = list(db.session.execute(
        select(AuditEntry).where(AuditEntry.pupil_id == pupil.id).order_by(AuditEntry.id.desc()).limit(limit)
    ).scalars())
    audit.record_read(actor, AuditAction.PUPIL_ACCESS_LOG_READ, school_id=pupil.school_id,
                      pupil_id=pupil.id, object_type="pupil", object_id=pupil.uuid)
    return entries


def actor_names(entries: list[AuditEntry]) -> dict[int, str]:
    """Display names of the staff who appear in ``entries`` (one query)."""
    ids = {e.actor_id for e in entries if e.actor_id is not None}
    if not ids:
        return {}
    users = db.session.execute(select(User).where(User.id.in_(ids))).scalars()
    return {u.id: u.display_name for u in users}


def own_record(*, actor: User) -> Pupil | None:
    """A pupil's own record (audited), or None for an account without one."""
    if actor.pupil_id is None:
        return None
    pupil = db.session.get(Pupil, actor.pupil_id)
    if pupil is None:
        return None
    audit.record_read(actor, AuditAction.PUPIL_SELF_READ, school_id=pupil.school_id, pupil_id=pupil.id,
                      object_type="pupil", object_id=pupil.uuid)
    return pupil


@dataclass(frozen=True)
class CardLinks:
    """What the pupil card links to, by what the viewer may use for this pupil (app.auth.permissions)."""

    results: bool
    consent: bool
    #: Paper entry needs a valid consent; None when the viewer may not enter forms.
    paper_entry: bool | None
    #: The pupil's open alerts; None when the viewer may not see alerts.
    open_alerts: int | None
    #: Summaries for the pupil's parents (write, release).
    parent_summaries: bool = False


def card_links(*, actor: User, pupil: Pupil) -> CardLinks:
    """The pupil card's links to results, consent, paper entry and open alerts that ``actor`` may follow."""
    def may(permission: Permission) -> bool:
        return can_see_pupil(actor, pupil, permission)

    enter = may(Permission.SCREENING_ENTER)
    return CardLinks(
        results=may(Permission.SCREENING_RESULTS),
        consent=may(Permission.CONSENT_RECORD),
        paper_entry=has_valid_consent(pupil) if enter else None,
        open_alerts=(len(open_alerts_by_pupil(pupil_ids=[pupil.id]).get(pupil.id, []))
                     if may(Permission.SCREENING_ALERTS) else None),
        parent_summaries=may(Permission.PARENT_SUMMARY_MANAGE),
    )


def open_questionnaires(*, pupil: Pupil) -> list[str]:
    """The questionnaires waiting for the pupil now (titles in the interface language): issued or started
    sittings of open campaigns whose code still works. The pupil answers them with the code from the card."""
    from app.core.models import utcnow
    from app.screening.labels import instrument_title
    from app.screening.models import Campaign, ScreeningSession, SessionStatus

    now = utcnow()
    refs = db.session.execute(
        select(ScreeningSession.instrument_ref).join(Campaign, Campaign.id == ScreeningSession.campaign_id)
        .where(ScreeningSession.pupil_id == pupil.id,
               ScreeningSession.status.in_((SessionStatus.ISSUED.value, SessionStatus.IN_PROGRESS.value)),
               ScreeningSession.code_expires_at >= now, Campaign.opens_at <= now, Campaign.closes_at >= now)
        .order_by(ScreeningSession.id)).scalars().all()
    return [instrument_title(ref) for ref in refs]
