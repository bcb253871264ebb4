"""Break-the-glass (issue 10 item 9): emergency access with a reason and a fresh second-factor code, limited in
time, with a banner, audited, e-mailed to the owner and the school administrator, and reviewed."""

from __future__ import annotations

import json
import time
from datetime import timedelta

import pyotp
import pytest
from flask import Flask
from sqlalchemy import select

from app.core.audit import AuditAction, Outcome
from app.core.mail import OutboxMessage
from app.core.models import utcnow
from app.extensions import db
from app.monitoring import glass
from app.monitoring.models import CaseAccessGrant
from tests.factories import csrf_token
from tests.monitoring.support import NOTE_MARKER, entries, open_case
from tests.security.helpers import signed_in


def _next_code(user) -> str:
    """A code of the next time step (the one used at sign-in cannot be used again)."""
    return pyotp.TOTP(user.totp_secret).at(int(time.time()) + 30)


def _ask(client, pupil, *, reason: str = f"{NOTE_MARKER} he is in danger now", code: str):
    path = f"/monitoring/pupils/{pupil.uuid}/emergency-access"
    return client.post(path, data={"csrf_token": csrf_token(client, path), "reason": reason, "code": code})


@pytest.fixture
def case(world):
    return open_case(world)


def test_a_psychologist_outside_the_case_gets_access_with_a_banner(app: Flask, world, case) -> None:
    client = signed_in(app, world.psy2)
    assert client.get(f"/monitoring/cases/{case.uuid}").status_code == 404
    response = _ask(client, world.p1, code=_next_code(world.psy2))
    assert response.status_code == 302 and case.uuid in response.headers["Location"]
    page = client.get(f"/monitoring/cases/{case.uuid}")
    assert page.status_code == 200
    grant = db.session.execute(select(CaseAccessGrant)).scalar_one()
    until = glass.local_time(grant.expires_at)
    assert f"Emergency access until {until} — audited" in page.get_data(as_text=True)
    assert grant.expires_at - grant.starts_at == timedelta(hours=4) and grant.granted_by_id is None
    audited = entries(AuditAction.CASE_EMERGENCY_ACCESS)
    assert len(audited) == 1 and audited[0].pupil_id == world.p1.id and audited[0].outcome == Outcome.SUCCESS
    assert NOTE_MARKER not in str(audited[0].details)


def test_the_banner_is_not_shown_to_the_team(app: Flask, world, case) -> None:
    page = signed_in(app, world.psy1).get(f"/monitoring/cases/{case.uuid}").get_data(as_text=True)
    assert "Emergency access until" not in page


def test_a_wrong_or_reused_code_is_refused_and_audited(app: Flask, world, case) -> None:
    client = signed_in(app, world.a1)
    response = _ask(client, world.p1, code="000000")
    assert response.status_code == 400 and "code is wrong" in response.get_data(as_text=True)
    assert db.session.execute(select(CaseAccessGrant)).first() is None
    assert entries(AuditAction.CASE_EMERGENCY_ACCESS)[-1].outcome == Outcome.DENIED
    # The code of the sign-in a moment ago is not fresh: it cannot open the glass.
    db.session.refresh(world.a1)
    used = pyotp.TOTP(world.a1.totp_secret).at(world.a1.totp_last_step * 30)
    assert _ask(client, world.p1, code=used).status_code == 400
    assert client.get(f"/monitoring/cases/{case.uuid}").status_code == 404


def test_a_reason_is_required(app: Flask, world, case) -> None:
    client = signed_in(app, world.soc1)
    assert _ask(client, world.p1, reason="", code=_next_code(world.soc1)).status_code == 200
    assert db.session.execute(select(CaseAccessGrant)).first() is None


def test_an_expired_grant_stops_at_once(app: Flask, world, case) -> None:
    client = signed_in(app, world.psy2)
    _ask(client, world.p1, code=_next_code(world.psy2))
    assert client.get(f"/monitoring/cases/{case.uuid}").status_code == 200
    grant = db.session.execute(select(CaseAccessGrant)).scalar_one()
    grant.expires_at = utcnow() - timedelta(seconds=1)
    db.session.commit()
    assert client.get(f"/monitoring/cases/{case.uuid}").status_code == 404


def test_owner_and_school_administrator_are_emailed(app: Flask, world, case, monkeypatch) -> None:
    monkeypatch.setitem(app.config, "SENIM_SMTP_HOST", "mail.invalid")
    for user, address in ((world.psy1, "owner@example.kz"), (world.a1, "director@example.kz"),
                          (world.soc1, "soc@example.kz")):
        user.email = address
    db.session.commit()
    glass.request_access(actor=world.psy2, pupil=world.p1, reason="now", code=pyotp.TOTP(world.psy2.totp_secret).now(),
                         ip="127.0.0.1")
    messages = db.session.execute(select(OutboxMessage)).scalars().all()
    recipients = {address for m in messages for address in json.loads(m.recipients)}
    assert recipients == {"owner@example.kz", "director@example.kz"}
    assert all(world.p1.last_name not in m.body_text and "emergency access" in m.body_text for m in messages)


def test_the_owner_and_the_director_review_each_use(app: Flask, world, case) -> None:
    grant = glass.request_access(actor=world.psy2, pupil=world.p1, reason=f"{NOTE_MARKER} why",
                                 code=pyotp.TOTP(world.psy2.totp_secret).now(), ip="127.0.0.1")
    director = signed_in(app, world.a1)
    page = director.get("/monitoring/emergency-reviews").get_data(as_text=True)
    assert f"{NOTE_MARKER} why" in page and world.psy2.display_name in page
    path = f"/monitoring/emergency-reviews/{grant.uuid}"
    token = csrf_token(director, "/monitoring/emergency-reviews")
    response = director.post(path, data={"csrf_token": token, f"r{grant.id}-version": grant.version,
                                         f"r{grant.id}-justified": "no", f"r{grant.id}-note": "not an emergency"})
    assert response.status_code == 302
    db.session.expire_all()
    grant = db.session.get(CaseAccessGrant, grant.id)
    assert grant.justified is False and grant.review_note == "not an emergency"
    assert grant.reviewed_by_id == world.a1.id
    assert len(entries(AuditAction.CASE_EMERGENCY_REVIEWED, pupil_id=world.p1.id)) == 1
    # The owner sent the same form, loaded before: the conflict page, nothing overwritten.
    owner = signed_in(app, world.psy1)
    token = csrf_token(owner, "/monitoring/emergency-reviews")
    stale = owner.post(path, data={"csrf_token": token, f"r{grant.id}-version": 1,
                                   f"r{grant.id}-justified": "yes", f"r{grant.id}-note": "fine"})
    assert stale.status_code == 409
    db.session.expire_all()
    assert db.session.get(CaseAccessGrant, grant.id).justified is False
    # Another school's psychologist neither sees nor reviews it.
    other = signed_in(app, world.psy3)
    assert NOTE_MARKER not in other.get("/monitoring/emergency-reviews").get_data(as_text=True)
    assert other.post(path, data={"csrf_token": csrf_token(other, "/monitoring/emergency-reviews")}).status_code == 404


def test_the_team_is_sent_to_the_case_and_a_pupil_without_a_case_has_nothing_to_open(app: Flask, world,
                                                                                       case) -> None:
    owner = signed_in(app, world.psy1)
    response = _ask(owner, world.p1, code=_next_code(world.psy1))
    assert response.status_code == 302 and case.uuid in response.headers["Location"]
    other = signed_in(app, world.psy2)
    page = _ask(other, world.p2, code=_next_code(world.psy2))
    assert page.status_code == 400 and "This pupil has no open case." in page.get_data(as_text=True)
    assert db.session.execute(select(CaseAccessGrant)).first() is None


def test_the_pupil_page_offers_emergency_access(app: Flask, world, case) -> None:
    page = signed_in(app, world.psy2).get(f"/pupils/{world.p1.uuid}").get_data(as_text=True)
    assert f"/monitoring/pupils/{world.p1.uuid}/emergency-access" in page


@pytest.mark.parametrize("revoker", ["psy1", "a1"])  # the case owner, the school administrator
def test_a_running_emergency_access_is_ended_early(app: Flask, world, case, revoker) -> None:
    grantee = signed_in(app, world.psy2)
    _ask(grantee, world.p1, code=_next_code(world.psy2))
    assert grantee.get(f"/monitoring/cases/{case.uuid}").status_code == 200
    grant = db.session.execute(select(CaseAccessGrant)).scalar_one()
    reviewer = signed_in(app, getattr(world, revoker))
    page = reviewer.get("/monitoring/emergency-reviews").get_data(as_text=True)
    assert "End this access now" in page
    token = csrf_token(reviewer, "/monitoring/emergency-reviews")
    path = f"/monitoring/emergency-reviews/{grant.uuid}/revoke"
    response = reviewer.post(path, data={"csrf_token": token, f"x{grant.id}-version": grant.version})
    assert response.status_code == 302
    # The grantee's very next request is refused; the queue shows the access ended early, still to review.
    assert grantee.get(f"/monitoring/cases/{case.uuid}").status_code == 404
    db.session.expire_all()
    grant = db.session.get(CaseAccessGrant, grant.id)
    assert grant.revoked_at is not None and grant.reviewed_at is None
    page = reviewer.get("/monitoring/emergency-reviews").get_data(as_text=True)
    assert "ended early" in page and "End this access now" not in page and "Save the review" in page
    (revoked,) = entries(AuditAction.CASE_EMERGENCY_REVOKED)
    assert (revoked.actor_id, revoked.pupil_id, revoked.school_id) == (getattr(world, revoker).id, world.p1.id,
                                                                       world.s1.id)
    # Ending it twice is refused (the form's version is stale now: the conflict page; the current one: a message).
    assert reviewer.post(path, data={"csrf_token": token, f"x{grant.id}-version": 1}).status_code == 409
    with pytest.raises(glass.NotLive):
        glass.revoke(actor=world.psy1, grant=grant, version=grant.version)
    assert len(entries(AuditAction.CASE_EMERGENCY_REVOKED)) == 1


def test_someone_else_cannot_end_an_emergency_access(app: Flask, world, case) -> None:
    clients = {user: signed_in(app, user) for user in (world.psy2, world.psy3, world.soc1)}
    grant = glass.request_access(actor=world.psy2, pupil=world.p1, reason="now", code=_next_code(world.psy2),
                                 ip="127.0.0.1")
    for user, client in clients.items():
        token = csrf_token(client, "/account")
        response = client.post(f"/monitoring/emergency-reviews/{grant.uuid}/revoke",
                               data={"csrf_token": token, f"x{grant.id}-version": grant.version})
        assert response.status_code in (403, 404), user.username
    db.session.expire_all()
    assert db.session.get(CaseAccessGrant, grant.id).revoked_at is None


def test_the_code_check_the_grant_and_their_audit_entries_are_one_transaction(app: Flask, world, case,
                                                                               monkeypatch) -> None:
    """A request that fails after the code was checked leaves nothing: no grant, no MFA entry, the code unused."""
    def broken(**_kwargs):
        raise RuntimeError("mail queue down")

    monkeypatch.setattr(glass, "_notify", broken)
    last_step = world.psy2.totp_last_step
    code = _next_code(world.psy2)
    with pytest.raises(RuntimeError):
        glass.request_access(actor=world.psy2, pupil=world.p1, reason="now", code=code, ip="127.0.0.1")
    db.session.expire_all()
    assert db.session.execute(select(CaseAccessGrant)).first() is None
    assert not [e for e in entries(AuditAction.MFA_VERIFIED) if e.actor_id == world.psy2.id]
    assert not entries(AuditAction.CASE_EMERGENCY_ACCESS)
    assert db.session.get(type(world.psy2), world.psy2.id).totp_last_step == last_step
    monkeypatch.undo()
    assert glass.request_access(actor=world.psy2, pupil=world.p1, reason="now", code=code, ip="127.0.0.1")
    assert len([e for e in entries(AuditAction.MFA_VERIFIED) if e.actor_id == world.psy2.id]) == 1
