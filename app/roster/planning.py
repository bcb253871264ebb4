"""Match checked roster rows against the database and plan what the commit would change.

A pupil is found by the keyed blind index of the IIN (across every school, since an IIN is unique in the
country), else by the Kundelik id, else by the school's personal file number. A match at another school is
refused without saying anything about that pupil. Re-importing the same file plans nothing: every field is
compared with the stored (decrypted) value, and an empty optional cell keeps what is stored.
Parents are found by e-mail, else by phone, among parent accounts only.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import func, select

from app.auth.models import User
from app.auth.roles import Role
from app.core.encryption import blind_index
from app.core.models import Pupil, PupilGuardian, School, SchoolClass
from app.extensions import db
from app.roster.checks import Checked, ClassRecord, ParentRecord, PupilRecord, letter_key
from app.roster.columns import Sheet
from app.roster.problems import Problem, errors, problem, sort_key

CHUNK = 500
Progress = Callable[[int], None]


class Kind:
    NEW = "new"
    MOVED = "moved"
    UPDATED = "updated"
    RETURNED = "returned"
    UNCHANGED = "unchanged"


@dataclass
class ClassChange:
    record: ClassRecord
    kind: str
    class_id: int | None = None


@dataclass
class PupilChange:
    """What happens to the pupil of one row; ``fields`` are the stored values that change."""

    record: PupilRecord
    kind: str
    pupil_id: int | None = None
    class_id: int | None = None
    from_class: str | None = None
    fields: tuple[str, ...] = ()

    @property
    def row(self) -> int:
        return self.record.row


@dataclass
class LeftPupil:
    """An active pupil of the school that the file does not hold (left, if the file is the whole roster)."""

    pupil_id: int
    name: str
    class_label: str


@dataclass
class ParentChange:
    record: ParentRecord
    kind: str  # "new" (account and link), "linked" (existing account, new link), "updated", "unchanged"
    account_id: int | None = None
    pupil_id: int | None = None
    pupil_row: int | None = None  # the pupil's row in the file, for a pupil the commit creates
    link_id: int | None = None

    @property
    def row(self) -> int:
        return self.record.row


@dataclass
class Plan:
    """Everything a commit of this file would do, and every problem found."""

    school_id: int
    school_year: int
    sheets: set[Sheet]
    problems: list[Problem] = field(default_factory=list)
    classes: list[ClassChange] = field(default_factory=list)
    pupils: list[PupilChange] = field(default_factory=list)
    left: list[LeftPupil] = field(default_factory=list)
    parents: list[ParentChange] = field(default_factory=list)
    rows: int = 0

    @property
    def errors(self) -> list[Problem]:
        return errors(self.problems)

    @property
    def warnings(self) -> list[Problem]:
        return [p for p in self.problems if p.is_warning]

    @property
    def can_commit(self) -> bool:
        return not self.errors and bool(self.sheets)

    def counts(self) -> dict[str, int]:
        """Counts only (audit details, the summary shown after the commit): never a name or an id."""
        classes = Counter(c.kind for c in self.classes)
        pupils = Counter(p.kind for p in self.pupils)
        parents = Counter(p.kind for p in self.parents)
        return {
            "rows": self.rows, "errors": len(self.errors), "warnings": len(self.warnings),
            "classes_new": classes[Kind.NEW], "classes_updated": classes[Kind.UPDATED],
            "pupils_new": pupils[Kind.NEW], "pupils_moved": pupils[Kind.MOVED],
            "pupils_updated": pupils[Kind.UPDATED], "pupils_returned": pupils[Kind.RETURNED],
            "pupils_unchanged": pupils[Kind.UNCHANGED], "pupils_missing": len(self.left),
            "parents_new": parents["new"], "parents_linked": parents["linked"],
            "parents_updated": parents["updated"], "parents_unchanged": parents["unchanged"],
        }

    @property
    def changes_anything(self) -> bool:
        counts = self.counts()
        unchanged = ("rows", "errors", "warnings", "pupils_unchanged", "parents_unchanged", "pupils_missing")
        return any(v for k, v in counts.items() if k not in unchanged)


def _chunks(values: Sequence[Any]) -> Iterable[Sequence[Any]]:
    for start in range(0, len(values), CHUNK):
        yield values[start:start + CHUNK]


# --- classes ----------------------------------------------------------------------------------------


def _plan_classes(plan: Plan, school: School, records: list[ClassRecord]) -> dict[tuple[int, str], int | None]:
    """Plan the Classes sheet; return every class of the school year, (grade, letter key) -> id (None: new)."""
    existing = db.session.execute(select(SchoolClass).where(
        SchoolClass.school_id == school.id, SchoolClass.school_year == plan.school_year)).scalars()
    stored = {(c.grade, letter_key(c.letter)): c for c in existing}
    known: dict[tuple[int, str], int | None] = {key: c.id for key, c in stored.items()}
    for record in records:
        key = (record.grade, letter_key(record.letter))
        found = stored.get(key)
        if found is None:
            plan.classes.append(ClassChange(record, Kind.NEW))
            known[key] = None
        elif record.language and record.language != found.language:
            plan.classes.append(ClassChange(record, Kind.UPDATED, found.id))
        else:
            plan.classes.append(ClassChange(record, Kind.UNCHANGED, found.id))
    return known


# --- pupils -----------------------------------------------------------------------------------------


def _lookup(column: Any, values: list[Any]) -> dict[Any, tuple[int, int]]:
    """value -> (pupil id, school id) for pupils anywhere holding one of ``values`` in ``column``."""
    found: dict[Any, tuple[int, int]] = {}
    for chunk in _chunks(sorted(set(values))):
        rows = db.session.execute(select(column, Pupil.id, Pupil.school_id).where(column.in_(chunk)))
        found.update({value if not isinstance(value, memoryview) else bytes(value): (pid, sid)
                      for value, pid, sid in rows})
    return found


def _differences(pupil: Pupil, record: PupilRecord) -> list[str]:
    changed = []
    if record.last_name != pupil.last_name:
        changed.append("last_name")
    if record.first_name != pupil.first_name:
        changed.append("first_name")
    if record.patronymic and record.patronymic != pupil.patronymic:
        changed.append("patronymic")
    if record.iin and pupil.iin_bidx is None:
        changed.append("iin")
    if record.birth_date != pupil.birth_date:
        changed.append("birth_date")
    if record.sex != pupil.sex:
        changed.append("sex")
    if record.kundelik_id and record.kundelik_id != pupil.kundelik_id:
        changed.append("kundelik_id")
    if record.file_number and record.file_number != pupil.import_key:
        changed.append("file_number")
    return changed


def _plan_pupils(plan: Plan, school: School, records: list[PupilRecord], classes: dict[tuple[int, str], int | None],
                 progress: Progress) -> dict[int, int]:
    """Plan the Pupils sheet; return matched pupil id -> row."""
    school_pupils = {p.id: p for p in db.session.execute(select(Pupil).where(Pupil.school_id == school.id)).scalars()}
    labels = {c.id: c.label for c in db.session.execute(
        select(SchoolClass).where(SchoolClass.school_id == school.id)).scalars()}
    bidx = {r.row: blind_index(r.iin, scope="iin") for r in records if r.iin}
    by_iin = _lookup(Pupil.iin_bidx, list(bidx.values()))
    by_kundelik = _lookup(Pupil.kundelik_id, [r.kundelik_id for r in records if r.kundelik_id])
    by_number = {p.import_key: p.id for p in school_pupils.values() if p.import_key}
    matched: dict[int, int] = {}
    year = f"{plan.school_year}\u2013{plan.school_year + 1}"
    for record in records:
        progress(1)
        key = (record.grade, letter_key(record.letter))
        if key not in classes:
            plan.problems.append(problem("unknown_class", Sheet.PUPILS, record.row, "class",
                                         label=record.class_label, year=year))
            continue
        hits: dict[str, tuple[int, int]] = {}
        if record.row in bidx and bidx[record.row] in by_iin:
            hits["iin"] = by_iin[bidx[record.row]]
        if record.kundelik_id in by_kundelik:
            hits["kundelik_id"] = by_kundelik[record.kundelik_id]
        if record.file_number in by_number:
            hits["file_number"] = (by_number[record.file_number], school.id)
        elsewhere = [what for what, (_pid, sid) in hits.items() if sid != school.id]
        if elsewhere:
            plan.problems.append(problem("other_school", Sheet.PUPILS, record.row, elsewhere[0], what=elsewhere[0]))
            continue
        ids = {pid for pid, _sid in hits.values()}
        if len(ids) > 1:
            plan.problems.append(problem("conflicting_match", Sheet.PUPILS, record.row, "iin"))
            continue
        if not ids:
            plan.pupils.append(PupilChange(record, Kind.NEW, class_id=classes[key]))
            continue
        pupil = school_pupils[ids.pop()]
        if record.iin and pupil.iin_bidx is not None and bytes(pupil.iin_bidx) != bidx[record.row]:
            plan.problems.append(problem("conflicting_match", Sheet.PUPILS, record.row, "iin"))
            continue
        if pupil.id in matched:
            plan.problems.append(problem("duplicate_row", Sheet.PUPILS, record.row, "iin", what="iin",
                                         other=matched[pupil.id]))
            continue
        matched[pupil.id] = record.row
        fields = _differences(pupil, record)
        moved = classes[key] is None or classes[key] != pupil.class_id
        kind = (Kind.RETURNED if not pupil.active else Kind.MOVED if moved
                else Kind.UPDATED if fields else Kind.UNCHANGED)
        plan.pupils.append(PupilChange(record, kind, pupil.id, classes[key],
                                       labels.get(pupil.class_id or 0), tuple(fields)))
    if Sheet.PUPILS in plan.sheets:
        plan.left = sorted(
            (LeftPupil(p.id, p.short_name, labels.get(p.class_id or 0, "")) for p in school_pupils.values()
             if p.active and p.id not in matched),
            key=lambda left: (left.class_label, left.name))
    return matched


# --- parents ----------------------------------------------------------------------------------------


def is_parent_account(user: User) -> bool:
    """A parent's account: no pupil record, no role but parent (a roster import or sync links only these)."""
    return user.pupil_id is None and all(Role(a.role) is Role.PARENT for a in user.assignments)


def _accounts(records: list[ParentRecord]) -> tuple[dict[str, list[User]], dict[str, list[User]]]:
    emails = sorted({r.email for r in records if r.email})
    phones = sorted({r.phone for r in records if r.phone and not r.email})
    by_email: dict[str, list[User]] = defaultdict(list)
    by_phone: dict[str, list[User]] = defaultdict(list)
    for chunk in _chunks(emails):
        for user in db.session.execute(select(User).where(func.lower(User.email).in_(chunk))).scalars():
            by_email[(user.email or "").lower()].append(user)
    for chunk in _chunks(phones):
        for user in db.session.execute(select(User).where(User.phone.in_(chunk))).scalars():
            by_phone[user.phone or ""].append(user)
    return by_email, by_phone


def _plan_parents(plan: Plan, school: School, records: list[ParentRecord], pupil_rows: dict[str, PupilChange],
                  progress: Progress) -> set[int]:
    """Plan the Parents sheet; return the ids of pupils and the rows of new pupils that get a parent."""
    school_pupils = db.session.execute(select(Pupil.id, Pupil.iin_bidx, Pupil.import_key)
                                       .where(Pupil.school_id == school.id)).all()
    stored_iin = {bytes(b): pid for pid, b, _k in school_pupils if b is not None}
    stored_number = {k: pid for pid, _b, k in school_pupils if k}
    by_email, by_phone = _accounts(records)
    accounts = {u.id for users in (*by_email.values(), *by_phone.values()) for u in users}
    links = {(link.pupil_id, link.user_id): link for chunk in _chunks(sorted(accounts))
             for link in db.session.execute(select(PupilGuardian).where(PupilGuardian.user_id.in_(chunk))).scalars()}
    covered: set[int] = set()
    new_contacts: set[tuple[str, str]] = set()
    for record in records:
        progress(1)
        change = pupil_rows.get(f"iin:{record.pupil_iin}") or pupil_rows.get(f"no:{record.pupil_file_number}")
        pupil_id = change.pupil_id if change else None
        if change is None and record.pupil_iin:
            pupil_id = stored_iin.get(blind_index(record.pupil_iin, scope="iin"))
        if change is None and pupil_id is None and record.pupil_file_number:
            pupil_id = stored_number.get(record.pupil_file_number)
        if change is None and pupil_id is None:
            plan.problems.append(problem("unknown_pupil", Sheet.PARENTS, record.row,
                                         "pupil_iin" if record.pupil_iin else "pupil_file_number"))
            continue
        what, value = record.contact
        candidates = (by_email if what == "email" else by_phone).get(value, [])
        parents = [u for u in candidates if is_parent_account(u)]
        if len(parents) > 1:
            plan.problems.append(problem("contact_ambiguous", Sheet.PARENTS, record.row, what, what=what))
            continue
        if candidates and not parents:
            plan.problems.append(problem("contact_not_parent", Sheet.PARENTS, record.row, what, what=what))
            continue
        pupil_row = change.row if change is not None and change.pupil_id is None else None
        covered.add(pupil_id if pupil_id is not None else -(pupil_row or 0))
        if not parents:
            kind = "linked" if record.contact in new_contacts else "new"
            new_contacts.add(record.contact)
            plan.parents.append(ParentChange(record, kind, None, pupil_id, pupil_row))
            continue
        account = parents[0]
        link = links.get((pupil_id, account.id)) if pupil_id is not None else None
        if link is None:
            plan.parents.append(ParentChange(record, "linked", account.id, pupil_id, pupil_row))
        elif (link.relation, link.is_legal_representative) != (record.relation, record.legal_representative):
            plan.parents.append(ParentChange(record, "updated", account.id, pupil_id, None, link.id))
        else:
            plan.parents.append(ParentChange(record, "unchanged", account.id, pupil_id, None, link.id))
    return covered


def _warn_without_parent(plan: Plan, covered: set[int]) -> None:
    """A pupil with no parent in the file and none linked before gets a warning (only with a Parents sheet)."""
    linked = set()
    ids = sorted(p.pupil_id for p in plan.pupils if p.pupil_id is not None)
    for chunk in _chunks(ids):
        linked |= set(db.session.execute(select(PupilGuardian.pupil_id).where(PupilGuardian.pupil_id.in_(chunk)))
                      .scalars())
    for change in plan.pupils:
        key = change.pupil_id if change.pupil_id is not None else -change.row
        if key not in covered and (change.pupil_id is None or change.pupil_id not in linked):
            plan.problems.append(problem("no_parent", Sheet.PUPILS, change.row))


# --- the plan ---------------------------------------------------------------------------------------


def make_plan(*, school: School, school_year: int, checked: Checked, rows: int,
              progress: Progress | None = None) -> Plan:
    """Match the checked rows against the database (read only) and return the plan with every problem."""
    step = progress or (lambda _n: None)
    plan = Plan(school_id=school.id, school_year=school_year, sheets=set(checked.sheets),
                problems=list(checked.problems), rows=rows)
    classes = _plan_classes(plan, school, checked.classes)
    _plan_pupils(plan, school, checked.pupils, classes, step)
    pupil_rows: dict[str, PupilChange] = {}
    for change in plan.pupils:
        if change.record.iin:
            pupil_rows[f"iin:{change.record.iin}"] = change
        if change.record.file_number:
            pupil_rows[f"no:{change.record.file_number}"] = change
    covered = _plan_parents(plan, school, checked.parents, pupil_rows, step)
    if Sheet.PARENTS in plan.sheets:
        _warn_without_parent(plan, covered)
    plan.problems.sort(key=sort_key)
    return plan
