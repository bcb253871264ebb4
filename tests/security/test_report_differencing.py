"""Issue 9, case 11: no "<5" cell is recovered by combining the views and exports a reader can reach.

A district officer can read the all-schools report and each school's report (``?school=``), as a page or CSV
(the same cells, tested in test_feature_scope). The attacker below collects every published figure of every
view, then works out what it can from the additive relations every reader knows (a row's total is the sum of its
cells, a school's total the sum of its grades, the district's the sum of its schools) and from what the markers
say ("<5" is 1…4, "x" is 5 or more). It is written here, apart from app.reports.suppression, so that the test
does not trust the code it checks. A second test shows the attack is strong enough: against views suppressed one
by one (as before the fix) it recovers small cells in many generated districts.
"""

from __future__ import annotations

import math
import random
from collections.abc import Hashable
from types import SimpleNamespace

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from app.reports.services import ALL, SEXES, PupilCountReport, build_report

K = 5
Key = tuple[Hashable, Hashable, Hashable]


def _district(draw_counts) -> tuple[list[SimpleNamespace], dict[tuple[int, Hashable, str], int]]:
    schools, base = [], {}
    for sid, grades in enumerate(draw_counts, start=1):
        schools.append(SimpleNamespace(id=sid, name=f"School {sid}"))
        for grade, (girls, boys) in grades.items():
            base[(sid, grade, "female")] = girls
            base[(sid, grade, "male")] = boys
    return schools, base


def _published(report: PupilCountReport, grades: dict[int, list[int]]) -> dict[Key, object]:
    """Every cell a view prints, by its key (school id or ALL, grade or ALL, sex or ALL)."""
    cells: dict[Key, object] = {}
    columns = (*SEXES, ALL)
    for table in report.schools:
        for grade, row in zip(grades[table.school_id], table.rows, strict=True):
            cells.update({(table.school_id, grade, c): v for c, v in zip(columns, row.cells, strict=True)})
        cells.update({(table.school_id, ALL, c): v for c, v in zip(columns, table.total.cells, strict=True)})
    for table, row in zip(report.schools, report.summary, strict=True):
        cells.update({(table.school_id, ALL, c): v for c, v in zip(columns, row.cells, strict=True)})
    cells.update({(ALL, ALL, c): v for c, v in zip(columns, report.grand_total.cells, strict=True)})
    return cells


def _relations(schools, grades: dict[int, list[int]]) -> list[tuple[Key, list[Key]]]:
    """The additive relations any reader of the tables knows."""
    relations: list[tuple[Key, list[Key]]] = []
    for school in schools:
        sid = school.id
        for grade in grades[sid]:
            relations.append(((sid, grade, ALL), [(sid, grade, sex) for sex in SEXES]))
        for column in (*SEXES, ALL):
            relations.append(((sid, ALL, column), [(sid, grade, column) for grade in grades[sid]]))
        relations.append(((sid, ALL, ALL), [(sid, ALL, sex) for sex in SEXES]))
    for column in (*SEXES, ALL):
        relations.append(((ALL, ALL, column), [(s.id, ALL, column) for s in schools]))
    relations.append(((ALL, ALL, ALL), [(ALL, ALL, sex) for sex in SEXES]))
    return [(total, parts) for total, parts in relations if parts]


def _attack(views: list[dict[Key, object]], relations) -> set[Key]:
    """Small cells ("<5" in some view) whose value the combined views give away."""
    bounds: dict[Key, list[float]] = {}
    small: set[Key] = set()
    for view in views:
        for key, shown in view.items():
            lo, hi = bounds.get(key, [0, math.inf])
            if shown == f"<{K}":
                small.add(key)
                lo, hi = max(lo, 1), min(hi, K - 1)
            elif shown == "x":
                lo = max(lo, K)
            else:
                lo, hi = max(lo, int(shown)), min(hi, int(shown))
            bounds[key] = [lo, hi]
    for _total, parts in relations:  # a cell no view prints is still 0 or more
        for key in (_total, *parts):
            bounds.setdefault(key, [0, math.inf])
    changed = True
    while changed:
        changed = False
        for total, parts in relations:
            t_lo, t_hi = bounds[total]
            p_lo = sum(bounds[p][0] for p in parts)
            p_hi = sum(bounds[p][1] for p in parts)
            new = [max(t_lo, p_lo), min(t_hi, p_hi)]
            if new != bounds[total]:
                bounds[total], changed = new, True
            for part in parts:
                others_lo = sum(bounds[p][0] for p in parts if p is not part)
                others_hi = sum(bounds[p][1] for p in parts if p is not part)
                lo = max(bounds[part][0], bounds[total][0] - others_hi)
                hi = min(bounds[part][1], bounds[total][1] - others_lo)
                lo, hi = (math.ceil(lo) if math.isfinite(lo) else lo), (math.floor(hi) if math.isfinite(hi) else hi)
                if [lo, hi] != bounds[part]:
                    bounds[part], changed = [lo, hi], True
    return {key for key in small if bounds[key][0] == bounds[key][1]}


def _grades(base) -> dict[int, list[int]]:
    grades: dict[int, list[int]] = {}
    for sid, grade, _sex in base:
        grades.setdefault(sid, [])
        if grade not in grades[sid]:
            grades[sid].append(grade)
    return {sid: sorted(g) for sid, g in grades.items()}


def _reachable_views(schools, base) -> list[dict[Key, object]]:
    """What a district officer can print: the whole district, and each school on its own."""
    grades = _grades(base)
    views = [_published(build_report(schools=schools, base=base, threshold=K), grades)]
    for school in schools:
        views.append(_published(build_report(schools=schools, base=base, threshold=K, only=school), grades))
    return views


_COUNT = st.one_of(st.integers(0, 6), st.integers(0, 30))
_SCHOOL = st.dictionaries(st.integers(1, 11), st.tuples(_COUNT, _COUNT), min_size=1, max_size=4)


@settings(max_examples=400, deadline=None, database=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(_SCHOOL, min_size=2, max_size=6))
def test_no_small_cell_is_recovered_from_all_the_views_a_district_officer_can_reach(app, district) -> None:
    schools, base = _district(district)
    with app.test_request_context("/"):
        views = _reachable_views(schools, base)
    for key in {k for view in views for k in view}:
        shown = {str(view[key]) for view in views if key in view}
        assert len(shown) == 1, f"{key} is printed differently in two views: {shown}"
    assert not _attack(views, _relations(schools, _grades(base)))


def _views_suppressed_one_by_one(schools, base) -> list[dict[Key, object]]:
    """The design before the fix: each school's view suppressed on its own."""
    grades = _grades(base)
    views = [_published(build_report(schools=schools, base=base, threshold=K), grades)]
    for school in schools:
        own = {k: v for k, v in base.items() if k[0] == school.id}
        views.append(_published(build_report(schools=[school], base=own, threshold=K), grades))
    return views


def test_the_attack_recovers_cells_when_views_are_suppressed_one_by_one(app) -> None:
    """The attacker is not toothless: against the old design it finds small cells in many districts."""
    rng = random.Random(20261205)
    recovered = 0
    with app.test_request_context("/"):
        for _ in range(150):
            district = [{g: (rng.choice([0, 1, 2, 3, 6, 9, 14]), rng.choice([0, 2, 4, 7, 11, 20]))
                         for g in rng.sample(range(1, 12), rng.randint(1, 3))} for _ in range(rng.randint(2, 5))]
            schools, base = _district(district)
            views = _views_suppressed_one_by_one(schools, base)
            # A per-school table of the old design has its own grand total row: ignore it (it is that school's).
            for view in views[1:]:
                for column in (*SEXES, ALL):
                    view.pop((ALL, ALL, column), None)
            if _attack(views, _relations(schools, _grades(base))):
                recovered += 1
    assert recovered >= 10, recovered
