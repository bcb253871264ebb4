"""Validation of instrument data (structure + per-language texts) with human-readable errors.

Used for the shipped ``instruments/`` folder and, later, for psychologists' uploaded local methods.
Checks run in two passes: the JSON Schemas in ``schema/``, then cross-references (every item,
option, scale, band and definition referenced exists; every text file has every string).
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping, Sequence
from functools import cache
from itertools import pairwise
from pathlib import Path
from typing import Any

import jsonschema
from jsonschema.exceptions import ValidationError, best_match

from app.screening.rules import (
    AllOf,
    AnyOf,
    BandCondition,
    Condition,
    EvalContext,
    ItemCondition,
    Ref,
    RuleError,
    ScaleCondition,
    StateCondition,
    evaluate,
    iter_conditions,
    parse_condition,
)

__all__ = ["REQUIRED_LANGUAGES", "SCHEMA_DIR", "validate_instrument"]

SCHEMA_DIR = Path(__file__).resolve().parent / "schema"
REQUIRED_LANGUAGES: tuple[str, ...] = ("kk", "ru", "en")


@cache
def _validator(name: str) -> jsonschema.Draft202012Validator:
    schema = json.loads((SCHEMA_DIR / name).read_text(encoding="utf-8"))
    jsonschema.Draft202012Validator.check_schema(schema)
    return jsonschema.Draft202012Validator(schema)


def _schema_errors(name: str, data: object, label: str) -> list[str]:
    errors = []
    # Paths may mix indexes with keys of any type (uploaded YAML): indexes first, then keys as text.
    for error in sorted(_validator(name).iter_errors(data),
                        key=lambda e: [(0, p) if isinstance(p, int) else (1, str(p)) for p in e.absolute_path]):
        shown: ValidationError = error
        if error.context:  # anyOf: report the most relevant branch, not "not valid under any"
            if isinstance(error.instance, Mapping):  # a condition: the rule parser explains it best
                try:
                    parse_condition(error.instance, _json_path(error.absolute_path))
                except RuleError as exc:
                    errors.append(f"{label}: {exc}")
                    continue
            shown = best_match(_branch_errors(error) or error.context) or error
        where = _json_path(shown.absolute_path) or "(top level)"
        errors.append(f"{label}: {where}: {shown.message}")
    return errors


def _branch_errors(error: ValidationError) -> list[ValidationError]:
    """Errors of the anyOf branch whose required keys the instance has (the one the author meant)."""
    if error.validator != "anyOf" or not isinstance(error.instance, Mapping):
        return []
    keys = set(error.instance)
    for index, branch in enumerate(error.validator_value):
        if isinstance(branch, Mapping) and branch.get("required") and set(branch["required"]) <= keys:
            return [e for e in error.context if e.schema_path and e.schema_path[0] == index]
    return []


def _json_path(parts: Iterable[object]) -> str:
    out = ""
    for part in parts:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out


def validate_instrument(structure: Mapping[str, Any], texts: Mapping[str, Mapping[str, Any]], *,
                        required_languages: Sequence[str] = REQUIRED_LANGUAGES) -> list[str]:
    """Return every problem found in an instrument's structure and texts (empty list = valid)."""
    errors = _schema_errors("instrument.schema.json", structure, "instrument.yaml")
    for lang in required_languages:
        if lang not in texts:
            errors.append(f"texts.{lang}.yaml: missing (every instrument needs texts in "
                          f"{', '.join(required_languages)})")
    text_ok = {}
    for lang, data in texts.items():
        text_errors = _schema_errors("texts.schema.json", data, f"texts.{lang}.yaml")
        errors += text_errors
        text_ok[lang] = not text_errors
    if any(e.startswith("instrument.yaml") for e in errors):
        return errors
    checker = _CrossChecker(structure)
    errors += checker.check()
    for lang, data in texts.items():
        if text_ok[lang]:
            errors += checker.check_texts(lang, data)
    return errors


class _CrossChecker:
    """Cross-reference checks on a structure that already passed the JSON Schema."""

    def __init__(self, structure: Mapping[str, Any]) -> None:
        self.s = structure
        self.errors: list[str] = []
        self.option_sets: dict[str, list[dict[str, Any]]] = dict(structure["option_sets"])
        self.items: dict[str, dict[str, Any]] = {}
        self.scales: dict[str, dict[str, Any]] = {}
        self.band_codes: dict[str, set[str]] = {}
        self.definitions: set[str] = set()

    def err(self, message: str) -> None:
        self.errors.append(f"instrument.yaml: {message}")

    def check(self) -> list[str]:
        self._check_option_sets()
        self._check_items()
        scoring = self.s.get("scoring", {})
        self._check_scales(scoring.get("scales", []))
        self._check_bands(scoring.get("bands", []))
        validity = scoring.get("validity")
        if validity and not self.scales:
            self.err("scoring.validity needs at least one scale")
        for name, data in scoring.get("definitions", {}).items():
            self._condition(data, f"scoring.definitions.{name}")  # may use only earlier definitions
            self.definitions.add(name)
        for i, outcome in enumerate(scoring.get("outcomes", [])):
            oid = outcome["id"]
            if oid in self.band_codes:
                self.err(f"scoring.outcomes[{i}].id: {oid!r} is already used by a band set or outcome")
            for j, rule in enumerate(outcome["rules"]):
                self._condition(rule["when"], f"scoring.outcomes[{i}].rules[{j}].when")
            self.band_codes[oid] = {rule["code"] for rule in outcome["rules"]}
        seen: set[str] = set()
        for i, alert in enumerate(self.s["alerts"]):
            self._unique(alert["id"], seen, f"alerts[{i}].id")
            self._condition(alert["when"], f"alerts[{i}].when")
            if alert.get("partial") and not ({"scale", "op", "value"} == set(alert["when"])
                                             or {"band", "op", "value"} == set(alert["when"])):
                self.err(f"alerts[{i}].partial: only a single scale or band comparison can fire on partial "
                         "answers")
        return self.errors

    def _unique(self, value: str, seen: set[str], where: str) -> None:
        if value in seen:
            self.err(f"{where}: duplicate id {value!r}")
        seen.add(value)

    def _check_option_sets(self) -> None:
        for name, options in self.option_sets.items():
            ids: set[str] = set()
            values: set[int] = set()
            for i, option in enumerate(options):
                self._unique(option["id"], ids, f"option_sets.{name}[{i}].id")
                if option["value"] in values:
                    self.err(f"option_sets.{name}[{i}].value: value {option['value']} is used twice")
                values.add(option["value"])

    def _check_items(self) -> None:
        for i, item in enumerate(self.s["items"]):
            where = f"items[{i}]"
            if item["id"] in self.items:
                self.err(f"{where}.id: duplicate item id {item['id']!r}")
            if item["option_set"] not in self.option_sets:
                self.err(f"{where}.option_set: unknown option set {item['option_set']!r}")
            if "enable_when" in item:
                cond = self._condition(item["enable_when"], f"{where}.enable_when")
                if cond is not None:
                    self._check_enable_when(cond, f"{where}.enable_when")
            self.items[item["id"]] = item  # enable_when may refer to earlier items only

    def _check_enable_when(self, cond: Condition, where: str) -> None:
        parts = cond.conditions if isinstance(cond, AnyOf | AllOf) else (cond,)
        for part in parts:
            if not isinstance(part, ItemCondition | StateCondition):
                self.err(f"{where}: skip logic may only use item and answered/unanswered conditions "
                         "(one level of any/all) so that it exports to FHIR enableWhen")
                return
            if isinstance(part, StateCondition) and part.state not in ("answered", "unanswered"):
                self.err(f"{where}: skip logic may not use {part.state!r}")
            if isinstance(cond, AllOf) and isinstance(part, ItemCondition) and \
                    len(self._matching_values(part)) > 1:
                self.err(f"{where}: inside 'all', each item condition must match exactly one option "
                         "(FHIR enableWhen cannot express it otherwise)")

    def _matching_values(self, cond: ItemCondition) -> list[int]:
        item = self.items.get(cond.item)
        if item is None or item["option_set"] not in self.option_sets:
            return []
        values = [o["value"] for o in self.option_sets[item["option_set"]]]
        return [v for v in values if evaluate(cond, EvalContext({cond.item: v}, {}, {}, {}, {}))]

    def _scored_range(self, item_id: str) -> tuple[int, int] | None:
        options = self.option_sets.get(self.items[item_id]["option_set"], [])
        values = [o["value"] for o in options if not o.get("refusal", False)]
        return (min(values), max(values)) if values else None

    def _check_scales(self, scales: list[dict[str, Any]]) -> None:
        self.scale_min: dict[str, float] = {}
        for i, scale in enumerate(scales):
            where, sid = f"scoring.scales[{i}]", scale["id"]
            if sid in self.scales:
                self.err(f"{where}.id: duplicate scale id {sid!r}")
            if scale["method"] == "linear":
                base = scale["of"]
                if base not in self.scales:
                    self.err(f"{where}.of: {base!r} is not a scale defined before {sid!r}")
                elif base in self.scale_min:
                    self.scale_min[sid] = (self.scale_min[base] * scale.get("multiply", 1)
                                           + scale.get("add", 0))
                self.scales[sid] = scale
                continue
            items, ranges = scale["items"], []
            for item_id in items:
                if item_id not in self.items:
                    self.err(f"{where}.items: unknown item {item_id!r}")
                elif (rng := self._scored_range(item_id)) is None:
                    self.err(f"{where}.items: item {item_id!r} has no scorable (non-refusal) option")
                else:
                    ranges.append(rng)
            if len(set(items)) != len(items):
                self.err(f"{where}.items: an item is listed twice")
            for item_id in scale.get("reverse", []):
                if item_id not in items:
                    self.err(f"{where}.reverse: {item_id!r} is not one of the scale's items")
            self._check_missing(scale, where)
            if ranges and len(ranges) == len(items):
                low = sum(r[0] for r in ranges) if scale["method"] == "sum" else min(r[0] for r in ranges)
                self.scale_min[sid] = low * scale.get("multiply", 1) + scale.get("add", 0)
            self.scales[sid] = scale

    def _check_missing(self, scale: dict[str, Any], where: str) -> None:
        missing = scale["missing"]
        policy, limit = missing["policy"], missing.get("max_missing")
        if policy == "none_allowed" and limit is not None:
            self.err(f"{where}.missing: 'none_allowed' takes no max_missing")
        if policy == "prorate":
            if limit is None:
                self.err(f"{where}.missing: 'prorate' needs max_missing")
            elif limit >= len(scale["items"]):
                self.err(f"{where}.missing: max_missing must be below the number of items")

    def _check_bands(self, bands: list[dict[str, Any]]) -> None:
        for i, band in enumerate(bands):
            where, bid = f"scoring.bands[{i}]", band["id"]
            if bid in self.band_codes:
                self.err(f"{where}.id: duplicate band set id {bid!r}")
            if band["scale"] not in self.scales:
                self.err(f"{where}.scale: unknown scale {band['scale']!r}")
            codes = self._check_ranges(band["ranges"], band["scale"], f"{where}.ranges")
            spans: list[tuple[int, int]] = []
            for j, group in enumerate(band.get("by_age", [])):
                gwhere = f"{where}.by_age[{j}]"
                if group["min_age"] > group["max_age"]:
                    self.err(f"{gwhere}: min_age is above max_age")
                if any(group["min_age"] <= hi and lo <= group["max_age"] for lo, hi in spans):
                    self.err(f"{gwhere}: age range overlaps an earlier one")
                spans.append((group["min_age"], group["max_age"]))
                codes |= self._check_ranges(group["ranges"], band["scale"], f"{gwhere}.ranges")
            self.band_codes[bid] = codes

    def _check_ranges(self, ranges: list[dict[str, Any]], scale: str, where: str) -> set[str]:
        mins = [r["min"] for r in ranges]
        if any(b <= a for a, b in pairwise(mins)):
            self.err(f"{where}: band minimums must be strictly increasing")
        lowest = self.scale_min.get(scale)
        if lowest is not None and mins and mins[0] > lowest:
            self.err(f"{where}: the first band starts at {mins[0]} but the scale can be as low as "
                     f"{lowest}; every score needs a band")
        codes = [r["code"] for r in ranges]
        if len(set(codes)) != len(codes):
            self.err(f"{where}: a band code is used twice")
        return set(codes)

    def _condition(self, data: object, where: str) -> Condition | None:
        try:
            cond = parse_condition(data, where)
        except RuleError as exc:
            self.err(str(exc))
            return None
        for part in iter_conditions(cond):
            self._check_reference(part, where)
        return cond

    def _check_reference(self, part: Condition, where: str) -> None:
        if isinstance(part, ItemCondition | StateCondition):
            if part.item not in self.items:
                self.err(f"{where}: unknown item {part.item!r}")
            elif isinstance(part, ItemCondition) and part.op in ("eq", "ne", "in", "not_in"):
                allowed = {o["value"] for o in self.option_sets.get(self.items[part.item]["option_set"], [])}
                wanted = part.value if isinstance(part.value, tuple) else (part.value,)
                for value in wanted:
                    if value not in allowed:
                        self.err(f"{where}: {value} is not an option value of item {part.item!r}")
        elif isinstance(part, ScaleCondition) and part.scale not in self.scales:
            self.err(f"{where}: unknown scale {part.scale!r}")
        elif isinstance(part, BandCondition):
            if part.band not in self.band_codes:
                self.err(f"{where}: unknown band set or outcome {part.band!r}")
            else:
                for code in part.value:
                    if code not in self.band_codes[part.band]:
                        self.err(f"{where}: {code!r} is not a code of {part.band!r}")
        elif isinstance(part, Ref) and part.name not in self.definitions:
            self.err(f"{where}: unknown definition {part.name!r} (definitions may use only earlier ones)")

    def check_texts(self, lang: str, data: Mapping[str, Any]) -> list[str]:
        label, errors = f"texts.{lang}.yaml", []
        for key, expected in (("instrument", self.s["id"]), ("instrument_version", self.s["version"]),
                              ("language", lang)):
            if data[key] != expected:
                errors.append(f"{label}: {key} is {data[key]!r}, expected {expected!r}")
        if data["status"] == "not_available":
            return errors
        strings = data["strings"]
        for item_id in self.items:
            if item_id not in strings["items"]:
                errors.append(f"{label}: missing text for item {item_id!r}")
        errors += [f"{label}: text for unknown item {k!r}" for k in strings["items"] if k not in self.items]
        used_sets = {item["option_set"] for item in self.items.values()}
        for name in sorted(used_sets & set(self.option_sets)):
            given = strings["options"].get(name, {})
            for option in self.option_sets[name]:
                if option["id"] not in given:
                    errors.append(f"{label}: missing text for option {option['id']!r} of option set {name!r}")
            known = {o["id"] for o in self.option_sets[name]}
            errors += [f"{label}: text for unknown option {k!r} of option set {name!r}"
                       for k in given if k not in known]
        errors += [f"{label}: texts for unknown or unused option set {k!r}"
                   for k in strings["options"] if k not in used_sets]
        messages = strings.get("messages", {})
        for alert in self.s["alerts"]:
            if alert["message_key"] not in messages:
                errors.append(f"{label}: missing message {alert['message_key']!r} for alert {alert['id']!r}")
        return errors + self._check_part_status(label, data, used_sets)

    def _check_part_status(self, label: str, data: Mapping[str, Any], used_sets: set[str]) -> list[str]:
        """Every part named in part_status exists; an official or adapted part needs a citation."""
        errors, parts = [], data.get("part_status", {})
        for part in parts:
            kind, _, name = part.partition(".")
            if (kind == "items" and name not in self.items) or (kind == "options" and name not in used_sets):
                errors.append(f"{label}: part_status names {part!r}, which this instrument does not have")
        official = {"official", "adapted_official"}
        if "citation" not in data and any(p["status"] in official for p in parts.values()):
            errors.append(f"{label}: citation is required when a part is official or adapted from an official text")
        return errors
