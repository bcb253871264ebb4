"""Read one school's roster from the Kundelik API into plain data (kundelik-api.md §1.5, §1.6, §5.2).

:func:`read_school` calls ``schools/{id}``, ``schools/{id}/edu-groups`` (classes only: subgroups and groups whose
name is not a class are skipped), ``edu-groups/{id}/persons`` (current pupils), ``edu-groups/{id}/classteacher``,
``persons/{id}`` (the birthday, only for pupils Senim does not know yet) and ``users/{id}/relatives`` (parents).
Ids are read from their ``_str`` twins, never from JSON numbers. Every call is retried with backoff on 429, 503
or an HTML page (:func:`call`); a 401 or any other error stops the reading (the caller writes nothing).
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable, Collection, Mapping
from dataclasses import dataclass, field
from datetime import date
from typing import Any, TypeVar

from flask import current_app

from app.kundelik.client import KundelikApi, KundelikError, KundelikRefused, KundelikUnavailable

T = TypeVar("T")
#: (step, done, total): where the reading is, for the run's progress.
Progress = Callable[[str, int, int], None]
_CLASS_NAME = re.compile(r"^\s*(\d{1,2})\s*[-\s]?\s*([^\W\d_]{1,4})\s*$")
_SEX = {"male": "male", "female": "female", "m": "male", "f": "female"}


def _id(value: Any) -> str:
    text = str(value) if value is not None else ""
    return text if text.isdigit() else ""


def _text(value: Any) -> str:
    return " ".join(str(value or "").split())


@dataclass(frozen=True)
class KPerson:
    """A Kundelik person as the sync needs it (pupil, parent or class teacher)."""

    id: str
    user_id: str
    last_name: str
    first_name: str
    middle_name: str
    sex: str  # "male", "female" or ""
    #: Only where Kundelik gives it (unverified field names: ``iin``/``IIN``).
    iin: str = ""
    birthday: date | None = None

    @property
    def full_name(self) -> str:
        return " ".join(p for p in (self.last_name, self.first_name, self.middle_name) if p)


def person(raw: Mapping[str, Any]) -> KPerson:
    """A ``Person`` (camelCase) read defensively."""
    birthday = None
    text = str(raw.get("birthday") or "")[:10]
    if re.fullmatch(r"\d{4}-\d{2}-\d{2}", text):
        birthday = date.fromisoformat(text)
    iin = re.sub(r"\D", "", str(raw.get("iin") or raw.get("IIN") or ""))
    return KPerson(id=_id(raw.get("id_str")) or _id(raw.get("id")),
                   user_id=_id(raw.get("userId_str")) or _id(raw.get("userId")),
                   last_name=_text(raw.get("lastName")), first_name=_text(raw.get("firstName")),
                   middle_name=_text(raw.get("middleName")), sex=_SEX.get(str(raw.get("sex") or "").lower(), ""),
                   iin=iin if len(iin) == 12 else "", birthday=birthday)


@dataclass
class KClass:
    """A class (an edu group of type Group without parents) with its current pupils and class teacher."""

    id: str
    grade: int
    letter: str
    study_year: int | None
    pupils: list[KPerson] = field(default_factory=list)
    teacher: KPerson | None = None

    @property
    def label(self) -> str:
        return f"{self.grade}{self.letter}"


@dataclass
class KSchool:
    """What Kundelik says of one school."""

    id: str
    name: str
    classes: list[KClass] = field(default_factory=list)
    #: Groups that are not classes (subgroups, clubs): how many were skipped.
    skipped_groups: int = 0
    #: Pupil person id -> the pupil's parents (relatives other than children).
    parents: dict[str, list[KPerson]] = field(default_factory=dict)

    @property
    def pupils(self) -> list[tuple[KClass, KPerson]]:
        return [(c, p) for c in self.classes for p in c.pupils]


def call(function: Callable[..., T], *args: Any, **kwargs: Any) -> T:
    """``function(*args)``, retried with exponential backoff while Kundelik is busy (429) or down (5xx, HTML)."""
    retries = int(current_app.config["SENIM_KUNDELIK_SYNC_RETRIES"])
    backoff = float(current_app.config["SENIM_KUNDELIK_SYNC_BACKOFF"])
    for attempt in range(retries + 1):
        try:
            return function(*args, **kwargs)
        except (KundelikUnavailable, KundelikRefused) as error:
            busy = isinstance(error, KundelikUnavailable) or error.status == 429
            if not busy or attempt == retries:
                raise
            time.sleep(backoff * 2 ** attempt)
    raise AssertionError("unreachable")  # pragma: no cover


def _class(raw: Mapping[str, Any]) -> KClass | None:
    """A class from an ``EduGroup``; None for a subgroup or a group whose name is not "7А"-like."""
    if str(raw.get("type") or "Group") != "Group" or raw.get("parentIds") or raw.get("parentIds_str"):
        return None
    found = _CLASS_NAME.match(str(raw.get("name") or ""))
    group_id = _id(raw.get("id_str")) or _id(raw.get("id"))
    if found is None or not group_id or int(found.group(1)) > 12:
        return None
    year = str(raw.get("studyyear") or "")
    return KClass(group_id, int(found.group(1)), found.group(2).upper(), int(year) if year.isdigit() else None)


def _class_teacher(api: KundelikApi, group_id: str) -> KPerson | None:
    try:
        raw = call(api.class_teacher, group_id)
    except KundelikRefused as error:
        if error.kind == "parameterInvalid":  # the class has no class teacher
            return None
        raise
    return person(raw) if isinstance(raw, Mapping) and (raw.get("id_str") or raw.get("id")) else None


def read_school(api: KundelikApi, school_id: str, *, known: Collection[str], progress: Progress) -> KSchool:
    """Everything the sync needs of the school ``school_id``; ``known``: person ids Senim holds already (no
    birthday call for them). Raises :class:`KundelikError` as the API does."""
    raw_school = call(api.school, school_id)
    school = KSchool(school_id, _text(raw_school.get("name")) if isinstance(raw_school, Mapping) else "")
    groups = call(api.edu_groups, school_id)
    for raw in groups if isinstance(groups, list) else []:
        found = _class(raw) if isinstance(raw, Mapping) else None
        if found is None:
            school.skipped_groups += 1
        else:
            school.classes.append(found)
    school.classes.sort(key=lambda c: (c.grade, c.letter))
    for done, group in enumerate(school.classes):
        progress("classes", done, len(school.classes))
        group.pupils = [person(p) for p in call(api.group_persons, group.id) if isinstance(p, Mapping)]
        group.teacher = _class_teacher(api, group.id)
    pupils = school.pupils
    for done, (_group, pupil) in enumerate(pupils):
        progress("pupils", done, len(pupils))
        details = pupil
        if pupil.id not in known and pupil.birthday is None:
            details = person({**_raw(pupil), **call(api.person, pupil.id)})
            _replace(school, pupil, details)
        if details.user_id:
            relatives = call(api.relatives, details.user_id)
            school.parents[details.id] = [person(r["person"]) for r in relatives if isinstance(r, Mapping)
                                          and isinstance(r.get("person"), Mapping)
                                          and str(r.get("type") or "").lower() not in ("child", "children")]
    progress("pupils", len(pupils), len(pupils))
    return school


def _raw(p: KPerson) -> dict[str, Any]:
    return {"id_str": p.id, "userId_str": p.user_id, "lastName": p.last_name, "firstName": p.first_name,
            "middleName": p.middle_name, "sex": p.sex, "iin": p.iin}


def _replace(school: KSchool, old: KPerson, new: KPerson) -> None:
    for group in school.classes:
        group.pupils = [new if p is old else p for p in group.pupils]


__all__ = ["KClass", "KPerson", "KSchool", "KundelikError", "call", "person", "read_school"]
