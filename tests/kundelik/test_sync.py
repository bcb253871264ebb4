"""The roster sync against the local Kundelik: a first run creates everything, a second changes nothing, a class
move, a departed pupil, a new parent, the API failing mid-way, an expired token, retries, may-match and IIN."""

from __future__ import annotations

import time
from datetime import date, timedelta

import pytest
from sqlalchemy import select

from app.auth.models import RoleAssignment, User
from app.auth.permissions import reads_pupil_data
from app.auth.roles import Role
from app.core.audit import AuditAction
from app.core.models import Pupil, PupilGuardian, PupilSource, SchoolClass, pupil_name_index, utcnow
from app.extensions import db
from app.kundelik import fetch, sync_write
from app.kundelik.client import KundelikRefused, KundelikUnavailable
from app.kundelik.models import KundelikToken
from kundelik_local.data import Person, group_id
from kundelik_local.server import Grant
from tests.factories import make_iin, make_pupil, make_user
from tests.kundelik.sync_support import DIRECTOR_PERSON as DIRECTOR
from tests.kundelik.sync_support import SCOPE, entries, keep_token, link_school, run, totals

TEACHER_7A = "3000000000904"


@pytest.fixture
def school(world, kundelik):
    link_school(world.s1)
    keep_token(kundelik, world.a1)
    return world.s1


def _kundelik_pupils() -> list[Pupil]:
    return list(db.session.execute(select(Pupil).where(Pupil.kundelik_id.is_not(None))).scalars())


def test_the_first_sync_creates_classes_pupils_parents_and_class_teachers(school, world):
    done = run(school, world.a1)

    assert done.status == "succeeded", done.report
    counts = done.report["counts"]
    assert counts["classes_new"] == 3  # 5А, 9Ә, 10А; 7А and 8Б exist and are found by grade and letter
    assert counts["pupils_new"] == 60 and counts["pupils_left"] == 0
    assert counts["parents_new"] == 60 and counts["parents_linked"] == 60
    assert counts["teachers_new"] == 3 and counts["class_teachers_assigned"] == 3
    assert done.report["skipped_groups"] == 1  # the subgroup of 7А
    pupils = _kundelik_pupils()
    assert len(pupils) == 60 and {p.source for p in pupils} == {PupilSource.KUNDELIK.value}
    assert all(isinstance(p.birth_date, date) for p in pupils)
    classes = {c.label: c for c in db.session.execute(select(SchoolClass).where(
        SchoolClass.school_id == school.id)).scalars()}
    assert classes["7А"].id == world.c7a.id and classes["7А"].kundelik_id == str(group_id(1))
    assert world.p1.active and world.p2.active, "pupils that never came from Kundelik are left alone"
    teacher = db.session.execute(select(User).where(User.kundelik_person_id == TEACHER_7A)).scalar_one()
    assert [(a.role, a.class_id) for a in teacher.assignments] == [("class_teacher", world.c7a.id)]
    assert not teacher.requires_mfa and teacher.password_hash.startswith("!")
    parent_links = db.session.execute(select(PupilGuardian).join(Pupil).where(Pupil.kundelik_id.is_not(None))).all()
    assert len(parent_links) == 60
    [entry] = entries(AuditAction.KUNDELIK_SYNC)
    assert entry["pupils_new"] == 60 and entry["changes"] > 0 and entry["via"] == "cli"
    assert len(entry["granted"]) == 3


def test_a_second_sync_changes_nothing(school, world):
    run(school, world.a1)
    before = totals()

    again = run(school, world.a1)

    assert again.status == "succeeded"
    assert again.report["changes"] == 0
    assert again.report["counts"]["pupils_unchanged"] == 60
    pupils, links, users, audit_rows = totals()
    assert (pupils, links, users) == before[:3]
    assert audit_rows == before[3] + 1  # the run's own entry, nothing else


def test_a_class_move_and_a_departed_pupil(school, world, kundelik):
    run(school, world.a1)
    moved_id, departed_id = kundelik.local.world.next_term()
    departed = db.session.execute(select(Pupil).where(Pupil.kundelik_id == str(departed_id))).scalar_one()
    links_before = len(departed.guardian_links)

    done = run(school, world.a1)

    counts = done.report["counts"]
    assert counts["pupils_moved"] == 1 and counts["pupils_left"] == 1 and done.report["changes"] == 2
    moved = db.session.execute(select(Pupil).where(Pupil.kundelik_id == str(moved_id))).scalar_one()
    assert moved.school_class.label == "9Ә"
    assert done.report["moved"] == [{"pupil": moved.id, "from": "8Б", "to": "9Ә"}]
    db.session.refresh(departed)
    assert not departed.active and departed.left_at is not None
    assert len(departed.guardian_links) == links_before, "records are kept"
    assert done.report["left"] == [{"pupil": departed.id, "class": "10А"}]
    assert run(school, world.a1).report["changes"] == 0


def test_a_new_parent_is_added_and_linked(school, world, kundelik):
    run(school, world.a1)
    here = kundelik.local.world
    child = here.persons[here.groups[group_id(1)].members[0]]
    father = here.add_person(Person(3000000009999, "father-1", child.last_name, "Асқар", "", "male",
                                    ("EduParent",), [int(school.kundelik_id)]))
    here.link(father, child)

    done = run(school, world.a1)

    assert done.report["counts"]["parents_new"] == 1 and done.report["counts"]["parents_linked"] == 1
    account = db.session.execute(select(User).where(User.kundelik_person_id == "3000000009999")).scalar_one()
    assert account.roles == {Role.PARENT}
    [link] = account.guardian_links
    assert link.pupil.kundelik_id == str(child.id) and link.relation == "father"


def test_the_api_failing_mid_way_commits_nothing(school, world, kundelik):
    before = totals()

    def break_kundelik(step: str, done: int, _total: int) -> None:
        if step == "pupils" and done == 10:
            kundelik.local.maintenance = True  # 503 with the HTML page from now on, retries included

    failed = run(school, world.a1, echo=break_kundelik)

    assert failed.status == "failed" and failed.error == "unavailable"
    assert _kundelik_pupils() == []
    assert totals()[:3] == before[:3]
    assert [e["reason"] for e in entries(AuditAction.KUNDELIK_SYNC_FAILED)] == ["unavailable"]
    assert entries(AuditAction.KUNDELIK_SYNC) == []


def test_an_expired_token_stops_with_a_clear_reason_and_is_dropped(school, world, kundelik):
    kundelik.local.expire_tokens()

    failed = run(school, world.a1)

    assert failed.status == "failed" and failed.error == "unauthorized"
    assert _kundelik_pupils() == []
    assert db.session.execute(select(KundelikToken)).first() is None, "the refused token is not kept"
    assert run(school, world.a1).error == "no_token"


def test_a_school_without_a_kundelik_id_is_refused(world, kundelik):
    keep_token(kundelik, world.a1)
    assert run(world.s1, world.a1).error == "not_linked"


def test_busy_answers_are_retried_and_other_errors_are_not(app_ctx):
    calls: list[int] = []

    def busy_twice() -> str:
        calls.append(1)
        if len(calls) <= 2:
            raise KundelikRefused("HTTP 429", kind="apiRequestLimit", status=429)
        return "ok"

    assert fetch.call(busy_twice) == "ok" and len(calls) == 3

    def refused() -> str:
        calls.append(1)
        raise KundelikRefused("HTTP 400", kind="parameterInvalid", status=400)

    calls.clear()
    with pytest.raises(KundelikRefused):
        fetch.call(refused)
    assert len(calls) == 1

    def down() -> str:
        calls.append(1)
        raise KundelikUnavailable("HTTP 503", status=503)

    calls.clear()
    with pytest.raises(KundelikUnavailable):
        fetch.call(down)
    assert len(calls) == 4  # the first try and three retries


def test_a_pupil_senim_holds_without_a_kundelik_id_is_listed_to_check_not_doubled(school, world, kundelik):
    here = kundelik.local.world
    first = here.persons[here.groups[group_id(1)].members[0]]
    twin = make_pupil(world.c7a)
    twin.set_identity(last_name=first.last_name, first_name=first.first_name, patronymic=None, iin=None)
    twin.birth_date = first.birthday
    db.session.commit()

    done = run(school, world.a1)

    assert done.report["counts"]["pupils_may_match"] == 1 and done.report["counts"]["pupils_new"] == 59
    assert done.report["may_match"] == [{"class": "7А", "person": str(first.id)}]
    assert twin.kundelik_id is None and twin.active
    assert twin.name_bidx == pupil_name_index(school.id, first.last_name, first.first_name)
    assert run(school, world.a1).report["changes"] == 0


def test_a_pupil_is_found_by_iin_when_kundelik_gives_one(school, world):
    holder = make_pupil(world.c7a)
    iin = make_iin(date(2014, 2, 3), "male", 9901)
    holder.set_identity(last_name="Ахметов", first_name="Ерлан", patronymic=None, iin=iin)
    holder.birth_date, holder.sex = date(2014, 2, 3), "male"
    db.session.commit()
    person = fetch.person({"id_str": "3000000007777", "lastName": "Ахметов", "firstName": "Ерлан", "sex": "Male",
                           "iin": iin, "birthday": f"{holder.birth_date.isoformat()}T00:00:00"})
    data = fetch.KSchool(school.kundelik_id, "№ 7", [fetch.KClass(str(group_id(1)), 7, "А", 2026, [person])])

    report = sync_write.write_school(school, data, None)

    assert report["counts"]["pupils_new"] == 0 and report["counts"]["pupils_updated"] == 1
    assert holder.kundelik_id == "3000000007777"


def test_the_sync_grants_no_role_that_reads_pupil_data():
    assert sync_write.GRANTED_ROLES == (Role.PARENT, Role.CLASS_TEACHER)
    assert not any(reads_pupil_data(role) for role in sync_write.GRANTED_ROLES)
    user = User(username="x", password_hash="!")
    with pytest.raises(ValueError):
        sync_write._grant(user, Role.PSYCHOLOGIST)


def test_a_new_class_teacher_replaces_the_former_kundelik_one_and_hand_given_roles_stay(school, world, kundelik):
    run(school, world.a1)
    kundelik.local.world.groups[group_id(1)].class_teacher = 3000000000905  # teacher8b now leads 7А too

    done = run(school, world.a1)

    assert done.report["counts"]["class_teachers_removed"] == 1
    assert done.report["counts"]["class_teachers_assigned"] == 1
    holders = set(db.session.execute(select(User.username).join(RoleAssignment).where(
        RoleAssignment.class_id == world.c7a.id, RoleAssignment.role == Role.CLASS_TEACHER.value)).scalars())
    assert "t7a" in holders, "a role given by hand is not the sync's to take back"
    assert len(holders) == 2


def test_accounts_a_roster_file_or_an_admin_made_are_found_not_doubled(school, world, kundelik):
    here = kundelik.local.world
    child = here.persons[here.groups[group_id(1)].members[1]]
    [(_kind, mother_id)] = here.relatives[child.id]
    mother = here.persons[mother_id]
    pupil = make_pupil(world.c7a)
    pupil.set_identity(last_name=child.last_name, first_name=child.first_name, patronymic=None, iin=None)
    pupil.kundelik_id, pupil.birth_date = str(child.id), child.birthday
    from_file = make_user(Role.PARENT, children=(pupil,))
    from_file.full_name = f"{mother.last_name} {mother.first_name} Қосымша"
    world.t7a.full_name = "Бекова Айнұр"  # 7А's class teacher in Kundelik, appointed by hand in Senim
    db.session.commit()

    done = run(school, world.a1)

    counts = done.report["counts"]
    assert counts["parents_found"] == 1 and counts["parents_new"] == 59
    assert from_file.kundelik_person_id == str(mother.id)
    assert counts["teachers_found"] == 1 and counts["teachers_new"] == 2
    assert world.t7a.kundelik_person_id == TEACHER_7A
    assert counts["class_teachers_assigned"] == 2, "t7a holds 7А already"
    assert run(school, world.a1).report["changes"] == 0


def test_an_expired_token_with_a_refresh_token_is_refreshed_and_kept(school, world, kundelik):
    row = db.session.execute(select(KundelikToken)).scalar_one()
    old_access = row.access_token
    kundelik.local.refresh_tokens["refresh-1"] = Grant(DIRECTOR, kundelik.local.client_id, SCOPE, time.time() + 600)
    row.refresh_token, row.expires_at = "refresh-1", utcnow() - timedelta(minutes=1)
    db.session.commit()

    done = run(school, world.a1)

    assert done.status == "succeeded"
    db.session.refresh(row)
    assert row.access_token != old_access and row.refresh_token != "refresh-1" and row.expires_at > utcnow()


def test_rows_senim_refuses_stop_the_sync_with_every_problem_listed(school, world, kundelik):
    here = kundelik.local.world
    nameless = here.persons[here.groups[group_id(0)].members[0]]
    nameless.birthday = None  # a new pupil without a birth date (Senim needs it for age norms)

    failed = run(school, world.a1)

    assert failed.status == "failed" and failed.error == "roster_errors"
    [problem] = failed.report["problems"]
    assert (problem["code"], problem["column"], problem["class"], problem["person"]) == (
        "required", "birth_date", "5А", str(nameless.id))
    assert _kundelik_pupils() == []
