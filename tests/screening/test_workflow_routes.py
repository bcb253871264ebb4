"""Role × endpoint matrix, scoping, consent pages, pupil self-completion and the alert inbox."""

from __future__ import annotations

import pytest
from flask_babel import force_locale
from sqlalchemy import select

from app.consent.models import Consent
from app.consent.services import today_local
from app.core.audit import AuditAction, AuditEntry
from app.extensions import db
from app.screening import labels, services
from app.screening.models import Alert, Campaign, ScreeningResult
from tests.factories import login, post
from tests.screening.workflow_support import ACUTE_ASQ, campaign, consent, session_with_code

ALLOWED = {
    "/screening/campaigns": {"psy1"},
    "/screening/campaigns/new": {"psy1"},
    "/screening/alerts": {"psy1"},
    "/screening/escalations": {"a1"},
    "/screening/paper": {"psy1"},
    "/consent/pupils/{p1}": {"psy1", "soc1"},
    "/consent/my-children/{p1}": {"r1"},
    "/screening/pupils/{p1}/results": {"psy1"},
    "/screening/campaigns/{camp}": {"psy1"},
}
ROLES = ["admin", "a1", "psy1", "soc1", "t7a", "r1", "pupil1", "d1", "norole"]


@pytest.mark.parametrize("path", sorted(ALLOWED))
def test_role_matrix(client, world, path):
    camp = campaign(world.psy1, world.s1, [world.c7a])
    url = path.format(p1=world.p1.uuid, camp=camp.uuid)
    assert client.get(url).status_code == 302  # anonymous → sign-in
    for name in ROLES:
        user = getattr(world, name)
        _relogin(client, user)
        status = client.get(url).status_code
        expected = 200 if name in ALLOWED[path] else (404 if "{" in path and _holds(user, path) else 403)
        assert status == expected, (name, url, status)


def _relogin(client, user):
    with client.session_transaction() as flask_session:
        flask_session.clear()
    login(client, user)


def _holds(user, path):
    from app.auth.permissions import Permission, has_permission

    needed = {"/consent/pupils/{p1}": Permission.CONSENT_RECORD, "/consent/my-children/{p1}": Permission.CONSENT_OWN,
              "/screening/pupils/{p1}/results": Permission.SCREENING_RESULTS,
              "/screening/campaigns/{camp}": Permission.SCREENING_CAMPAIGNS}[path]
    return has_permission(user, needed)


def test_psychologist_of_other_school_gets_404(client, world):
    camp = campaign(world.psy1, world.s1, [world.c7a])
    sess = session_with_code(camp, world.p1, language="ru")
    result = services.submit_result(actor=None, session=sess, answers=ACUTE_ASQ)
    alert = db.session.execute(select(Alert)).scalar_one()
    login(client, world.psy3)
    assert client.get(f"/screening/campaigns/{camp.uuid}").status_code == 404
    assert client.get(f"/screening/pupils/{world.p1.uuid}/results").status_code == 404
    assert client.get(f"/screening/pupils/{world.p1.uuid}/results/{result.uuid}.fhir.json").status_code == 404
    assert world.p1.short_name not in client.get("/screening/alerts").get_data(as_text=True)
    assert post(client, f"/screening/alerts/{alert.uuid}/acknowledge", form_page="/screening/alerts").status_code == 404
    assert db.session.get(Alert, alert.id).acknowledged_at is None


def test_consent_paper_and_parent_withdrawal(client, world):
    login(client, world.soc1)
    page = f"/consent/pupils/{world.p1.uuid}"
    assert post(client, page, {"signed_on": today_local().isoformat(), "confirm": "y"}).status_code == 302
    assert db.session.execute(select(Consent)).scalar_one().method == "paper"
    _relogin(client, world.r1)
    page = f"/consent/my-children/{world.p1.uuid}"
    assert page + "/withdraw" in client.get(page).get_data(as_text=True)
    assert post(client, page + "/withdraw", form_page=page).status_code == 302
    db.session.expire_all()
    assert db.session.execute(select(Consent)).scalar_one().withdrawn_at is not None
    assert post(client, page, {"confirm": "y"}).status_code == 302
    actions = list(db.session.execute(select(AuditEntry.action).where(AuditEntry.pupil_id == world.p1.id)).scalars())
    assert actions.count(str(AuditAction.CONSENT_GIVEN)) == 2 and str(AuditAction.CONSENT_WITHDRAWN) in actions
    # A parent of another child: 404.
    assert client.get(f"/consent/my-children/{world.p2.uuid}").status_code == 404


def test_pupil_completes_asq_with_acute_alert_and_inbox_shows_it(client, world):
    camp = campaign(world.psy1, world.s1, [world.c7a])
    session_with_code(camp, world.p1, code="WXYZ-2345")
    assert post(client, "/s", {"code": "nope"}).status_code == 200
    response = post(client, "/s", {"code": "wxyz2345"})
    assert response.status_code == 302 and response.headers["Location"].endswith("/s/language")
    assert post(client, "/s/language", {"language": "ru"}).status_code == 302
    client.get("/s/q")
    answers = [1, 0, 0, 0, 1]
    for n, value in enumerate(answers, start=1):
        response = post(client, f"/s/q?n={n}", {"answer": str(value), "nav": "next"}, form_page=f"/s/q?n={n}")
        assert response.status_code == 302, n
    assert response.headers["Location"].endswith("/s/done")
    done = client.get("/s/done").get_data(as_text=True)
    assert "tel:150" in done and "tel:111" in done and "tel:112" in done
    assert "alert--danger" in done
    result = db.session.execute(select(ScreeningResult)).scalar_one()
    assert result.language == "ru" and result.mode == "online"
    assert "scales" not in done
    _relogin(client, world.psy1)
    inbox = client.get("/screening/alerts").get_data(as_text=True)
    with force_locale("kk"):  # the rule in words of the psychologist's language, not its code
        assert "asq.acute" not in inbox and labels.rule_label("asq.acute") in inbox
    alert = db.session.execute(select(Alert)).scalar_one()
    assert post(client, f"/screening/alerts/{alert.uuid}/resolve", {"note": "x"},
                form_page="/screening/alerts").status_code == 302
    assert db.session.get(Alert, alert.id).resolved_at is None  # must be acknowledged first
    post(client, f"/screening/alerts/{alert.uuid}/acknowledge", form_page="/screening/alerts")
    post(client, f"/screening/alerts/{alert.uuid}/resolve", {"note": "Talked with her"}, form_page="/screening/alerts")
    db.session.expire_all()
    alert = db.session.get(Alert, alert.id)
    assert alert.acknowledged_by_id == world.psy1.id and alert.resolution_note == "Talked with her"
    history = client.get(f"/screening/pupils/{world.p1.uuid}/results")
    assert history.status_code == 200 and "<svg" in history.get_data(as_text=True)
    reads = db.session.execute(select(AuditEntry).where(
        AuditEntry.action == str(AuditAction.SCREENING_RESULT_READ))).scalars().all()
    assert len(reads) == 1
    fhir = client.get(f"/screening/pupils/{world.p1.uuid}/results/{result.uuid}.fhir.json")
    assert fhir.status_code == 200 and fhir.json["resourceType"] == "QuestionnaireResponse"


def test_code_entry_is_throttled_per_ip(client, world, app_ctx, monkeypatch):
    monkeypatch.setitem(app_ctx.config, "SENIM_OTC_IP_THRESHOLD", 2)
    camp = campaign(world.psy1, world.s1, [world.c7a])
    session_with_code(camp, world.p1, code="GOOD-2345")
    post(client, "/s", {"code": "BAD1"})
    post(client, "/s", {"code": "BAD2"})
    response = post(client, "/s", {"code": "GOOD-2345"})
    assert response.status_code == 200  # the right code is refused while throttled


def test_campaign_plan_and_issue_codes(client, world):
    consent(world.p1)
    login(client, world.psy1)
    response = post(client, "/screening/campaigns/new", {
        "title": "Autumn", "instruments": ["asq@1.1"], "classes": [str(world.c7a.id), str(world.c8b.id)],
        "opens_on": "2026-01-01", "closes_on": "2030-01-01", "mode": "online"})
    assert response.status_code == 302
    detail_url = response.headers["Location"]
    page = client.get(detail_url).get_data(as_text=True)
    assert "row--missing-consent" in page
    issued = post(client, detail_url + "/codes", {"pupils": [world.p1.uuid]}, form_page=detail_url)
    assert issued.status_code == 302 and "/cards/" in issued.headers["Location"]
    assert "code-card__code" in client.get(issued.headers["Location"]).get_data(as_text=True)
    refused = post(client, detail_url + "/codes", {"pupils": [world.p2.uuid]}, form_page=detail_url)
    assert refused.status_code == 302


@pytest.mark.parametrize("opens_on, closes_on", [("0001-01-01", "2026-01-01"), ("2026-01-01", "9999-12-31")])
def test_a_campaign_date_outside_the_calendar_is_explained_not_a_500(client, world, opens_on, closes_on):
    """0001-01-01 (a slip in the date picker) was a 500 on PostgreSQL: its school-time midnight is before year 1
    in UTC. Both dates must lie in 2000-2099; the form says so and nothing is planned."""
    login(client, world.psy1)
    response = post(client, "/screening/campaigns/new", {
        "title": "Autumn", "instruments": ["asq@1.1"], "classes": [str(world.c7a.id)],
        "opens_on": opens_on, "closes_on": closes_on, "mode": "online"})
    assert response.status_code == 200
    assert "2000 және 2099 жылдар аралығындағы күнді енгізіңіз." in response.get_data(as_text=True)  # school: kk
    assert db.session.execute(select(Campaign)).first() is None


def test_paper_entry_uses_same_submit(client, world):
    consent(world.p1)
    login(client, world.psy1)
    url = f"/screening/paper/{world.p1.uuid}?instrument=asq@1.0&language=ru"
    data = {f"item_{k}": str(v) for k, v in ACUTE_ASQ.items()}
    assert post(client, url, data).status_code == 302
    result = db.session.execute(select(ScreeningResult)).scalar_one()
    assert result.mode == "paper" and result.entered_by_id == world.psy1.id
    assert db.session.execute(select(Alert)).scalar_one().rule_id == "asq.acute"
    bad = post(client, url, {"item_q1": "7"})
    assert bad.status_code == 200
    assert client.get(f"/screening/paper/{world.p2.uuid}?instrument=asq@1.0&language=ru").status_code == 302
