"""Roster sync from Kundelik: one school's classes, pupils, parents and class teachers, in one transaction.

:func:`run_sync` reads the school from the API (:mod:`app.kundelik.fetch`) under a kept Kundelik token of a school
administrator or admin, then writes it with the file import's machinery (app.roster: the same row checks, the same
matching by IIN and Kundelik id, the same writer), adds parents and class teachers, stores the run's report and
its audit entry, and commits once. Any error (the API failing mid-way, an expired token, rows Senim refuses)
rolls everything back: the run is recorded as failed with its reason, nothing else is written.

* Pupils are found by their Kundelik person id, then by IIN where Kundelik gives one. A pupil Senim holds
  without a Kundelik id whose name (and birth date) matches is a **may match**: not created, not linked, listed
  for a person to check (put the Kundelik ID in the roster file to link them).
* A pupil known from Kundelik and no longer in any of its classes is marked as left (inactive, with the date):
  never deleted, records kept. Pupils that never came from Kundelik are left alone.
* Classes are found by their Kundelik group id, then by grade and letter in the school year.
* Parents (Kundelik relatives) are parent accounts keyed by their Kundelik person id, linked to their child. A
  parent account already linked to that child (from a roster file) with the same surname and first name is
  taken over (given the person id) rather than doubled.
* A class teacher gets the class teacher role for that class: the only role the sync grants, and one that
  reads no pupil data (issue 9: such roles are granted by an admin). Nobody is granted a role by their own run.
  A class teacher appointed by hand for that class with the same name is taken over the same way.

Running it twice changes nothing the second time ("no changes").
"""

from __future__ import annotations

import json
import threading
import time
from collections import Counter
from collections.abc import Callable
from datetime import timedelta
from typing import Any

from flask import Flask, current_app
from sqlalchemy import delete, select, update
from sqlalchemy.exc import IntegrityError

from app.auth.models import RoleAssignment, User
from app.auth.passwords import UNUSABLE_HASH
from app.auth.permissions import reads_pupil_data
from app.auth.roles import Role
from app.consent.services import today_local
from app.core import audit
from app.core.audit import AuditAction, Outcome
from app.core.models import (
    GuardianRelation,
    Pupil,
    PupilGuardian,
    PupilSource,
    School,
    SchoolClass,
    pupil_name_index,
    utcnow,
)
from app.extensions import db
from app.kundelik import client
from app.kundelik.fetch import KPerson, KSchool, read_school
from app.kundelik.models import KundelikToken
from app.kundelik.runs import KundelikSyncRun, RunStatus
from app.roster.checks import check, letter_key
from app.roster.columns import Sheet
from app.roster.planning import Kind, is_parent_account, make_plan
from app.roster.reading import SheetRows
from app.roster.services import current_school_year, new_usernames, write

#: Roles the sync grants. Neither reads pupil data; :func:`_grant` refuses any role that would.
GRANTED_ROLES = (Role.PARENT, Role.CLASS_TEACHER)
#: A run still "running" after this long was interrupted (the server stopped): another may start.
STALE_AFTER = timedelta(hours=1)
#: Counts of a report, in the order they are shown; all but the last two are changes.
COUNTS = ("classes_new", "classes_renamed", "pupils_new", "pupils_moved", "pupils_updated", "pupils_returned",
          "pupils_left", "parents_new", "parents_found", "parents_linked", "parents_updated", "teachers_new",
          "teachers_found", "class_teachers_assigned", "class_teachers_removed", "pupils_unchanged",
          "pupils_may_match")
UNCHANGED = ("pupils_unchanged", "pupils_may_match")
_PUPIL_COLUMNS = ["class", "last_name", "first_name", "patronymic", "iin", "birth_date", "sex", "kundelik_id",
                  "file_number"]

Progress = Callable[[str, int, int], None]


class SyncFailed(Exception):
    """The sync stopped; ``reason`` says why (a key of app.kundelik.sync_labels.REASONS)."""

    def __init__(self, reason: str, problems: list[dict[str, Any]] | None = None) -> None:
        super().__init__(reason)
        self.reason = reason
        self.problems = problems or []


class AlreadyRunning(Exception):
    """A sync of this school is running: wait for it."""

    def __init__(self, run: KundelikSyncRun) -> None:
        super().__init__(run.uuid)
        self.run = run


# --- the token and the run ------------------------------------------------------------------------------


def token_owner(*, school: School, username: str | None = None) -> User | None:
    """Whose kept Kundelik token reads the school: ``username``'s, else the school's director's or an admin's
    most recently kept one."""
    query = select(User).join(KundelikToken, KundelikToken.user_id == User.id).where(User.active.is_(True))
    if username is not None:
        return db.session.execute(query.where(User.username == username.strip().lower())).scalar_one_or_none()
    holders = select(RoleAssignment.user_id).where(
        (RoleAssignment.role == Role.ADMIN.value)
        | ((RoleAssignment.role == Role.DIRECTOR.value) & (RoleAssignment.school_id == school.id)))
    return db.session.execute(query.where(User.id.in_(holders)).order_by(KundelikToken.updated_at.desc())
                              ).scalars().first()


def _access_token(owner: User) -> str:
    """The owner's kept access token, refreshed first when it has expired (the new one is kept at once: a
    refresh token works once, whatever happens to the sync)."""
    row = db.session.execute(select(KundelikToken).where(KundelikToken.user_id == owner.id)).scalar_one_or_none()
    if row is None:
        raise SyncFailed("no_token")
    if row.expires_at is not None and row.expires_at <= utcnow() and row.refresh_token:
        fresh = client.refresh(row.refresh_token)
        row.access_token, row.refresh_token = fresh.access_token, fresh.refresh_token
        row.expires_at, row.updated_at = fresh.expires_at, utcnow()
        db.session.commit()
    return str(row.access_token)


def start_run(*, actor: User | None, school: School, via: str) -> KundelikSyncRun:
    """Record a new run of the school's sync (committed, so its progress can be watched); :class:`AlreadyRunning`
    while another one runs."""
    running = db.session.execute(select(KundelikSyncRun).where(
        KundelikSyncRun.school_id == school.id, KundelikSyncRun.status == RunStatus.RUNNING.value)).scalars().all()
    for other in running:
        if other.started_at > utcnow() - STALE_AFTER:
            raise AlreadyRunning(other)
        other.status, other.error, other.finished_at = RunStatus.FAILED.value, "interrupted", utcnow()
    run = KundelikSyncRun(school_id=school.id, user_id=actor.id if actor else None, via=via)
    db.session.add(run)
    db.session.commit()
    return run


def _progress(run_id: int, echo: Progress | None) -> Progress:
    """Write the run's progress on a connection of its own (committed at once, seen by the page that polls),
    at most twice a second."""
    last = [0.0]

    def step(name: str, done: int, total: int) -> None:
        if echo is not None:
            echo(name, done, total)
        now = time.monotonic()
        if 0 < done < total and now - last[0] < 0.5:
            return
        last[0] = now
        with db.engine.begin() as connection:
            connection.execute(update(KundelikSyncRun).where(KundelikSyncRun.id == run_id)
                               .values(step=name, done=done, total=total))

    return step


def run_sync(*, run: KundelikSyncRun, actor: User | None, owner: User | None,
             echo: Progress | None = None) -> KundelikSyncRun:
    """Sync the run's school under ``owner``'s kept token: all of it in one transaction with its audit entry, or,
    on any failure, nothing but the failed run and its audit entry. Returns the finished run."""
    run_id, school = run.id, db.session.get_one(School, run.school_id)
    progress = _progress(run_id, echo)
    try:
        if not school.kundelik_id:
            raise SyncFailed("not_linked")
        if owner is None:
            raise SyncFailed("no_token")
        api = client.KundelikApi(_access_token(owner))
        known = {str(i) for i in db.session.execute(select(Pupil.kundelik_id).where(
            Pupil.kundelik_id.is_not(None))).scalars()}
        data = read_school(api, school.kundelik_id, known=known, progress=progress)
        progress("saving", 0, 1)
        report = _write_school(school, data, actor)
        run = db.session.get_one(KundelikSyncRun, run_id)
        run.status, run.step, run.finished_at = RunStatus.SUCCEEDED.value, "done", utcnow()
        run.report_json = json.dumps(report)
        audit.record(actor, AuditAction.KUNDELIK_SYNC, school_id=school.id, object_type="kundelik_sync_run",
                     object_id=run.uuid, details={**report["counts"], "changes": report["changes"],
                                                  "school_year": report["school_year"], "via": run.via,
                                                  "token_of": owner.id if owner else None,
                                                  "granted": report["granted"], "revoked": report["revoked"]})
        db.session.commit()
        return run
    except client.KundelikUnauthorized:
        return _failed(run_id, actor, "unauthorized", drop_token_of=owner.id if owner else None)
    except client.KundelikUnavailable:
        return _failed(run_id, actor, "unavailable")
    except client.KundelikError:
        return _failed(run_id, actor, "refused")
    except SyncFailed as failure:
        return _failed(run_id, actor, failure.reason, problems=failure.problems)
    except IntegrityError:
        # Another change took a Kundelik id or an IIN meanwhile: nothing was written; run it again.
        return _failed(run_id, actor, "conflict")
    except Exception:
        _failed(run_id, actor, "error")
        raise


def _failed(run_id: int, actor: User | None, reason: str, *, problems: list[dict[str, Any]] | None = None,
            drop_token_of: int | None = None) -> KundelikSyncRun:
    """Undo everything the run wrote, record it as failed with its reason, audit, commit."""
    db.session.rollback()
    run = db.session.get_one(KundelikSyncRun, run_id)
    run.status, run.error, run.finished_at = RunStatus.FAILED.value, reason, utcnow()
    run.report_json = json.dumps({"problems": problems or []})
    if drop_token_of is not None:
        # Kundelik refused the token: it is no use any more; its owner signs in with Kundelik again.
        db.session.execute(delete(KundelikToken).where(KundelikToken.user_id == drop_token_of))
    audit.record(actor, AuditAction.KUNDELIK_SYNC_FAILED, outcome=Outcome.FAILED, school_id=run.school_id,
                 object_type="kundelik_sync_run", object_id=run.uuid,
                 details={"reason": reason, "problems": len(problems or []), "via": run.via,
                          "token_dropped": drop_token_of is not None})
    db.session.commit()
    return run


def run_in_background(app: Flask, run_id: int, actor_id: int, owner_id: int | None) -> threading.Thread:
    """Run :func:`run_sync` in a thread of its own (the admin page watches the run's progress)."""

    def work() -> None:
        with app.app_context():
            try:
                run_sync(run=db.session.get_one(KundelikSyncRun, run_id), actor=db.session.get(User, actor_id),
                         owner=db.session.get(User, owner_id) if owner_id else None)
            except Exception:  # recorded as failed ("error") by run_sync; the traceback goes to the log
                current_app.logger.exception("Kundelik sync run %s failed", run_id)
            finally:
                db.session.remove()

    thread = threading.Thread(target=work, name=f"senim-kundelik-sync-{run_id}", daemon=True)
    thread.start()
    return thread


# --- writing the school -----------------------------------------------------------------------------------


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


def _write_school(school: School, data: KSchool, actor: User | None) -> dict[str, Any]:
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
        raise SyncFailed("roster_errors", [
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
