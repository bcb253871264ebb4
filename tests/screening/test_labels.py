"""Staff pages show instrument titles, alert messages, scale and band names in the interface language."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from app.extensions import db
from app.screening import labels, services
from app.screening.instruments import load_registry
from app.screening.views.campaigns import instrument_choices
from tests.factories import login, post
from tests.screening.workflow_support import ACUTE_ASQ, campaign, consent, session_with_code

SHIPPED = Path(__file__).resolve().parents[2] / "instruments"
K6_LOW = {"nervous": 0, "hopeless": 0, "restless": 0, "depressed": 0, "effort": 0, "worthless": 0}
#: Every positively worded item "strongly disagree", every reversed one "strongly agree": total 0.
RSES_LOW = {"satisfied": 0, "no_good": 3, "good_qualities": 0, "as_well_as_others": 0, "not_proud": 3,
            "useless": 3, "person_of_worth": 0, "more_respect": 3, "failure": 3, "positive_attitude": 0}
PHQ_MODERATE = {"down": 3, "interest": 3, "sleep": 3, "tired": 1, "appetite": 0, "failure": 0,
                "concentration": 0, "psychomotor": 0, "self_harm": 0, "past_year": 0}


def _speaks(user, language: str) -> None:
    user.preferred_language = language
    db.session.commit()


def test_alert_inbox_shows_title_and_message_in_interface_language(client, world):
    camp = campaign(world.psy1, world.s1, [world.c7a])
    services.submit_result(actor=None, session=session_with_code(camp, world.p1, language="kk"), answers=ACUTE_ASQ)
    asq = services.instrument_for("asq@1.0")
    _speaks(world.psy1, "ru")
    login(client, world.psy1)
    page = client.get("/screening/alerts").get_data(as_text=True)
    assert asq.text("ru").title in page
    assert asq.text("ru").messages["alert_acute"].split()[0] in page
    # The rule and the version in words, never their codes (issue 8 item 13).
    assert "asq.acute" not in page and "asq@1.0" not in page
    assert "ASQ: на вопрос 5 дан ответ «да»" in page


def test_results_show_scale_and_band_names(client, world):
    who5 = services.instrument_for("who-5@1.0")
    services.submit_result(actor=world.psy1, session=None, pupil=world.p1, instrument=who5, language="ru",
                           answers={item: 2 for item in who5.item_ids})
    _speaks(world.psy1, "en")
    login(client, world.psy1)
    text = client.get(f"/screening/pupils/{world.p1.uuid}/results").get_data(as_text=True)
    assert "Percentage score: 40" in text and "poor well-being (below 50)" in text
    assert "poor_wellbeing" not in text
    assert who5.text("en").title in text and "version 1.0" in text and "who-5@1.0" not in text
    assert "on paper · language of the texts: Russian" in text and "(ru, paper)" not in text


def test_campaign_choices_use_interface_language_and_short_statuses(app_ctx):
    with app_ctx.test_request_context(headers={"Accept-Language": "en"}):
        label = next(c.label for c in instrument_choices() if c.value == "asq@1.1")
        assert not any(c.value == "asq@1.0" for c in instrument_choices())  # new campaigns use the newest version
    assert label.startswith("Ask Suicide-Screening Questions (ASQ) (asq@1.1).")
    assert "en: official" in label and "kk: machine draft" in label and "Licence" not in label


def _shipped_bands() -> set[tuple[str, str, str]]:
    """(instrument id, band set or outcome id, code) of every band any shipped instrument can give."""
    found = set()
    for instrument in load_registry(SHIPPED):
        for band_set in instrument.bands:
            for ranges in (band_set.ranges, *(group.ranges for group in band_set.by_age)):
                found |= {(instrument.id, band_set.id, r.code) for r in ranges}
        for outcome in instrument.outcomes:
            found |= {(instrument.id, outcome.id, code) for _when, code in outcome.rules}
    return found


def test_every_band_of_every_shipped_instrument_has_its_own_name():
    shipped = _shipped_bands()
    assert {instrument_id for instrument_id, _set, _code in shipped} >= {"asq", "phq-a", "k6", "rses", "who-5"}
    assert sorted(shipped - set(labels.INSTRUMENT_BAND_LABELS)) == []  # a new instrument needs its band names
    assert sorted(set(labels.INSTRUMENT_BAND_LABELS) - shipped) == []  # no name for a band that does not exist


def test_band_names_are_distinct_within_a_band_set(app_ctx):
    with app_ctx.test_request_context(headers={"Accept-Language": "en"}):
        named: dict[tuple[str, str], list[str]] = {}
        for (instrument_id, band_set, code), label in labels.INSTRUMENT_BAND_LABELS.items():
            named.setdefault((instrument_id, band_set), []).append(str(label))
            assert str(label) != labels.band_label("local:1:x", band_set, code)  # more than the generic word
    for key, names in named.items():
        assert len(set(names)) == len(names), key


@pytest.mark.parametrize(("instrument_id", "band_set", "code", "name"), [
    ("k6", "total", "low", "low distress (no probable serious distress)"),
    ("rses", "total", "low", "score below 15 (a descriptive range, not a finding)"),
    ("phq-a", "total", "moderately_severe", "moderately severe depressive symptoms"),
    ("who-5", "percent", "poor_wellbeing", "poor well-being (below 50)"),
    ("psc-17-y", "attention", "positive", "attention problems likely"),
    # A local method's own codes: the generic name, or the code itself; qualified by its band set on request.
    ("local:1:mood", "total", "low", "low"),
    ("local:1:mood", "total", "talk_to_psychologist", "talk to psychologist"),
])
def test_band_label(app_ctx, instrument_id, band_set, code, name):
    with app_ctx.test_request_context(headers={"Accept-Language": "en"}):
        assert labels.band_label(instrument_id, band_set, code) == name
        qualified = labels.band_label(instrument_id, band_set, code, qualified=True)
    assert qualified == (f"Total score: {name}" if instrument_id.startswith("local:") else name)


def test_pupil_history_names_each_band_after_its_instrument(client, world):
    for ref, answers in (("k6@1.0", K6_LOW), ("rses@1.0", RSES_LOW), ("phq-a@1.0", PHQ_MODERATE)):
        services.submit_result(actor=world.psy1, session=None, pupil=world.p1, language="ru", answers=answers,
                               instrument=services.instrument_for(ref))
    _speaks(world.psy1, "en")
    login(client, world.psy1)
    text = client.get(f"/screening/pupils/{world.p1.uuid}/results").get_data(as_text=True)
    bands = re.findall(r"<dt>Bands</dt><dd>(.*?)</dd>", text, re.S)  # one card per result, oldest first
    assert bands == ["low distress (no probable serious distress)<br>",
                     "score below 15 (a descriptive range, not a finding)<br>",
                     "moderate depressive symptoms<br>depression screen negative (below the cut-off)<br>"], bands


def test_paper_entry_lands_on_the_history_with_the_band_name(client, world):
    consent(world.p1)
    _speaks(world.psy1, "en")
    login(client, world.psy1)
    page = f"/screening/paper/{world.p1.uuid}?instrument=k6@1.0&language=ru"
    response = post(client, page, {f"item_{item}": "4" for item in K6_LOW})  # total 24
    assert response.status_code == 302
    text = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "probable serious psychological distress" in text and "Total score: high" not in text


@pytest.mark.parametrize(("language", "version"), [("en", "version 1.0"), ("ru", "1.0"), ("kk", "1.0")])
def test_campaign_sessions_name_the_instrument_with_its_version(client, world, language, version):
    camp = campaign(world.psy1, world.s1, [world.c7a])
    session_with_code(camp, world.p1)
    _speaks(world.psy1, language)
    login(client, world.psy1)
    page = client.get(f"/screening/campaigns/{camp.uuid}").get_data(as_text=True)
    title = services.instrument_for("asq@1.0").text(language).title
    row = re.search(rf"{re.escape(world.p1.short_name)}.*?</tr>", page, re.S).group(0)
    cell = re.search(r"<td>([^<]*)<span class=\"muted small\">([^<]*)</span>:", row)
    assert cell is not None, row
    assert cell.group(1).strip() == title and version in cell.group(2)
    assert "asq@1.0" not in page
    assert f'{title} <span class="muted small">{cell.group(2)}</span>. ' in page  # the campaign's instruments


def test_every_population_of_a_shipped_instrument_has_a_name(app_ctx):
    """Issue 8 item 7: a cut-off shown anywhere names the population it was derived from."""
    used = set()
    for instrument in services.registry().current():
        for band in instrument.bands:
            assert band.population, f"{instrument.ref} band set {band.id} names no population"
            used |= {band.population, *(g.population for g in band.by_age)}
        for outcome in instrument.outcomes:
            assert outcome.population, f"{instrument.ref} outcome {outcome.id} names no population"
            used.add(outcome.population)
    assert used - {None} <= set(labels.POPULATION_LABELS), used - set(labels.POPULATION_LABELS)
