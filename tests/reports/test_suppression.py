"""Small-cell suppression: primary "<5", complementary "x", and no small cell recoverable from the totals."""

from __future__ import annotations

from types import SimpleNamespace

import pytest

from app.reports.services import ALL, _cube, build_report
from app.reports.suppression import CellState, Relation, display, suppress

K = 5
MAX_HIDDEN = 60  # large enough for every table below


def _solutions(values, states, relations, threshold=K):
    """Every value each unshown cell can take, given what is published (backtracking with forcing)."""
    unknown = [k for k, s in states.items() if s is not CellState.SHOWN]
    top = min(MAX_HIDDEN, max(values.values()))
    domains = {k: (1, threshold - 1) if states[k] is CellState.SMALL else (threshold, top) for k in unknown}
    shown = {k: v for k, v in values.items() if states[k] is CellState.SHOWN}
    found: dict = {k: set() for k in unknown}
    rels = [(r.total, r.parts) for r in relations]

    def settle(assign):
        """Fill in every value a relation forces; None if the assignment is impossible."""
        assign = dict(assign)
        changed = True
        while changed:
            changed = False
            for total, parts in rels:
                cells = (total, *parts)
                missing = [c for c in cells if c not in assign and c not in shown]
                value = lambda c: assign[c] if c in assign else shown[c]  # noqa: E731
                if not missing:
                    if value(total) != sum(value(p) for p in parts):
                        return None
                elif len(missing) == 1:
                    m = missing[0]
                    rest = sum(value(p) for p in parts if p != m)
                    forced = value(total) - rest if m != total else rest
                    lo, hi = domains[m]
                    if not lo <= forced <= hi:
                        return None
                    assign[m] = forced
                    changed = True
        return assign

    def walk(assign):
        assign = settle(assign)
        if assign is None:
            return
        free = [k for k in unknown if k not in assign]
        if not free:
            for k in unknown:
                found[k].add(assign[k])
            return
        lo, hi = domains[free[0]]
        for v in range(lo, hi + 1):
            walk({**assign, free[0]: v})

    walk({})
    return found


def _assert_protected(values, relations, threshold=K):
    states = suppress(values, relations, threshold)
    for key, value in values.items():
        if 0 < value < threshold:
            assert states[key] is CellState.SMALL, key
        if states[key] is CellState.HIDDEN:
            assert value >= threshold, "a zero or small cell is never used as a complement"
    found = _solutions(values, states, relations, threshold)
    for key, state in states.items():
        if state is CellState.SMALL:
            assert values[key] in found[key]
            assert len(found[key]) > 1, f"{key} can be worked out from the published figures"
    return states


def _grid(rows):
    """A rows × columns table with row totals, column totals and a grand total."""
    values, relations = {}, []
    n_cols = len(rows[0])
    for r, row in enumerate(rows):
        for c, v in enumerate(row):
            values[(r, c)] = v
        values[(r, ALL)] = sum(row)
        relations.append(Relation((r, ALL), tuple((r, c) for c in range(n_cols))))
    for c in range(n_cols):
        values[(ALL, c)] = sum(row[c] for row in rows)
        relations.append(Relation((ALL, c), tuple((r, c) for r in range(len(rows)))))
    values[(ALL, ALL)] = sum(values[(r, ALL)] for r in range(len(rows)))
    relations.append(Relation((ALL, ALL), tuple((r, ALL) for r in range(len(rows)))))
    relations.append(Relation((ALL, ALL), tuple((ALL, c) for c in range(n_cols))))
    return values, relations


def test_nothing_is_hidden_when_every_cell_is_large_or_zero():
    values, relations = _grid([[10, 12], [0, 7]])
    states = suppress(values, relations, K)
    assert set(states.values()) == {CellState.SHOWN}


def test_small_cell_is_marked_and_a_complement_hidden():
    values, relations = _grid([[3, 10], [12, 9]])
    states = _assert_protected(values, relations)
    assert states[(0, 0)] is CellState.SMALL
    assert CellState.HIDDEN in states.values()
    assert display(values[(0, 0)], states[(0, 0)], K) == "<5"
    assert display(values[(1, 1)], CellState.HIDDEN, K) == "x"
    assert display(7, CellState.SHOWN, K) == 7


@pytest.mark.parametrize("rows", [
    [[3, 10], [12, 9]],
    [[4, 4], [10, 10]],       # two small cells in a row summing to 8: both would be 4
    [[1, 5], [5, 6]],         # "<5" + "x" = 6 would pin the small cell to 1
    [[3, 0], [8, 9]],         # a small cell next to a zero
    [[2, 3], [1, 4]],         # everything small
    [[6, 7, 2], [9, 5, 8], [10, 11, 12]],
    [[0, 0, 3], [9, 8, 7]],
])
def test_no_small_cell_can_be_worked_out_from_totals(rows):
    values, relations = _grid(rows)
    _assert_protected(values, relations)


def test_threshold_is_configurable():
    values, relations = _grid([[7, 10], [12, 9]])
    assert suppress(values, relations, 5)[(0, 0)] is CellState.SHOWN
    states = suppress(values, relations, 10)
    assert states[(0, 0)] is CellState.SMALL
    _assert_protected(values, relations, threshold=10)


def test_report_cube_single_grade_school_and_several_schools(app):
    schools = [SimpleNamespace(id=1, name="S1"), SimpleNamespace(id=2, name="S2"), SimpleNamespace(id=3, name="S3")]
    base = {(1, 7, "female"): 3, (1, 7, "male"): 8, (2, 7, "female"): 9, (2, 9, "male"): 6,
            (2, 9, "female"): 7, (3, 5, "male"): 12, (3, 5, "female"): 10}
    values, relations, _grades = _cube(schools, base)
    states = _assert_protected(values, relations)
    assert states[(1, 7, "female")] is CellState.SMALL
    with app.test_request_context("/"):
        report = build_report(schools=schools, base=base, threshold=K)
    assert report.suppressed and report.hidden
    printed = [c for t in report.schools for r in (*t.rows, t.total) for c in r.cells]
    assert "<5" in printed and 3 not in printed
    # The summary repeats each school's total row: the same cells, the same suppression.
    for table, summary in zip(report.schools, report.summary, strict=True):
        assert table.total.cells == summary.cells


def test_school_without_pupils_is_listed_with_zeros(app):
    schools = [SimpleNamespace(id=1, name="S1"), SimpleNamespace(id=2, name="Empty")]
    with app.test_request_context("/"):
        report = build_report(schools=schools, base={(1, 7, "female"): 20, (1, 7, "male"): 20}, threshold=K)
    assert report.summary[1].cells == (0, 0, 0)
    assert report.grand_total.cells == (20, 20, 40)
    assert not report.suppressed
