"""Small factories and the sign-in helper. Each factory sets only what a test is about."""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import date

import pyotp
from flask.testing import FlaskClient
from sqlalchemy import event
from werkzeug.test import TestResponse

from app.auth.models import RoleAssignment, User
from app.auth.passwords import hash_password
from app.auth.roles import Role
from app.auth.services import hasher
from app.core.iin import make_iin
from app.core.models import District, Pupil, PupilGuardian, Region, School, SchoolClass
from app.extensions import db

PASSWORD = "жасыл алма терезе астында"
SECRET_MARKER = "ZZ-SECRET"

_counter = {"n": 0}


def _next() -> int:
    _counter["n"] += 1
    return _counter["n"]


def make_region() -> Region:
    region = Region(name_kk=f"Облыс {_next()}", name_ru=f"Область {_counter['n']}")
    db.session.add(region)
    db.session.flush()
    return region


def make_district(region: Region | None = None) -> District:
    district = District(region=region or make_region(), name_kk=f"Аудан {_next()}", name_ru=f"Район {_counter['n']}")
    db.session.add(district)
    db.session.flush()
    return district


def make_school(district: District | None = None) -> School:
    n = _next()
    school = School(district=district or make_district(), name_kk=f"№ {n} мектеп", name_ru=f"Школа № {n}")
    db.session.add(school)
    db.session.flush()
    return school


def make_class(school: School | None = None, *, grade: int = 7, letter: str = "А", year: int = 2026) -> SchoolClass:
    school_class = SchoolClass(school_id=(school or make_school()).id, grade=grade, letter=letter,
                               school_year=year, language="kk")
    db.session.add(school_class)
    db.session.flush()
    return school_class


def _unused_iin(birth_date: date, sex: str, serial: int) -> str:
    """A valid IIN no pupil has yet (make_iin moves past serials without a check digit, which can
    land on the next pupil's serial)."""
    from sqlalchemy import select

    from app.core.encryption import blind_index

    while True:
        iin = make_iin(birth_date, sex, serial % 10_000)
        if db.session.execute(select(Pupil.id).where(Pupil.iin_bidx == blind_index(iin, scope="iin"))).first() is None:
            return iin
        serial += 1


def make_pupil(school_class: SchoolClass | None = None, *, last_name: str | None = None,
               first_name: str = "Айгерім", birth_date: date = date(2013, 4, 5), sex: str = "female",
               iin: str | None = "auto") -> Pupil:
    school_class = school_class or make_class()
    n = _next()
    pupil = Pupil(school_id=school_class.school_id, class_id=school_class.id, birth_date=birth_date, sex=sex)
    pupil.set_identity(
        last_name=last_name or f"{SECRET_MARKER}-Сейітова{n}", first_name=first_name, patronymic="Маратқызы",
        iin=_unused_iin(birth_date, sex, n) if iin == "auto" else iin,
    )
    db.session.add(pupil)
    db.session.flush()
    return pupil


def make_user(role: Role | None = None, *, username: str | None = None, school: School | None = None,
              school_class: SchoolClass | None = None, district: District | None = None,
              region: Region | None = None, pupil: Pupil | None = None, children: tuple[Pupil, ...] = (),
              mfa: bool = True, password: str = PASSWORD) -> User:
    """A user with one role assignment; staff who need a second factor get a TOTP secret enrolled."""
    user = User(username=username or f"user{_next()}", full_name="Тест Пайдаланушы",
                password_hash=hash_password(hasher(), password), pupil_id=pupil.id if pupil else None)
    if role is not None:
        user.assignments.append(RoleAssignment(
            role=role.value, school_id=(school.id if school else (school_class.school_id if school_class else None)),
            class_id=school_class.id if school_class else None,
            district_id=district.id if district else None, region_id=region.id if region else None,
        ))
    if mfa and user.requires_mfa:
        user.totp_secret = pyotp.random_base32()
    db.session.add(user)
    db.session.flush()
    for child in children:
        db.session.add(PupilGuardian(pupil_id=child.id, user_id=user.id, relation="mother"))
    db.session.flush()
    return user


@dataclass
class World:
    """security.md §7's fixtures."""

    s1: School
    s2: School
    c7a: SchoolClass
    c8b: SchoolClass
    p1: Pupil
    p2: Pupil
    p3: Pupil
    users: dict[str, User] = field(default_factory=dict)

    def __getattr__(self, name: str) -> User:
        users = self.__dict__.get("users", {})
        if name in users:
            return users[name]
        raise AttributeError(name)


def build_world() -> World:
    region = make_region()
    d1, d2 = make_district(region), make_district(region)
    s1, s2 = make_school(d1), make_school(d2)
    c7a, c8b = make_class(s1, grade=7, letter="А"), make_class(s1, grade=8, letter="Б")
    c_s2 = make_class(s2, grade=7, letter="А")
    p1, p2, p3 = make_pupil(c7a), make_pupil(c8b), make_pupil(c_s2)
    users = {
        "admin": make_user(Role.ADMIN, username="admin1"),
        "a1": make_user(Role.DIRECTOR, username="director1", school=s1),
        "psy1": make_user(Role.PSYCHOLOGIST, username="psy1", school=s1),
        "psy2": make_user(Role.PSYCHOLOGIST, username="psy2", school=s1),
        "psy3": make_user(Role.PSYCHOLOGIST, username="psy3", school=s2),
        "soc1": make_user(Role.SOCIAL_PEDAGOGUE, username="soc1", school=s1),
        "t7a": make_user(Role.CLASS_TEACHER, username="t7a", school_class=c7a),
        "t8b": make_user(Role.CLASS_TEACHER, username="t8b", school_class=c8b),
        "r1": make_user(Role.PARENT, username="parent1", children=(p1,)),
        "pupil1": make_user(Role.PUPIL, username="pupil1", pupil=p1),
        "d1": make_user(Role.DISTRICT_OFFICER, username="district1", district=d1),
        "reg1": make_user(Role.REGION_OFFICER, username="region1", region=region),
        "norole": make_user(None, username="norole"),
    }
    db.session.commit()
    return World(s1=s1, s2=s2, c7a=c7a, c8b=c8b, p1=p1, p2=p2, p3=p3, users=users)


def csrf_token(client: FlaskClient, path: str = "/login") -> str:
    """The CSRF token of the form on ``path``."""
    body = client.get(path).get_data(as_text=True)
    match = re.search(r'name="(?:[\w-]+-)?csrf_token"[^>]*value="([^"]+)"', body) or re.search(
        r'value="([^"]+)"[^>]*name="(?:[\w-]+-)?csrf_token"', body)
    assert match, f"no CSRF token on {path}"
    return match.group(1)


def totp_now(user: User) -> str:
    """The current code of the user's authenticator."""
    return pyotp.TOTP(user.totp_secret).now()


def login(client: FlaskClient, user: User, password: str = PASSWORD, *, second_factor: bool = True) -> TestResponse:
    """Sign in through the real form (and the second factor when the role needs one)."""
    token = csrf_token(client, "/login")
    response = client.post("/login", data={"username": user.username, "password": password, "csrf_token": token})
    if second_factor and user.requires_mfa and user.mfa_enrolled and response.status_code == 302:
        token = csrf_token(client, "/mfa")
        response = client.post("/mfa", data={"code": totp_now(user), "csrf_token": token})
    return response


def post(client: FlaskClient, path: str, data: dict | None = None, *, form_page: str | None = None) -> TestResponse:
    """POST with the CSRF token taken from ``form_page`` (default: the same path)."""
    payload = dict(data or {})
    payload.setdefault("csrf_token", csrf_token(client, form_page or path))
    return client.post(path, data=payload)


@contextmanager
def sql_statements() -> Iterator[list[str]]:
    """The SQL statements sent to the database inside the block (a query-count pin)."""
    seen: list[str] = []

    def count(_conn: object, _cursor: object, statement: str, *_args: object) -> None:
        seen.append(statement)

    event.listen(db.engine, "before_cursor_execute", count)
    try:
        yield seen
    finally:
        event.remove(db.engine, "before_cursor_execute", count)
