"""Small-cell suppression for published counts (pure Python: no Flask, no database).

The rule (security.md §6, "Aggregates for district officers"; threshold ``SENIM_SMALL_CELL``, k = 5):

1. **Primary suppression.** Every published cell, totals included, whose count is between 1 and k − 1
   is shown as ``"<5"``. Zeros are shown as they are.
2. **Complementary suppression.** A table is a set of cells tied by additive relations
   (``total = part + part + ...``: a grade's total is the sum of its sexes, a school's total the sum of
   its grades, the grand total the sum of the schools). A reader who knows those relations, and who
   knows that ``"<5"`` means 1…k − 1 and that a hidden cell ``"x"`` holds at least k, can narrow every
   hidden cell to an interval. :func:`suppress` propagates those intervals over all relations until
   nothing changes; while any ``"<5"`` cell is narrowed to a single value (it could be worked out), it
   hides one more cell in a relation of each pinned hidden cell (the small one, and any complement whose
   value can be worked out): the smallest visible cell holding at least k (zeros are never used, so
   ``"x"`` always means "k or more"). It repeats until no small cell can be worked out.
   If no cell is left to hide, everything is hidden.

Interval propagation over single relations is not a full linear-programming audit, but it catches every
recovery by adding and subtracting published figures and by the bounds the markers reveal, which is what
"a suppressed cell can't be recovered from row/column totals" asks for.
"""

from __future__ import annotations

import enum
import math
from collections.abc import Hashable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Generic, TypeVar

HIDDEN_MARK = "x"

#: A cell's key: any hashable value, e.g. (school id, grade, sex).
K = TypeVar("K", bound=Hashable)


class CellState(enum.StrEnum):
    SHOWN = "shown"
    SMALL = "small"  # primary: 1 … k-1
    HIDDEN = "hidden"  # complementary: k or more


@dataclass(frozen=True)
class Relation(Generic[K]):
    """``total`` equals the sum of ``parts`` (cell keys)."""

    total: K
    parts: tuple[K, ...]


def small_mark(threshold: int) -> str:
    """The marker shown for a small count, e.g. ``"<5"``."""
    return f"<{threshold}"


def _bounds(values: Mapping[K, int], states: Mapping[K, CellState],
            threshold: int) -> dict[K, tuple[float, float]]:
    """What a reader knows about every cell before using the relations."""
    bounds: dict[K, tuple[float, float]] = {}
    for key, value in values.items():
        state = states[key]
        if state is CellState.SMALL:
            bounds[key] = (1, threshold - 1)
        elif state is CellState.HIDDEN:
            bounds[key] = (threshold, math.inf)
        else:
            bounds[key] = (value, value)
    return bounds


def _tighten(relation: Relation[K], bounds: dict[K, tuple[float, float]]) -> bool:
    """Narrow the bounds of the cells of one relation; True if anything changed."""
    terms = [(relation.total, -1)] + [(p, 1) for p in relation.parts]
    changed = False
    for index, (key, coef) in enumerate(terms):
        low = high = 0.0
        for other, (okey, ocoef) in enumerate(terms):
            if other == index:
                continue
            lo, hi = bounds[okey]
            low += ocoef * lo if ocoef > 0 else ocoef * hi
            high += ocoef * hi if ocoef > 0 else ocoef * lo
        # coef * v + rest = 0  =>  v = -rest / coef
        new_lo, new_hi = (-high, -low) if coef > 0 else (low, high)
        lo, hi = bounds[key]
        if math.isfinite(new_lo):
            new_lo = math.ceil(new_lo)
        if math.isfinite(new_hi):
            new_hi = math.floor(new_hi)
        new_lo, new_hi = max(lo, new_lo), min(hi, new_hi)
        if (new_lo, new_hi) != (lo, hi) and new_lo <= new_hi:
            bounds[key] = (new_lo, new_hi)
            changed = True
    return changed


def _exposed(values: Mapping[K, int], states: Mapping[K, CellState],
             relations: Sequence[Relation[K]], by_cell: Mapping[K, list[int]], threshold: int) -> list[K]:
    """Hidden cells a reader can pin to one value: small ones first, then complements (whose known value
    would let a reader work out a small cell next to them)."""
    bounds = _bounds(values, states, threshold)
    pending = {i for key, state in states.items() if state is not CellState.SHOWN for i in by_cell.get(key, ())}
    rounds = 0
    while pending and rounds < 10_000:
        rounds += 1
        index = pending.pop()
        before = {k: bounds[k] for k in (relations[index].total, *relations[index].parts)}
        if _tighten(relations[index], bounds):
            for key, old in before.items():
                if bounds[key] != old:
                    pending.update(by_cell.get(key, ()))
    pinned = [k for k, s in states.items() if s is not CellState.SHOWN and bounds[k][0] == bounds[k][1]]
    small = [k for k in pinned if states[k] is CellState.SMALL]
    return small + [k for k in pinned if states[k] is CellState.HIDDEN] if small else []


def suppress(values: Mapping[K, int], relations: Iterable[Relation[K]],
             threshold: int) -> dict[K, CellState]:
    """Decide which cells to show, mark small or hide; see the module docstring for the rule."""
    relations = [r for r in relations if r.total in values and all(p in values for p in r.parts)]
    by_cell: dict[K, list[int]] = {}
    for index, relation in enumerate(relations):
        for key in (relation.total, *relation.parts):
            by_cell.setdefault(key, []).append(index)
    states = {k: CellState.SMALL if 0 < v < threshold else CellState.SHOWN for k, v in values.items()}
    if threshold <= 1:
        return states
    order = {k: n for n, k in enumerate(values)}
    while exposed := _exposed(values, states, relations, by_cell, threshold):
        touched: set[int] = set()
        for key in exposed:
            if touched.intersection(by_cell.get(key, ())):
                continue  # a cell hidden this round may already protect it; check again next round
            candidates = [
                c for i in by_cell.get(key, ()) for c in (relations[i].total, *relations[i].parts)
                if states[c] is CellState.SHOWN and values[c] >= threshold
            ]
            if candidates:
                best = min(candidates, key=lambda c: (values[c], order[c]))
                states[best] = CellState.HIDDEN
                touched.update(by_cell.get(best, ()))
        if not touched:
            # Nothing left that could be hidden: publish nothing rather than a recoverable count.
            return dict.fromkeys(values, CellState.HIDDEN)
    return states


def display(value: int, state: CellState, threshold: int) -> str | int:
    """What to print for one cell."""
    if state is CellState.SMALL:
        return small_mark(threshold)
    if state is CellState.HIDDEN:
        return HIDDEN_MARK
    return value
