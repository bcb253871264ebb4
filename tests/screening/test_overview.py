"""The psychologist's class overview: roles, scoping, content, one audit entry, a fixed number of queries."""

from __future__ import annotations

import json
import re
from datetime import timedelta

import pytest
from sqlalchemy import event, select

from app.classes.services import FlagColour
from app.core.audit import AuditAction, AuditEntry
from app.core.models import utcnow
from app.extensions import db
from app.screening import services
from app.screening.models import ScreeningResult
from app.screening.overview import band_colour, summarise
from tests.factories import login, make_pupil, post
from tests.screening.workflow_support import ACUTE_ASQ, NEGATIVE_ASQ, campaign, consent, session_with_code

ROLES = ["admin", "a1", "psy1", "psy2", "psy3", "soc1", "t7a", "r1", "pupil1", "d1", "norole"]
PHQ_MODERATE = {"down": 3, "interest": 3, "sleep": 3, "tired": 1, "appetite": 0, "failure": 0,
                "concentration": 0, "psychomotor": 0, "self_harm": 0, "past_year": 0}


def _relogin(client, user):
    with client.session_transaction() as flask_session:
        flask_session.clear()
    login(client, user)


@pytest.fixture(autouse=True)
def _english(app_ctx, world):
    """Psychologists read the pages in English here, so that the tests can match the source strings."""
    for user in (world.psy1, world.psy3):
        user.preferred_language = "en"
    db.session.commit()


def _paper(world, pupil, ref, answers):
    return services.submit_result(actor=world.psy1, session=None, answers=answers, pupil=pupil,
                                  instrument=services.instrument_for(ref), language="ru")


@pytest.mark.parametrize("path", ["/screening/classes", "/screening/classes/{c7a}"])
def test_role_matrix(client, world, path):
    url = path.format(c7a=world.c7a.id)
    assert client.get(url).status_code == 302  # anonymous → sign-in
    for name in ROLES:
        _relogin(client, getattr(world, name))
        status = client.get(url).status_code
        expected = 200 if name in ("psy1", "psy2") else (404 if name == "psy3" and "{" in path else 403)
        if name == "psy3" and "{" not in path:
            expected = 200  # own school's list
        assert status == expected, (name, url, status)


def test_other_school_class_is_an_audited_404(client, world):
    login(client, world.psy3)
    assert client.get(f"/screening/classes/{world.c7a.id}").status_code == 404
    denied = db.session.execute(select(AuditEntry).where(AuditEntry.action == str(AuditAction.ACCESS_DENIED))
                                ).scalars().all()
    assert [(d.object_type, d.object_id) for d in denied] == [("class", str(world.c7a.id))]
    page = client.get("/screening/classes").get_data(as_text=True)
    assert f"/screening/classes/{world.c7a.id}" not in page


def test_overview_shows_bands_alerts_consent_and_who_has_not_completed(client, world):
    p1b = make_pupil(world.c7a, first_name="Бақыт")
    db.session.commit()
    consent(world.p1)
    camp = campaign(world.psy1, world.s1, [world.c7a])
    services.submit_result(actor=None, session=session_with_code(camp, world.p1, language="ru"), answers=ACUTE_ASQ)
    _paper(world, world.p1, "phq-a@1.0", PHQ_MODERATE)
    login(client, world.psy1)
    page = client.get(f"/screening/classes/{world.c7a.id}").get_data(as_text=True)
    assert "ASQ" in page and "PHQ-A" in page
    assert "flag--red" in page and "Acute positive: imminent risk" in page  # ASQ: acute, red octagon
    assert "flag--amber" in page and "Moderate depressive symptoms" in page  # PHQ-A total 10: moderate
    assert "1 open alert" in page
    assert "Consent on file" in page and "Missing consent" in page
    assert "1 pupil has not completed this campaign" in page
    pending = page[page.index("has not completed"):page.index("</ul>", page.index("has not completed"))]
    assert p1b.short_name in pending and world.p1.short_name not in pending
    assert world.p2.short_name not in page  # another class
    assert f"/screening/pupils/{world.p1.uuid}/results" in page


def test_opening_is_audited_once_with_class_and_count(client, world):
    make_pupil(world.c7a)
    db.session.commit()
    login(client, world.psy1)
    assert client.get(f"/screening/classes/{world.c7a.id}").status_code == 200
    entries = db.session.execute(select(AuditEntry).where(
        AuditEntry.action == str(AuditAction.CLASS_OVERVIEW_READ))).scalars().all()
    assert len(entries) == 1
    assert (entries[0].object_type, entries[0].object_id, entries[0].actor_id) == ("class", str(world.c7a.id),
                                                                                  world.psy1.id)
    assert '"count": 2' in entries[0].details
    per_pupil = db.session.execute(select(AuditEntry).where(AuditEntry.pupil_id.is_not(None))).scalars().all()
    assert per_pupil == []


def _statements(client, url) -> int:
    counted = []

    def count(*_args):
        counted.append(1)

    event.listen(db.engine, "before_cursor_execute", count)
    try:
        assert client.get(url).status_code == 200
    finally:
        event.remove(db.engine, "before_cursor_execute", count)
    return len(counted)


def test_fixed_number_of_queries_whatever_the_class_size(client, world):
    camp = campaign(world.psy1, world.s1, [world.c7a])

    def add_screened_pupil():
        pupil = make_pupil(world.c7a)
        db.session.commit()
        consent(pupil)
        services.submit_result(actor=None, session=session_with_code(camp, pupil, code=f"C{pupil.id:07d}",
                                                                     language="ru"), answers=NEGATIVE_ASQ)
        _paper(world, pupil, "phq-a@1.0", PHQ_MODERATE)

    add_screened_pupil()
    login(client, world.psy1)
    url = f"/screening/classes/{world.c7a.id}"
    client.get(url)  # warm up (instrument registry, translations, the signed-in user)
    small = _statements(client, url)
    for _ in range(5):
        add_screened_pupil()
    client.get(url)
    assert _statements(client, url) == small


def test_class_list_counts(client, world):
    consent(world.p1)
    services.submit_result(actor=None, session=session_with_code(campaign(world.psy1, world.s1, [world.c7a]),
                                                                 world.p1, language="ru"), answers=ACUTE_ASQ)
    login(client, world.psy1)
    page = client.get("/screening/classes").get_data(as_text=True)
    row = re.search(rf'classes/{world.c7a.id}".*?</tr>', page, re.S).group(0)
    assert re.findall(r"<td>(?:<span[^>]*>)?(\d+)", row)[1:] == ["1", "1", "1"]  # pupils, screened, open alerts
    assert f"/screening/classes/{world.c8b.id}" in page
    assert "Class overview" in page  # in the navigation


def test_campaign_page_links_the_class_overview(client, world):
    camp = campaign(world.psy1, world.s1, [world.c7a])
    login(client, world.psy1)
    page = client.get(f"/screening/campaigns/{camp.uuid}").get_data(as_text=True)
    assert f"/screening/classes/{world.c7a.id}?campaign={camp.uuid}" in page


def test_campaign_choice_and_paper_results_within_the_window(client, world):
    consent(world.p1)
    old = campaign(world.psy1, world.s1, [world.c7a])
    old.title, old.opens_at, old.closes_at = "Spring", utcnow() - timedelta(days=90), utcnow() - timedelta(days=80)
    db.session.commit()
    _paper(world, world.p1, "asq@1.0", NEGATIVE_ASQ)  # today: counts for the current campaign only
    campaign(world.psy1, world.s1, [world.c7a])
    login(client, world.psy1)
    page = client.get(f"/screening/classes/{world.c7a.id}").get_data(as_text=True)
    assert "Every pupil of the class has completed this campaign." in page
    page = client.get(f"/screening/classes/{world.c7a.id}?campaign={old.uuid}").get_data(as_text=True)
    assert "1 pupil has not completed this campaign" in page and "No code issued" in page


@pytest.mark.parametrize(("instrument", "code", "colour"), [
    ("phq-a", "minimal", FlagColour.GREEN), ("phq-a", "moderate", FlagColour.AMBER),
    ("phq-a", "severe", FlagColour.RED), ("rses", "low", FlagColour.GREY), ("rses", "high", FlagColour.GREY),
    ("k6", "high", FlagColour.RED), ("who-5", "likely_depression", FlagColour.RED),
    ("local-x", "unknown_code", FlagColour.GREY), ("asq", None, FlagColour.GREY),
])
def test_band_colours(instrument, code, colour):
    assert band_colour(instrument, code) == colour


def _flag(page: str, pupil, column: int) -> tuple[str, str]:
    """(colour, label) of the flag in the ``column``-th instrument cell of the pupil's row."""
    row = re.search(rf"{re.escape(pupil.short_name)}</a></th>(.*?)</tr>", page, re.S).group(1)
    cell = re.findall(r"<td>(.*?)</td>", row, re.S)[column]
    return (re.search(r"flag--(\w+)", cell).group(1),
            re.search(r'<span class="flag__label">([^<]*)</span>', cell).group(1))


def test_overview_names_bands_after_their_instrument(client, world):
    """"Low" is good news on the K6 and a concern on the RSES; a second band set is named by what it measures."""
    consent(world.p1)
    _paper(world, world.p1, "k6@1.0", dict.fromkeys(services.instrument_for("k6@1.0").item_ids, 0))
    reversed_items = {"no_good", "not_proud", "useless", "more_respect", "failure"}
    _paper(world, world.p1, "rses@1.0", {i: 3 if i in reversed_items else 0
                                         for i in services.instrument_for("rses@1.0").item_ids})
    attention = {"fidgety", "daydreams", "concentrating", "motor", "distracted"}
    _paper(world, world.p1, "psc-17-y@1.0", {i: 2 if i in attention else 0
                                             for i in services.instrument_for("psc-17-y@1.0").item_ids})
    login(client, world.psy1)
    page = client.get(f"/screening/classes/{world.c7a.id}").get_data(as_text=True)
    assert re.findall(r'<th scope="col">([^<]+)</th>', page)[1:4] == ["K6", "PSC-17-Y", "RSES"]
    assert [_flag(page, world.p1, n) for n in range(3)] == [
        ("green", "Low distress (no probable serious distress)"),
        ("amber", "Attention problems likely"),  # not "attention: positive"
        ("grey", "Score below 15 (a descriptive range, not a finding)"),  # Rosenberg: descriptive only
    ]


def test_summary_takes_the_worse_of_band_and_alert(world):
    consent(world.p1)
    result = _paper(world, world.p1, "asq@1.0", NEGATIVE_ASQ)
    assert summarise(result).colour == FlagColour.GREEN
    result = db.session.get(ScreeningResult, result.id)
    scores = result.scores
    scores["alerts"] = [{"rule": "x", "severity": "urgent"}]  # an urgent alert on a result whose band reads negative
    result.scores_json = json.dumps(scores)
    assert summarise(result).colour == FlagColour.RED


@pytest.mark.parametrize(("language", "title"), [
    ("kk", "Суицид қаупін анықтауға арналған скринингтік сұрақтар (ASQ)"),
    ("ru", "Скрининговые вопросы о суицидальном риске (ASQ)"),
])
def test_code_cards_name_the_instrument_in_the_class_language(client, world, language, title):
    world.c7a.language = language
    db.session.commit()
    consent(world.p1)
    camp = campaign(world.psy1, world.s1, [world.c7a])
    login(client, world.psy1)
    issued = post(client, f"/screening/campaigns/{camp.uuid}/codes", {"pupils": [world.p1.uuid]},
                  form_page=f"/screening/campaigns/{camp.uuid}")
    page = client.get(issued.headers["Location"]).get_data(as_text=True)
    card = page[page.index('class="code-card"'):]
    assert title in card and "Ask Suicide-Screening Questions" not in card
