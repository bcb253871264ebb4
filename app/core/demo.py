"""Demo data: one region, district and school, several classes, ~60 pupils, parents, one user per role.

Only for development (``SENIM_DEMO_ALLOWED``). Names are invented, IINs are valid but fictitious, and
the demo TOTP secrets are fixed so that a newcomer's authenticator keeps working after a reset.
"""

from __future__ import annotations

from sqlalchemy import select

from app.auth.models import RoleAssignment, User
from app.auth.passwords import hash_password
from app.auth.roles import Role
from app.auth.services import hasher
from app.core import audit
from app.core.demo_people import (
    CLASSES,
    DEMO_PARENT,
    DEMO_PASSWORD,
    DEMO_SCHOOL_IDS,
    DEMO_STAFF,
    PUPILS_PER_CLASS,
    SCHOOL_YEAR,
    SEED,
    DemoPupil,
    demo_pupils,
)
from app.core.iin import make_iin
from app.core.models import District, Pupil, PupilGuardian, Region, School, SchoolClass
from app.extensions import db

#: Fixed base32 TOTP secrets for the demo accounts that need a second factor (demo only!).
DEMO_TOTP = {
    "admin": "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP",
    "director": "IRUXEZLDORXXEU3FMNZGK5CEIRUXEZLD",
    "psychologist": "KRSXG5CTMVRXEZLUKRSXG5CTMVRXEZLU",
    "socped": "MFRGGZDFMZTWQ2LKMFRGGZDFMZTWQ2LK",
}


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


def exists() -> bool:
    """True if the demo school is already there."""
    # "demo-school-1": the demo's id before it carried Kundelik-like numbers (a database made by an older version).
    ids = (DEMO_SCHOOL_IDS[0], "demo-school-1")
    return db.session.execute(select(School.id).where(School.kundelik_id.in_(ids))).first() is not None


def _user(username: str, full_name: str, role: Role, **scope: int | None) -> User:
    user = User(username=username, full_name=full_name, password_hash=hash_password(hasher(), DEMO_PASSWORD))
    if username in DEMO_TOTP:
        user.totp_secret = DEMO_TOTP[username]
    user.assignments.append(RoleAssignment(role=role.value, **scope))
    db.session.add(user)
    return user


def _make_pupil(spec: DemoPupil, school: School, school_class: SchoolClass) -> Pupil:
    pupil = Pupil(school_id=school.id, class_id=school_class.id, birth_date=spec.birth_date, sex=spec.sex,
                  kundelik_id=spec.kundelik_person_id)
    pupil.set_identity(last_name=spec.last_name, first_name=spec.first_name, patronymic=spec.patronymic,
                       iin=make_iin(spec.birth_date, spec.sex, 1000 + spec.serial))
    db.session.add(pupil)
    return pupil


def create(*, reset: bool = False, pupils_per_class: int = PUPILS_PER_CLASS, seed: int = SEED) -> None:
    """Create the demo data in one transaction.

    Pupils carry their (local) Kundelik person id, as a roster import or sync would leave them, and the staff and
    parent accounts are linked to their Kundelik persons, as an administrator would link them
    (``flask kundelik link``): the local Kundelik server (``kundelik_local``) serves the same people.
    """
    if reset:
        for table in reversed(db.metadata.sorted_tables):
            db.session.execute(table.delete())
    region = Region(name_kk="Абай облысы", name_ru="Абайская область")
    district = District(region=region, name_kk="Семей қаласы", name_ru="город Семей")
    school = School(district=district, kundelik_id=DEMO_SCHOOL_IDS[0], default_language="kk",
                    name_kk="№ 7 жалпы білім беретін мектеп", name_ru="Общеобразовательная школа № 7")
    other = School(district=district, kundelik_id=DEMO_SCHOOL_IDS[1], default_language="ru",
                   name_kk="№ 12 мектеп-гимназия", name_ru="Школа-гимназия № 12")
    db.session.add_all([region, district, school, other])
    db.session.flush()
    classes = [SchoolClass(school_id=school.id, grade=g, letter=letter, school_year=SCHOOL_YEAR, language=lang)
               for g, letter, lang in CLASSES]
    db.session.add_all(classes)
    db.session.flush()

    pupils = [_make_pupil(spec, school, classes[spec.class_index])
              for spec in demo_pupils(seed=seed, per_class=pupils_per_class)]
    db.session.flush()

    staff = {person.login: person for person in DEMO_STAFF}
    _user("admin", "Сәуле Ахметова", Role.ADMIN)
    _user("director", staff["director"].full_name, Role.DIRECTOR, school_id=school.id)
    _user("psychologist", staff["psychologist"].full_name, Role.PSYCHOLOGIST, school_id=school.id)
    _user("socped", staff["socped"].full_name, Role.SOCIAL_PEDAGOGUE, school_id=school.id)
    _user("teacher7a", staff["teacher7a"].full_name, Role.CLASS_TEACHER, school_id=school.id,
          class_id=classes[1].id)
    _user("teacher8b", staff["teacher8b"].full_name, Role.CLASS_TEACHER, school_id=school.id,
          class_id=classes[2].id)
    _user("district", "Ерболат Жақсылықов", Role.DISTRICT_OFFICER, district_id=district.id)
    _user("region", "Людмила Попова", Role.REGION_OFFICER, region_id=region.id)
    parent = _user("parent", DEMO_PARENT.full_name, Role.PARENT)
    child = next(p for p in pupils if p.class_id == classes[1].id)
    db.session.flush()
    db.session.add(PupilGuardian(pupil_id=child.id, user_id=parent.id, relation="mother"))
    pupil_user = User(username="pupil", password_hash=hash_password(hasher(), DEMO_PASSWORD), pupil_id=child.id)
    pupil_user.assignments.append(RoleAssignment(role=Role.PUPIL.value, school_id=school.id))
    db.session.add(pupil_user)
    for person in (*DEMO_STAFF, DEMO_PARENT):
        user = db.session.execute(select(User).where(User.username == person.login)).scalar_one()
        user.kundelik_person_id = person.person_id
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
