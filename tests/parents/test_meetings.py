"""A parent asks the school psychologist for a meeting; the psychologist arranges a time or declines. Scoped,
audited, encrypted, rate-limited, e-mailed both ways; bad input leaves nothing behind; messages render inert."""

from __future__ import annotations

import json
import uuid
from datetime import timedelta

import pytest
from sqlalchemy import select, text

from app.auth.roles import Role
from app.core.audit import AuditAction, Outcome
from app.core.mail import OutboxMessage
from app.core.models import utcnow
from app.extensions import db
from app.parents import meetings as services
from app.parents.models import MeetingStatus
from tests.factories import make_pupil, make_user, post
from tests.parents.support import MARKER, ask_meeting, decline, entries, meetings, parent_step, propose
from tests.security.helpers import signed_in

XSS = '<script>alert("x")</script><img src=x onerror=alert(1)>'


def _future(days: int = 3) -> tuple[str, str]:
    from app.consent.services import today_local

    return (today_local() + timedelta(days=days)).isoformat(), "15:30"


def _outbox() -> list[OutboxMessage]:
    db.session.expire_all()
    return list(db.session.execute(select(OutboxMessage).order_by(OutboxMessage.id)).scalars())


def test_a_parent_asks_and_the_request_reaches_the_school_psychologists(app, world, monkeypatch, english):
    monkeypatch.setitem(app.config, "SENIM_SMTP_HOST", "mail.invalid")
    world.psy1.email, world.psy3.email = "psy1@school.kz", "psy3@other.kz"
    db.session.commit()
    parent = signed_in(app, world.r1)
    response = ask_meeting(parent, world.p1.uuid)
    assert response.status_code == 302 and f"/parents/child/{world.p1.uuid}" in response.headers["Location"]
    [meeting] = meetings()
    assert (meeting.status, meeting.pupil_id, meeting.parent_id, meeting.school_id) == (
        MeetingStatus.REQUESTED.value, world.p1.id, world.r1.id, world.s1.id)
    assert meeting.content["message"] == f"{MARKER} she cries after school"
    [entry] = entries(AuditAction.MEETING_REQUESTED)
    assert (entry.actor_id, entry.pupil_id, entry.school_id) == (world.r1.id, world.p1.id, world.s1.id)
    assert MARKER not in (entry.details or "")
    [mail] = _outbox()
    assert json.loads(mail.recipients) == ["psy1@school.kz"]  # the pupil's school only
    assert "/parents/meetings" in mail.body and MARKER not in mail.body and world.p1.first_name not in mail.body

    psychologist = signed_in(app, world.psy1)
    listing = psychologist.get("/parents/meetings").get_data(as_text=True)
    assert f"/parents/meetings/{meeting.uuid}" in listing and MARKER not in listing
    assert "1 request waiting" in psychologist.get("/").get_data(as_text=True)
    detail = psychologist.get(f"/parents/meetings/{meeting.uuid}")
    assert detail.status_code == 200 and f"{MARKER} she cries after school" in detail.get_data(as_text=True)
    assert entries(AuditAction.MEETING_READ, pupil_id=world.p1.id, actor_id=world.psy1.id)
    assert entries(AuditAction.MEETING_LIST_READ, actor_id=world.psy1.id)


def test_the_request_is_encrypted_at_rest(app, world, english):
    ask_meeting(signed_in(app, world.r1), world.p1.uuid)
    raw = db.session.execute(text("SELECT * FROM parent_meetings")).mappings().one()
    assert MARKER.encode() not in bytes(raw["request_ct"])
    assert all(MARKER not in str(value) for value in raw.values() if not isinstance(value, bytes | memoryview))


def test_the_psychologist_arranges_a_time_and_the_parent_sees_it(app, world, monkeypatch, english):
    monkeypatch.setitem(app.config, "SENIM_SMTP_HOST", "mail.invalid")
    world.r1.email = "mother@example.kz"
    db.session.commit()
    ask_meeting(signed_in(app, world.r1), world.p1.uuid)
    [meeting] = meetings()
    day, at = _future()
    psychologist = signed_in(app, world.psy1)
    response = propose(psychologist, meeting, day, at, reply="Room 12, first floor")
    assert response.status_code == 302
    [meeting] = meetings()
    assert meeting.status == MeetingStatus.SCHEDULED.value and meeting.answered_by_id == world.psy1.id
    assert meeting.meeting_at is not None and meeting.meeting_at > utcnow()
    assert entries(AuditAction.MEETING_SCHEDULED, pupil_id=world.p1.id)
    to_parent = [m for m in _outbox() if "mother@example.kz" in m.recipients]
    assert len(to_parent) == 1 and f"/parents/child/{world.p1.uuid}" in to_parent[0].body
    page = signed_in(app, world.r1).get(f"/parents/child/{world.p1.uuid}").get_data(as_text=True)
    assert "Room 12, first floor" in page and "15:30" in page
    assert "Message from the psychologist: Room 12, first floor" in page  # said whose words they are


def test_declining_needs_a_message_and_a_bad_answer_changes_nothing(app, world, english):
    ask_meeting(signed_in(app, world.r1), world.p1.uuid)
    [meeting] = meetings()
    psychologist = signed_in(app, world.psy1)
    before = len(entries(AuditAction.MEETING_DECLINED)) + len(entries(AuditAction.MEETING_SCHEDULED))
    empty = decline(psychologist, meeting, "   ")
    past = propose(psychologist, meeting, "2020-01-01", "10:00", reply="x")
    too_long = decline(psychologist, meeting, "x" * 1001)
    assert (empty.status_code, past.status_code, too_long.status_code) == (400, 400, 400)
    [meeting] = meetings()
    assert meeting.status == MeetingStatus.REQUESTED.value and meeting.reply_ct is None and meeting.meeting_at is None
    assert len(entries(AuditAction.MEETING_DECLINED)) + len(entries(AuditAction.MEETING_SCHEDULED)) == before
    declined = decline(psychologist, meeting, "Please come to the open day on Friday")
    assert declined.status_code == 302
    assert meetings()[0].status == MeetingStatus.DECLINED.value
    page = signed_in(app, world.r1).get(f"/parents/child/{world.p1.uuid}").get_data(as_text=True)
    assert "Please come to the open day on Friday" in page and "Declined" in page


def test_bad_input_from_a_parent_leaves_nothing(app, world, english):
    parent = signed_in(app, world.r1)
    assert ask_meeting(parent, world.p1.uuid, times="").status_code == 200
    assert ask_meeting(parent, world.p1.uuid, times="x" * 301).status_code == 200
    assert ask_meeting(parent, world.p1.uuid, message="x" * 1001).status_code == 200
    assert meetings() == [] and entries(AuditAction.MEETING_REQUESTED) == []


def test_requests_are_rate_limited_per_parent(app, world, monkeypatch, english):
    monkeypatch.setitem(app.config, "SENIM_MEETING_THRESHOLD", 2)
    second_child = make_pupil(world.c8b)
    from app.core.models import PupilGuardian

    db.session.add(PupilGuardian(pupil_id=second_child.id, user_id=world.r1.id, relation="mother"))
    db.session.commit()
    parent = signed_in(app, world.r1)
    assert ask_meeting(parent, world.p1.uuid).status_code == 302
    assert ask_meeting(parent, world.p1.uuid).status_code == 200  # the first still waits
    assert ask_meeting(parent, second_child.uuid).status_code == 302
    third = ask_meeting(parent, second_child.uuid)
    assert third.status_code == 429
    assert len(meetings()) == 2
    [refused] = entries(AuditAction.MEETING_THROTTLED)
    assert refused.outcome == Outcome.DENIED.value and refused.actor_id == world.r1.id


def test_a_parent_cancels_and_cannot_cancel_twice(app, world, english):
    parent = signed_in(app, world.r1)
    ask_meeting(parent, world.p1.uuid)
    [meeting] = meetings()
    assert parent_step(parent, meeting, "cancel").status_code == 302
    assert meetings()[0].status == MeetingStatus.CANCELLED.value
    assert len(entries(AuditAction.MEETING_CANCELLED)) == 1
    cancelled = meetings()[0]
    with pytest.raises(services.NotOpen):
        services.cancel(actor=world.r1, meeting=cancelled, version=cancelled.version)
    psychologist = signed_in(app, world.psy1)
    body = psychologist.get(f"/parents/meetings/{meeting.uuid}").get_data(as_text=True)
    assert "Cancelled by the parent" in body and 'action="/parents/meetings/' not in body


def test_a_parent_probing_another_childs_ids_gets_an_audited_404(app, world, english):
    parent = signed_in(app, world.r1)
    random_id = str(uuid.uuid4())
    for child in (world.p2.uuid, world.p3.uuid, random_id):
        assert parent.get(f"/parents/meetings/new?child={child}").status_code == 404
        assert ask_meeting(parent, child).status_code == 404
    assert meetings() == []
    denied = entries(AuditAction.ACCESS_DENIED, actor_id=world.r1.id)
    assert {e.pupil_id for e in denied} >= {world.p2.id, world.p3.id}
    assert all(e.outcome == Outcome.DENIED.value for e in denied)


def test_requests_are_scoped_to_their_parent_and_their_school(app, world, english):
    other_parent = make_user(Role.PARENT, username="parent-other", children=(world.p3,))
    db.session.commit()
    ask_meeting(signed_in(app, world.r1), world.p1.uuid)
    [meeting] = meetings()
    stranger = signed_in(app, other_parent)
    page = f"/parents/child/{world.p3.uuid}"
    assert parent_step(stranger, meeting, "cancel", form_page=page).status_code == 404
    assert meetings()[0].status == MeetingStatus.REQUESTED.value
    other_school = signed_in(app, world.psy3)
    assert other_school.get(f"/parents/meetings/{meeting.uuid}").status_code == 404
    assert meeting.uuid not in other_school.get("/parents/meetings").get_data(as_text=True)
    denied = entries(AuditAction.ACCESS_DENIED, object_id=meeting.uuid)
    assert {e.actor_id for e in denied} == {other_parent.id, world.psy3.id}
    assert all(e.pupil_id == world.p1.id and e.school_id == world.s1.id for e in denied)


def test_xss_in_messages_renders_inert(app, world, english):
    ask_meeting(signed_in(app, world.r1), world.p1.uuid, times=XSS, message=XSS)
    [meeting] = meetings()
    psychologist = signed_in(app, world.psy1)
    form_page = f"/parents/meetings/{meeting.uuid}"
    day, at = _future()
    propose(psychologist, meeting, day, at, reply=XSS)
    for body in (psychologist.get(form_page).get_data(as_text=True),
                 signed_in(app, world.r1).get(f"/parents/child/{world.p1.uuid}").get_data(as_text=True)):
        assert "<script>alert" not in body and "<img src=x" not in body
        assert "&lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt;" in body


ROLES = ["admin", "a1", "psy1", "soc1", "t7a", "r1", "pupil1", "d1", "reg1", "norole"]


@pytest.mark.parametrize("who", ROLES)
def test_role_matrix_of_meeting_pages(app, world, who, english):
    ask_meeting(signed_in(app, world.r1), world.p1.uuid)
    [meeting] = meetings()
    client = signed_in(app, getattr(world, who))
    parent_only = client.get(f"/parents/meetings/new?child={world.p1.uuid}").status_code
    listing = client.get("/parents/meetings").status_code
    detail = client.get(f"/parents/meetings/{meeting.uuid}").status_code
    assert parent_only == (200 if who == "r1" else 403)
    assert listing == detail == (200 if who == "psy1" else 403)
    # Not accepted yet: no calendar file for the psychologist either.
    assert client.get(f"/parents/meetings/{meeting.uuid}/calendar.ics").status_code == (
        404 if who == "psy1" else 403)
    day, _at = _future()
    schedule = post(client, f"/parents/meetings/{meeting.uuid}/schedule", {"schedule-day": day}, form_page="/account")
    assert schedule.status_code == (400 if who == "psy1" else 403)  # psy1: no time given, nothing done
    assert meetings()[0].status == MeetingStatus.REQUESTED.value
    for step in ("accept", "other-time"):  # nothing proposed yet: the parent is told, nothing changes
        response = parent_step(client, meeting, step, form_page="/account")
        assert response.status_code == (302 if who == "r1" else 403)
        assert meetings()[0].status == MeetingStatus.REQUESTED.value
    cancel = parent_step(client, meeting, "cancel", form_page="/account")
    assert cancel.status_code == (302 if who == "r1" else 403)
    assert meetings()[0].status == (MeetingStatus.CANCELLED.value if who == "r1" else MeetingStatus.REQUESTED.value)


def test_anonymous_is_sent_to_sign_in(client, world):
    for path in ("/parents/meetings", "/parents/meetings/new", f"/parents/meetings/{uuid.uuid4()}",
                 f"/parents/meetings/{uuid.uuid4()}/calendar.ics"):
        response = client.get(path)
        assert response.status_code == 302 and "/login" in response.headers["Location"]
