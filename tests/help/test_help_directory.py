"""The help directory: one source for 150 / 111 / 112 and regional services, filtered to the viewer's region,
with the built-in lines when empty; admins keep it."""

from __future__ import annotations

from sqlalchemy import select

from app.core.audit import AuditAction, AuditEntry
from app.extensions import db
from app.help.models import HelpService
from tests.factories import login, make_district, make_region, make_school, post
from tests.help.support import make_service


def test_pages_show_the_built_in_lines_when_the_directory_is_empty(client, world):
    page = client.get("/s").get_data(as_text=True)
    for number in ("150", "111", "112"):
        assert f'href="tel:{number}"' in page


def test_national_entries_replace_the_built_in_ones(client, world):
    make_service(phone="150", name="Line150")
    page = client.get("/help").get_data(as_text=True)
    assert "Line150" in page and 'href="tel:150"' in page
    assert 'href="tel:111"' not in page  # the directory is the one source once it has national entries


def test_pupil_pages_show_their_regions_services_only(client, world):
    other_region = make_region()
    make_service(phone="150", name="Line150")
    mine = make_service(phone="+7 7222 11 22 33", name="OurCentre", region=world.s1.district.region,
                        kind="support_centre")
    make_service(phone="+7 7000 00 00 00", name="FarAwayCentre", region=other_region)
    make_service(phone="+7 7111 00 00 00", name="OtherDistrict", region=world.s1.district.region,
                 district_id=world.s2.district_id)
    login(client, world.pupil1)
    page = client.get("/me").get_data(as_text=True)
    assert "OurCentre" in page and f'href="tel:{mine.tel}"' in page
    assert "FarAwayCentre" not in page and "OtherDistrict" not in page
    assert "Line150" in page


def test_a_pupil_with_a_code_sees_the_schools_region(client, world):
    from tests.screening.workflow_support import campaign, consent, session_with_code

    make_service(phone="150", name="Line150")
    make_service(phone="+7 7222 11 22 33", name="OurCentre", region=world.s1.district.region)
    make_service(phone="+7 7000 00 00 00", name="FarAwayCentre", region=make_region())
    camp = campaign(world.psy1, world.s1, [world.c7a])
    consent(world.p1)
    session_with_code(camp, world.p1, code="WXYZ-2345", language="ru")
    assert post(client, "/s", {"code": "wxyz2345"}).status_code == 302
    page = client.get("/s/q", follow_redirects=True).get_data(as_text=True)
    assert "Line150" in page
    page = client.get("/help/ask").get_data(as_text=True)
    assert "OurCentre" in page and "FarAwayCentre" not in page


def test_an_anonymous_visitor_sees_national_lines_and_can_choose_a_region(client, world):
    make_service(phone="150", name="Line150")
    make_service(phone="+7 7222 11 22 33", name="OurCentre", region=world.s1.district.region)
    page = client.get("/help").get_data(as_text=True)
    assert "Line150" in page and "OurCentre" not in page
    page = client.get(f"/help?region={world.s1.district.region_id}").get_data(as_text=True)
    assert "OurCentre" in page


def test_inactive_entries_are_not_shown(client, world):
    make_service(phone="150", name="Line150")
    make_service(phone="999", name="Retired", active=False)
    assert "Retired" not in client.get("/help").get_data(as_text=True)


def test_an_admin_adds_and_edits_an_entry_audited(client, world):
    login(client, world.admin)
    assert client.get("/admin/help-services").status_code == 200
    data = {"kind": "helpline", "region_id": "0", "district_id": "0", "name_kk": "Сенім", "name_ru": "Доверие",
            "name_en": "Trust", "phone": "150", "hours_kk": "", "hours_ru": "", "hours_en": "", "address": "",
            "website": "", "source": "", "position": "10", "active": "y"}
    response = post(client, "/admin/help-services/new", data)
    assert response.status_code == 200 and HelpService.query.count() == 0  # a national number needs its source
    data["source"] = "Act 2"
    assert post(client, "/admin/help-services/new", data).status_code == 302
    service = db.session.execute(select(HelpService)).scalar_one()
    assert service.national and service.source == "Act 2"
    data.update(region_id=str(world.s1.district.region_id), district_id=str(world.s1.district_id), phone="+7 1",
                name_en="Local")
    assert post(client, f"/admin/help-services/{service.uuid}", data).status_code == 302
    db.session.refresh(service)
    assert service.region_id == world.s1.district.region_id and service.district_id == world.s1.district_id
    actions = db.session.execute(select(AuditEntry.action).where(AuditEntry.object_type == "help_service")).scalars()
    assert sorted(actions) == sorted([str(AuditAction.HELP_SERVICE_CREATE), str(AuditAction.HELP_SERVICE_UPDATE)])


def test_a_stored_xss_in_an_entry_renders_inert(client, world):
    make_service(phone="150", name="<script>alert(1)</script>")
    page = client.get("/help").get_data(as_text=True)
    assert "<script>alert(1)" not in page and "&lt;script&gt;alert(1)" in page


def test_district_is_kept_within_its_region(client, world):
    region = make_region()
    district = make_district(region)
    make_school(district)
    login(client, world.admin)
    data = {"kind": "support_centre", "region_id": str(world.s1.district.region_id), "district_id": str(district.id),
            "name_kk": "A", "name_ru": "B", "name_en": "C", "phone": "+7 2", "position": "1", "active": "y"}
    assert post(client, "/admin/help-services/new", data).status_code == 302
    service = db.session.execute(select(HelpService)).scalar_one()
    assert service.region_id == region.id  # the district decides the region


def test_sources_are_the_admins_note_not_shown_to_pupils_or_parents(client, world):
    """A national number's source is one-language text for whoever keeps the directory: a pupil reading /help in
    Kazakh saw "Source: Government of the Republic of Kazakhstan: ..." in English."""
    make_service(phone="150", name="Line150", source="Act of the Republic, in English")
    assert "Act of the Republic" not in client.get("/help").get_data(as_text=True)
    login(client, world.pupil1)
    page = client.get("/help").get_data(as_text=True)
    assert "Line150" in page and "Act of the Republic" not in page


def test_the_admin_sees_the_sources_in_the_directory(client, world):
    make_service(phone="150", name="Line150", source="Act of the Republic, in English")
    login(client, world.admin)
    assert "Act of the Republic" in client.get("/help").get_data(as_text=True)
