"""Aggregate reports: pupil counts by school × grade × sex, with small-cell suppression.

Counts are computed in SQL (``GROUP BY``) over the schools of :func:`visible_schools`; no pupil row is
loaded and no name is decrypted. Every published figure goes through
:func:`app.reports.suppression.suppress` (threshold ``SENIM_SMALL_CELL``) before it reaches a page or a
file, so the HTML page and the CSV export always show the same cells.

Suppression is always decided over the whole area the reader sees (every school of :func:`visible_schools`),
and a one-school view (``?school=``) shows that school's part of the same publication. So every view and export
a reader can reach shows each cell the same way, and combining them (say, the area's table minus one school's)
reveals nothing that the area's table alone does not (issue 9 case 11).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Hashable
from dataclasses import dataclass, field

from flask import current_app
from flask_babel import gettext as _
from sqlalchemy import func, select

from app.auth.models import User
from app.auth.permissions import Permission, visible_schools
from app.core import audit
from app.core.audit import AuditAction
from app.core.models import Pupil, School, SchoolClass, Sex
from app.extensions import db
from app.reports.suppression import CellState, Relation, display, suppress
from app.screening.models import ScreeningResult, ScreeningSession

#: Marks "all values of this dimension" in a cell key.
ALL = "*"
#: Pupils without a class are counted under this grade key.
NO_CLASS = "none"
SEXES: tuple[str, ...] = (Sex.FEMALE.value, Sex.MALE.value)

Cell = str | int
Key = tuple[Hashable, Hashable, Hashable]  # (school id, grade, sex), any of them may be ALL


@dataclass(frozen=True)
class CountRow:
    """One printed row: a label (grade or school) and the cells per sex, then the total."""

    label: str
    cells: tuple[Cell, ...]


@dataclass(frozen=True)
class SchoolTable:
    """One school's grade × sex table with its total row."""

    school_id: int
    school_name: str
    rows: tuple[CountRow, ...]
    total: CountRow


@dataclass(frozen=True)
class PupilCountReport:
    """What the report page and the export print; suppression already applied."""

    threshold: int
    schools: tuple[SchoolTable, ...]
    summary: tuple[CountRow, ...]
    grand_total: CountRow
    suppressed: bool = False
    hidden: bool = False


@dataclass(frozen=True)
class ParticipationRow:
    """Screening participation of one school: invited and took part, already suppressed."""

    school_name: str
    cells: tuple[Cell, ...] = field(default_factory=tuple)


def _grade_label(grade: Hashable) -> str:
    if grade == NO_CLASS:
        return _("No class")
    return _("Grade %(grade)s", grade=grade)


def _grade_order(grade: Hashable) -> int:
    return 99 if grade == NO_CLASS else int(grade)  # type: ignore[call-overload]


def _scoped_schools(actor: User, school: School | None) -> list[School]:
    query = visible_schools(actor, Permission.REPORTS_AGGREGATE)
    if school is not None:
        query = query.where(School.id == school.id)
    return list(db.session.execute(query.order_by(School.district_id, School.id)).scalars())


def _base_counts(actor: User) -> dict[tuple[int, Hashable, str], int]:
    """(school id, grade, sex) -> number of active pupils of the actor's area, one GROUP BY query."""
    school_ids = visible_schools(actor, Permission.REPORTS_AGGREGATE).with_only_columns(School.id)
    query = (
        select(Pupil.school_id, SchoolClass.grade, Pupil.sex, func.count(Pupil.id))
        .select_from(Pupil).outerjoin(SchoolClass, Pupil.class_id == SchoolClass.id)
        .where(Pupil.active.is_(True), Pupil.school_id.in_(school_ids), Pupil.sex.in_(SEXES))
        .group_by(Pupil.school_id, SchoolClass.grade, Pupil.sex)
    )
    return {(sid, NO_CLASS if grade is None else grade, sex): n
            for sid, grade, sex, n in db.session.execute(query)}


def _cube(schools: list[School], base: dict[tuple[int, Hashable, str], int]
          ) -> tuple[dict[Key, int], list[Relation[Key]], dict[int, list[Hashable]]]:
    """Every published cell (interior cells and margins) and the relations that tie them."""
    grades: dict[int, list[Hashable]] = defaultdict(list)
    for sid, grade, _sex in base:
        if grade not in grades[sid]:
            grades[sid].append(grade)
    for sid in grades:
        grades[sid].sort(key=_grade_order)
    values: dict[Key, int] = {}
    relations: list[Relation[Key]] = []
    for school in schools:
        sid = school.id
        for grade in grades.get(sid, []):
            parts = [(sid, grade, sex) for sex in SEXES]
            for key in parts:
                values[key] = base.get(key, 0)
            values[(sid, grade, ALL)] = sum(values[k] for k in parts)
            relations.append(Relation((sid, grade, ALL), tuple(parts)))
        for sex in SEXES:
            parts = [(sid, g, sex) for g in grades.get(sid, [])]
            values[(sid, ALL, sex)] = sum(values[k] for k in parts)
            relations.append(Relation((sid, ALL, sex), tuple(parts)))
        values[(sid, ALL, ALL)] = sum(values[(sid, ALL, sex)] for sex in SEXES)
        relations.append(Relation((sid, ALL, ALL), tuple((sid, ALL, sex) for sex in SEXES)))
        relations.append(Relation((sid, ALL, ALL), tuple((sid, g, ALL) for g in grades.get(sid, []))))
    for sex in SEXES:
        parts = [(s.id, ALL, sex) for s in schools]
        values[(ALL, ALL, sex)] = sum(values[k] for k in parts)
        relations.append(Relation((ALL, ALL, sex), tuple(parts)))
    values[(ALL, ALL, ALL)] = sum(values[(ALL, ALL, sex)] for sex in SEXES)
    relations.append(Relation((ALL, ALL, ALL), tuple((ALL, ALL, sex) for sex in SEXES)))
    relations.append(Relation((ALL, ALL, ALL), tuple((s.id, ALL, ALL) for s in schools)))
    # Relations with no parts (a school without pupils) say "total = 0", which the zero already shows.
    return values, [r for r in relations if r.parts], grades


def build_report(*, schools: list[School], base: dict[tuple[int, Hashable, str], int],
                 threshold: int, only: School | None = None) -> PupilCountReport:
    """Lay out the suppressed tables from aggregated counts (pure: no queries).

    Suppression is decided over all of ``schools`` (the reader's whole area); ``only`` then shows one school's
    tables of that same publication, never a table suppressed on its own.
    """
    values, relations, grades = _cube(schools, base)
    states = suppress(values, relations, threshold)
    shown = [s for s in schools if only is None or s.id == only.id]

    def row(label: str, sid: Hashable, grade: Hashable) -> CountRow:
        keys = [(sid, grade, sex) for sex in SEXES] + [(sid, grade, ALL)]
        return CountRow(label, tuple(display(values[k], states[k], threshold) for k in keys))

    tables = []
    for school in shown:
        rows = tuple(row(_grade_label(g), school.id, g) for g in grades.get(school.id, []))
        tables.append(SchoolTable(school.id, school.name, rows, row(_("All grades"), school.id, ALL)))
    printed = [k for k in values if k[0] == ALL or any(k[0] == s.id for s in shown)]
    return PupilCountReport(
        threshold=threshold,
        schools=tuple(tables),
        summary=tuple(row(school.name, school.id, ALL) for school in shown),
        grand_total=row(_("All schools"), ALL, ALL),
        suppressed=any(states[k] is not CellState.SHOWN for k in printed),
        hidden=any(states[k] is CellState.HIDDEN for k in printed),
    )


def pupil_counts(*, actor: User, school: School | None = None, export: bool = False) -> PupilCountReport:
    """The suppressed pupil counts of the actor's schools (or one school's part of them); the reading is audited."""
    schools = _scoped_schools(actor, None)
    report = build_report(schools=schools, base=_base_counts(actor), only=school,
                          threshold=int(current_app.config["SENIM_SMALL_CELL"]))
    audit.record_read(
        actor, AuditAction.REPORT_READ, school_id=school.id if school else None,
        object_type="report", object_id="pupil_counts",
        details={"format": "csv" if export else "html", "schools": len(schools)},
    )
    return report


def screening_participation(*, actor: User, school: School | None = None) -> list[ParticipationRow]:
    """Per school: pupils invited to a screening (a code issued or a paper form entered) and pupils who
    took part (a result saved), counted in SQL and suppressed like the counts.

    The two cells are not parts of one total, so only primary suppression applies (1 … k-1 → "<k").
    """
    schools = _scoped_schools(actor, school)
    ids = [s.id for s in schools]
    results = select(ScreeningResult.school_id, ScreeningResult.pupil_id).where(ScreeningResult.school_id.in_(ids))
    invited = results.union(
        select(ScreeningSession.school_id, ScreeningSession.pupil_id).where(ScreeningSession.school_id.in_(ids))
    ).subquery()
    took = results.distinct().subquery()
    values: dict[Hashable, int] = dict.fromkeys(((i, kind) for i in ids for kind in ("invited", "took")), 0)
    for kind, sub in (("invited", invited), ("took", took)):
        rows = db.session.execute(select(sub.c.school_id, func.count()).group_by(sub.c.school_id))
        for school_id, count in rows:
            values[(school_id, kind)] = count
    threshold = int(current_app.config["SENIM_SMALL_CELL"])
    states = suppress(values, (), threshold)
    return [
        ParticipationRow(s.name, tuple(display(values[(s.id, k)], states[(s.id, k)], threshold)
                                       for k in ("invited", "took")))
        for s in schools if values[(s.id, "invited")]
    ]


def csv_rows(report: PupilCountReport) -> list[list[Cell]]:
    """The export: one row per school and grade, each school's total, then the grand total."""
    header: list[Cell] = [_("School"), _("Grade"), _("Girls"), _("Boys"), _("Total")]
    rows: list[list[Cell]] = [header]
    for table in report.schools:
        for count_row in (*table.rows, table.total):
            rows.append([table.school_name, count_row.label, *count_row.cells])
    rows.append([report.grand_total.label, "", *report.grand_total.cells])
    if report.suppressed:
        rows.append([])
        mark = f"<{report.threshold}"
        rows.append([_("%(mark)s: from 1 to %(max)s pupils.", mark=mark, max=report.threshold - 1)])
    if report.hidden:
        rows.append([_("x: hidden so that a small number cannot be worked out from the totals.")])
    return rows
