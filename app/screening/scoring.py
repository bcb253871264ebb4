"""Pure scoring: answers → scales, bands, outcomes and alerts. No Flask, no database.

:func:`score` scores one response; :func:`score_frame` scores a whole ``DataFrame`` with column
operations and gives the same numbers (a property test holds them to it). Answers are raw option
values; an option marked ``refusal`` counts as an answer for alert rules but as missing for scores.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from numbers import Integral
from types import MappingProxyType
from typing import Any

import numpy as np
import pandas as pd

from app.screening.instruments import BandRange, Instrument, Item, Scale
from app.screening.rules import (
    BandCondition,
    Condition,
    EvalContext,
    FrameContext,
    ItemCondition,
    Ref,
    ScaleCondition,
    Severity,
    StateCondition,
    compare,
    compare_arrays,
    evaluate,
    evaluate_frame,
    iter_conditions,
)

__all__ = ["Alert", "ScoreResult", "ScoringInputError", "check_answers", "score", "score_frame",
           "visible_items"]

Number = int | float


class ScoringInputError(ValueError):
    """Answers do not fit the instrument (unknown item, value not in the option set, bad type)."""


@dataclass(frozen=True)
class Alert:
    rule: str
    severity: Severity
    message_key: str
    evidence: Mapping[str, int | None]  # the answers the rule looked at
    launch_instrument: str | None = None
    #: Fired on the answered items alone: the total is missing, but no answer to the missing items could
    #: bring it back under the threshold (AlertRule.partial).
    partial: bool = False

    def as_dict(self) -> dict[str, Any]:
        """JSON-ready form."""
        return {"rule": self.rule, "severity": str(self.severity), "message_key": self.message_key,
                "launch_instrument": self.launch_instrument, "evidence": dict(self.evidence),
                "partial": self.partial}


@dataclass(frozen=True, eq=False)
class ScoreResult:
    instrument: str  # Instrument.ref
    scales: Mapping[str, Number | None]
    bands: Mapping[str, str | None]  # band sets and categorical outcomes, by id
    alerts: tuple[Alert, ...]
    missing_items: tuple[str, ...] = field(default=())  # unanswered or refused, in form order

    def as_dict(self) -> dict[str, Any]:
        """JSON-ready form."""
        return {"scales": dict(self.scales), "bands": dict(self.bands),
                "alerts": [a.as_dict() for a in self.alerts], "missing_items": list(self.missing_items)}


def check_answers(instrument: Instrument, answers: Mapping[str, object]) -> dict[str, int | None]:
    """Validate ``answers`` and return them for every item (absent → None), else ScoringInputError."""
    if not isinstance(answers, Mapping):
        raise ScoringInputError(f"answers must be a mapping of item id to option value, got "
                                f"{type(answers).__name__}")
    known = set(instrument.item_ids)
    for key in answers:
        if key not in known:
            raise ScoringInputError(f"unknown item {key!r} for {instrument.ref} "
                                    f"(items: {', '.join(instrument.item_ids)})")
    checked: dict[str, int | None] = {}
    for item in instrument.items:
        value = answers.get(item.id)
        if value is not None:
            if isinstance(value, bool) or not isinstance(value, Integral):
                raise ScoringInputError(f"item {item.id!r}: expected an integer option value, got {value!r}")
            value = int(value)
            if value not in item.values:
                raise ScoringInputError(f"item {item.id!r}: {value} is not an option value "
                                        f"(allowed: {', '.join(map(str, sorted(item.values)))})")
        checked[item.id] = value
    return checked


def visible_items(instrument: Instrument, answers: Mapping[str, int | None]) -> list[str]:
    """Item ids the questionnaire should show, in order, given the answers so far (skip logic)."""
    raw = check_answers(instrument, answers)
    if not instrument.has_skip_logic:
        return list(raw)
    shown: dict[str, int | None] = {}
    ctx = EvalContext(shown, _refusals(instrument), {}, {}, {})  # sees ``shown`` grow item by item
    for item in instrument.items:
        if item.enable_when is None or evaluate(item.enable_when, ctx):
            shown[item.id] = raw[item.id]  # answers to hidden items never enable later ones
    return list(shown)


def _refusals(instrument: Instrument) -> dict[str, frozenset[int]]:
    return {item.id: item.refusal_values for item in instrument.items if item.refusal_values}


def _scored(item: Item, raw: int | None, reverse: bool) -> int | None:
    if raw is None or raw in item.refusal_values:
        return None
    low, high = item.scored_range
    return low + high - raw if reverse else raw


def _tidy(value: float | None) -> Number | None:
    if value is None:
        return None
    return int(value) if float(value).is_integer() else float(value)


def _scale_value(scale: Scale, values: list[int | None], done: Mapping[str, Number | None]) -> float | None:
    if scale.method == "linear":
        base = done[scale.of or ""]
        return None if base is None else base * scale.multiply + scale.add
    answered = [v for v in values if v is not None]
    n, k = len(values), len(answered)
    missing, policy, limit = n - k, scale.missing.policy, scale.missing.max_missing
    total = sum(answered)
    if policy == "none_allowed":
        if missing:
            return None
        result: float = total if scale.method == "sum" else total / n
    elif policy == "treat_as_zero":
        if limit is not None and missing > limit:
            return None
        result = total if scale.method == "sum" else total / n
    else:  # prorate: the mean of the answered items stands in for the missing ones
        if k == 0 or missing > (limit or 0):
            return None
        result = total * n / k if scale.method == "sum" else total / k
    return result * scale.multiply + scale.add


def _scored_item_ids(instrument: Instrument) -> list[str]:
    return list(dict.fromkeys(i for s in instrument.scales for i in s.items))


def score(instrument: Instrument, answers: Mapping[str, int | None], *, age: int | None = None,
          stage: str = "submit") -> ScoreResult:
    """Score one response. ``stage="answer"`` evaluates only the alerts marked ``on_answer``."""
    if age is not None and (isinstance(age, bool) or not isinstance(age, Integral) or age < 0):
        raise ScoringInputError(f"age must be a non-negative integer, got {age!r}")
    raw = check_answers(instrument, answers)
    refusals = _refusals(instrument)
    missing = tuple(i.id for i in instrument.items
                    if raw[i.id] is None or raw[i.id] in i.refusal_values)
    invalid = (instrument.validity_max_missing is not None and
               sum(1 for i in _scored_item_ids(instrument) if i in missing) > instrument.validity_max_missing)
    scales: dict[str, Number | None] = {}
    for scale in instrument.scales:
        values = [_scored(instrument.item(i), raw[i], i in scale.reverse) for i in scale.items]
        scales[scale.id] = None if invalid else _tidy(_scale_value(scale, values, scales))
    bands: dict[str, str | None] = {}
    for band in instrument.bands:
        value = scales[band.scale]
        chosen = None
        if value is not None:
            for rng in band.ranges_for(age):
                if value >= rng.min:
                    chosen = rng.code
        bands[band.id] = chosen
    ctx = EvalContext(raw, refusals, scales, bands, instrument.definitions)
    for outcome in instrument.outcomes:
        bands[outcome.id] = next((code for cond, code in outcome.rules if evaluate(cond, ctx)), None)
    bounds: dict[str, tuple[float, float] | None] | None = None
    fired: list[Alert] = []
    for rule in instrument.alerts:
        if stage != "submit" and rule.evaluate != "on_answer":
            continue
        partial = False
        if not evaluate(rule.when, ctx):
            if not rule.partial:
                continue
            bounds = bounds if bounds is not None else _scale_bounds(instrument, raw, scales)
            if not _certain(instrument, rule.when, bounds, age):
                continue
            partial = True
        evidence = MappingProxyType({i: raw[i] for i in _items_in(rule.when, instrument)})
        fired.append(Alert(rule.id, rule.severity, rule.message_key, evidence, rule.launch_instrument, partial))
    return ScoreResult(instrument.ref, MappingProxyType(scales), MappingProxyType(bands), tuple(fired), missing)


def _scale_bounds(instrument: Instrument, raw: Mapping[str, int | None],
                  scales: Mapping[str, Number | None]) -> dict[str, tuple[float, float] | None]:
    """The lowest and highest value each scale could take once the missing items were answered (a scorable
    scale: its value twice)."""
    bounds: dict[str, tuple[float, float] | None] = {}
    for scale in instrument.scales:
        value = scales[scale.id]
        if value is not None:
            bounds[scale.id] = (float(value), float(value))
        elif scale.method == "linear":
            base = bounds.get(scale.of or "")
            ends = None if base is None else sorted(b * scale.multiply + scale.add for b in base)
            bounds[scale.id] = None if ends is None else (ends[0], ends[1])
        else:
            low = high = 0.0
            for item_id in scale.items:
                item = instrument.item(item_id)
                scored = _scored(item, raw[item_id], item_id in scale.reverse)
                lo, hi = (scored, scored) if scored is not None else item.scored_range
                low, high = low + lo, high + hi
            n = len(scale.items) if scale.method == "mean" else 1
            bounds[scale.id] = (low / n * scale.multiply + scale.add, high / n * scale.multiply + scale.add)
    return bounds


def _holds(op: str, low: float, high: float, value: float) -> bool:
    """True when ``x op value`` holds for every x in [low, high]."""
    if op == "eq":
        return low == high == value
    if op == "ne":
        return not low <= value <= high
    return compare(op, low, value) and compare(op, high, value)


def _codes_between(ranges: tuple[BandRange, ...], low: float, high: float) -> set[str]:
    """Band codes a value in [low, high] could fall in (ranges ascending by their minimum)."""
    codes = set()
    for index, band in enumerate(ranges):
        upper = ranges[index + 1].min if index + 1 < len(ranges) else math.inf
        if band.min <= high and upper > low:
            codes.add(band.code)
    return codes


def _certain(instrument: Instrument, cond: Condition, bounds: Mapping[str, tuple[float, float] | None],
             age: int | None) -> bool:
    """True when a partial rule's single scale or band comparison holds whatever the missing answers are."""
    if isinstance(cond, ScaleCondition):
        found = bounds.get(cond.scale)
        return found is not None and _holds(cond.op, found[0], found[1], cond.value)
    if isinstance(cond, BandCondition):
        band = next((b for b in instrument.bands if b.id == cond.band), None)
        found = bounds.get(band.scale) if band is not None else None
        if band is None or found is None:
            return False
        codes = _codes_between(band.ranges_for(age), *found)
        inside = codes <= set(cond.value)
        return bool(codes) and (inside if cond.op in ("eq", "in") else not codes & set(cond.value))
    return False


def _items_in(cond: Condition, instrument: Instrument) -> list[str]:
    found: list[str] = []
    for part in iter_conditions(cond):
        if isinstance(part, ItemCondition | StateCondition):
            found.append(part.item)
        elif isinstance(part, Ref):
            found += _items_in(instrument.definitions[part.name], instrument)
    return list(dict.fromkeys(found))


# --- vectorised ----------------------------------------------------------------------------


def _frame_answers(instrument: Instrument, df: pd.DataFrame, age_column: str | None) -> dict[str, np.ndarray]:
    allowed = set(instrument.item_ids) | ({age_column} if age_column else set())
    unknown = [str(c) for c in df.columns if c not in allowed]
    if unknown:
        raise ScoringInputError(f"unknown item column(s) {', '.join(unknown)} for {instrument.ref}")
    out: dict[str, np.ndarray] = {}
    for item in instrument.items:
        if item.id not in df.columns:
            out[item.id] = np.full(len(df), np.nan)
            continue
        column = df[item.id]
        if pd.api.types.is_bool_dtype(column):
            raise ScoringInputError(f"item {item.id!r}: expected integer option values, got booleans")
        try:
            values = pd.to_numeric(column, errors="raise").to_numpy(dtype=float, na_value=np.nan)
        except (TypeError, ValueError):
            raise ScoringInputError(f"item {item.id!r}: column holds non-numeric values") from None
        bad = ~np.isnan(values) & ~np.isin(values, sorted(item.values))
        if bad.any():
            row = df.index[int(np.argmax(bad))]
            raise ScoringInputError(f"item {item.id!r}, row {row!r}: {values[bad][0]:g} is not an option "
                                    f"value (allowed: {', '.join(map(str, sorted(item.values)))})")
        out[item.id] = values
    return out


def _frame_scored(item: Item, raw: np.ndarray, reverse: bool) -> np.ndarray:
    values = np.where(np.isin(raw, sorted(item.refusal_values)), np.nan, raw)
    low, high = item.scored_range
    return low + high - values if reverse else values


def _frame_scale(scale: Scale, matrix: np.ndarray, done: Mapping[str, np.ndarray]) -> np.ndarray:
    if scale.method == "linear":
        return done[scale.of or ""] * scale.multiply + scale.add
    n = matrix.shape[1]
    k = (~np.isnan(matrix)).sum(axis=1)
    missing, total = n - k, np.nansum(matrix, axis=1)
    policy, limit = scale.missing.policy, scale.missing.max_missing
    with np.errstate(invalid="ignore", divide="ignore"):
        if policy == "none_allowed":
            result = np.where(missing > 0, np.nan, total if scale.method == "sum" else total / n)
        elif policy == "treat_as_zero":
            result = total if scale.method == "sum" else total / n
            if limit is not None:
                result = np.where(missing > limit, np.nan, result)
        else:
            result = total * n / k if scale.method == "sum" else total / k
            result = np.where((k == 0) | (missing > (limit or 0)), np.nan, result)
    return result * scale.multiply + scale.add


def score_frame(instrument: Instrument, df: pd.DataFrame, *, age_column: str | None = None) -> pd.DataFrame:
    """Score every row of ``df`` (one column per item id) at once; same results as :func:`score`.

    Returns one column per scale (float, NaN = not scorable), ``band:<id>`` per band set and
    outcome (object, None = no band) and ``alert:<rule id>`` per alert rule (bool).
    """
    if age_column is not None and age_column not in df.columns:
        raise ScoringInputError(f"age column {age_column!r} is not in the frame")
    size = len(df)
    raw = _frame_answers(instrument, df, age_column)
    ages = (pd.to_numeric(df[age_column], errors="coerce").to_numpy(dtype=float, na_value=np.nan)
            if age_column else np.full(size, np.nan))
    refusals = _refusals(instrument)
    scored_ids = _scored_item_ids(instrument)
    invalid = np.zeros(size, dtype=bool)
    if instrument.validity_max_missing is not None and scored_ids:
        blanks = np.column_stack([np.isnan(_frame_scored(instrument.item(i), raw[i], False))
                                  for i in scored_ids]).sum(axis=1)
        invalid = blanks > instrument.validity_max_missing
    scales: dict[str, np.ndarray] = {}
    for scale in instrument.scales:
        matrix = (np.column_stack([_frame_scored(instrument.item(i), raw[i], i in scale.reverse)
                                   for i in scale.items]) if scale.items else np.empty((size, 0)))
        scales[scale.id] = np.where(invalid, np.nan, _frame_scale(scale, matrix, scales))
    bands: dict[str, np.ndarray] = {}
    for band in instrument.bands:
        codes = np.full(size, None, dtype=object)
        value = scales[band.scale]
        unassigned = np.ones(size, dtype=bool)
        groups = [((ages >= g.min_age) & (ages <= g.max_age), g.ranges) for g in band.by_age]
        for mask, ranges in [*groups, (np.ones(size, dtype=bool), band.ranges)]:
            rows = mask & unassigned
            unassigned &= ~mask
            mins = np.array([r.min for r in ranges])
            labels = np.array([r.code for r in ranges] + [None], dtype=object)
            with np.errstate(invalid="ignore"):
                index = np.searchsorted(mins, value, side="right") - 1  # NaN sorts last → see below
            index = np.where(np.isnan(value) | (index < 0), len(ranges), index)
            codes[rows] = labels[index][rows]
        bands[band.id] = codes
    ctx = FrameContext(size, raw, refusals, scales, bands, instrument.definitions)
    for outcome in instrument.outcomes:
        codes = np.full(size, None, dtype=object)
        decided = np.zeros(size, dtype=bool)
        for cond, code in outcome.rules:
            hit = evaluate_frame(cond, ctx) & ~decided
            codes[hit] = code
            decided |= hit
        bands[outcome.id] = codes
    columns: dict[str, Any] = {sid: values for sid, values in scales.items()}
    columns |= {f"band:{bid}": pd.Series(codes, index=df.index, dtype=object) for bid, codes in bands.items()}
    bounds: dict[str, tuple[np.ndarray, np.ndarray]] | None = None
    for rule in instrument.alerts:
        fired = evaluate_frame(rule.when, ctx)
        if rule.partial:
            bounds = bounds if bounds is not None else _frame_bounds(instrument, raw, scales)
            partial = ~fired & _frame_certain(instrument, rule.when, bounds, ages)
            columns[f"alert_partial:{rule.id}"] = partial
            fired = fired | partial
        columns[f"alert:{rule.id}"] = fired
    return pd.DataFrame(columns, index=df.index)


def _frame_bounds(instrument: Instrument, raw: Mapping[str, np.ndarray],
                  scales: Mapping[str, np.ndarray]) -> dict[str, tuple[np.ndarray, np.ndarray]]:
    """Per row, the lowest and highest value of each scale once its missing items were answered."""
    bounds: dict[str, tuple[np.ndarray, np.ndarray]] = {}
    for scale in instrument.scales:
        value = scales[scale.id]
        known = ~np.isnan(value)
        if scale.method == "linear":
            low, high = (b * scale.multiply + scale.add for b in bounds[scale.of or ""])
            low, high = np.minimum(low, high), np.maximum(low, high)
        else:
            size = len(value)
            low, high = np.zeros(size), np.zeros(size)
            for item_id in scale.items:
                item = instrument.item(item_id)
                scored = _frame_scored(item, raw[item_id], item_id in scale.reverse)
                lo, hi = item.scored_range
                low = low + np.where(np.isnan(scored), lo, scored)
                high = high + np.where(np.isnan(scored), hi, scored)
            n = len(scale.items) if scale.method == "mean" else 1
            low, high = low / n * scale.multiply + scale.add, high / n * scale.multiply + scale.add
        bounds[scale.id] = (np.where(known, value, low), np.where(known, value, high))
    return bounds


def _frame_holds(op: str, low: np.ndarray, high: np.ndarray, value: float) -> np.ndarray:
    if op == "eq":
        return (low == value) & (high == value)
    if op == "ne":
        return (value < low) | (value > high)
    return compare_arrays(op, low, value) & compare_arrays(op, high, value)


def _frame_certain(instrument: Instrument, cond: Condition, bounds: Mapping[str, tuple[np.ndarray, np.ndarray]],
                   ages: np.ndarray) -> np.ndarray:
    """:func:`_certain` for every row."""
    size = len(ages)
    if isinstance(cond, ScaleCondition):
        found = bounds.get(cond.scale)
        return np.zeros(size, dtype=bool) if found is None else _frame_holds(cond.op, *found, cond.value)
    band = next((b for b in instrument.bands if b.id == cond.band), None) if isinstance(cond, BandCondition) \
        else None
    if band is None or band.scale not in bounds or not isinstance(cond, BandCondition):
        return np.zeros(size, dtype=bool)
    low, high = bounds[band.scale]
    wanted = set(cond.value)
    result = np.zeros(size, dtype=bool)
    unassigned = np.ones(size, dtype=bool)
    groups = [((ages >= g.min_age) & (ages <= g.max_age), g.ranges) for g in band.by_age]
    for mask, ranges in [*groups, (np.ones(size, dtype=bool), band.ranges)]:
        rows = mask & unassigned
        unassigned &= ~mask
        any_code = np.zeros(size, dtype=bool)
        ok = np.ones(size, dtype=bool)
        for index, part in enumerate(ranges):
            upper = ranges[index + 1].min if index + 1 < len(ranges) else math.inf
            overlaps = (part.min <= high) & (upper > low)
            any_code |= overlaps
            inside = part.code in wanted
            ok &= ~overlaps | (inside if cond.op in ("eq", "in") else not inside)
        result[rows] = (ok & any_code)[rows]
    return result
