"""The invented people of the demo, as plain data: no database, no Flask.

``flask demo create`` (:mod:`app.core.demo`) stores them in Senim; the local Kundelik server
(``kundelik_local``) serves the same people through the Kundelik API, so that signing in with Kundelik and the
roster sync find in Kundelik exactly the school, classes, pupils and staff that the demo has in Senim. Both read
the pupils from :func:`demo_pupils` with the same seed, so the names match one by one.
"""

from __future__ import annotations

import random
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date

DEMO_PASSWORD = "tulpar-demo-kokpar-2026"  # noqa: S105  (a published demo sign-in, not a secret)
SCHOOL_YEAR = 2026
SEED = 2026
PUPILS_PER_CLASS = 12

#: Kundelik's ids of the two demo schools (numbers, as Kundelik's ids are; Senim keeps them as text).
DEMO_SCHOOL_IDS = ("1000000000007", "1000000000012")

KK_SURNAMES_M = ["Ахметов", "Серікбаев", "Жұмабеков", "Нұрланов", "Оспанов", "Қасымов", "Төлеуов", "Әбдірахманов"]
KK_NAMES_M = ["Нұрсұлтан", "Ерлан", "Әлихан", "Дәулет", "Ержан", "Санжар", "Темірлан", "Асқар"]
KK_NAMES_F = ["Аружан", "Айгерім", "Дана", "Жансая", "Әйгерім", "Мөлдір", "Інкәр", "Томирис"]
KK_PATRONYMICS_M = ["Серікұлы", "Бауыржанұлы", "Маратұлы", "Қайратұлы"]
KK_PATRONYMICS_F = ["Серікқызы", "Бауыржанқызы", "Маратқызы", "Қайратқызы"]
RU_SURNAMES_M = ["Иванов", "Петров", "Ким", "Смирнов", "Козлов", "Павлов"]
RU_NAMES_M = ["Артём", "Максим", "Даниил", "Кирилл", "Тимур", "Роман"]
RU_NAMES_F = ["Анна", "София", "Алина", "Виктория", "Полина", "Екатерина"]
RU_PATRONYMICS_M = ["Андреевич", "Сергеевич", "Олегович"]
RU_PATRONYMICS_F = ["Андреевна", "Сергеевна", "Олеговна"]

#: The classes of demo school № 7: (grade, letter, language of instruction).
CLASSES = [(5, "А", "kk"), (7, "А", "kk"), (8, "Б", "ru"), (9, "Ә", "kk"), (10, "А", "ru")]


@dataclass(frozen=True)
class DemoPupil:
    """One invented pupil; ``serial`` numbers the pupils of the demo school from 1."""

    serial: int
    class_index: int
    last_name: str
    first_name: str
    patronymic: str
    birth_date: date
    sex: str

    @property
    def kundelik_person_id(self) -> str:
        """The pupil's person id in (the local) Kundelik."""
        return str(3000000000000 + self.serial)


@dataclass(frozen=True)
class DemoStaff:
    """A demo account that also exists in (the local) Kundelik as a person of school № 7."""

    login: str
    last_name: str
    first_name: str
    sex: str
    #: Kundelik's roles of the person (Senim's roles are granted in Senim: app.core.demo).
    kundelik_roles: tuple[str, ...]
    #: Kundelik person id (Senim's demo links the account to it, as an administrator would).
    person_id: str
    position: str = ""

    @property
    def full_name(self) -> str:
        return f"{self.first_name} {self.last_name}"


DEMO_STAFF = (
    DemoStaff("director", "Омарова", "Бақыт", "female", ("EduStaff", "EduSchoolAdministrator"), "3000000000901",
              "Директор"),
    DemoStaff("psychologist", "Сейітова", "Гүлнар", "female", ("EduStaff",), "3000000000902", "Педагог-психолог"),
    DemoStaff("socped", "Ибраев", "Марат", "male", ("EduStaff",), "3000000000903", "Социальный педагог"),
    DemoStaff("teacher7a", "Бекова", "Айнұр", "female", ("EduStaff",), "3000000000904", "Учитель"),
    DemoStaff("teacher8b", "Ким", "Ольга", "female", ("EduStaff",), "3000000000905", "Учитель"),
)
#: The demo parent: the mother of the first pupil of 7А.
DEMO_PARENT = DemoStaff("parent", "Нұрланова", "Динара", "female", ("EduParent",), "3000000000951")


def female_surname(surname: str) -> str:
    """The feminine form of a Kazakh or Russian surname ending in -ов, -ев or -ин."""
    if surname.endswith(("ов", "ев", "ин")):
        return surname + "а"
    return surname


def _pupil(rng: random.Random, *, serial: int, class_index: int, grade: int, language: str) -> DemoPupil:
    female = rng.random() < 0.5
    kazakh = language == "kk" or rng.random() < 0.3
    if kazakh:
        surname = rng.choice(KK_SURNAMES_M)
        first = rng.choice(KK_NAMES_F if female else KK_NAMES_M)
        patronymic = rng.choice(KK_PATRONYMICS_F if female else KK_PATRONYMICS_M)
    else:
        surname = rng.choice(RU_SURNAMES_M)
        first = rng.choice(RU_NAMES_F if female else RU_NAMES_M)
        patronymic = rng.choice(RU_PATRONYMICS_F if female else RU_PATRONYMICS_M)
    if female:
        surname = female_surname(surname)
    birth = date(SCHOOL_YEAR - grade - 6, rng.randint(1, 12), rng.randint(1, 28))
    return DemoPupil(serial, class_index, surname, first, patronymic, birth, "female" if female else "male")


def demo_pupils(*, seed: int = SEED, per_class: int = PUPILS_PER_CLASS) -> Iterator[DemoPupil]:
    """The demo school's pupils, class by class, always the same for the same seed."""
    rng = random.Random(seed)
    serial = 0
    for class_index, (grade, _letter, language) in enumerate(CLASSES):
        for _ in range(per_class):
            serial += 1
            yield _pupil(rng, serial=serial, class_index=class_index, grade=grade, language=language)
