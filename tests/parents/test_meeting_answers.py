"""The parent answers a proposed time: accepts it (the meeting is confirmed, the psychologist can take it into a
calendar) or asks for another (with an encrypted note, back to the psychologist), or cancels. Each step is audited
and e-mailed with a link only; a wrong-state step, a stale form or bad input changes nothing; another parent's
meeting is an audited 404."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest
from sqlalchemy import select, text

from app.auth.roles import Role
from app.core.audit import AuditAction, Outcome
from app.core.mail import OutboxMessage
from app.core.models import utcnow
from app.extensions import db
from app.parents import meetings as services
from app.parents.models import MeetingRequest, MeetingStatus
from tests.factories import make_user
from tests.parents.support import MARKER, ask_meeting, decline, entries, meetings, parent_step, propose
from tests.security.helpers import signed_in

NOTE = f"{MARKER} mornings suit us better"


def _day(days: int = 3) -> str:
    from app.consent.services import today_local

    return (today_local() + timedelta(days=days)).isoformat()


def _outbox() -> list[OutboxMessage]:
    db.session.expire_all()
    return list(db.session.execute(select(OutboxMessage).order_by(OutboxMessage.id)).scalars())


@pytest.fixture
def psy(app, world, english):
    """psy1 signed in once (a second sign-in within the same minute would reuse the one-time code)."""
    return signed_in(app, world.psy1)


@pytest.fixture
def proposed(app, world, psy) -> MeetingRequest:
    """A request of r1 about p1 with a time proposed by psy1 (three days ahead, 15:30)."""
    ask_meeting(signed_in(app, world.r1), world.p1.uuid)
    [meeting] = meetings()
    assert propose(psy, meeting, _day()).status_code == 302
    [meeting] = meetings()
    assert meeting.status == MeetingStatus.SCHEDULED.value
    return meeting


def test_the_parent_sees_the_proposed_time_on_the_home_and_child_pages(app, world, proposed):
    parent = signed_in(app, world.r1)
    home = parent.get("/parents/children").get_data(as_text=True)
    assert "The psychologist proposed a meeting time: please answer" in home
    page = parent.get(f"/parents/child/{world.p1.uuid}").get_data(as_text=True)
    assert "Time proposed: please answer" in page and "15:30" in page
    assert f"/parents/meetings/{proposed.uuid}/accept" in page and "Accept this time" in page
    assert f"/parents/meetings/{proposed.uuid}/other-time" in page


def test_the_parent_accepts_and_the_psychologist_sees_it_and_gets_a_calendar_file(app, world, proposed, psy,
                                                                                 monkeypatch):
    monkeypatch.setitem(app.config, "SENIM_SMTP_HOST", "mail.invalid")
    world.psy1.email = "psy1@school.kz"
    db.session.commit()
    parent = signed_in(app, world.r1)
    response = parent_step(parent, proposed, "accept")
    assert response.status_code == 302 and f"/parents/child/{world.p1.uuid}" in response.headers["Location"]
    [meeting] = meetings()
    assert meeting.status == MeetingStatus.ACCEPTED.value and meeting.parent_answered_at is not None
    [entry] = entries(AuditAction.MEETING_ACCEPTED)
    assert (entry.actor_id, entry.pupil_id, entry.school_id, entry.object_id) == (
        world.r1.id, world.p1.id, world.s1.id, meeting.uuid)
    [mail] = [m for m in _outbox() if "psy1@school.kz" in m.recipients]
    assert json.loads(mail.recipients) == ["psy1@school.kz"] and "accepted" in mail.subject
    assert f"/parents/meetings/{meeting.uuid}" in mail.body
    assert MARKER not in mail.body and world.p1.first_name not in mail.body
    assert "Meeting confirmed" in parent.get(f"/parents/child/{world.p1.uuid}").get_data(as_text=True)

    psychologist = psy
    listing = psychologist.get("/parents/meetings").get_data(as_text=True)
    assert "Accepted by the parent" in listing and f"/parents/meetings/{meeting.uuid}/calendar.ics" in listing
    assert services.waiting_count(actor=world.psy1) == 0  # the menu counts only what waits for her
    ics = psychologist.get(f"/parents/meetings/{meeting.uuid}/calendar.ics")
    assert ics.status_code == 200 and ics.mimetype == "text/calendar"
    assert "attachment" in ics.headers["Content-Disposition"]
    body = ics.get_data(as_text=True)
    assert f"DTSTART:{meeting.meeting_at.strftime('%Y%m%dT%H%M%SZ')}" in body and "STATUS:CONFIRMED" in body
    assert f"UID:{meeting.uuid}@senim" in body and "SUMMARY:Meeting with a parent" in body
    assert MARKER not in body and world.p1.first_name not in body and world.r1.display_name not in body


def test_the_parent_asks_for_another_time_and_the_psychologist_proposes_again(app, world, proposed, psy, monkeypatch):
    monkeypatch.setitem(app.config, "SENIM_SMTP_HOST", "mail.invalid")
    world.psy1.email, world.r1.email = "psy1@school.kz", "mother@example.kz"
    db.session.commit()
    parent = signed_in(app, world.r1)
    assert parent_step(parent, proposed, "other-time", note=NOTE).status_code == 302
    [meeting] = meetings()
    assert meeting.status == MeetingStatus.OTHER_TIME.value and meeting.parent_note == NOTE
    raw = db.session.execute(text("SELECT parent_note_ct FROM parent_meetings")).scalar_one()
    assert MARKER.encode() not in bytes(raw)
    [entry] = entries(AuditAction.MEETING_OTHER_TIME)
    assert entry.actor_id == world.r1.id and MARKER not in (entry.details or "")
    [mail] = [m for m in _outbox() if "psy1@school.kz" in m.recipients]
    assert "another" in mail.subject and f"/parents/meetings/{meeting.uuid}" in mail.body
    assert MARKER not in mail.body

    psychologist = psy
    assert services.waiting_count(actor=world.psy1) == 1  # back in the menu's count
    assert "Another time asked" in psychologist.get("/parents/meetings").get_data(as_text=True)
    detail = psychologist.get(f"/parents/meetings/{meeting.uuid}").get_data(as_text=True)
    assert NOTE in detail and "Propose another time" in detail
    assert propose(psychologist, meeting, _day(5), "09:00").status_code == 302
    [meeting] = meetings()
    assert meeting.status == MeetingStatus.SCHEDULED.value
    assert len([m for m in _outbox() if "mother@example.kz" in m.recipients]) == 1  # the new proposal
    assert parent_step(parent, meeting, "accept").status_code == 302
    assert meetings()[0].status == MeetingStatus.ACCEPTED.value


def test_an_accepted_meeting_can_still_be_moved_by_either_side_or_cancelled(app, world, proposed, psy):
    parent = signed_in(app, world.r1)
    parent_step(parent, proposed, "accept")
    [meeting] = meetings()
    assert propose(psy, meeting, _day(7), "12:00").status_code == 302  # the psychologist moves it: asked again
    [meeting] = meetings()
    assert meeting.status == MeetingStatus.SCHEDULED.value
    assert len(entries(AuditAction.MEETING_SCHEDULED)) == 2
    parent_step(parent, meeting, "accept")
    [meeting] = meetings()
    assert parent_step(parent, meeting, "other-time", note="").status_code == 302
    [meeting] = meetings()
    assert meeting.status == MeetingStatus.OTHER_TIME.value and meeting.parent_note is None
    assert parent_step(parent, meeting, "cancel").status_code == 302
    assert meetings()[0].status == MeetingStatus.CANCELLED.value
    assert len(entries(AuditAction.MEETING_CANCELLED, actor_id=world.r1.id)) == 1


def test_a_note_that_is_too_long_is_explained_and_changes_nothing(app, world, proposed):
    parent = signed_in(app, world.r1)
    response = parent_step(parent, proposed, "other-time", note="x" * (services.NOTE_MAX + 1))
    assert response.status_code == 400
    assert "500" in response.get_data(as_text=True)
    [meeting] = meetings()
    assert meeting.status == MeetingStatus.SCHEDULED.value and meeting.parent_note_ct is None
    assert entries(AuditAction.MEETING_OTHER_TIME) == []
    with pytest.raises(services.MeetingError):
        services.ask_other_time(actor=world.r1, meeting=meeting, version=meeting.version, note="x" * 501)


def test_a_time_that_has_passed_cannot_be_accepted(app, world, proposed):
    proposed.meeting_at = utcnow() - timedelta(hours=1)
    db.session.commit()
    parent = signed_in(app, world.r1)
    page = parent.get(f"/parents/child/{world.p1.uuid}").get_data(as_text=True)
    assert "The proposed time has passed" in page and "Accept this time" not in page
    response = parent_step(parent, proposed, "accept", form_page="/account")
    assert response.status_code == 302
    follow = parent.get(response.headers["Location"]).get_data(as_text=True)
    assert "This time has already passed" in follow
    assert meetings()[0].status == MeetingStatus.SCHEDULED.value and entries(AuditAction.MEETING_ACCEPTED) == []


def test_wrong_state_steps_are_refused_and_change_nothing(app, world, english):
    ask_meeting(signed_in(app, world.r1), world.p1.uuid)
    [meeting] = meetings()
    with pytest.raises(services.NotProposed):  # nothing proposed yet
        services.accept(actor=world.r1, meeting=meeting, version=meeting.version)
    with pytest.raises(services.NotProposed):
        services.ask_other_time(actor=world.r1, meeting=meeting, version=meeting.version, note=None)
    services.decline(actor=world.psy1, meeting=meeting, version=meeting.version, reply="Come on Friday")
    for step in (lambda m: services.accept(actor=world.r1, meeting=m, version=m.version),
                 lambda m: services.ask_other_time(actor=world.r1, meeting=m, version=m.version, note=None),
                 lambda m: services.cancel(actor=world.r1, meeting=m, version=m.version),
                 lambda m: services.decline(actor=world.psy1, meeting=m, version=m.version, reply="again"),
                 lambda m: services.schedule(actor=world.psy1, meeting=m, version=m.version,
                                             meeting_at=utcnow() + timedelta(days=2), reply=None)):
        [declined] = meetings()
        with pytest.raises(services.MeetingError):
            step(declined)
    [meeting] = meetings()
    assert meeting.status == MeetingStatus.DECLINED.value and meeting.meeting_at is None
    for action in (AuditAction.MEETING_ACCEPTED, AuditAction.MEETING_OTHER_TIME, AuditAction.MEETING_CANCELLED,
                   AuditAction.MEETING_SCHEDULED):
        assert entries(action) == []
    with pytest.raises(services.NotProposed):
        services.calendar_file(meeting)


def test_a_stale_parent_form_is_refused_audited_and_changes_nothing(app, world, proposed, psy):
    stale_version = proposed.version
    psychologist = psy
    assert propose(psychologist, proposed, _day(6), "11:00").status_code == 302  # moved meanwhile
    [meeting] = meetings()
    moved_to = meeting.meeting_at
    parent = signed_in(app, world.r1)
    response = parent_step(parent, meeting, "accept", version=stale_version)
    assert response.status_code == 302
    assert "changed this request while the page was open" in parent.get(response.headers["Location"]).get_data(
        as_text=True)
    [meeting] = meetings()
    assert meeting.status == MeetingStatus.SCHEDULED.value and meeting.meeting_at == moved_to
    [conflict] = entries(AuditAction.EDIT_CONFLICT, object_id=meeting.uuid)
    assert conflict.actor_id == world.r1.id and conflict.outcome == Outcome.FAILED.value
    assert entries(AuditAction.MEETING_ACCEPTED) == []


def test_a_stale_psychologist_form_shows_the_change_and_keeps_the_text(app, world, proposed, psy):
    stale_version = proposed.version
    parent_step(signed_in(app, world.r1), proposed, "other-time", note=NOTE)
    psychologist = psy
    [meeting] = meetings()
    response = decline(psychologist, meeting, "We are closed that week", version=stale_version)
    assert response.status_code == 409
    body = response.get_data(as_text=True)
    assert "The parent changed this request" in body and "We are closed that week" in body
    assert "Another time asked" in body and NOTE in body
    assert f'value="{meeting.version}"' in body  # sending it again is a decision on what the page shows now
    assert meetings()[0].status == MeetingStatus.OTHER_TIME.value and entries(AuditAction.MEETING_DECLINED) == []
    assert entries(AuditAction.EDIT_CONFLICT, object_id=meeting.uuid, actor_id=world.psy1.id)


def test_a_psychologist_answering_a_request_the_parent_cancelled_is_told(app, world, proposed, psy):
    loaded_at = proposed.version  # the psychologist's page is open...
    parent_step(signed_in(app, world.r1), proposed, "cancel")  # ...when the parent cancels
    response = propose(psy, proposed, _day(8), version=loaded_at)
    assert response.status_code == 409
    body = response.get_data(as_text=True)
    assert "The parent cancelled this request while the page was open. Nothing was sent." in body
    assert "Cancelled by the parent" in body
    assert "your text is kept below" not in body  # a closed request shows no form to keep it in
    assert meetings()[0].status == MeetingStatus.CANCELLED.value and len(entries(AuditAction.MEETING_SCHEDULED)) == 1


def test_another_parents_meeting_is_an_audited_404(app, world, proposed):
    other_parent = make_user(Role.PARENT, username="parent-other", children=(world.p3,))
    db.session.commit()
    stranger = signed_in(app, other_parent)
    page = f"/parents/child/{world.p3.uuid}"
    for step, data in (("accept", {}), ("other-time", {"note": "x"}), ("cancel", {})):
        assert parent_step(stranger, proposed, step, form_page=page, **data).status_code == 404
    assert meetings()[0].status == MeetingStatus.SCHEDULED.value
    denied = entries(AuditAction.ACCESS_DENIED, object_id=proposed.uuid, actor_id=other_parent.id)
    assert len(denied) == 3 and all(e.outcome == Outcome.DENIED.value for e in denied)
    assert all(e.pupil_id == world.p1.id for e in denied)
    assert stranger.get(f"/parents/meetings/{proposed.uuid}/calendar.ics").status_code == 403  # not a parent's


def test_another_schools_psychologist_gets_no_calendar_file(app, world, proposed):
    parent_step(signed_in(app, world.r1), proposed, "accept")
    other_school = signed_in(app, world.psy3)
    assert other_school.get(f"/parents/meetings/{proposed.uuid}/calendar.ics").status_code == 404
    assert entries(AuditAction.ACCESS_DENIED, object_id=proposed.uuid, actor_id=world.psy3.id)


@pytest.mark.parametrize(("language", "words"), [
    ("ru", ("Принято родителем", "Ждёт ответа родителя")),
    ("kk", ("Ата-ана қабылдады", "Ата-ананың жауабын күтуде")),
])
def test_the_psychologists_list_names_the_states_in_kazakh_and_russian(app, world, proposed, psy, language, words):
    parent = signed_in(app, world.r1)
    parent_step(parent, proposed, "accept")
    ask_meeting(parent, world.p1.uuid)  # a second request, with a time waiting for the parent
    second = meetings()[1]
    propose(psy, second, _day(4))
    world.psy1.preferred_language = language
    db.session.commit()
    listing = psy.get("/parents/meetings").get_data(as_text=True)
    assert all(word in listing for word in words)


def test_the_parents_note_renders_inert(app, world, proposed, psy):
    xss = '<script>alert("x")</script><img src=x onerror=alert(1)>'
    parent = signed_in(app, world.r1)
    parent_step(parent, proposed, "other-time", note=xss)
    for body in (psy.get(f"/parents/meetings/{proposed.uuid}").get_data(as_text=True),
                 parent.get(f"/parents/child/{world.p1.uuid}").get_data(as_text=True)):
        assert "<script>alert" not in body and "<img src=x" not in body
        assert "&lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt;" in body


def test_a_step_the_request_is_not_ready_for_is_explained(app, world, english):
    parent = signed_in(app, world.r1)
    ask_meeting(parent, world.p1.uuid)
    [meeting] = meetings()
    response = parent_step(parent, meeting, "accept", form_page="/account")
    assert "There is no proposed time to accept" in parent.get(response.headers["Location"]).get_data(as_text=True)
    response = parent_step(parent, meeting, "other-time", form_page="/account", note="Friday")
    assert "There is no proposed time to change" in parent.get(response.headers["Location"]).get_data(as_text=True)
    assert meetings()[0].status == MeetingStatus.REQUESTED.value and meetings()[0].parent_note_ct is None


def test_a_psychologist_answering_a_request_a_colleague_declined_is_told(app, world, proposed, psy):
    loaded_at = proposed.version
    assert decline(signed_in(app, world.psy2), proposed, "Not this month").status_code == 302
    response = propose(psy, proposed, _day(8), version=loaded_at)
    assert response.status_code == 409
    body = response.get_data(as_text=True)
    assert "This request was declined while the page was open. Nothing was sent." in body
    assert "your text is kept below" not in body
    assert meetings()[0].status == MeetingStatus.DECLINED.value
