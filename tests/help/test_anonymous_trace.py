"""An anonymous request for help sent by a signed-in pupil leaves nothing that points back at that pupil
(issue 11: "an anonymous request cannot be traced back through the UI"); a named request keeps its full audit.

What is asserted, precisely:
- the form page and the send write no audit entry at all (so none sits beside the pupil's own entries, by time,
  id or chain position); the request's first entry is written when a psychologist first opens the inbox, with
  the psychologist as actor, once;
- no rate-limit row of the send holds the pupil's address or a key equal to one a named request from the same
  browser or address writes (the two cannot be joined), its time is cut to the minute, and old counts are
  deleted;
- no outbox row names the pupil or the address; the alert and the request carry no pupil id and the alert's
  pupil reference is not the pupil's;
- nothing is added to the pupil's session but the browser's random id the rate limit needs;
- the alert is still raised with the request, the limit still answers 429 in kk, ru and en.
"""

from __future__ import annotations

import json
from datetime import timedelta

import pytest
from flask_babel import force_locale
from flask_babel import gettext as _
from sqlalchemy import func, select

from app.auth.models import FailurePurpose, LoginFailure
from app.core import audit
from app.core.audit import AuditAction, AuditEntry
from app.core.mail import OutboxMessage
from app.core.models import utcnow
from app.extensions import db
from app.help import services, views
from app.help.models import HelpRequest
from app.screening.models import Alert, pupil_ref
from tests.factories import csrf_token, login

ADDRESS = "203.0.113.58"
HERE = {"REMOTE_ADDR": ADDRESS}


def _last_entry_id() -> int:
    return db.session.execute(select(func.coalesce(func.max(AuditEntry.id), 0))).scalar_one()


def _send(client, sign: str, message: str = "Мне страшно говорить"):
    token = csrf_token(client, "/help/ask")
    return client.post("/help/ask", data={"csrf_token": token, "message": message, "sign": sign},
                       environ_base=HERE)


def _signed_in_pupil(app, world):
    client = app.test_client()
    client.environ_base.update(HERE)
    login(client, world.pupil1)
    assert client.get("/me").status_code == 200
    return client


def _mail_on(app, world, monkeypatch) -> None:
    monkeypatch.setitem(app.config, "SENIM_SMTP_HOST", "127.0.0.1")
    world.psy1.email = "psy1@example.kz"
    db.session.commit()


def _help_counts() -> list[LoginFailure]:
    return list(db.session.execute(select(LoginFailure).where(
        LoginFailure.purpose == FailurePurpose.HELP.value)).scalars())


def test_the_form_and_the_anonymous_send_write_no_audit_entry(app, world):
    client = _signed_in_pupil(app, world)
    before = _last_entry_id()
    assert client.get("/help/ask").status_code == 200
    assert _send(client, "anonymous").status_code == 302
    assert _last_entry_id() == before  # nothing beside the pupil's sign-in and page reads
    alert = db.session.execute(select(Alert)).scalar_one()  # ...and yet the alert is in front of the psychologist

    login(psychologist := app.test_client(), world.psy1)
    assert "Мне страшно говорить" in psychologist.get("/screening/alerts").get_data(as_text=True)
    psychologist.get("/screening/alerts")  # a second opening adds no second entry for the request
    (first,) = db.session.execute(select(AuditEntry).where(AuditEntry.object_id == alert.uuid)).scalars().all()
    assert first.action == str(AuditAction.HELP_REQUEST_RECEIVED) and first.actor_id == world.psy1.id
    assert first.pupil_id is None and first.school_id == world.s1.id
    assert json.loads(first.details) == {"anonymous": True}
    assert audit.verify() == []  # the chains are whole


def test_an_anonymous_send_stores_nothing_that_names_the_pupil(app, world, monkeypatch):
    _mail_on(app, world, monkeypatch)
    client = _signed_in_pupil(app, world)
    with client.session_transaction() as sess:
        keys_before = set(sess)
    assert _send(client, "anonymous").status_code == 302

    alert = db.session.execute(select(Alert)).scalar_one()
    request_row = db.session.execute(select(HelpRequest)).scalar_one()
    assert alert.pupil_id is None and alert.pupil_ref != pupil_ref(world.p1.id) and alert.class_id == world.c7a.id
    assert alert.acknowledged_by_id is None and request_row.pupil_id is None
    assert alert.help_request_id == request_row.id

    (counted,) = _help_counts()
    with client.session_transaction() as sess:
        device = sess[views.DEVICE]
        assert set(sess) - keys_before <= {views.DEVICE}  # no place, no flag, no id of the request
        assert not any(value in json.dumps(dict(sess)) for value in (alert.uuid, request_row.uuid))
    assert counted.ip not in (ADDRESS, services._address_key(ADDRESS))  # not the named requests' key either
    assert counted.account_key != services._device_key(device)
    assert counted.at.second == 0 and counted.at.microsecond == 0

    outbox = db.session.execute(select(OutboxMessage)).scalars().all()
    assert outbox  # the psychologists are told by e-mail, as for any urgent alert
    for message in outbox:
        text = " ".join((message.recipients, message.subject, message.body_text or ""))
        assert ADDRESS not in text and world.pupil1.username not in text and world.p1.uuid not in text


def test_named_and_anonymous_counts_cannot_be_joined(app, world):
    client = _signed_in_pupil(app, world)
    assert _send(client, "named", "с именем").status_code == 302
    assert _send(client, "anonymous", "без имени").status_code == 302
    named, anonymous = sorted(_help_counts(), key=lambda row: row.id)
    assert named.account_key != anonymous.account_key and named.ip != anonymous.ip


def test_counts_older_than_the_window_are_deleted(app, world):
    old = LoginFailure(purpose=FailurePurpose.HELP.value, account_key="k", ip="i",
                       at=utcnow() - app.config["SENIM_HELP_WINDOW"] - timedelta(minutes=1))
    db.session.add(old)
    db.session.commit()
    assert _send(_signed_in_pupil(app, world), "anonymous").status_code == 302
    assert [row.account_key for row in _help_counts()] != ["k"] and len(_help_counts()) == 1


@pytest.mark.parametrize("language", ["kk", "ru", "en"])
def test_the_limit_holds_and_speaks_the_pupils_language(app, world, language):
    world.pupil1.preferred_language = language
    db.session.commit()
    client = _signed_in_pupil(app, world)
    for n in range(app.config["SENIM_HELP_DEVICE_THRESHOLD"]):
        assert _send(client, "anonymous", f"m{n}").status_code == 302
    before = _last_entry_id()
    refused = _send(client, "anonymous", "one too many")
    assert refused.status_code == 429
    with app.test_request_context(), force_locale(language):
        expected = _("Please wait a little")
    assert expected in refused.get_data(as_text=True) and "tel:150" in refused.get_data(as_text=True)
    assert _last_entry_id() == before  # a refused anonymous attempt is not audited beside the pupil either
    assert len(db.session.execute(select(Alert)).scalars().all()) == app.config["SENIM_HELP_DEVICE_THRESHOLD"]


def test_a_named_request_keeps_its_full_audit(app, world):
    client = _signed_in_pupil(app, world)
    assert _send(client, "named").status_code == 302
    alert = db.session.execute(select(Alert)).scalar_one()
    entries = {e.action: e for e in db.session.execute(select(AuditEntry).where(AuditEntry.action.in_(
        [str(AuditAction.HELP_REQUEST_SENT), str(AuditAction.ALERT_RAISED)]))).scalars()}
    assert set(entries) == {str(AuditAction.HELP_REQUEST_SENT), str(AuditAction.ALERT_RAISED)}
    for entry in entries.values():
        assert entry.actor_id == world.pupil1.id and entry.ip == ADDRESS and entry.request_id is not None
    assert alert.pupil_id == world.p1.id
    login(psychologist := app.test_client(), world.psy1)
    psychologist.get("/screening/alerts")
    assert db.session.execute(select(AuditEntry).where(
        AuditEntry.action == str(AuditAction.HELP_REQUEST_RECEIVED))).first() is None


def test_a_named_request_over_the_limit_is_audited_with_its_sender(app, world):
    client = _signed_in_pupil(app, world)
    for n in range(app.config["SENIM_HELP_DEVICE_THRESHOLD"]):
        assert _send(client, "named", f"m{n}").status_code == 302
    assert _send(client, "named", "again").status_code == 429
    refused = db.session.execute(select(AuditEntry).where(
        AuditEntry.action == str(AuditAction.HELP_REQUEST_THROTTLED))).scalar_one()
    assert refused.actor_id == world.pupil1.id


def test_the_audit_page_shows_outbox_times_to_the_hour_only(app, world, monkeypatch):
    _mail_on(app, world, monkeypatch)
    assert _send(_signed_in_pupil(app, world), "anonymous").status_code == 302
    message = db.session.execute(select(OutboxMessage)).scalars().first()
    assert message is not None
    message.created_at = message.created_at.replace(minute=37)
    world.admin.preferred_language = "en"
    db.session.commit()
    login(admin := app.test_client(), world.admin)
    page = admin.get("/admin/audit").get_data(as_text=True)
    outbox = page[page.index("Oldest unsent since"):][:300]
    assert ":37" not in outbox and ":00" in outbox
