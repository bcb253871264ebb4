"""The local Kundelik answers Senim's client with the documented shapes and errors, serves the demo's people, and
changes its roster between two runs as the roster sync's tests need; the client refreshes tokens."""

from __future__ import annotations

import pytest
import requests
from sqlalchemy import select

from app.auth.models import User
from app.core import demo
from app.core.models import Pupil, School
from app.extensions import db
from app.kundelik import client as kc
from app.kundelik.mapping import identity
from kundelik_local.data import demo_world, group_id
from tests.kundelik.conftest import consent, path_of


def _token(kundelik, login: str) -> kc.Token:
    """A token for ``login`` obtained through the consent page and Senim's own code exchange."""
    url = kc.authorization_url(redirect_uri=kundelik.local.redirect_uris[0], state="s", code_verifier=None)
    back = consent(url, login)
    code = dict(pair.split("=", 1) for pair in path_of(back).split("?", 1)[1].split("&"))["code"]
    return kc.exchange_code(code=code, redirect_uri=kundelik.local.redirect_uris[0], code_verifier=None)


def test_the_token_answer_and_the_user_are_read_from_the_documented_fields(kundelik):
    token = _token(kundelik, "director")
    assert token.user_id == "4000000000901" and token.refresh_token and token.expires_at is not None
    assert token.scope == "CommonInfo,EducationalInfo,FriendsAndRelatives"
    assert "accessToken" not in repr(token) and token.access_token not in repr(token)
    api = kc.KundelikApi(token.access_token)
    me, context = api.me(), api.context()
    assert {"id", "id_str", "personId", "personId_str", "roles", "login"} <= set(me)
    found = identity(me, context)
    assert (found.user_id, found.person_id) == ("4000000000901", "3000000000901")
    assert found.roles == ("EduStaff", "EduSchoolAdministrator")
    assert found.school_ids == (demo.DEMO_SCHOOL_IDS[0],)


def test_a_code_works_once_and_the_token_travels_in_a_header_only(kundelik):
    url = kc.authorization_url(redirect_uri=kundelik.local.redirect_uris[0], state="s", code_verifier=None)
    code = path_of(consent(url, "teacher7a")).split("code=")[1].split("&")[0]
    token = kc.exchange_code(code=code, redirect_uri=kundelik.local.redirect_uris[0], code_verifier=None)
    with pytest.raises(kc.KundelikUnauthorized):
        kc.exchange_code(code=code, redirect_uri=kundelik.local.redirect_uris[0], code_verifier=None)
    answer = requests.get(f"{kundelik.url}/v2/users/me", params={"access_token": token.access_token}, timeout=5)
    assert answer.status_code == 401 and answer.json() == {"type": "authorizationFailed",
                                                           "description": "Can't authorize"}


def test_a_refresh_gives_a_working_token_after_the_old_one_expired(kundelik):
    token = _token(kundelik, "director")
    kundelik.local.expire_tokens()
    with pytest.raises(kc.KundelikUnauthorized):
        kc.KundelikApi(token.access_token).me()
    assert token.refresh_token is not None
    fresh = kc.refresh(token.refresh_token)
    assert fresh.access_token != token.access_token
    assert kc.KundelikApi(fresh.access_token).me()["login"] == "director"
    with pytest.raises(kc.KundelikUnauthorized):  # a refresh token works once
        kc.refresh(token.refresh_token)


def test_the_roster_endpoints(kundelik):
    api = kc.KundelikApi(_token(kundelik, "director").access_token)
    school_id = demo.DEMO_SCHOOL_IDS[0]
    assert api.school(school_id)["id_str"] == school_id
    groups = api.edu_groups(school_id)
    classes = [g for g in groups if g["type"] == "Group" and not g["parentIds"]]
    assert [g["name"] for g in classes] == ["5А", "7А", "8Б", "9Ә", "10А"]
    [subgroup] = [g for g in groups if g["parentIds"]]
    assert subgroup["type"] == "Subgroup" and subgroup["parentIds_str"] == [str(group_id(1))]
    pupils = api.group_persons(str(group_id(1)))
    assert len(pupils) == 12 and {"id_str", "userId_str", "firstName", "lastName", "sex"} <= set(pupils[0])
    assert api.class_teacher(str(group_id(1)))["lastName"] == "Бекова"
    teachers = api.school_teachers(school_id)
    assert {"idStr", "lastName", "houseMaster", "nameTeacherPosition"} <= set(teachers[0])
    assert {t["lastName"] for t in teachers if t["houseMaster"]} == {"Бекова", "Ким", "Жақыпова"}
    assert [p["lastName"] for p in api.school_membership(school_id, "Admins")] == ["Омарова"]
    relatives = api.relatives(pupils[0]["userId_str"])
    assert relatives == [{"type": "Parent", "person": relatives[0]["person"]}]
    assert api.person(pupils[0]["id_str"])["birthday"].endswith("T00:00:00")
    assert [u["login"] for u in api.users_many([pupils[0]["userId_str"]])] == ["pupil"]
    with pytest.raises(kc.KundelikRefused) as refused:
        api.edu_group("not-a-number")
    assert refused.value.kind == "parameterInvalid"


def test_a_parent_reads_her_children(kundelik):
    api = kc.KundelikApi(_token(kundelik, "parent").access_token)
    [child] = api.relatives()
    assert child["type"] == "Child" and child["person"]["id_str"] == "3000000000013"
    assert api.children() == [4000000000013]


def test_maintenance_is_never_data(kundelik):
    api = kc.KundelikApi(_token(kundelik, "director").access_token)
    kundelik.local.maintenance = True
    with pytest.raises(kc.KundelikUnavailable):
        api.me()
    answer = requests.get(f"{kundelik.url}/v2/users/me", timeout=5)
    assert answer.status_code == 503 and "error__description" in answer.text


def test_next_term_moves_one_pupil_and_archives_one_who_left(kundelik):
    api = kc.KundelikApi(_token(kundelik, "director").access_token)
    moved, departed = kundelik.local.world.next_term()
    eight_b = {p["id"] for p in api.group_persons(str(group_id(2)))}
    assert moved not in eight_b
    assert moved in {p["id"] for p in api.group_persons(str(group_id(2)), include_archive=True)}
    assert moved in {p["id"] for p in api.group_persons(str(group_id(3)))}
    assert departed not in {p["id"] for p in api.group_persons(str(group_id(4)))}
    assert departed in {p["id"] for p in api.group_persons(str(group_id(4)), include_archive=True)}


def test_the_local_kundelik_holds_the_demo_school_name_for_name(app_ctx):
    demo.create()
    world = demo_world()
    school = db.session.execute(select(School).where(School.kundelik_id == demo.DEMO_SCHOOL_IDS[0])).scalar_one()
    pupils = db.session.execute(select(Pupil).where(Pupil.school_id == school.id)).scalars().all()
    assert len(pupils) == 60
    for pupil in pupils:
        person = world.persons[int(pupil.kundelik_id)]
        assert (person.last_name, person.first_name, person.birthday) == (
            pupil.last_name, pupil.first_name, pupil.birth_date)
    for login in ("director", "psychologist", "socped", "teacher7a", "teacher8b", "parent"):
        user = db.session.execute(select(User).where(User.username == login)).scalar_one()
        person = world.person_by_login(login)
        assert person is not None and user.kundelik_person_id == str(person.id)
        assert user.full_name == f"{person.first_name} {person.last_name}"
    child = db.session.execute(select(User).where(User.username == "pupil")).scalar_one().pupil
    assert child is not None and child.kundelik_id == str(world.person_by_login("pupil").id)


def test_flask_kundelik_link_and_unlink(app_ctx, world):
    runner = app_ctx.test_cli_runner()
    teacher = world.t7a
    result = runner.invoke(args=["kundelik", "link", teacher.username, "3000000000904"])
    assert result.exit_code == 0, result.output
    db.session.refresh(teacher)
    assert teacher.kundelik_person_id == "3000000000904"
    taken = runner.invoke(args=["kundelik", "link", world.t8b.username, "3000000000904"])
    assert taken.exit_code == 1 and "already linked" in taken.output
    assert runner.invoke(args=["kundelik", "link", teacher.username, "abc"]).exit_code == 1
    assert runner.invoke(args=["kundelik", "unlink", teacher.username]).exit_code == 0
    db.session.refresh(teacher)
    assert teacher.kundelik_person_id is None and teacher.kundelik_user_id is None
