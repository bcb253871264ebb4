"""The local Kundelik's people, schools and classes, in memory.

Built from :mod:`app.core.demo_people`, the same invented people that ``flask demo create`` stores in Senim: school
№ 7 with its five classes and the same pupils (name for name, in the same order), its staff, and a mother for
each pupil. Kundelik holds more than Senim's demo, as a real school's journal would: a subgroup of 7А, a class
teacher of 5А without a Senim account, and school № 12 with two classes of its own, for the roster sync to find.

Ids are Kundelik-like numbers (persons 3…, users 4…, classes 2…); every object is serialised with the field names
of the Kundelik API (kundelik-api.md §1.6) by :mod:`kundelik_local.shapes`.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from datetime import date

from app.core.demo_people import (
    CLASSES,
    DEMO_PARENT,
    DEMO_PASSWORD,
    DEMO_SCHOOL_IDS,
    DEMO_STAFF,
    KK_NAMES_F,
    SCHOOL_YEAR,
    DemoPupil,
    demo_pupils,
    female_surname,
)

#: A user's id is its person's id plus this (users and persons are different things in Kundelik).
USER_ID_OFFSET = 1_000_000_000_000
#: Login of the demo pupil (the first pupil of 7А, as in Senim's demo).
DEMO_PUPIL_SERIAL = 13


@dataclass
class Person:
    """A person (pupil, parent or staff member) and the login account (user) that belongs to it."""

    id: int
    login: str
    last_name: str
    first_name: str
    middle_name: str
    sex: str  # "male" / "female"
    roles: tuple[str, ...]
    school_ids: list[int] = field(default_factory=list)
    birthday: date | None = None
    email: str = ""
    #: Staff only: position title (Teacher.NameTeacherPosition) and whether the person manages the school.
    position: str = ""
    has_user: bool = True

    @property
    def user_id(self) -> int | None:
        return self.id + USER_ID_OFFSET if self.has_user else None

    @property
    def short_name(self) -> str:
        initials = " ".join(f"{part[0]}." for part in (self.first_name, self.middle_name) if part)
        return f"{self.last_name} {initials}".strip()

    @property
    def full_name(self) -> str:
        return " ".join(part for part in (self.last_name, self.first_name, self.middle_name) if part)


@dataclass
class School:
    id: int
    name: str
    full_name: str
    city: str
    municipality: str
    region_id: int


@dataclass
class EduGroup:
    """A class (``type`` "Group") or a subgroup of one (``parent_id`` set)."""

    id: int
    school_id: int
    name: str
    parallel: int
    language: str
    type: str = "Group"
    parent_id: int | None = None
    members: list[int] = field(default_factory=list)
    #: Persons who were in the group and are no more (moved or left): ``includeArchive=true`` lists them too.
    archive: list[int] = field(default_factory=list)
    class_teacher: int | None = None


@dataclass
class World:
    """Everything the local Kundelik knows."""

    schools: dict[int, School] = field(default_factory=dict)
    groups: dict[int, EduGroup] = field(default_factory=dict)
    persons: dict[int, Person] = field(default_factory=dict)
    #: person id -> [(relation type, person id)]: a pupil's parents ("Parent") and a parent's children ("Child").
    relatives: dict[int, list[tuple[str, int]]] = field(default_factory=dict)

    def add_person(self, person: Person) -> Person:
        self.persons[person.id] = person
        return person

    def person_by_login(self, login: str) -> Person | None:
        wanted = login.strip().lower()
        return next((p for p in self.persons.values() if p.has_user and p.login == wanted), None)

    def person_by_user(self, user_id: int) -> Person | None:
        person = self.persons.get(user_id - USER_ID_OFFSET)
        return person if person is not None and person.has_user else None

    def link(self, parent: Person, child: Person) -> None:
        self.relatives.setdefault(child.id, []).append(("Parent", parent.id))
        self.relatives.setdefault(parent.id, []).append(("Child", child.id))

    def groups_of(self, person_id: int) -> list[EduGroup]:
        """Current groups of a pupil (subgroups included) or groups a class teacher leads."""
        return [g for g in self.groups.values() if person_id in g.members or g.class_teacher == person_id]

    # --- changes between two sync runs (the roster sync's test scenarios) --------------------------------------

    def move_pupil(self, person_id: int, group_id: int) -> None:
        """Move a pupil to another class: out of every class of its school (into their archives), into ``group_id``."""
        for group in self.groups.values():
            if person_id in group.members:
                group.members.remove(person_id)
                group.archive.append(person_id)
        target = self.groups[group_id]
        target.members.append(person_id)
        if person_id in target.archive:
            target.archive.remove(person_id)

    def pupil_leaves(self, person_id: int) -> None:
        """A pupil leaves the school: archived in every class, no longer a member of the school."""
        for group in self.groups.values():
            if person_id in group.members:
                group.members.remove(person_id)
                group.archive.append(person_id)
        self.persons[person_id].school_ids.clear()

    def next_term(self) -> tuple[int, int]:
        """The demo's "next term": the last pupil of 8Б moves to 9Ә and the last pupil of 10А leaves.

        Returns (moved person id, departed person id)."""
        moved = self.groups[group_id(2)].members[-1]
        departed = self.groups[group_id(4)].members[-1]
        self.move_pupil(moved, group_id(3))
        self.pupil_leaves(departed)
        return moved, departed


def group_id(class_index: int) -> int:
    """Kundelik id of the demo school's class number ``class_index`` (0 = 5А … 4 = 10А)."""
    return 2000000000001 + class_index


_MOTHERS = [*KK_NAMES_F, "Гүлмира", "Сәуле", "Жанар", "Елена", "Ирина", "Наталья"]


def _pupil(spec: DemoPupil, school_id: int) -> Person:
    login = "pupil" if spec.serial == DEMO_PUPIL_SERIAL else f"pupil-{spec.serial}"
    return Person(int(spec.kundelik_person_id), login, spec.last_name, spec.first_name, spec.patronymic, spec.sex,
                  ("EduStudent",), [school_id], spec.birth_date)


def _mother(world: World, pupil: Person, serial: int, school_id: int) -> Person:
    if serial == DEMO_PUPIL_SERIAL:
        p = DEMO_PARENT
        mother = Person(int(p.person_id), p.login, p.last_name, p.first_name, "", p.sex, p.kundelik_roles,
                        [school_id])
    else:
        surname = pupil.last_name if pupil.sex == "female" else female_surname(pupil.last_name)
        mother = Person(3000000002000 + serial, f"parent-{serial}", surname, _MOTHERS[serial % len(_MOTHERS)], "",
                        "female", ("EduParent",), [school_id])
    world.add_person(mother)
    world.link(mother, pupil)
    return mother


def _school_7(world: World) -> None:
    school_id = int(DEMO_SCHOOL_IDS[0])
    world.schools[school_id] = School(school_id, "№ 7 жалпы білім беретін мектеп",
                                      "«№ 7 жалпы білім беретін мектеп» КММ", "Семей", "город Семей", 10)
    for index, (grade, letter, language) in enumerate(CLASSES):
        world.groups[group_id(index)] = EduGroup(group_id(index), school_id, f"{grade}{letter}", grade, language)
    for spec in demo_pupils():
        pupil = world.add_person(_pupil(spec, school_id))
        world.groups[group_id(spec.class_index)].members.append(pupil.id)
        _mother(world, pupil, spec.serial, school_id)
    for staff in DEMO_STAFF:
        world.add_person(Person(int(staff.person_id), staff.login, staff.last_name, staff.first_name, "", staff.sex,
                                staff.kundelik_roles, [school_id], position=staff.position))
    world.groups[group_id(1)].class_teacher = int(DEMO_STAFF[3].person_id)
    world.groups[group_id(2)].class_teacher = int(DEMO_STAFF[4].person_id)
    # In Kundelik, not in Senim's demo: the class teacher of 5А (her Kundelik sign-in meets "unknown person").
    world.add_person(Person(3000000000906, "teacher5a", "Жақыпова", "Әсем", "", "female", ("EduStaff",),
                            [school_id], position="Учитель"))
    world.groups[group_id(0)].class_teacher = 3000000000906
    # A subgroup (the first half of 7А, for languages): the sync must skip it.
    seven_a = world.groups[group_id(1)]
    world.groups[2000000000101] = EduGroup(2000000000101, school_id, "7А — 1 топ", 7, "kk", "Subgroup",
                                           seven_a.id, seven_a.members[: len(seven_a.members) // 2])


def _school_12(world: World) -> None:
    school_id = int(DEMO_SCHOOL_IDS[1])
    world.schools[school_id] = School(school_id, "№ 12 мектеп-гимназия", "КГУ «Школа-гимназия № 12»", "Семей",
                                      "город Семей", 10)
    rng = random.Random(12)
    names = [("Ким", "Анна", "female"), ("Петров", "Тимур", "male"), ("Оспанова", "Дана", "female"),
             ("Смирнов", "Роман", "male"), ("Қасымов", "Ержан", "male"), ("Павлова", "София", "female")]
    for index, (grade, letter, language) in enumerate([(6, "А", "ru"), (11, "Б", "kk")]):
        group = EduGroup(2000000000201 + index, school_id, f"{grade}{letter}", grade, language)
        world.groups[group.id] = group
        for n, (last, first, sex) in enumerate(names):
            pid = 3000000001000 + index * 100 + n
            birthday = date(SCHOOL_YEAR - grade - 6, rng.randint(1, 12), rng.randint(1, 28))
            world.add_person(Person(pid, f"g12-pupil-{index}-{n}", last, first, "", sex, ("EduStudent",),
                                    [school_id], birthday))
            group.members.append(pid)
    world.add_person(Person(3000000001901, "g12-director", "Попова", "Людмила", "Ивановна", "female",
                            ("EduStaff", "EduSchoolAdministrator"), [school_id], position="Директор"))
    world.add_person(Person(3000000001902, "g12-teacher", "Ли", "Виктория", "Сергеевна", "female", ("EduStaff",),
                            [school_id], position="Учитель"))
    world.groups[2000000000201].class_teacher = 3000000001902


def demo_world() -> World:
    """The local Kundelik's demo data (a fresh copy each time: tests may change it)."""
    world = World()
    _school_7(world)
    _school_12(world)
    return world


#: Every local Kundelik login signs in with the demo password.
PASSWORD = DEMO_PASSWORD
