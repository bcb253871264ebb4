"""Demo data: one region, district and school, several classes, ~60 pupils, parents, one user per role.

Only for development (``SENIM_DEMO_ALLOWED``). Names are invented, IINs are valid but fictitious, and
the demo TOTP secrets are fixed so that a newcomer's authenticator keeps working after a reset.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from datetime import date

from sqlalchemy import select

from app.auth.models import RoleAssignment, User
from app.auth.passwords import hash_password
from app.auth.roles import Role
from app.auth.services import hasher
from app.core import audit
from app.core.iin import make_iin
from app.core.models import District, Pupil, PupilGuardian, Region, School, SchoolClass
from app.extensions import db

#: Printed by `flask demo create`; demo data is refused outside development (SENIM_DEMO_ALLOWED).
DEMO_PASSWORD = "tulpar-demo-kokpar-2026"  # noqa: S105  (a published demo sign-in, not a secret)
SCHOOL_YEAR = 2026

#: Fixed base32 TOTP secrets for the demo accounts that need a second factor (demo only!).
DEMO_TOTP = {
    "admin": "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP",
    "director": "IRUXEZLDORXXEU3FMNZGK5CEIRUXEZLD",
    "psychologist": "KRSXG5CTMVRXEZLUKRSXG5CTMVRXEZLU",
    "socped": "MFRGGZDFMZTWQ2LKMFRGGZDFMZTWQ2LK",
}

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

CLASSES = [(5, "А", "kk"), (7, "А", "kk"), (8, "Б", "ru"), (9, "Ә", "kk"), (10, "А", "ru")]


DEMO_SCHOOL_IDS = ("demo-school-1", "demo-school-2")


def is_demo_sign_in(user: User | None, password: str) -> bool:
    """True for the published demo password, or an account of the demo data (a demo second-factor secret, a role
    or a pupil in a demo school): production refuses these at sign-in, whatever the database holds."""
    if password == DEMO_PASSWORD:
        return True
    if user is None:
        return False
    if user.totp_secret_ct is not None and user.totp_secret in DEMO_TOTP.values():
        return True
    schools = [a.school for a in user.assignments if a.school is not None]
    if user.pupil is not None:
        schools.append(user.pupil.school)
    return any(school.kundelik_id in DEMO_SCHOOL_IDS for school in schools)


#: What feature packages add after the demo data is created (name -> function returning a line to print), e.g.
#: the guidance library's starter articles. Registered by the packages, so the core names none of them.
AFTER_CREATE: dict[str, Callable[[], str]] = {}


def register_after_create(name: str, step: Callable[[], str]) -> None:
    """Run ``step`` after ``flask demo create`` (once per name)."""
    AFTER_CREATE[name] = step


def exists() -> bool:
    """True if the demo school is already there."""
    return db.session.execute(select(School.id).where(School.kundelik_id == "demo-school-1")).first() is not None


def _female(surname: str) -> str:
    if surname.endswith(("ов", "ев", "ин")):
        return surname + "а"
    return surname


def _user(username: str, full_name: str, role: Role, **scope: int | None) -> User:
    user = User(username=username, full_name=full_name, password_hash=hash_password(hasher(), DEMO_PASSWORD))
    if username in DEMO_TOTP:
        user.totp_secret = DEMO_TOTP[username]
    user.assignments.append(RoleAssignment(role=role.value, **scope))
    db.session.add(user)
    return user


def _make_pupil(rng: random.Random, school: School, school_class: SchoolClass, serial: int) -> Pupil:
    female = rng.random() < 0.5
    kazakh = school_class.language == "kk" or rng.random() < 0.3
    if kazakh:
        surname = rng.choice(KK_SURNAMES_M)
        first = rng.choice(KK_NAMES_F if female else KK_NAMES_M)
        patronymic = rng.choice(KK_PATRONYMICS_F if female else KK_PATRONYMICS_M)
    else:
        surname = rng.choice(RU_SURNAMES_M)
        first = rng.choice(RU_NAMES_F if female else RU_NAMES_M)
        patronymic = rng.choice(RU_PATRONYMICS_F if female else RU_PATRONYMICS_M)
    if female:
        surname = _female(surname)
    birth_year = SCHOOL_YEAR - school_class.grade - 6
    birth = date(birth_year, rng.randint(1, 12), rng.randint(1, 28))
    sex = "female" if female else "male"
    pupil = Pupil(school_id=school.id, class_id=school_class.id, birth_date=birth, sex=sex)
    pupil.set_identity(last_name=surname, first_name=first, patronymic=patronymic,
                       iin=make_iin(birth, sex, 1000 + serial))
    db.session.add(pupil)
    return pupil


def create(*, reset: bool = False, pupils_per_class: int = 12, seed: int = 2026) -> None:
    """Create the demo data in one transaction."""
    if reset:
        for table in reversed(db.metadata.sorted_tables):
            db.session.execute(table.delete())
    rng = random.Random(seed)
    region = Region(name_kk="Абай облысы", name_ru="Абайская область")
    district = District(region=region, name_kk="Семей қаласы", name_ru="город Семей")
    school = School(district=district, kundelik_id="demo-school-1", default_language="kk",
                    name_kk="№ 7 жалпы білім беретін мектеп", name_ru="Общеобразовательная школа № 7")
    other = School(district=district, kundelik_id="demo-school-2", default_language="ru",
                   name_kk="№ 12 мектеп-гимназия", name_ru="Школа-гимназия № 12")
    db.session.add_all([region, district, school, other])
    db.session.flush()
    classes = [SchoolClass(school_id=school.id, grade=g, letter=letter, school_year=SCHOOL_YEAR, language=lang)
               for g, letter, lang in CLASSES]
    db.session.add_all(classes)
    db.session.flush()

    serial = 0
    pupils: list[Pupil] = []
    for school_class in classes:
        for _ in range(pupils_per_class):
            serial += 1
            pupils.append(_make_pupil(rng, school, school_class, serial))
    db.session.flush()

    _user("admin", "Сәуле Ахметова", Role.ADMIN)
    _user("director", "Бақыт Омарова", Role.DIRECTOR, school_id=school.id)
    _user("psychologist", "Гүлнар Сейітова", Role.PSYCHOLOGIST, school_id=school.id)
    _user("socped", "Марат Ибраев", Role.SOCIAL_PEDAGOGUE, school_id=school.id)
    _user("teacher7a", "Айнұр Бекова", Role.CLASS_TEACHER, school_id=school.id, class_id=classes[1].id)
    _user("teacher8b", "Ольга Ким", Role.CLASS_TEACHER, school_id=school.id, class_id=classes[2].id)
    _user("district", "Ерболат Жақсылықов", Role.DISTRICT_OFFICER, district_id=district.id)
    _user("region", "Людмила Попова", Role.REGION_OFFICER, region_id=region.id)
    parent = _user("parent", "Динара Нұрланова", Role.PARENT)
    child = next(p for p in pupils if p.class_id == classes[1].id)
    db.session.flush()
    db.session.add(PupilGuardian(pupil_id=child.id, user_id=parent.id, relation="mother"))
    pupil_user = User(username="pupil", password_hash=hash_password(hasher(), DEMO_PASSWORD), pupil_id=child.id)
    pupil_user.assignments.append(RoleAssignment(role=Role.PUPIL.value, school_id=school.id))
    db.session.add(pupil_user)
    db.session.flush()
    audit.record(None, audit.AuditAction.DEMO_CREATED, details={"pupils": len(pupils)})
    db.session.commit()


DEMO_ACCOUNTS = [
    ("admin", "Administrator (all schools)"),
    ("director", "School administrator, school № 7"),
    ("psychologist", "School psychologist, school № 7"),
    ("socped", "Social pedagogue, school № 7"),
    ("teacher7a", "Class teacher of 7А"),
    ("teacher8b", "Class teacher of 8Б"),
    ("parent", "Parent of a 7А pupil"),
    ("pupil", "Pupil of 7А"),
    ("district", "District education officer"),
    ("region", "Region education officer"),
]


def credentials_text() -> str:
    """The demo sign-ins, for the terminal."""
    lines = ["", "Demo sign-ins (password for all: " + DEMO_PASSWORD + "):"]
    for username, description in DEMO_ACCOUNTS:
        line = f"  {username:<13} {description}"
        if username in DEMO_TOTP:
            line += f"\n  {'':<13} TOTP secret {DEMO_TOTP[username]}  (oathtool --totp -b {DEMO_TOTP[username]})"
        lines.append(line)
    return "\n".join(lines) + "\n"
