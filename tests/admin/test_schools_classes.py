"""Schools, regions, districts and classes: create and edit flows, bad input changes nothing."""

from __future__ import annotations

from sqlalchemy import func, select

from app.core.audit import AuditAction
from app.core.models import District, Region, School, SchoolClass
from app.extensions import db
from tests.admin.helpers import changes
from tests.factories import login, post


def _count(model) -> int:
    return db.session.execute(select(func.count()).select_from(model)).scalar_one()


def test_admin_creates_region_district_and_school(client, world):
    login(client, world.admin)
    assert post(client, "/admin/regions/new", {"region-name_kk": "Абай облысы", "region-name_ru": "Область Абай"},
                form_page="/admin/schools").status_code == 302
    region = db.session.execute(select(Region).where(Region.name_kk == "Абай облысы")).scalar_one()
    district_data = {"district-region_id": region.id, "district-name_kk": "Аягөз", "district-name_ru": "Аягоз"}
    assert post(client, "/admin/districts/new", district_data, form_page="/admin/schools").status_code == 302
    district = db.session.execute(select(District).where(District.region_id == region.id)).scalar_one()
    response = post(client, "/admin/schools/new", {"name_kk": "№ 5 мектеп", "name_ru": "Школа № 5",
                                                   "district_id": district.id, "kundelik_id": "K-5",
                                                   "default_language": "ru"})
    assert response.status_code == 302
    school = db.session.execute(select(School).where(School.kundelik_id == "K-5")).scalar_one()
    assert (school.district_id, school.default_language, school.name_ru) == (district.id, "ru", "Школа № 5")
    assert changes() == {AuditAction.REGION_CREATE: 1, AuditAction.DISTRICT_CREATE: 1, AuditAction.SCHOOL_CREATE: 1}
    listing = client.get(f"/admin/schools?region_id={region.id}").get_data(as_text=True)
    assert "№ 5 мектеп" in listing and world.s1.name_kk not in listing


def test_school_edit_and_duplicate_kundelik_id(client, world):
    world.s2.kundelik_id = "TAKEN"
    db.session.commit()
    login(client, world.admin)
    path = f"/admin/schools/{world.s1.id}/edit"
    data = {"name_kk": "Жаңа атау", "name_ru": "Новое имя", "district_id": world.s1.district_id,
            "kundelik_id": "TAKEN", "default_language": "kk"}
    response = post(client, path, data)
    assert response.status_code == 200
    assert "Another school already has this Kundelik id." in response.get_data(as_text=True)
    db.session.expire_all()
    assert db.session.get(School, world.s1.id).name_kk != "Жаңа атау"
    assert AuditAction.SCHOOL_UPDATE not in changes()
    assert post(client, path, {**data, "kundelik_id": "OWN-1"}).status_code == 302
    db.session.expire_all()
    assert db.session.get(School, world.s1.id).name_kk == "Жаңа атау"
    assert changes()[AuditAction.SCHOOL_UPDATE] == 1


def test_school_form_rejects_unknown_district(client, world):
    login(client, world.admin)
    before = _count(School)
    response = post(client, "/admin/schools/new", {"name_kk": "x", "name_ru": "y", "district_id": 99999,
                                                   "default_language": "kk"})
    assert response.status_code == 200 and _count(School) == before


def _class_data(school_id, **overrides):
    return {"school_id": school_id, "grade": 5, "letter": "Ә", "school_year": 2026, "language": "kk", **overrides}


def test_admin_creates_class_and_duplicate_is_a_form_error(client, world):
    login(client, world.admin)
    assert post(client, "/admin/classes/new", _class_data(world.s2.id)).status_code == 302
    assert changes() == {AuditAction.CLASS_CREATE: 1}
    before = _count(SchoolClass)
    response = post(client, "/admin/classes/new", _class_data(world.s2.id, letter="ә"))
    assert response.status_code == 200
    assert "already has a class with this grade and letter" in response.get_data(as_text=True)
    assert _count(SchoolClass) == before and changes() == {AuditAction.CLASS_CREATE: 1}


def test_bad_grade_and_letter_change_nothing(client, world):
    login(client, world.admin)
    before = _count(SchoolClass)
    for bad in ({"grade": 13}, {"grade": -1}, {"grade": ""}, {"grade": "seven"}, {"letter": ""},
                {"letter": "<b>"}, {"school_year": 1990}, {"language": "en"}):
        response = post(client, "/admin/classes/new", _class_data(world.s1.id, **bad))
        assert response.status_code == 200, bad
    assert _count(SchoolClass) == before and not changes()
    assert post(client, "/admin/classes/new", _class_data(world.s1.id, grade=0, letter="a")).status_code == 302
    assert db.session.execute(select(SchoolClass).where(SchoolClass.grade == 0)).scalar_one().letter == "A"


def test_director_creates_classes_only_in_own_school(client, world):
    login(client, world.a1)
    before = _count(SchoolClass)
    response = post(client, "/admin/classes/new", _class_data(world.s2.id))
    assert response.status_code == 200 and "Not a valid choice" in response.get_data(as_text=True)
    assert _count(SchoolClass) == before and not changes()
    assert post(client, "/admin/classes/new", _class_data(world.s1.id)).status_code == 302
    created = db.session.execute(select(SchoolClass).where(SchoolClass.letter == "Ә")).scalar_one()
    assert created.school_id == world.s1.id


def test_class_edit_keeps_school_and_refuses_duplicates(client, world):
    login(client, world.a1)
    path = f"/admin/classes/{world.c8b.id}/edit"
    response = post(client, path, {"grade": 7, "letter": "А", "school_year": 2026, "language": "kk",
                                   "school_id": world.s2.id})
    assert response.status_code == 200
    assert "already has a class" in response.get_data(as_text=True)
    assert post(client, path, {"grade": 9, "letter": "Б", "school_year": 2026, "language": "ru",
                               "school_id": world.s2.id}).status_code == 302
    db.session.expire_all()
    moved = db.session.get(SchoolClass, world.c8b.id)
    assert (moved.grade, moved.language, moved.school_id) == (9, "ru", world.s1.id)
    assert changes() == {AuditAction.CLASS_UPDATE: 1}


def test_class_list_filters_by_school_and_year(client, world):
    from tests.factories import make_class

    old = make_class(world.s1, grade=7, letter="А", year=2025)
    db.session.commit()
    login(client, world.admin)
    page = client.get(f"/admin/classes?school_id={world.s1.id}&year=2025").get_data(as_text=True)
    assert f"/admin/classes/{old.id}/edit" in page
    assert f"/admin/classes/{world.c7a.id}/edit" not in page
    assert f"/admin/classes/{world.p3.class_id}/edit" not in page
