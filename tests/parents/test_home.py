"""The parent's home and child page: own children only, each with consent (when and how given or withdrawn) and
the screenings coming for the class in plain words; consent given and withdrawn online, recorded on paper."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from app.auth.roles import Role
from app.consent import services as consent
from app.consent.models import Consent
from app.core.models import utcnow
from app.extensions import db
from app.screening import campaigns
from tests.factories import make_user, post
from tests.security.helpers import signed_in


def _campaign(world, title: str, classes, *, refs=("phq-a@1.1", "asq@1.1"), opens_in=timedelta(days=2),
              lasts=timedelta(days=7)):
    now = utcnow()
    return campaigns.create_campaign(actor=world.psy1, school=world.s1, title=title, instrument_refs=list(refs),
                                     classes=list(classes), opens_at=now + opens_in, closes_at=now + opens_in + lasts,
                                     mode="online")


def test_home_lists_own_children_with_consent_and_every_coming_screening(app, world, english):
    _campaign(world, "Autumn wellbeing 7A", [world.c7a])
    _campaign(world, "Winter check 7A", [world.c7a], opens_in=timedelta(days=20))
    _campaign(world, "Only 8B", [world.c8b])
    _campaign(world, "Long closed", [world.c7a], opens_in=timedelta(days=-30), lasts=timedelta(days=3))
    body = signed_in(app, world.r1).get("/parents/children").get_data(as_text=True)
    assert world.p1.first_name in body and world.p2.uuid not in body and world.p3.uuid not in body
    assert "Autumn wellbeing 7A" in body and "Winter check 7A" in body
    assert "Only 8B" not in body and "Long closed" not in body
    assert "No consent" in body and f"/parents/meetings/new?child={world.p1.uuid}" in body


def test_child_page_explains_each_questionnaire_and_that_consent_decides(app, world, english):
    _campaign(world, "Autumn wellbeing 7A", [world.c7a])
    parent = signed_in(app, world.r1)
    body = parent.get(f"/parents/child/{world.p1.uuid}").get_data(as_text=True)
    assert "Autumn wellbeing 7A" in body
    assert "Questions about mood" in body and "A few short questions about safety" in body
    assert "Without your consent your child is not offered them." in body
    consent.give_online_consent(actor=world.r1, pupil=world.p1)
    body = parent.get(f"/parents/child/{world.p1.uuid}").get_data(as_text=True)
    assert "Your child will be offered these questionnaires." in body


def test_consent_given_and_withdrawn_online_with_time_and_way(app, world, english):
    parent = signed_in(app, world.r1)
    page = f"/consent/my-children/{world.p1.uuid}"
    assert post(parent, page, {"confirm": "y"}).status_code == 302
    body = parent.get(f"/parents/child/{world.p1.uuid}").get_data(as_text=True)
    assert "Consent given" in body and "Given online on" in body
    assert post(parent, f"{page}/withdraw", form_page=page).status_code == 302
    record = db.session.execute(select(Consent)).scalar_one()
    assert record.withdrawn_method == "online" and record.withdrawn_by_id == world.r1.id
    body = parent.get(f"/parents/child/{world.p1.uuid}").get_data(as_text=True)
    assert "Consent withdrawn" in body and "(online)" in body
    assert "Consent withdrawn" in parent.get("/parents/children").get_data(as_text=True)


def test_paper_consent_and_a_withdrawal_recorded_by_the_school(app, world, english):
    consent.record_paper_consent(actor=world.psy1, pupil=world.p1, signed_on=consent.today_local())
    parent = signed_in(app, world.r1)
    body = parent.get(f"/parents/child/{world.p1.uuid}").get_data(as_text=True)
    assert "Given on paper on" in body
    consent.withdraw_consent(actor=world.soc1, pupil=world.p1)
    assert db.session.execute(select(Consent.withdrawn_method)).scalar_one() == "paper"
    body = parent.get(f"/parents/child/{world.p1.uuid}").get_data(as_text=True)
    assert "(recorded by the school)" in body


def test_a_parent_of_another_school_sees_only_their_child(app, world, english):
    other = make_user(Role.PARENT, username="parent-s2", children=(world.p3,))
    db.session.commit()
    _campaign(world, "Autumn wellbeing 7A", [world.c7a])
    client = signed_in(app, other)
    body = client.get("/parents/children").get_data(as_text=True)
    assert world.p3.uuid in body and world.p1.uuid not in body and "Autumn wellbeing 7A" not in body
    assert client.get(f"/parents/child/{world.p1.uuid}").status_code == 404
    assert client.get(f"/consent/my-children/{world.p1.uuid}").status_code == 404


def test_the_staff_consent_page_shows_how_a_withdrawal_came(app, world, english):
    consent.give_online_consent(actor=world.r1, pupil=world.p1)
    consent.withdraw_consent(actor=world.r1, pupil=world.p1, as_parent=True)
    body = signed_in(app, world.psy1).get(f"/consent/pupils/{world.p1.uuid}").get_data(as_text=True)
    assert "(online)" in body


def test_a_withdrawal_recorded_before_the_way_was_kept_shows_its_date_only(app, world, english):
    consent.give_online_consent(actor=world.r1, pupil=world.p1)
    consent.withdraw_consent(actor=world.r1, pupil=world.p1, as_parent=True)
    record = db.session.execute(select(Consent)).scalar_one()
    record.withdrawn_method = None  # as rows withdrawn before migration 0020
    db.session.commit()
    body = signed_in(app, world.r1).get(f"/parents/child/{world.p1.uuid}").get_data(as_text=True)
    assert "Consent withdrawn" in body and "Withdrawn on" in body and "(—)" not in body and "(online)" not in body
