"""Issue 8, items 1, 3, 4, 6 and 7 through the real pages: alerts that cannot wait, thresholds on partial answers,
K6 and WHO-5 alerts, GAD-7 bands, populations and age ranges."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from sqlalchemy import select

from app.classes.services import flags_for_class
from app.core.models import utcnow
from app.extensions import db
from app.screening import services
from app.screening.expiry import close_expired
from app.screening.models import Alert
from tests.factories import login, make_pupil, post
from tests.screening.workflow_support import campaign, consent, session_with_code

ASQ = "asq@1.1"


@pytest.fixture
def client(app_ctx):
    test_client = app_ctx.test_client()
    test_client.environ_base["HTTP_ACCEPT_LANGUAGE"] = "en"
    return test_client


def _pupil_starts(app_ctx, code: str):
    pupil = app_ctx.test_client()
    assert post(pupil, "/s", {"code": code}).status_code == 302
    assert post(pupil, "/s/language", {"language": "ru"}).status_code == 302
    return pupil


def _answer(pupil, n: int, value: int):
    return post(pupil, f"/s/q?n={n}", {"answer": str(value), "nav": "next"}, form_page=f"/s/q?n={n}")


def _alerts() -> list[Alert]:
    db.session.expire_all()
    return list(db.session.execute(select(Alert)).scalars())


# --- item 1: ASQ questions 1-4 raise the alert at the answer -----------------------------------------------------


def test_a_yes_to_asq_question_1_is_in_the_inbox_before_the_pupil_goes_on(app_ctx, client, world):
    camp = campaign(world.psy1, world.s1, [world.c7a], refs=(ASQ,))
    session_with_code(camp, world.p1, code="ASQA-2345", ref=ASQ)
    pupil = _pupil_starts(app_ctx, "ASQA-2345")
    assert _answer(pupil, 1, 1).status_code == 302  # "yes" to question 1, then the pupil closes the phone
    (alert,) = _alerts()
    assert (alert.severity, alert.rule_id, alert.acknowledged_at) == ("urgent", "asq.non_acute", None)
    login(client, world.psy1)
    inbox = client.get("/screening/alerts").get_data(as_text=True)
    assert world.p1.short_name in inbox and "Urgent" in inbox


@pytest.mark.parametrize("value", [1, 9])  # "yes" or "I don't want to answer"
def test_a_yes_or_refusal_on_any_of_questions_1_to_4_raises_it(app_ctx, world, value):
    camp = campaign(world.psy1, world.s1, [world.c7a], refs=(ASQ,))
    session_with_code(camp, world.p1, code="ASQB-2345", ref=ASQ)
    pupil = _pupil_starts(app_ctx, "ASQB-2345")
    for n in (1, 2):
        _answer(pupil, n, 0)
    assert not _alerts()
    _answer(pupil, 3, value)
    assert [a.severity for a in _alerts()] == ["urgent"]


def test_question_5_yes_upgrades_the_same_alert_to_acute_and_asks_again(app_ctx, world):
    camp = campaign(world.psy1, world.s1, [world.c7a], refs=(ASQ,))
    session_with_code(camp, world.p1, code="ASQC-2345", ref=ASQ)
    pupil = _pupil_starts(app_ctx, "ASQC-2345")
    _answer(pupil, 1, 1)
    (alert,) = _alerts()
    from app.screening import alerts

    alerts.acknowledge(actor=world.psy1, alert=alert)  # the psychologist is on the way
    for n, value in ((2, 0), (3, 0), (4, 0), (5, 1)):
        _answer(pupil, n, value)
    (alert,) = _alerts()  # still one alert for the sitting
    assert alert.severity == "acute" and alert.rule_id == "asq.acute"
    assert alert.acknowledged_at is None, "an upgrade needs a new acknowledgement"
    assert [h[0] for h in alert.details.history] == ["urgent"]
    assert alert.result_id is not None


def test_an_abandoned_positive_asq_is_acute_after_close_expired(app_ctx, world):
    camp = campaign(world.psy1, world.s1, [world.c7a], refs=(ASQ,))
    session_with_code(camp, world.p1, code="ASQD-2345", ref=ASQ)
    pupil = _pupil_starts(app_ctx, "ASQD-2345")
    _answer(pupil, 1, 1)
    assert [a.severity for a in _alerts()] == ["urgent"]  # already in the inbox
    close_expired(utcnow() + timedelta(days=30))
    (alert,) = _alerts()
    assert alert.severity == "acute" and alert.rule_id == "asq.positive_acuity_unknown"


# --- item 3: thresholds reached by the answered items alone ------------------------------------------------------


def test_phq_a_alert_fires_when_the_answered_items_already_reach_15(client, world):
    consent(world.p1)
    login(client, world.psy1)
    answers = {"down": 3, "interest": 3, "sleep": 3, "appetite": 3, "tired": 3, "self_harm": 0, "past_year": 0}
    url = f"/screening/paper/{world.p1.uuid}?instrument=phq-a@1.1&language=ru"
    assert post(client, url, {f"item_{k}": str(v) for k, v in answers.items()}).status_code == 302
    (alert,) = _alerts()
    assert alert.rule_id == "phq-a.total_high" and alert.details.partial
    page = client.get(f"/screening/pupils/{world.p1.uuid}/results").get_data(as_text=True)
    assert "Reached by the answered questions alone" in page


# --- item 4: K6 and WHO-5 -------------------------------------------------------------------------------------------


def test_k6_of_13_or_more_raises_an_alert_and_the_class_flag(client, world):
    pupil = make_pupil(world.c7a, birth_date=date(date.today().year - 17, 1, 1))
    db.session.commit()
    consent(pupil)
    login(client, world.psy1)
    k6 = services.instrument_for("k6@1.1")
    answers = dict.fromkeys(k6.item_ids, 2) | {"worthless": 3}  # 13
    url = f"/screening/paper/{pupil.uuid}?instrument=k6@1.1&language=ru"
    assert post(client, url, {f"item_{k}": str(v) for k, v in answers.items()}).status_code == 302
    assert [a.rule_id for a in _alerts()] == ["k6.serious_distress"]
    assert pupil.id in flags_for_class(world.c7a)


@pytest.mark.parametrize(("answers", "severity", "rules"), [
    ({"cheerful": 3, "calm": 3, "active": 2, "rested": 2, "interest": 2}, "routine", {"who-5.poor_wellbeing"}),
    ({"cheerful": 5, "calm": 5, "active": 5, "rested": 1, "interest": 5}, "routine", {"who-5.item_low"}),
    ({"cheerful": 1, "calm": 1, "active": 1, "rested": 2, "interest": 2}, "urgent",
     {"who-5.low", "who-5.poor_wellbeing", "who-5.item_low"}),
])
def test_who_5_alerts(client, world, answers, severity, rules):
    consent(world.p1)
    login(client, world.psy1)
    url = f"/screening/paper/{world.p1.uuid}?instrument=who-5@1.1&language=ru"
    assert post(client, url, {f"item_{k}": str(v) for k, v in answers.items()}).status_code == 302
    (alert,) = _alerts()  # one alert for the form, at its most severe
    assert alert.severity == severity and set(alert.details.rules) == rules


# --- item 6: GAD-7 bands do not jump at 18 ---------------------------------------------------------------------------


@pytest.mark.parametrize("age", [12, 14, 17, 18, 19])
def test_gad_7_bands_are_the_same_at_every_age(app_ctx, age):
    from app.screening.scoring import score

    gad = services.instrument_for("gad-7@1.1")
    for total in range(0, 22):
        answers = {item: 0 for item in gad.item_ids if item != "difficulty"}
        for item in list(answers)[: total // 3]:
            answers[item] = 3
        if total % 3:
            answers[list(answers)[total // 3]] = total % 3
        reference = score(gad, answers, age=30)
        assert score(gad, answers, age=age).bands == reference.bands, (age, total)


# --- item 7: populations and age ranges ------------------------------------------------------------------------------


def test_results_name_the_population_of_each_cut_off(client, world):
    phq = services.instrument_for("phq-a@1.1")
    services.submit_result(actor=world.psy1, session=None, pupil=world.p1, instrument=phq, language="ru",
                           answers=dict.fromkeys([i for i in phq.item_ids if i != "difficulty"], 1))
    login(client, world.psy1)
    page = client.get(f"/screening/pupils/{world.p1.uuid}/results").get_data(as_text=True)
    assert "Cut-off derived from: adults in primary care (USA)" in page
    assert "adolescents aged" in page  # the screening cut-off that applied at the pupil's age


def test_the_instrument_page_lists_cut_offs_with_their_populations(client, world):
    login(client, world.psy1)
    page = client.get("/screening/instruments/psc-17-y/1.1?lang=en").get_data(as_text=True)
    assert "the parent form&#39;s cut-offs, applied to the youth form" in page
    old = client.get("/screening/instruments/asq/1.0?lang=en").get_data(as_text=True)
    assert "an earlier version" in old and "/screening/instruments/asq/1.1" in old


def test_rosenberg_ranges_are_descriptive(client, world):
    rses = services.instrument_for("rses@1.1")
    services.submit_result(actor=world.psy1, session=None, pupil=world.p1, instrument=rses, language="ru",
                           answers=dict.fromkeys(rses.item_ids, 1))
    login(client, world.psy1)
    results = client.get(f"/screening/pupils/{world.p1.uuid}/results").get_data(as_text=True)
    overview = client.get(f"/screening/classes/{world.c7a.id}").get_data(as_text=True)
    for page in (results, overview):
        assert "low self-esteem" not in page.casefold()
    assert "descriptive range, not a finding" in results


def test_pupils_outside_an_instruments_ages_get_no_code_for_it(client, world):
    young = make_pupil(world.c7a, birth_date=date(date.today().year - 9, 1, 1))  # 8 or 9: too young for PHQ-A
    db.session.commit()
    for pupil in (world.p1, young):
        consent(pupil)
    login(client, world.psy1)
    response = post(client, "/screening/campaigns/new", {
        "title": "Spring", "instruments": ["phq-a@1.1", "who-5@1.1"], "classes": [str(world.c7a.id)],
        "opens_on": date.today().isoformat(), "closes_on": (date.today() + timedelta(days=9)).isoformat(),
        "mode": "online"})
    assert response.status_code == 302
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "outside the ages of" in page and "not offered: outside its age range" in page
    detail = response.headers["Location"]
    post(client, detail + "/codes", {"pupils": [young.uuid]}, form_page=detail)
    from app.screening.models import ScreeningSession

    refs = db.session.execute(select(ScreeningSession.instrument_ref)
                              .where(ScreeningSession.pupil_id == young.id)).scalars().all()
    assert refs == ["who-5@1.1"]  # WHO-5 from 9: yes; PHQ-A from 11: refused


def test_paper_entry_warns_outside_the_ages(client, world):
    young = make_pupil(world.c7a, birth_date=date(date.today().year - 9, 1, 1))
    db.session.commit()
    consent(young)
    login(client, world.psy1)
    page = client.get(f"/screening/paper/{young.uuid}?instrument=phq-a@1.1&language=ru").get_data(as_text=True)
    assert "Outside the ages of this questionnaire" in page
    fits = client.get(f"/screening/paper/{world.p1.uuid}?instrument=phq-a@1.1&language=ru").get_data(as_text=True)
    assert "Outside the ages of this questionnaire" not in fits
