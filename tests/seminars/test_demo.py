"""``flask demo create`` makes the demo seminars (an online one for parents and one in person for staff coming up,
one held with attendance and materials) in the demo school, once: running it again adds none."""

from __future__ import annotations

from sqlalchemy import func, select

from app.auth.models import User
from app.core import demo
from app.core.audit import AuditAction, AuditEntry
from app.core.demo_people import DEMO_SCHOOL_IDS
from app.core.models import School, utcnow
from app.extensions import db
from app.seminars import services
from app.seminars.models import Seminar, SeminarRegistration
from tests.factories import login


def _seminars() -> list[Seminar]:
    return list(db.session.execute(select(Seminar).order_by(Seminar.starts_at)).scalars())


def _demo_user(username: str) -> User:
    return db.session.execute(select(User).where(User.username == username)).scalar_one()


def test_demo_create_makes_the_seminars_once(app, app_ctx, monkeypatch):
    monkeypatch.setitem(app.config, "SENIM_DEMO_ALLOWED", True)
    monkeypatch.setattr(demo, "AFTER_CREATE", {"seminars": demo.AFTER_CREATE["seminars"]})  # not the library
    demo.create(pupils_per_class=1)
    runner = app.test_cli_runner()
    result = runner.invoke(args=["demo", "create"])
    assert result.exit_code == 0 and "demo seminars: 3 created" in result.output

    school = db.session.execute(select(School).where(School.kundelik_id == DEMO_SCHOOL_IDS[0])).scalar_one()
    held, parents, staff = _seminars()
    now = utcnow()
    assert {s.school_id for s in (held, parents, staff)} == {school.id}
    assert (parents.audience, parents.starts_at > now, parents.place) == ("parents", True, "")
    assert parents.join_url.startswith("https://") and not services.https_problem(parents.online_url)
    assert (staff.audience, staff.starts_at > now, staff.online_url, bool(staff.place)) == ("staff", True, "", True)
    assert held.ends_at < now and held.materials and "150" in held.materials
    marks = {r.user.username: r.attended for r in services.registrations_of(held)}
    assert marks == {"parent": True, "teacher7a": True, "socped": True, "teacher8b": False}
    assert held.seats_taken == 4 and staff.seats_taken == 1 and parents.seats_taken == 0
    assert all(s.created_by.username == "psychologist" for s in (held, parents, staff))

    again = runner.invoke(args=["demo", "create"])
    assert again.exit_code == 0 and "demo seminars: already there" in again.output
    assert len(_seminars()) == 3
    assert db.session.execute(select(func.count()).select_from(SeminarRegistration)).scalar_one() == 5
    assert db.session.execute(select(func.count()).select_from(AuditEntry).where(
        AuditEntry.action == AuditAction.SEMINAR_CREATED.value)).scalar_one() == 3

    # A newcomer sees them: the parent the seminar to come and the materials of the one attended, the
    # psychologist all three to organise.
    parent = app.test_client()
    login(parent, _demo_user("parent"), demo.DEMO_PASSWORD)
    page = parent.get("/seminars").get_data(as_text=True)
    assert parents.title in page and held.title in page and staff.title not in page
    assert "скриншот" in parent.get(f"/seminars/{held.uuid}").get_data(as_text=True)
    organiser = app.test_client()
    login(organiser, _demo_user("psychologist"), demo.DEMO_PASSWORD)
    page = organiser.get("/seminars/organise").get_data(as_text=True)
    assert all(s.title in page for s in (held, parents, staff))
