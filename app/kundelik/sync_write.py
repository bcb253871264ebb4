"""Write what Kundelik says of a school into the open transaction (the file import's checks, matching and writer,
then parents and class teachers), and say what changed: the report of a sync run. See :mod:`app.kundelik.sync`."""

from __future__ import annotations

from collections import Counter
from typing import Any

from sqlalchemy import select

from app.auth.models import RoleAssignment, User
from app.auth.passwords import UNUSABLE_HASH
from app.auth.permissions import reads_pupil_data
from app.auth.roles import Role
from app.consent.services import today_local
from app.core.models import GuardianRelation, Pupil, PupilGuardian, PupilSource, School, SchoolClass, pupil_name_index
from app.extensions import db
from app.kundelik.fetch import KPerson, KSchool
from app.roster.checks import check, letter_key
from app.roster.columns import Sheet
from app.roster.planning import Kind, is_parent_account, make_plan
from app.roster.reading import SheetRows
from app.roster.services import current_school_year, new_usernames, write

#: Roles the sync grants. Neither reads pupil data; :func:`_grant` refuses any role that would.
GRANTED_ROLES = (Role.PARENT, Role.CLASS_TEACHER)
#: Counts of a report, in the order they are shown; all but the last two are changes.
COUNTS = ("classes_new", "classes_renamed", "pupils_new", "pupils_moved", "pupils_updated", "pupils_returned",
          "pupils_left", "parents_new", "parents_found", "parents_linked", "parents_updated", "teachers_new",
          "teachers_found", "class_teachers_assigned", "class_teachers_removed", "pupils_unchanged",
          "pupils_may_match")
UNCHANGED = ("pupils_unchanged", "pupils_may_match")
_PUPIL_COLUMNS = ["class", "last_name", "first_name", "patronymic", "iin", "birth_date", "sex", "kundelik_id",
                  "file_number"]


class RosterErrors(Exception):
    """Kundelik's rows hold errors the roster checks refuse (nothing is written); ``problems`` as dicts."""

    def __init__(self, problems: list[dict[str, Any]]) -> None:
        super().__init__("roster_errors")
        self.problems = problems


def _school_year(data: KSchool) -> int:
    years = Counter(c.study_year for c in data.classes if c.study_year)
    return years.most_common(1)[0][0] if years else current_school_year(today_local())


def _class_key(grade: int, letter: str) -> tuple[int, str]:
    return grade, letter_key(letter)


def _relink_classes(school: School, data: KSchool, year: int, report: dict[str, Any]) -> None:
    """A class Senim knows by its Kundelik id that Kundelik now names otherwise is renamed (same year), or lets go
    of the id (another year: Kundelik's group went on to a new school year)."""
    ids = [c.id for c in data.classes]
    stored = {c.kundelik_id: c for c in db.session.execute(
        select(SchoolClass).where(SchoolClass.kundelik_id.in_(ids))).scalars()}
    taken = {(c.school_year, *_class_key(c.grade, c.letter)) for c in db.session.execute(
        select(SchoolClass).where(SchoolClass.school_id == school.id, SchoolClass.school_year == year)).scalars()}
    for group in data.classes:
        found = stored.get(group.id)
        if found is None or (found.school_year, *_class_key(found.grade, found.letter)) == (
                year, *_class_key(group.grade, group.letter)):
            continue
        if found.school_id != school.id or found.school_year != year or (year, *_class_key(
                group.grade, group.letter)) in taken:
            found.kundelik_id = None
            continue
        found.grade, found.letter = group.grade, group.letter
        report["counts"]["classes_renamed"] += 1
    db.session.flush()


def _may_match(school: School, persons: list[KPerson]) -> set[str]:
    """Kundelik persons unknown to Senim (no Kundelik id, no IIN) whose name matches a pupil of the school that
    never came from Kundelik (and whose birth date matches, when both are known)."""
    known = set(db.session.execute(select(Pupil.kundelik_id).where(
        Pupil.kundelik_id.in_([p.id for p in persons]))).scalars())
    local = db.session.execute(select(Pupil.name_bidx, Pupil.birth_date).where(
        Pupil.school_id == school.id, Pupil.kundelik_id.is_(None), Pupil.active.is_(True))).all()
    by_name: dict[bytes, set[Any]] = {}
    for name, birth in local:
        if name is not None:
            by_name.setdefault(bytes(name), set()).add(birth)
    found = set()
    for person in persons:
        if person.id in known or person.iin:
            continue
        births = by_name.get(pupil_name_index(school.id, person.last_name, person.first_name))
        if births and (person.birthday is None or person.birthday in births):
            found.add(person.id)
    return found


def _sheets(school: School, data: KSchool, skip: set[str]) -> tuple[list[SheetRows], dict[int, tuple[str, str]]]:
    """The school's classes and pupils as the roster file's Classes and Pupils sheets (row -> class, person)."""
    stored = {p.kundelik_id: p for p in db.session.execute(select(Pupil).where(
        Pupil.kundelik_id.in_([p.id for _c, p in data.pupils]))).scalars()}
    classes = SheetRows(Sheet.CLASSES, "kundelik", columns=["grade", "letter", "language"], rows=[
        (n + 2, {"grade": str(c.grade), "letter": c.letter, "language": ""}) for n, c in enumerate(data.classes)])
    pupils = SheetRows(Sheet.PUPILS, "kundelik", columns=_PUPIL_COLUMNS)
    where: dict[int, tuple[str, str]] = {}
    for group, person in data.pupils:
        if person.id in skip:
            continue
        known = stored.get(person.id)
        birthday = person.birthday or (known.birth_date if known else None)
        row = len(pupils.rows) + 2
        pupils.rows.append((row, {
            "class": group.label, "last_name": person.last_name, "first_name": person.first_name,
            "patronymic": person.middle_name, "iin": person.iin, "birth_date": birthday.isoformat() if birthday else "",
            "sex": person.sex or (known.sex if known else ""), "kundelik_id": person.id, "file_number": ""}))
        where[row] = (group.label, person.id)
    return [classes, pupils], where


def write_school(school: School, data: KSchool, actor: User | None) -> dict[str, Any]:
    """Write what Kundelik says into the open transaction; the run's report (counts and ids, no names)."""
    year = _school_year(data)
    report: dict[str, Any] = {"school_year": year, "counts": dict.fromkeys(COUNTS, 0), "moved": [], "left": [],
                              "may_match": [], "warnings": [], "skipped_groups": data.skipped_groups,
                              "granted": [], "revoked": []}
    counts = report["counts"]
    _relink_classes(school, data, year, report)
    may_match = _may_match(school, [p for _c, p in data.pupils])
    sheets, where = _sheets(school, data, may_match)
    checked = check(sheets, today=today_local())
    plan = make_plan(school=school, school_year=year, checked=checked, rows=len(where))
    if plan.errors:
        raise RosterErrors([
            {**problem.as_dict(), "class": where.get(problem.row or 0, ("", ""))[0],
             "person": where.get(problem.row or 0, ("", ""))[1]} for problem in plan.errors])
    from_kundelik = set(db.session.execute(select(Pupil.id).where(
        Pupil.school_id == school.id, Pupil.kundelik_id.is_not(None))).scalars())
    plan.left = [left for left in plan.left if left.pupil_id in from_kundelik]
    written = write(plan, school=school, mark_left=True, source=PupilSource.KUNDELIK)
    for key in ("classes_new", "pupils_new", "pupils_moved", "pupils_updated", "pupils_returned", "pupils_unchanged",
                "pupils_left"):
        counts[key] += written.get(key, 0)
    counts["pupils_may_match"] = len(may_match)
    report["moved"] = [{"pupil": c.pupil_id, "from": c.from_class or "", "to": c.record.class_label}
                       for c in plan.pupils if c.kind == Kind.MOVED]
    report["left"] = [{"pupil": left.pupil_id, "class": left.class_label} for left in plan.left]
    report["may_match"] = [{"class": group.label, "person": person.id} for group, person in data.pupils
                           if person.id in may_match]
    classes = _classes_by_group(school, data, year)
    pupils = {p.kundelik_id: p for p in db.session.execute(select(Pupil).where(
        Pupil.school_id == school.id, Pupil.kundelik_id.in_([p.id for _c, p in data.pupils]))).scalars()}
    _write_parents(data, pupils, report)
    _write_class_teachers(school, data, classes, actor, report)
    report["changes"] = sum(v for k, v in counts.items() if k not in UNCHANGED)
    return report


def _classes_by_group(school: School, data: KSchool, year: int) -> dict[str, SchoolClass]:
    """Kundelik group id -> the school's class of the year, each keeping the group's id from now on."""
    by_key = {_class_key(c.grade, c.letter): c for c in db.session.execute(
        select(SchoolClass).where(SchoolClass.school_id == school.id, SchoolClass.school_year == year)).scalars()}
    found = {}
    for group in data.classes:
        school_class = by_key[_class_key(group.grade, group.letter)]
        school_class.kundelik_id = group.id
        found[group.id] = school_class
    db.session.flush()
    return found


def _grant(user: User, role: Role, *, school_id: int | None = None, class_id: int | None = None) -> None:
    if role not in GRANTED_ROLES or reads_pupil_data(role):
        raise ValueError(f"the sync does not grant {role}")  # issue 9: roles reading pupil data: an admin only
    user.assignments.append(RoleAssignment(role=role.value, school_id=school_id, class_id=class_id))


def _accounts(person_ids: set[str]) -> dict[str, User]:
    ids = sorted(person_ids)
    return {str(u.kundelik_person_id): u for start in range(0, len(ids), 500) for u in db.session.execute(
        select(User).where(User.kundelik_person_id.in_(ids[start:start + 500]))).scalars()}


def _new_accounts(people: list[KPerson], prefix: str, role: Role | None) -> dict[str, User]:
    """Accounts for Kundelik persons Senim has none for: random sign-in names, no password (they sign in with
    Kundelik, where their person id finds the account)."""
    created = {}
    for person, username in zip(people, new_usernames(len(people), prefix), strict=True):
        user = User(username=username, full_name=person.full_name[:200], password_hash=UNUSABLE_HASH,
                    kundelik_person_id=person.id)
        if role is not None:
            _grant(user, role)
        db.session.add(user)
        created[person.id] = user
    db.session.flush()
    return created


def _name_key(name: str) -> tuple[str, ...]:
    """Surname and first name, compared without case or "ё" (a file's "Surname First Patronymic" and Kundelik's
    names meet here)."""
    return tuple(name.casefold().replace("ё", "е").split()[:2])


def _adopt(person: KPerson, candidates: list[User]) -> User | None:
    """The one account among ``candidates`` (already tied to the same child or class) that has no Kundelik
    person yet and carries the person's name: it becomes the person's account instead of a second one."""
    same = {u.id: u for u in candidates
            if u.kundelik_person_id is None and _name_key(u.full_name or "") == _name_key(person.full_name)}
    if len(same) != 1:
        return None
    found = next(iter(same.values()))
    found.kundelik_person_id = person.id
    return found


def _relation(parent: KPerson) -> str:
    return {"female": GuardianRelation.MOTHER, "male": GuardianRelation.FATHER}.get(
        parent.sex, GuardianRelation.GUARDIAN).value


def _write_parents(data: KSchool, pupils: dict[str | None, Pupil], report: dict[str, Any]) -> None:
    counts = report["counts"]
    wanted = {p.id: p for parents in data.parents.values() for p in parents}
    accounts = _accounts(set(wanted))
    for pupil_person, parents in data.parents.items():
        pupil = pupils.get(pupil_person)
        unknown = [p for p in parents if p.id not in accounts]
        if pupil is None or not unknown:
            continue
        guardians = [link.user for link in pupil.guardian_links if is_parent_account(link.user)]
        for parent in unknown:
            found = _adopt(parent, guardians)
            if found is not None:  # the parent a roster file brought in: now found by Kundelik too
                accounts[parent.id] = found
                counts["parents_found"] += 1
    missing = [wanted[i] for i in sorted(set(wanted) - set(accounts))]
    accounts.update(_new_accounts(missing, "parent", Role.PARENT))
    counts["parents_new"] += len(missing)
    ids = [p.id for p in pupils.values()]
    links = {(link.pupil_id, link.user_id) for start in range(0, len(ids), 500) for link in db.session.execute(
        select(PupilGuardian).where(PupilGuardian.pupil_id.in_(ids[start:start + 500]))).scalars()}
    renamed: set[int] = set()
    for pupil_person, parents in data.parents.items():
        pupil = pupils.get(pupil_person)
        if pupil is None or not pupil.active:
            continue
        for parent in parents:
            user = accounts[parent.id]
            if not is_parent_account(user):
                report["warnings"].append({"code": "parent_not_parent_account", "person": parent.id})
                continue
            if parent.full_name and user.full_name != parent.full_name[:200] and user.id not in renamed:
                user.full_name = parent.full_name[:200]
                renamed.add(user.id)
            if (pupil.id, user.id) not in links:
                db.session.add(PupilGuardian(pupil_id=pupil.id, user_id=user.id, relation=_relation(parent),
                                             is_legal_representative=True))
                links.add((pupil.id, user.id))
                counts["parents_linked"] += 1
    counts["parents_updated"] += len(renamed)
    db.session.flush()


def _write_class_teachers(school: School, data: KSchool, classes: dict[str, SchoolClass], actor: User | None,
                          report: dict[str, Any]) -> None:
    counts = report["counts"]
    teachers = {c.teacher.id: c.teacher for c in data.classes if c.teacher is not None}
    accounts = _accounts(set(teachers))
    for group in data.classes:
        if group.teacher is None or group.teacher.id in accounts:
            continue
        holders = list(db.session.execute(select(User).join(RoleAssignment).where(
            RoleAssignment.role == Role.CLASS_TEACHER.value, RoleAssignment.class_id == classes[group.id].id))
            .scalars())
        found = _adopt(group.teacher, holders)
        if found is not None:  # the class's teacher appointed by hand: now found by Kundelik too
            accounts[group.teacher.id] = found
            counts["teachers_found"] += 1
    missing = [teachers[i] for i in sorted(set(teachers) - set(accounts))]
    accounts.update(_new_accounts(missing, "teacher", None))
    counts["teachers_new"] += len(missing)
    for group in data.classes:
        school_class = classes[group.id]
        current = group.teacher.id if group.teacher is not None else None
        held = db.session.execute(select(RoleAssignment, User).join(User, User.id == RoleAssignment.user_id).where(
            RoleAssignment.role == Role.CLASS_TEACHER.value, RoleAssignment.class_id == school_class.id)).all()
        for assignment, holder in held:
            # An earlier Kundelik class teacher of this class (a role given by hand to an account without a
            # Kundelik person is left alone). Never one's own role.
            if holder.kundelik_person_id not in (None, current) and (actor is None or holder.id != actor.id):
                db.session.delete(assignment)
                report["revoked"].append({"user": holder.id, "class": school_class.id})
                counts["class_teachers_removed"] += 1
        if group.teacher is None:
            continue
        user = accounts[group.teacher.id]
        if actor is not None and user.id == actor.id:
            report["warnings"].append({"code": "own_account", "class": group.label})
            continue
        if user.pupil_id is not None or not user.active:
            report["warnings"].append({"code": "teacher_not_staff", "class": group.label})
            continue
        if any(h.id == user.id for _a, h in held):
            continue
        _grant(user, Role.CLASS_TEACHER, school_id=school.id, class_id=school_class.id)
        report["granted"].append({"user": user.id, "class": school_class.id})
        counts["class_teachers_assigned"] += 1
    db.session.flush()
