"""School structure (regions, districts, schools, classes) and the audit log: each change with its audit entry.

Staff accounts and role assignments live in :mod:`app.admin.accounts`.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from flask import current_app
from flask_sqlalchemy.pagination import Pagination
from sqlalchemy import select

from app.auth.models import User
from app.auth.permissions import Permission, visible_classes, visible_schools
from app.core import audit
from app.core.audit import AuditAction, AuditEntry, ChainProblem
from app.core.models import District, Region, School, SchoolClass
from app.extensions import db


class DuplicateKundelikId(ValueError):
    """Another school already has this Kundelik id."""


class DuplicateClass(ValueError):
    """The school already has a class with this grade and letter in this school year."""


# --- regions and districts --------------------------------------------------------------


def list_regions() -> list[Region]:
    """Every region, for choices and the schools page (public structure, not personal data)."""
    return list(db.session.execute(select(Region).order_by(Region.id)).scalars())


def list_districts() -> list[District]:
    """Every district, ordered by region."""
    return list(db.session.execute(select(District).order_by(District.region_id, District.id)).scalars())


def create_region(*, actor: User, name_kk: str, name_ru: str) -> Region:
    """Add a region and audit it."""
    region = Region(name_kk=name_kk.strip(), name_ru=name_ru.strip())
    db.session.add(region)
    db.session.flush()
    audit.record(actor, AuditAction.REGION_CREATE, object_type="region", object_id=region.id)
    db.session.commit()
    return region


def create_district(*, actor: User, region: Region, name_kk: str, name_ru: str) -> District:
    """Add a district to a region and audit it."""
    district = District(region_id=region.id, name_kk=name_kk.strip(), name_ru=name_ru.strip())
    db.session.add(district)
    db.session.flush()
    audit.record(actor, AuditAction.DISTRICT_CREATE, object_type="district", object_id=district.id,
                 details={"region_id": region.id})
    db.session.commit()
    return district


# --- schools -------------------------------------------------------------------------------


def list_schools(*, actor: User, region_id: int | None = None, district_id: int | None = None) -> list[School]:
    """Schools the actor manages, optionally in one region or district, ordered by region and district."""
    query = visible_schools(actor, Permission.ADMIN_SCHOOLS).join(District, School.district_id == District.id)
    if region_id:
        query = query.where(District.region_id == region_id)
    if district_id:
        query = query.where(School.district_id == district_id)
    return list(db.session.execute(query.order_by(District.region_id, District.id, School.id)).scalars())


def _kundelik_taken(kundelik_id: str | None, *, except_id: int | None = None) -> bool:
    if not kundelik_id:
        return False
    query = select(School.id).where(School.kundelik_id == kundelik_id)
    if except_id is not None:
        query = query.where(School.id != except_id)
    return db.session.execute(query).first() is not None


def create_school(*, actor: User, district: District, name_kk: str, name_ru: str,
                  kundelik_id: str | None, default_language: str) -> School:
    """Add a school and audit it."""
    kundelik_id = (kundelik_id or "").strip() or None
    if _kundelik_taken(kundelik_id):
        raise DuplicateKundelikId(kundelik_id)
    school = School(district_id=district.id, name_kk=name_kk.strip(), name_ru=name_ru.strip(),
                    kundelik_id=kundelik_id, default_language=default_language)
    db.session.add(school)
    db.session.flush()
    audit.record(actor, AuditAction.SCHOOL_CREATE, school_id=school.id, object_type="school", object_id=school.id,
                 details={"district_id": district.id})
    db.session.commit()
    return school


def update_school(*, actor: User, school: School, district: District, name_kk: str, name_ru: str,
                  kundelik_id: str | None, default_language: str) -> School:
    """Change a school's names, district, Kundelik id or default language and audit it."""
    kundelik_id = (kundelik_id or "").strip() or None
    if _kundelik_taken(kundelik_id, except_id=school.id):
        raise DuplicateKundelikId(kundelik_id)
    school.district_id = district.id
    school.name_kk, school.name_ru = name_kk.strip(), name_ru.strip()
    school.kundelik_id = kundelik_id
    school.default_language = default_language
    audit.record(actor, AuditAction.SCHOOL_UPDATE, school_id=school.id, object_type="school", object_id=school.id,
                 details={"district_id": district.id})
    db.session.commit()
    return school


# --- classes -------------------------------------------------------------------------------


def school_years(*, actor: User) -> list[int]:
    """School years that have classes in the actor's scope, newest first."""
    query = visible_classes(actor, Permission.ADMIN_CLASSES).with_only_columns(SchoolClass.school_year).distinct()
    return sorted(db.session.execute(query).scalars(), reverse=True)


def list_classes(*, actor: User, school_id: int | None = None, school_year: int | None = None) -> list[SchoolClass]:
    """Classes the actor manages, optionally of one school and school year."""
    query = visible_classes(actor, Permission.ADMIN_CLASSES)
    if school_id:
        query = query.where(SchoolClass.school_id == school_id)
    if school_year:
        query = query.where(SchoolClass.school_year == school_year)
    order = (SchoolClass.school_id, SchoolClass.school_year.desc(), SchoolClass.grade, SchoolClass.letter)
    return list(db.session.execute(query.order_by(*order)).scalars())


def _class_taken(*, school_id: int, school_year: int, grade: int, letter: str, except_id: int | None = None) -> bool:
    query = select(SchoolClass.id).where(
        SchoolClass.school_id == school_id, SchoolClass.school_year == school_year,
        SchoolClass.grade == grade, SchoolClass.letter == letter,
    )
    if except_id is not None:
        query = query.where(SchoolClass.id != except_id)
    return db.session.execute(query).first() is not None


def create_class(*, actor: User, school: School, grade: int, letter: str, school_year: int,
                 language: str) -> SchoolClass:
    """Add a class to a school; :class:`DuplicateClass` if it exists already."""
    letter = letter.strip().upper()
    if _class_taken(school_id=school.id, school_year=school_year, grade=grade, letter=letter):
        raise DuplicateClass(letter)
    school_class = SchoolClass(school_id=school.id, grade=grade, letter=letter, school_year=school_year,
                               language=language)
    db.session.add(school_class)
    db.session.flush()
    audit.record(actor, AuditAction.CLASS_CREATE, school_id=school.id, object_type="class",
                 object_id=school_class.id)
    db.session.commit()
    return school_class


def update_class(*, actor: User, school_class: SchoolClass, grade: int, letter: str, school_year: int,
                 language: str) -> SchoolClass:
    """Change a class (it stays in its school); :class:`DuplicateClass` if another has these values."""
    letter = letter.strip().upper()
    if _class_taken(school_id=school_class.school_id, school_year=school_year, grade=grade, letter=letter,
                    except_id=school_class.id):
        raise DuplicateClass(letter)
    school_class.grade, school_class.letter = grade, letter
    school_class.school_year, school_class.language = school_year, language
    audit.record(actor, AuditAction.CLASS_UPDATE, school_id=school_class.school_id, object_type="class",
                 object_id=school_class.id)
    db.session.commit()
    return school_class


# --- the audit log -------------------------------------------------------------------------


@dataclass(frozen=True)
class AuditFilters:
    """What the audit log page is narrowed to; dates are local calendar days, both inclusive."""

    action: str | None = None
    outcome: str | None = None
    user_id: int | None = None
    pupil_id: int | None = None
    date_from: date | None = None
    date_to: date | None = None

    def as_details(self) -> dict[str, Any]:
        """The filters as audit details (ids and codes only)."""
        values = {k: v for k, v in self.__dict__.items() if v is not None}
        return {k: v.isoformat() if isinstance(v, date) else v for k, v in values.items()}


def _local_midnight_utc(day: date) -> datetime:
    zone = ZoneInfo(current_app.config.get("BABEL_DEFAULT_TIMEZONE", "Asia/Almaty"))
    return datetime.combine(day, time.min, tzinfo=zone)


def audit_page(*, actor: User, filters: AuditFilters, page: int, per_page: int = 50) -> Pagination:
    """One page of the audit log, newest first; the reading is audited before anything is shown."""
    query = select(AuditEntry)
    if filters.action:
        query = query.where(AuditEntry.action == filters.action)
    if filters.outcome:
        query = query.where(AuditEntry.outcome == filters.outcome)
    if filters.user_id is not None:
        query = query.where(AuditEntry.actor_id == filters.user_id)
    if filters.pupil_id is not None:
        query = query.where(AuditEntry.pupil_id == filters.pupil_id)
    if filters.date_from:
        query = query.where(AuditEntry.at >= _local_midnight_utc(filters.date_from))
    if filters.date_to:
        query = query.where(AuditEntry.at < _local_midnight_utc(filters.date_to + timedelta(days=1)))
    audit.record_read(actor, AuditAction.AUDIT_LOG_READ, details={**filters.as_details(), "page": page})
    return db.paginate(query.order_by(AuditEntry.id.desc()), page=page, per_page=per_page, error_out=False)


def actors(entries: list[AuditEntry]) -> Mapping[int, str]:
    """Display names of the users who appear in ``entries`` (one query)."""
    ids = {e.actor_id for e in entries if e.actor_id is not None}
    if not ids:
        return {}
    return {u.id: u.display_name for u in db.session.execute(select(User).where(User.id.in_(ids))).scalars()}


def verify_audit(*, actor: User) -> list[ChainProblem]:
    """Recompute every hash chain; the check and its result are audited."""
    problems = audit.verify()
    audit.record_now(actor, AuditAction.AUDIT_VERIFY, outcome=audit.Outcome.SUCCESS if not problems
                     else audit.Outcome.FAILED, details={"problems": len(problems)})
    return problems
