"""The demo's seminars (``flask demo create``): in demo school № 7, one online seminar for parents and one in
person for staff coming up, and one held two weeks ago with attendance marked and its materials, so that a
newcomer sees the whole feature. A seminar is held in one language, so each text is written in its seminar's
language (Kazakh or Russian, as the demo school works). Fixed ids make the step idempotent: a seminar already there
is left as it is."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime, time, timedelta

from sqlalchemy import select

from app.auth.models import User
from app.core import audit
from app.core.audit import AuditAction
from app.core.demo_people import DEMO_SCHOOL_IDS
from app.core.models import School, utcnow
from app.extensions import db
from app.seminars.models import Audience, Seminar, SeminarRegistration
from app.seminars.services import from_local, to_local

_NAMESPACE = uuid.UUID("6f1d3c52-8a0e-4c59-9d3b-2f7e5a1c0b44")

HELPLINES_KK = ("Көмек керек болса: 150 (балалар мен жасөспірімдерге арналған тегін сенім телефоны, тәулік бойы), "
                "111 (отбасы, әйелдер мен балалар құқықтарын қорғау байланыс орталығы), 112 (шұғыл көмек).")


@dataclass(frozen=True)
class DemoSeminar:
    """One demo seminar: its texts, when it is (days from today, local start time) and who registered."""

    key: str
    title: str
    description: str
    audience: Audience
    language: str
    days_from_today: int
    starts: time
    online_url: str = ""
    place: str = ""
    capacity: int = 40
    materials: str = ""
    #: (demo login, attended): attended is None for a seminar still to come.
    registered: tuple[tuple[str, bool | None], ...] = ()

    @property
    def uuid(self) -> str:
        return str(uuid.uuid5(_NAMESPACE, f"demo-seminar:{self.key}"))


DEMO_SEMINARS = (
    DemoSeminar(
        key="parents-online", language="kk", audience=Audience.PARENTS, days_from_today=5, starts=time(19, 0),
        title="Жасөспіріммен қалай сөйлесуге болады",
        description=("Ата-аналарға арналған онлайн кездесу. Мектеп психологы жасөспірімнің көңіл күйі өзгергенін "
                     "қалай байқауға, оны қалай тыңдауға және қашан маманға жүгіну керектігін айтып береді.\n\n"
                     "- Кездесу бір сағатқа созылады.\n"
                     "- Сұрақтарыңызды алдын ала жазып қойыңыз: соңында оларға жауап береміз."),
        online_url="https://meet.example.org/senim-demo-ata-analar", capacity=100),
    DemoSeminar(
        key="staff-in-person", language="ru", audience=Audience.STAFF, days_from_today=8, starts=time(15, 0),
        title="Ранние признаки стресса у школьников: что может заметить учитель",
        description=("Семинар для классных руководителей и учителей. Разберём, какие перемены в поведении и учёбе "
                     "стоит заметить, как начать разговор с учеником и когда передать случай школьному "
                     "психологу.\n\n- Возьмите с собой вопросы по своему классу (без фамилий учеников)."),
        place="Актовый зал, 2 этаж", capacity=30, registered=(("teacher8b", None),)),
    DemoSeminar(
        key="cyberbullying-held", language="kk", audience=Audience.BOTH, days_from_today=-14, starts=time(17, 0),
        title="Кибербуллинг: ата-ана мен мұғалім не істей алады",
        description=("Ата-аналар мен мұғалімдерге арналған семинар: кибербуллингті қалай тануға, балаға қалай "
                     "қолдау көрсетуге және мектеппен бірге қалай әрекет етуге болады."),
        place="Мектеп кітапханасы", capacity=40,
        materials=("Семинардың негізгі ойлары:\n\n"
                   "- Бала не болғанын айтса, сабырмен тыңдаңыз және оны кінәламаңыз.\n"
                   "- Хабарламалардың скриншотын сақтаңыз, бірақ қорлаған адамға жауап бермеңіз.\n"
                   "- Сынып жетекшісіне және мектеп психологына хабарлаңыз: бірге әрекет етеміз.\n\n"
                   + HELPLINES_KK),
        registered=(("parent", True), ("teacher7a", True), ("socped", True), ("teacher8b", False))),
)


def create_demo_seminars(now: datetime | None = None) -> str:
    """Add the demo seminars that are not there yet (by their fixed ids), audited, in one transaction; returns a
    line for the terminal."""
    now = now or utcnow()
    school = db.session.execute(select(School).where(School.kundelik_id == DEMO_SCHOOL_IDS[0])).scalar_one_or_none()
    organiser = db.session.execute(select(User).where(User.username == "psychologist")).scalar_one_or_none()
    if school is None or organiser is None:
        return "demo seminars: no demo school, none created"
    there = set(db.session.execute(select(Seminar.uuid).where(
        Seminar.uuid.in_([s.uuid for s in DEMO_SEMINARS]))).scalars())
    today = to_local(now).date()
    created = 0
    for spec in DEMO_SEMINARS:
        if spec.uuid in there:
            continue
        starts_at = from_local(datetime.combine(today + timedelta(days=spec.days_from_today), spec.starts))
        users = {u.username: u for u in db.session.execute(select(User).where(
            User.username.in_([login for login, _attended in spec.registered]))).scalars()}
        registrations = [(users[login], attended) for login, attended in spec.registered if login in users]
        seminar = Seminar(
            uuid=spec.uuid, title=spec.title, description=spec.description, audience=spec.audience.value,
            school_id=school.id, starts_at=starts_at, ends_at=starts_at + timedelta(hours=1),
            online_url=spec.online_url, place=spec.place, capacity=spec.capacity, seats_taken=len(registrations),
            registration_closes_at=starts_at - timedelta(hours=2), language=spec.language,
            materials=spec.materials, created_by_id=organiser.id, created_at=min(now, starts_at - timedelta(days=7)),
            updated_by_id=organiser.id, updated_at=min(now, starts_at + timedelta(hours=2)))
        db.session.add(seminar)
        db.session.flush()
        for user, attended in registrations:
            db.session.add(SeminarRegistration(seminar_id=seminar.id, user_id=user.id, attended=attended,
                                               registered_at=min(now, starts_at - timedelta(days=3))))
        audit.record(None, AuditAction.SEMINAR_CREATED, school_id=school.id, object_type="seminar",
                     object_id=seminar.uuid, details={"demo": True})
        created += 1
    db.session.commit()
    return f"demo seminars: {created} created" if created else "demo seminars: already there"
