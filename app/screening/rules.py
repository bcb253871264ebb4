"""A small declarative condition language for skip logic, outcomes and alert rules.

Conditions are JSON-compatible mappings (they live in instrument.yaml) parsed into immutable
objects and interpreted here; nothing is ever passed to ``eval``. The same condition is evaluated
per response (:func:`evaluate`) or vectorised over many responses (:func:`evaluate_frame`); both
follow one rule: a comparison on an unanswered item, an unscorable scale or an absent band is false.

Vocabulary::

    {item: q1, op: eq, value: 1}        op: eq ne gt gte lt lte in not_in (raw option value)
    {scale: total, op: gte, value: 15}  op: eq ne gt gte lt lte
    {band: total, op: in, value: [severe]}   op: eq ne in not_in
    {answered: q1} {unanswered: q1} {refused: q1} {missing: q1}   missing = unanswered or refused
    {any: [...]} {all: [...]} {not: {...}} {ref: definition_name} {always: true}
"""

from __future__ import annotations

import operator
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

import numpy as np
import pandas as pd

__all__ = [
    "AllOf", "Always", "AnyOf", "BandCondition", "Condition", "EvalContext", "FrameContext",
    "ItemCondition", "Not", "Ref", "RuleError", "ScaleCondition", "Severity", "StateCondition", "compare",
    "compare_arrays",
    "evaluate", "evaluate_frame", "iter_conditions", "parse_condition",
]


class Severity(StrEnum):
    """Alert severity (reference §5: CRITICAL→acute, URGENT→urgent, REVIEW→routine)."""

    ACUTE = "acute"
    URGENT = "urgent"
    ROUTINE = "routine"


class RuleError(ValueError):
    """A condition is malformed; the message names where."""


_NUM_OPS: dict[str, Callable[[Any, Any], Any]] = {
    "eq": operator.eq, "ne": operator.ne, "gt": operator.gt,
    "gte": operator.ge, "lt": operator.lt, "lte": operator.le,
}
ITEM_OPS = frozenset({*_NUM_OPS, "in", "not_in"})


def compare(op: str, left: float, right: float) -> bool:
    """``left op right`` for a numeric op (eq ne gt gte lt lte)."""
    return bool(_NUM_OPS[op](left, right))


def compare_arrays(op: str, left: np.ndarray, right: float) -> np.ndarray:
    """:func:`compare` for every element (NaN compares false)."""
    with np.errstate(invalid="ignore"):
        return np.asarray(_NUM_OPS[op](left, right), dtype=bool)

SCALE_OPS = frozenset(_NUM_OPS)
BAND_OPS = frozenset({"eq", "ne", "in", "not_in"})
STATES = ("answered", "unanswered", "refused", "missing")


@dataclass(frozen=True)
class ItemCondition:
    item: str
    op: str
    value: int | tuple[int, ...]


@dataclass(frozen=True)
class ScaleCondition:
    scale: str
    op: str
    value: float


@dataclass(frozen=True)
class BandCondition:
    band: str
    op: str
    value: tuple[str, ...]


@dataclass(frozen=True)
class StateCondition:
    item: str
    state: str  # one of STATES


@dataclass(frozen=True)
class AnyOf:
    conditions: tuple[Condition, ...]


@dataclass(frozen=True)
class AllOf:
    conditions: tuple[Condition, ...]


@dataclass(frozen=True)
class Not:
    condition: Condition


@dataclass(frozen=True)
class Ref:
    name: str


@dataclass(frozen=True)
class Always:
    value: bool


Condition = (ItemCondition | ScaleCondition | BandCondition | StateCondition | AnyOf | AllOf | Not
             | Ref | Always)


def _is_int(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def parse_condition(data: object, path: str = "when") -> Condition:
    """Parse a JSON-compatible condition into immutable objects, or raise :class:`RuleError`."""
    if not isinstance(data, Mapping) or not data:
        raise RuleError(f"{path}: a condition must be a non-empty mapping, got {data!r}")
    keys = set(data)
    for state in STATES:
        if keys == {state}:
            return StateCondition(_name(data[state], f"{path}.{state}"), state)
    if keys in ({"any"}, {"all"}):
        (key,) = keys
        parts = data[key]
        if not isinstance(parts, list) or not parts:
            raise RuleError(f"{path}.{key}: expected a non-empty list of conditions")
        parsed = tuple(parse_condition(p, f"{path}.{key}[{i}]") for i, p in enumerate(parts))
        return AnyOf(parsed) if key == "any" else AllOf(parsed)
    if keys == {"not"}:
        return Not(parse_condition(data["not"], f"{path}.not"))
    if keys == {"ref"}:
        return Ref(_name(data["ref"], f"{path}.ref"))
    if keys == {"always"}:
        if not isinstance(data["always"], bool):
            raise RuleError(f"{path}.always: expected true or false")
        return Always(data["always"])
    for kind, ops in (("item", ITEM_OPS), ("scale", SCALE_OPS), ("band", BAND_OPS)):
        if keys == {kind, "op", "value"}:
            return _parse_comparison(kind, data, ops, path)
    raise RuleError(f"{path}: unknown condition keys {sorted(map(str, keys))}")  # keys of any YAML type


def _name(value: object, path: str) -> str:
    if not isinstance(value, str) or not value:
        raise RuleError(f"{path}: expected an id string, got {value!r}")
    return value


def _parse_comparison(kind: str, data: Mapping[str, Any], ops: frozenset[str], path: str) -> Condition:
    name, op, value = _name(data[kind], f"{path}.{kind}"), data["op"], data["value"]
    if not isinstance(op, str) or op not in ops:  # a list or mapping here is an author's error, not a crash
        raise RuleError(f"{path}.op: {op!r} is not allowed in a {kind} condition "
                        f"(use one of {', '.join(sorted(ops))})")
    listy = op in ("in", "not_in")
    if kind == "scale":
        if not isinstance(value, int | float) or isinstance(value, bool):
            raise RuleError(f"{path}.value: expected a number")
        return ScaleCondition(name, op, float(value))
    if kind == "band":
        values = value if isinstance(value, list) else [value]
        if not values or not all(isinstance(v, str) for v in values) or (not listy and len(values) > 1):
            raise RuleError(f"{path}.value: expected a band code{' or a list of codes' if listy else ''}")
        return BandCondition(name, op, tuple(values))
    if listy:
        if not isinstance(value, list) or not value or not all(_is_int(v) for v in value):
            raise RuleError(f"{path}.value: op {op!r} needs a non-empty list of integers")
        return ItemCondition(name, op, tuple(value))
    if not _is_int(value):
        raise RuleError(f"{path}.value: op {op!r} needs an integer option value")
    return ItemCondition(name, op, value)


def iter_conditions(cond: Condition) -> Iterator[Condition]:
    """Yield ``cond`` and every condition nested inside it."""
    yield cond
    if isinstance(cond, AnyOf | AllOf):
        for part in cond.conditions:
            yield from iter_conditions(part)
    elif isinstance(cond, Not):
        yield from iter_conditions(cond.condition)


# --- per-response evaluation ---------------------------------------------------------------


@dataclass(frozen=True)
class EvalContext:
    """One response: raw answers (refusal codes included), scales, bands and named definitions."""

    answers: Mapping[str, int | None]
    refusals: Mapping[str, frozenset[int]]
    scales: Mapping[str, float | int | None]
    bands: Mapping[str, str | None]
    definitions: Mapping[str, Condition]


def evaluate(cond: Condition, ctx: EvalContext) -> bool:
    """Evaluate ``cond`` for one response."""
    match cond:
        case ItemCondition(item, op, value):
            raw = ctx.answers.get(item)
            if raw is None:
                return False
            if isinstance(value, tuple):  # in / not_in
                return (raw in value) == (op == "in")
            return bool(_NUM_OPS[op](raw, value))
        case ScaleCondition(scale, op, value):
            score = ctx.scales.get(scale)
            return score is not None and bool(_NUM_OPS[op](score, value))
        case BandCondition(band, op, values):
            code = ctx.bands.get(band)
            if code is None:
                return False
            return (code in values) == (op in ("eq", "in"))
        case StateCondition(item, state):
            raw = ctx.answers.get(item)
            refused = raw is not None and raw in ctx.refusals.get(item, frozenset())
            return {"answered": raw is not None, "unanswered": raw is None,
                    "refused": refused, "missing": raw is None or refused}[state]
        case AnyOf(parts):
            return any(evaluate(p, ctx) for p in parts)
        case AllOf(parts):
            return all(evaluate(p, ctx) for p in parts)
        case Not(inner):
            return not evaluate(inner, ctx)
        case Ref(name):
            return evaluate(ctx.definitions[name], ctx)
        case Always(value):
            return value
    raise TypeError(f"not a condition: {cond!r}")  # pragma: no cover


# --- vectorised evaluation -----------------------------------------------------------------


@dataclass(frozen=True)
class FrameContext:
    """Many responses as column arrays: answers/scales are float (NaN = none), bands object."""

    size: int
    answers: Mapping[str, np.ndarray]
    refusals: Mapping[str, frozenset[int]]
    scales: Mapping[str, np.ndarray]
    bands: Mapping[str, np.ndarray]
    definitions: Mapping[str, Condition]


def evaluate_frame(cond: Condition, ctx: FrameContext) -> np.ndarray:
    """Evaluate ``cond`` for every response at once; returns a boolean array."""
    match cond:
        case ItemCondition(item, op, value):
            return _compare(ctx.answers.get(item, _nan(ctx.size)), op, value)
        case ScaleCondition(scale, op, value):
            return _compare(ctx.scales[scale], op, value)
        case BandCondition(band, op, values):
            codes = pd.Series(ctx.bands[band], dtype=object)
            hit = codes.isin(list(values)).to_numpy(dtype=bool)
            present = codes.notna().to_numpy(dtype=bool)
            return hit if op in ("eq", "in") else present & ~hit
        case StateCondition(item, state):
            raw = ctx.answers.get(item, _nan(ctx.size))
            unanswered = np.isnan(raw)
            refused = np.isin(raw, list(ctx.refusals.get(item, frozenset())))
            return {"answered": ~unanswered, "unanswered": unanswered,
                    "refused": refused, "missing": unanswered | refused}[state]
        case AnyOf(parts):
            return np.logical_or.reduce([evaluate_frame(p, ctx) for p in parts])
        case AllOf(parts):
            return np.logical_and.reduce([evaluate_frame(p, ctx) for p in parts])
        case Not(inner):
            return ~evaluate_frame(inner, ctx)
        case Ref(name):
            return evaluate_frame(ctx.definitions[name], ctx)
        case Always(value):
            return np.full(ctx.size, value, dtype=bool)
    raise TypeError(f"not a condition: {cond!r}")  # pragma: no cover


def _nan(size: int) -> np.ndarray:
    return np.full(size, np.nan)


def _compare(column: np.ndarray, op: str, value: float | tuple[int, ...]) -> np.ndarray:
    present = ~np.isnan(column)
    if op in ("in", "not_in"):
        hit = np.isin(column, list(value))  # type: ignore[arg-type]
        return hit if op == "in" else present & ~hit
    with np.errstate(invalid="ignore"):
        return present & _NUM_OPS[op](column, value)
