"""Immutable objects for screening instruments (built by :mod:`app.screening.instruments`)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import cached_property
from types import MappingProxyType

from app.screening.rules import Condition, Severity

__all__ = [
    "DRAFT_STATUSES", "TEXT_STATUSES", "AgeBands", "AlertRule", "BandRange", "BandSet", "Coding", "Instrument",
    "Item", "Licence", "MissingPolicy", "Option", "Outcome", "PartStatus", "Scale", "Source", "Texts",
    "UnknownInstrumentError",
]

#: The closed list of text statuses, strongest first (the texts schema's enum; a test keeps them equal).
#: official: the copyright holder's original or published translation; adapted_official: adapted from one;
#: draft_reviewed: the team's translation reviewed by a qualified person; draft_machine: a machine-assisted
#: draft nobody has reviewed yet; not_available: no text in that language.
TEXT_STATUSES = ("official", "adapted_official", "draft_reviewed", "draft_machine", "not_available")
DRAFT_STATUSES = frozenset({"draft_reviewed", "draft_machine"})


class UnknownInstrumentError(LookupError):
    """No instrument (or version) with that id is loaded."""


@dataclass(frozen=True)
class Coding:
    system: str
    code: str
    display: str | None = None


@dataclass(frozen=True)
class Option:
    id: str
    value: int
    refusal: bool = False
    code: Coding | None = None


@dataclass(frozen=True)
class Item:
    id: str
    option_set: str
    options: tuple[Option, ...]
    required: bool = True
    enable_when: Condition | None = None
    code: Coding | None = None

    # cached_property works on frozen dataclasses (it writes the instance __dict__ directly); these are
    # read for every item of every answer save.
    @cached_property
    def values(self) -> frozenset[int]:
        """Every allowed raw value, refusals included."""
        return frozenset(o.value for o in self.options)

    @cached_property
    def refusal_values(self) -> frozenset[int]:
        """Raw values that mean "declined to answer" (scored as missing)."""
        return frozenset(o.value for o in self.options if o.refusal)

    @cached_property
    def scored_range(self) -> tuple[int, int]:
        """Lowest and highest scorable value (used for reverse scoring)."""
        values = [o.value for o in self.options if not o.refusal]
        return min(values), max(values)

    def option_for(self, value: int) -> Option:
        """The option with raw ``value``."""
        return next(o for o in self.options if o.value == value)


@dataclass(frozen=True)
class MissingPolicy:
    policy: str  # none_allowed | prorate | treat_as_zero
    max_missing: int | None = None
    source: str | None = None


@dataclass(frozen=True)
class Scale:
    id: str
    method: str  # sum | mean | linear
    items: tuple[str, ...] = ()
    reverse: frozenset[str] = frozenset()
    missing: MissingPolicy = MissingPolicy("none_allowed")
    of: str | None = None
    multiply: float = 1
    add: float = 0
    code: Coding | None = None
    source: str | None = None


@dataclass(frozen=True)
class BandRange:
    code: str
    min: float


@dataclass(frozen=True)
class AgeBands:
    min_age: int
    max_age: int
    ranges: tuple[BandRange, ...]
    source: str
    #: Who these cut-offs were derived from (an id named in app.screening.labels.POPULATION_LABELS).
    population: str | None = None


@dataclass(frozen=True)
class BandSet:
    id: str
    scale: str
    kind: str  # severity | screening | descriptive
    ranges: tuple[BandRange, ...]
    by_age: tuple[AgeBands, ...]
    source: str
    #: Who the default cut-offs were derived from (an id named in app.screening.labels.POPULATION_LABELS).
    population: str | None = None

    def group_for(self, age: int | None) -> AgeBands | None:
        """The age group whose cut-offs apply at ``age``, or None for the default ones."""
        if age is not None:
            for group in self.by_age:
                if group.min_age <= age <= group.max_age:
                    return group
        return None

    def ranges_for(self, age: int | None) -> tuple[BandRange, ...]:
        """The cut-offs that apply at ``age`` (the default ones when no age band matches)."""
        group = self.group_for(age)
        return group.ranges if group is not None else self.ranges

    def population_for(self, age: int | None) -> str | None:
        """Who the cut-offs that apply at ``age`` were derived from."""
        group = self.group_for(age)
        return group.population if group is not None else self.population


@dataclass(frozen=True)
class Outcome:
    id: str
    rules: tuple[tuple[Condition, str], ...]  # first match wins
    source: str
    #: Who the categories were validated in (an id named in app.screening.labels.POPULATION_LABELS).
    population: str | None = None


@dataclass(frozen=True)
class AlertRule:
    id: str
    severity: Severity
    when: Condition
    message_key: str
    source: str
    evaluate: str = "on_submit"  # on_answer: fire as soon as the answer is saved
    launch_instrument: str | None = None
    #: Fire also when the scale is left empty by the missing-data rule but the answered items alone already
    #: reach the threshold whatever the missing ones would be (the condition is one scale or band comparison).
    partial: bool = False


@dataclass(frozen=True)
class Licence:
    name: str
    licence_class: str
    holder: str
    statement: str
    electronic_use: str
    citation: str
    confirmation_recommended: bool = False
    url: str | None = None

    @property
    def electronic_use_allowed(self) -> bool:
        """True when the licence allows administering the instrument in our system."""
        return self.electronic_use == "allowed"


@dataclass(frozen=True)
class Source:
    id: str
    citation: str
    url: str | None = None


@dataclass(frozen=True)
class PartStatus:
    """The status of one part of a text ("instructions", "items.<id>", "options.<set>") that differs."""

    status: str
    note: str | None = None


@dataclass(frozen=True, eq=False)
class Texts:
    language: str
    status: str
    translator: str
    source: str
    text_version: str
    verified_against_source: bool
    title: str
    instructions: str
    end_message: str
    copyright: str | None
    items: Mapping[str, str]
    options: Mapping[str, Mapping[str, str]]
    messages: Mapping[str, str]
    notes: str | None = None
    #: Where the official text comes from, the populations its wording was validated in (ids), the
    #: validation study, and what was changed (adapted texts).
    citation: str | None = None
    validated_in: tuple[str, ...] = ()
    validation_citation: str | None = None
    adaptation: str | None = None
    #: Parts whose status differs from ``status``, by part name.
    part_status: Mapping[str, PartStatus] = field(default_factory=lambda: MappingProxyType({}))

    def status_of(self, part: str) -> str:
        """The status of one part ("instructions", "items.<id>", "options.<set>")."""
        found = self.part_status.get(part)
        return found.status if found is not None else self.status

    @property
    def statuses(self) -> frozenset[str]:
        """Every status that some part of this text has."""
        return frozenset({self.status, *(p.status for p in self.part_status.values())})

    @property
    def has_draft(self) -> bool:
        """True when the text, or some part of it, is the team's draft translation."""
        return bool(self.statuses & DRAFT_STATUSES)


@dataclass(frozen=True, eq=False)
class Instrument:
    id: str
    version: str
    status: str
    respondent: str
    licence: Licence
    sources: tuple[Source, ...]
    codes: tuple[Coding, ...]
    items: tuple[Item, ...]
    scales: tuple[Scale, ...]
    bands: tuple[BandSet, ...]
    definitions: Mapping[str, Condition]
    outcomes: tuple[Outcome, ...]
    alerts: tuple[AlertRule, ...]
    texts: Mapping[str, Texts]
    validity_max_missing: int | None = None
    canonical_url: str | None = None
    min_age: int | None = None
    max_age: int | None = None

    @property
    def ref(self) -> str:
        """Stable reference stored with every result, e.g. ``phq-a@1.0``."""
        return f"{self.id}@{self.version}"

    @cached_property
    def item_ids(self) -> tuple[str, ...]:
        """Item ids in published form order."""
        return tuple(item.id for item in self.items)

    @cached_property
    def _items_by_id(self) -> dict[str, Item]:
        return {item.id: item for item in self.items}

    @cached_property
    def has_skip_logic(self) -> bool:
        """True when some item is shown only under a condition (enable_when)."""
        return any(item.enable_when is not None for item in self.items)

    def item(self, item_id: str) -> Item:
        """The item with ``item_id`` (KeyError if absent)."""
        return self._items_by_id[item_id]

    def text(self, lang: str) -> Texts:
        """Texts for ``lang``; raises UnknownInstrumentError naming the available languages."""
        try:
            return self.texts[lang]
        except KeyError:
            raise UnknownInstrumentError(f"{self.ref} has no texts in {lang!r} "
                                         f"(available: {', '.join(sorted(self.texts))})") from None
