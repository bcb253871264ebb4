""""Ask for help": named and anonymous requests become alerts in the school psychologist's inbox in the same
transaction, encrypted, rate-limited, untraceable when anonymous, rendered inert."""

from __future__ import annotations

import pytest
from sqlalchemy import select, text

from app.auth.models import FailurePurpose, LoginFailure
from app.core.audit import AuditAction, AuditEntry
from app.extensions import db
from app.help import services
from app.help.models import HelpRequest
from app.screening import alerts
from app.screening.models import Alert
from tests.factories import csrf_token, login, post
from tests.help.support import make_service, send_anonymous

ADDRESS = "203.0.113.77"
BROWSER = "SpecialBrowser/9.9 (unique-fingerprint)"


def _inbox(client, user) -> str:
    login(client, user)
    return client.get("/screening/alerts").get_data(as_text=True)


def test_an_anonymous_request_reaches_the_schools_psychologist_only(app, world):
    client = app.test_client()
    response = send_anonymous(client, world.s1, world.c7a, "Меня обижают в классе",
                              environ={"REMOTE_ADDR": ADDRESS, "HTTP_USER_AGENT": BROWSER})
    assert response.status_code == 302 and "/help/sent" in response.headers["Location"]
    (alert,) = db.session.execute(select(Alert)).scalars().all()
    assert alert.school_id == world.s1.id and alert.pupil_id is None and alert.is_help_request
    assert alert.class_id == world.c7a.id and alert.severity == "urgent"
    page = _inbox(app.test_client(), world.psy1)
    assert "Меня обижают в классе" in page and world.c7a.label in page
    assert "monitoring/alerts" not in page  # no "open a case" for a request without a pupil
    other = _inbox(app.test_client(), world.psy3)  # a psychologist of another school
    assert "Меня обижают" not in other
    login(c := app.test_client(), world.psy3)
    assert c.post(f"/screening/alerts/{alert.uuid}/acknowledge").status_code in (400, 404)


def test_the_sent_page_reassures_and_shows_the_regions_help(client, world):
    make_service(phone="150", name="Line150")
    make_service(phone="+7 7222 11 22 33", name="OurCentre", region=world.s1.district.region)
    response = send_anonymous(client, world.s1, world.c7a, "Помогите")
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "Line150" in page and "OurCentre" in page and "tel:150" in page


def test_an_anonymous_request_cannot_be_traced(app, world):
    client = app.test_client()
    send_anonymous(client, world.s1, world.c7a, "Тайна", environ={"REMOTE_ADDR": ADDRESS,
                                                                  "HTTP_USER_AGENT": BROWSER})
    request_row = db.session.execute(select(HelpRequest)).scalar_one()
    assert request_row.pupil_id is None and request_row.class_id == world.c7a.id
    # No entry when sent (tests/help/test_anonymous_trace.py); the psychologist's first opening writes one.
    assert db.session.execute(select(AuditEntry)).first() is None
    _inbox(app.test_client(), world.psy1)
    (entry,) = db.session.execute(select(AuditEntry).where(
        AuditEntry.action == str(AuditAction.HELP_REQUEST_RECEIVED))).scalars().all()
    assert entry.actor_id == world.psy1.id and entry.pupil_id is None
    assert ADDRESS not in entry.details and BROWSER not in entry.details
    # No row of any table holds the address or the browser in plaintext (the rate limit keeps keyed values).
    for table in db.metadata.sorted_tables:
        for row in db.session.execute(table.select()).all():
            flat = " ".join(str(v) for v in row)
            assert ADDRESS not in flat and BROWSER not in flat, table.name
    (counted,) = db.session.execute(select(LoginFailure).where(
        LoginFailure.purpose == FailurePurpose.HELP.value)).scalars().all()
    assert counted.ip != ADDRESS


def test_the_message_is_encrypted_at_rest(client, world):
    send_anonymous(client, world.s1, world.c7a, "Секретное сообщение")
    raw = db.session.execute(text("SELECT body_ct FROM help_requests")).scalar_one()
    assert "Секретное".encode() not in bytes(raw)
    assert db.session.execute(select(HelpRequest)).scalar_one().message == "Секретное сообщение"


def test_a_stored_xss_attempt_renders_inert(app, world):
    send_anonymous(app.test_client(), world.s1, world.c7a, '<script>alert("x")</script><img src=x onerror=alert(1)>')
    page = _inbox(app.test_client(), world.psy1)
    assert "<script>alert" not in page and "<img src=x" not in page
    assert "&lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt;" in page


def test_a_signed_in_pupil_sends_a_named_request(client, world):
    login(client, world.pupil1)
    page = client.get("/help/ask").get_data(as_text=True)
    assert 'name="class_id"' not in page and 'value="named"' in page  # the school and class are known
    response = post(client, "/help/ask", {"message": "Мне плохо", "sign": "named"})
    assert response.status_code == 302
    alert = db.session.execute(select(Alert)).scalar_one()
    assert alert.pupil_id == world.p1.id and alert.class_id == world.c7a.id
    # It is the pupil's alert for the psychologist, not a flag for the class teacher.
    assert alerts.open_alerts_by_pupil(pupil_ids=[world.p1.id])[world.p1.id] == [alert]
    assert alerts.open_alert_dates(pupil_ids=[world.p1.id]) == {}
    sent = db.session.execute(select(AuditEntry).where(
        AuditEntry.action == str(AuditAction.HELP_REQUEST_SENT))).scalar_one()
    assert sent.actor_id == world.pupil1.id


def test_a_signed_in_pupil_may_stay_anonymous(client, world):
    login(client, world.pupil1)
    post(client, "/help/ask", {"message": "Не хочу называть имя", "sign": "anonymous"})
    alert = db.session.execute(select(Alert)).scalar_one()
    assert alert.pupil_id is None and alert.class_id == world.c7a.id
    assert db.session.execute(select(AuditEntry).where(AuditEntry.action.in_(
        [str(AuditAction.HELP_REQUEST_SENT), str(AuditAction.ALERT_RAISED)]))).first() is None


def test_a_pupil_with_a_code_can_send_it_with_the_name(client, world):
    from tests.screening.workflow_support import campaign, consent, session_with_code

    camp = campaign(world.psy1, world.s1, [world.c7a])
    consent(world.p1)
    session_with_code(camp, world.p1, code="WXYZ-2345", language="ru")
    assert post(client, "/s", {"code": "wxyz2345"}).status_code == 302
    post(client, "/help/ask", {"message": "Это я", "sign": "named"})
    alert = db.session.execute(select(Alert)).scalar_one()
    assert alert.pupil_id == world.p1.id


def test_the_request_is_rate_limited_per_browser(app, world):
    client = app.test_client()
    limit = app.config["SENIM_HELP_DEVICE_THRESHOLD"]
    for n in range(limit):
        assert send_anonymous(client, world.s1, world.c7a, f"m{n}").status_code == 302
    refused = send_anonymous(client, world.s1, world.c7a, "one too many")
    assert refused.status_code == 429 and "tel:150" in refused.get_data(as_text=True)
    assert db.session.execute(select(Alert)).scalars().all().__len__() == limit
    other_browser = app.test_client()  # another pupil on another phone is not blocked
    assert send_anonymous(other_browser, world.s1, world.c7a, "me too").status_code == 302


def test_the_request_is_rate_limited_per_address(app, world, monkeypatch):
    app.config["SENIM_HELP_IP_THRESHOLD"], before = 2, app.config["SENIM_HELP_IP_THRESHOLD"]
    try:
        for n in range(2):
            assert send_anonymous(app.test_client(), world.s1, world.c7a, f"m{n}",
                                  environ={"REMOTE_ADDR": ADDRESS}).status_code == 302
        assert send_anonymous(app.test_client(), world.s1, world.c7a, "x",
                              environ={"REMOTE_ADDR": ADDRESS}).status_code == 429
        assert send_anonymous(app.test_client(), world.s1, world.c7a, "y",
                              environ={"REMOTE_ADDR": "198.51.100.1"}).status_code == 302
    finally:
        app.config["SENIM_HELP_IP_THRESHOLD"] = before


def test_csrf_is_required(client, world):
    response = client.post(f"/help/ask?school={world.s1.id}", data={"class_id": str(world.c7a.id),
                                                                    "message": "no token"})
    assert response.status_code in (200, 400)
    assert db.session.execute(select(Alert)).first() is None


def test_a_class_of_another_school_is_refused(client, world):
    path = f"/help/ask?school={world.s2.id}"
    token = csrf_token(client, path)
    client.post(path, data={"csrf_token": token, "class_id": str(world.c7a.id), "message": "x"})
    assert db.session.execute(select(Alert)).first() is None


def test_the_alert_is_raised_in_the_same_transaction(client, world, monkeypatch):
    def broken(*args, **kwargs):
        raise RuntimeError("alert failed")

    monkeypatch.setattr(alerts, "raise_help_request", broken)
    with pytest.raises(RuntimeError):
        services.send_request(actor=None, school=world.s1, school_class=world.c7a, pupil=None, message="x",
                              device="d", ip="1.2.3.4")
    db.session.rollback()
    assert db.session.execute(select(HelpRequest)).first() is None  # no message without its alert


def test_escalation_and_counts_cope_with_an_anonymous_alert(client, world):
    from datetime import timedelta

    from app.core.models import utcnow

    send_anonymous(client, world.s1, world.c7a, "help")
    assert alerts.open_alert_counts(school_ids=[world.s1.id])["urgent"] == 1
    assert alerts.escalate_overdue(now=utcnow() + timedelta(days=2)) == 1
    (escalation,) = alerts.escalations_for(actor=world.a1)
    assert escalation.class_label == world.c7a.label
    login(client, world.a1)
    assert client.get("/screening/escalations").status_code == 200
    login(c2 := client.application.test_client(), world.t7a)
    assert c2.get("/class/").status_code == 200


def test_no_case_can_be_opened_from_an_anonymous_request(client, world):
    send_anonymous(client, world.s1, world.c7a, "help")
    alert = db.session.execute(select(Alert)).scalar_one()
    login(client, world.psy1)
    response = post(client, f"/monitoring/alerts/{alert.uuid}/case", {}, form_page="/screening/alerts")
    assert response.status_code == 404


def test_the_request_has_words_in_every_language(app_ctx):
    from flask_babel import force_locale

    from app.screening import labels

    with app_ctx.test_request_context():
        words = {}
        for language in ("kk", "ru", "en"):
            with force_locale(language):
                words[language] = (labels.rule_label("help_request"), labels.instrument_title("help-request"))
    assert len({w for w, _ in words.values()}) == 3 and len({t for _, t in words.values()}) == 3


def test_a_named_request_shows_in_the_pupils_alert_history(app, world):
    pupil = app.test_client()
    login(pupil, world.pupil1)
    post(pupil, "/help/ask", {"message": "Мне плохо", "sign": "named"})
    login(client := app.test_client(), world.psy1)
    page = client.get(f"/screening/pupils/{world.p1.uuid}/results").get_data(as_text=True)
    assert "request for help" in page.lower() or "көмек" in page
    inbox = client.get(f"/screening/alerts?pupil={world.p1.uuid}").get_data(as_text=True)
    assert "Мне плохо" in inbox
