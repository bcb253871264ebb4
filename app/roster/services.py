"""Roster import: keep an upload for its preview, re-check it, and apply it all-or-nothing.

* :func:`start_upload` reads the files and keeps their rows encrypted in ``roster_uploads`` (never in the
  cookie session) for :data:`SENIM_ROSTER_UPLOAD_TTL`; only their uploader may see or commit them.
* :func:`preview` re-checks the rows against the database as it is now; the reading is audited.
* :func:`commit_upload` checks once more and :func:`apply` writes the plan in one transaction with one audit
  entry of counts (no names, no IINs). The rows are then deleted; the counts stay for the result page.

The command line (``flask roster import``) uses :func:`build_plan` and :func:`apply` directly.
"""

from __future__ import annotations

import json
import secrets
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from typing import Any

from flask import current_app
from sqlalchemy import delete, select, update
from sqlalchemy.exc import IntegrityError

from app.auth.models import RoleAssignment, User
from app.auth.passwords import UNUSABLE_HASH
from app.auth.roles import Role
from app.consent.services import today_local
from app.core import audit
from app.core.audit import AuditAction
from app.core.models import Pupil, PupilGuardian, PupilSource, School, SchoolClass, utcnow
from app.extensions import db
from app.roster.checks import ParentRecord, check, letter_key
from app.roster.columns import Sheet
from app.roster.models import RosterUpload, UploadStatus
from app.roster.planning import Kind, Plan, make_plan
from app.roster.problems import Problem
from app.roster.reading import ReadResult, SheetRows, read_files

Progress = Callable[[int], None]
#: Rows per multi-row INSERT: short statements that psycopg converts once and caches (a 1,000-row statement is
#: re-parsed every time and made a 2,000-pupil commit three times slower on PostgreSQL).
PAGE_SIZE = 8


class NotCommittable(Exception):
    """The rows have errors now (or the upload was committed already): nothing was changed."""

    def __init__(self, plan: Plan | None) -> None:
        super().__init__("roster not committable")
        self.plan = plan


class UploadExpired(Exception):
    """The upload's rows are gone (expired or committed): upload the file again."""


def current_school_year(today: date | None = None) -> int:
    """The school year starts on 1 September: in spring it is still last year's (the school's date: UTC+5)."""
    today = today or today_local()
    return today.year if today.month >= 9 else today.year - 1


# --- reading and keeping ------------------------------------------------------------------------------


def read(files: list[tuple[str, bytes]]) -> ReadResult:
    """Read uploaded files under the configured size and row limits."""
    return read_files(files, max_bytes=current_app.config["SENIM_ROSTER_MAX_BYTES"],
                      max_rows=current_app.config["SENIM_ROSTER_MAX_ROWS"])


def _dump(result: ReadResult) -> str:
    return json.dumps({"sheets": {sheet.value: data.as_dict() for sheet, data in result.sheets.items()},
                       "problems": [p.as_dict() for p in result.problems]}, ensure_ascii=False)


def _load(upload: RosterUpload) -> ReadResult:
    if upload.payload_ct is None or upload.status != UploadStatus.PENDING or upload.expires_at <= utcnow():
        raise UploadExpired(upload.uuid)
    data = json.loads(upload.payload)
    return ReadResult(sheets={Sheet(k): SheetRows.from_dict(Sheet(k), v) for k, v in data["sheets"].items()},
                      problems=[Problem.from_dict(p) for p in data["problems"]])


def purge_expired() -> int:
    """Delete uploads whose preview time is over and that were never committed (their rows go with them)."""
    statement = delete(RosterUpload).where(RosterUpload.status == UploadStatus.PENDING,
                                           RosterUpload.expires_at <= utcnow())
    return db.session.connection().execute(statement).rowcount or 0


def start_upload(*, actor: User, school: School, school_year: int, files: list[tuple[str, bytes]]) -> RosterUpload:
    """Read the files and keep their rows, encrypted, for the preview; audited (counts only); commits."""
    purge_expired()
    result = read(files)
    upload = RosterUpload(school_id=school.id, user_id=actor.id, school_year=school_year,
                          expires_at=utcnow() + current_app.config["SENIM_ROSTER_UPLOAD_TTL"])
    upload.payload = _dump(result)
    upload.summary = json.dumps({"rows": result.row_count})
    db.session.add(upload)
    db.session.flush()
    audit.record(actor, AuditAction.ROSTER_UPLOAD, school_id=school.id, object_type="roster_upload",
                 object_id=upload.uuid, details={"files": len(files), "rows": result.row_count,
                                                 "sheets": sorted(s.value for s in result.sheets),
                                                 "file_problems": len(result.problems)})
    db.session.commit()
    return upload


# --- checking ---------------------------------------------------------------------------------------


def build_plan(*, school: School, school_year: int, result: ReadResult, today: date | None = None,
               progress: Progress | None = None) -> Plan:
    """Check the rows and match them against the database (reads only)."""
    checked = check(result.sheets.values(), today=today or today_local(), progress=progress)
    checked.problems[:0] = result.problems
    return make_plan(school=school, school_year=school_year, checked=checked, rows=result.row_count,
                     progress=progress)


def preview(*, actor: User, upload: RosterUpload) -> Plan:
    """The plan of a kept upload against the database as it is now; audited before it is shown."""
    plan = build_plan(school=db.session.get_one(School, upload.school_id), school_year=upload.school_year,
                      result=_load(upload))
    audit.record_read(actor, AuditAction.ROSTER_PREVIEW, school_id=upload.school_id, object_type="roster_upload",
                      object_id=upload.uuid, details=plan.counts())
    return plan


def summary(upload: RosterUpload) -> dict[str, Any]:
    """The counts kept with an upload (after the commit: what it did)."""
    return dict(json.loads(upload.summary or "{}"))


# --- applying ---------------------------------------------------------------------------------------


@dataclass
class _Created:
    classes: dict[tuple[int, str], SchoolClass]
    pupils: dict[int, Pupil]
    accounts: dict[tuple[str, str], User]


def _apply_classes(plan: Plan, school: School) -> dict[tuple[int, str], SchoolClass]:
    created = {}
    default = school.default_language if school.default_language in ("kk", "ru") else "kk"
    for change in plan.classes:
        record = change.record
        if change.kind == Kind.NEW:
            school_class = SchoolClass(school_id=school.id, grade=record.grade, letter=record.letter,
                                       school_year=plan.school_year, language=record.language or default)
            db.session.add(school_class)
            created[(record.grade, letter_key(record.letter))] = school_class
        elif change.kind == Kind.UPDATED and change.class_id is not None and record.language:
            db.session.get_one(SchoolClass, change.class_id).language = record.language
    db.session.flush()
    return created


def _apply_pupils(plan: Plan, school: School, classes: dict[tuple[int, str], SchoolClass],
                  step: Progress, source: PupilSource) -> dict[int, Pupil]:
    created: dict[int, Pupil] = {}
    for change in plan.pupils:
        step(1)
        record = change.record
        class_id = change.class_id or classes[(record.grade, letter_key(record.letter))].id
        if change.kind == Kind.NEW:
            pupil = Pupil(school_id=school.id, class_id=class_id, birth_date=record.birth_date, sex=record.sex,
                          kundelik_id=record.kundelik_id, import_key=record.file_number,
                          source=source.value)
            pupil.set_identity(last_name=record.last_name, first_name=record.first_name,
                               patronymic=record.patronymic, iin=record.iin)
            db.session.add(pupil)
            created[record.row] = pupil
            continue
        if change.kind == Kind.UNCHANGED or change.pupil_id is None:
            continue
        pupil = db.session.get_one(Pupil, change.pupil_id)
        pupil.class_id = class_id
        if {"last_name", "first_name", "patronymic", "iin"} & set(change.fields):
            pupil.set_identity(last_name=record.last_name, first_name=record.first_name,
                               patronymic=record.patronymic or pupil.patronymic, iin=record.iin or pupil.iin)
        pupil.birth_date, pupil.sex = record.birth_date, record.sex
        pupil.kundelik_id = record.kundelik_id or pupil.kundelik_id
        pupil.import_key = record.file_number or pupil.import_key
        if not pupil.active:
            pupil.active, pupil.left_at = True, None
    db.session.flush()
    return created


def _mark_left(plan: Plan) -> None:
    now = utcnow()
    for left in plan.left:
        pupil = db.session.get_one(Pupil, left.pupil_id)
        pupil.active, pupil.left_at = False, now


def new_usernames(count: int, prefix: str = "parent") -> list[str]:
    """``count`` unused sign-in names "<prefix>-xxxxxxxx" (random: no personal data in a sign-in name)."""
    names: list[str] = []
    while len(names) < count:
        wanted = {f"{prefix}-{secrets.token_hex(4)}" for _ in range(count - len(names))}
        taken = set(db.session.execute(select(User.username).where(User.username.in_(wanted))).scalars())
        names.extend(sorted(wanted - taken - set(names)))
    return names


def _new_account(record: ParentRecord, username: str) -> User:
    user = User(username=username, full_name=record.full_name, email=record.email, phone=record.phone,
                password_hash=UNUSABLE_HASH)
    user.assignments.append(RoleAssignment(role=Role.PARENT.value))
    db.session.add(user)
    return user


def _apply_parents(plan: Plan, pupils: dict[int, Pupil], step: Progress) -> None:
    names = iter(new_usernames(sum(1 for c in plan.parents if c.kind == "new")))
    accounts: dict[tuple[str, str], User] = {}
    for change in plan.parents:
        if change.account_id is None and change.record.contact not in accounts:
            accounts[change.record.contact] = _new_account(change.record, next(names))
    db.session.flush()  # one flush gives every new account its id
    for change in plan.parents:
        step(1)
        record = change.record
        if change.kind == "unchanged":
            continue
        if change.kind == "updated" and change.link_id is not None:
            link = db.session.get_one(PupilGuardian, change.link_id)
            link.relation, link.is_legal_representative = record.relation, record.legal_representative
            continue
        user_id = change.account_id if change.account_id is not None else accounts[record.contact].id
        pupil_id = change.pupil_id if change.pupil_id is not None else pupils[change.pupil_row or 0].id
        db.session.add(PupilGuardian(pupil_id=pupil_id, user_id=user_id, relation=record.relation,
                                     is_legal_representative=record.legal_representative))
    db.session.flush()


def write(plan: Plan, *, school: School, mark_left: bool, progress: Progress | None = None,
          source: PupilSource = PupilSource.IMPORT) -> dict[str, int]:
    """Write a committable plan into the open transaction (no audit, no commit); return its counts.

    Shared by the file import (:func:`apply`) and the Kundelik sync (app.kundelik.sync), which adds its own
    changes, audit entry and commit around it. Pupils missing from the plan are marked as left only with
    ``mark_left``; nothing is ever deleted."""
    if not plan.can_commit:
        raise NotCommittable(plan)
    step = progress or (lambda _n: None)
    db.session.connection().execution_options(insertmanyvalues_page_size=PAGE_SIZE)
    classes = _apply_classes(plan, school)
    pupils = _apply_pupils(plan, school, classes, step, source)
    if mark_left:
        _mark_left(plan)
    _apply_parents(plan, pupils, step)
    return {**plan.counts(), "pupils_left": len(plan.left) if mark_left else 0}


def apply(plan: Plan, *, actor: User | None, school: School, mark_left: bool, upload: RosterUpload | None = None,
          progress: Progress | None = None, via: str = "web") -> dict[str, int]:
    """Write the plan in one transaction with one audit entry of counts, and commit; return the counts.

    Pupils missing from the file are marked as left (inactive, with the date) only with ``mark_left``; nothing
    is ever deleted. :class:`NotCommittable` if the plan has errors or the upload was committed meanwhile.
    """
    if not plan.can_commit:
        raise NotCommittable(plan)
    counts = {**plan.counts(), "pupils_left": len(plan.left) if mark_left else 0}
    if upload is not None:
        claimed = db.session.connection().execute(
            update(RosterUpload).where(RosterUpload.id == upload.id, RosterUpload.status == UploadStatus.PENDING)
            .values(status=UploadStatus.COMMITTED.value, committed_at=utcnow(), payload_ct=None,
                    summary=json.dumps(counts))).rowcount
        if claimed != 1:
            db.session.rollback()
            raise NotCommittable(None)
    write(plan, school=school, mark_left=mark_left, progress=progress)
    audit.record(actor, AuditAction.ROSTER_IMPORT, school_id=school.id,
                 object_type="roster_upload" if upload is not None else "school",
                 object_id=upload.uuid if upload is not None else school.id,
                 details={**counts, "school_year": plan.school_year, "mark_left": mark_left, "via": via})
    db.session.commit()
    if upload is not None:
        db.session.expire(upload)
    return counts


def commit_upload(*, actor: User, upload: RosterUpload, mark_left: bool) -> dict[str, int]:
    """Check a kept upload once more against the database and apply it; see :func:`apply`."""
    school = db.session.get_one(School, upload.school_id)
    plan = build_plan(school=school, school_year=upload.school_year, result=_load(upload))
    if not plan.can_commit:
        raise NotCommittable(plan)
    try:
        return apply(plan, actor=actor, school=school, mark_left=mark_left, upload=upload)
    except IntegrityError:
        # Another change took an IIN, Kundelik id or file number in the meantime: nothing was written.
        db.session.rollback()
        raise NotCommittable(build_plan(school=school, school_year=upload.school_year, result=_load(upload))) from None


# --- the roster as a file -------------------------------------------------------------------------------


def export_rows(*, actor: User, school: School, school_year: int, language: str) -> dict[Sheet, list[list[str]]]:
    """The school's classes of the school year, its pupils at school and their parents with a phone or e-mail, as
    rows of the template's sheets (values in ``language``); audited before anything is handed out. Re-importing
    them changes nothing."""
    from app.roster.columns import COLUMNS, display_value

    classes = list(db.session.execute(select(SchoolClass).where(
        SchoolClass.school_id == school.id, SchoolClass.school_year == school_year)
        .order_by(SchoolClass.grade, SchoolClass.letter)).scalars())
    labels = {c.id: c.label for c in db.session.execute(
        select(SchoolClass).where(SchoolClass.school_id == school.id)).scalars()}
    pupils = list(db.session.execute(select(Pupil).where(Pupil.school_id == school.id, Pupil.active.is_(True))
                                     .order_by(Pupil.class_id, Pupil.id)).scalars())
    pupil_ids = [p.id for p in pupils]
    links: list[Any] = []
    for start in range(0, len(pupil_ids), 500):
        # A parent without a phone or e-mail cannot be found again from a file, so is not written to one.
        links += db.session.execute(select(PupilGuardian, User).join(User, User.id == PupilGuardian.user_id)
                                    .where(PupilGuardian.pupil_id.in_(pupil_ids[start:start + 500]),
                                           (User.phone.is_not(None)) | (User.email.is_not(None)))).all()
    by_id = {p.id: p for p in pupils}

    def row(sheet: Sheet, values: dict[str, Any]) -> list[str]:
        return [display_value(c.key, str(values.get(c.key) or ""), language) for c in COLUMNS[sheet]]

    out = {
        Sheet.CLASSES: [row(Sheet.CLASSES, {"grade": c.grade, "letter": c.letter, "language": c.language})
                        for c in classes],
        Sheet.PUPILS: sorted((row(Sheet.PUPILS, {
            "class": labels.get(p.class_id or 0, ""), "last_name": p.last_name, "first_name": p.first_name,
            "patronymic": p.patronymic, "iin": p.iin, "birth_date": p.birth_date.isoformat(), "sex": p.sex,
            "kundelik_id": p.kundelik_id, "file_number": p.import_key}) for p in pupils),
            key=lambda r: (r[0], r[1], r[2])),
        Sheet.PARENTS: [row(Sheet.PARENTS, {
            "pupil_iin": by_id[link.pupil_id].iin, "pupil_file_number": by_id[link.pupil_id].import_key,
            "last_name": _name_part(user, 0), "first_name": _name_part(user, 1), "patronymic": _name_part(user, 2),
            "relation": link.relation, "phone": user.phone, "email": user.email,
            "legal_representative": "yes" if link.is_legal_representative else "no"}) for link, user in links],
    }
    audit.record_read(actor, AuditAction.ROSTER_EXPORT, school_id=school.id, object_type="school",
                      object_id=school.id, details={"school_year": school_year, "classes": len(classes),
                                                    "pupils": len(pupils), "parents": len(links)})
    return out


def _name_part(user: User, index: int) -> str:
    """Surname, first name or patronymic of an account's display name ("Surname First Patronymic")."""
    parts = (user.full_name or "").split(" ", 2)
    return parts[index] if index < len(parts) else ""
