"""Staff pages show instrument titles, alert messages, scale and band names in the interface language."""

from __future__ import annotations

from app.extensions import db
from app.screening import services
from app.screening.views.campaigns import instrument_choices
from tests.factories import login
from tests.screening.workflow_support import ACUTE_ASQ, campaign, session_with_code


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
    assert '<span class="muted small">asq@1.0 · asq.acute</span>' in page  # the raw ref, for methodologists


def test_results_show_scale_and_band_names(client, world):
    who5 = services.instrument_for("who-5@1.0")
    services.submit_result(actor=world.psy1, session=None, pupil=world.p1, instrument=who5, language="ru",
                           answers={item: 2 for item in who5.item_ids})
    _speaks(world.psy1, "en")
    login(client, world.psy1)
    text = client.get(f"/screening/pupils/{world.p1.uuid}/results").get_data(as_text=True)
    assert "Percentage score: 40" in text and "poor well-being" in text
    assert "poor_wellbeing" not in text
    assert who5.text("en").title in text and '<span class="muted small">who-5@1.0 (ru, paper)</span>' in text


def test_campaign_choices_use_interface_language_and_short_statuses(app_ctx):
    with app_ctx.test_request_context(headers={"Accept-Language": "en"}):
        label = next(c.label for c in instrument_choices() if c.value == "asq@1.0")
    assert label.startswith("Ask Suicide-Screening Questions (ASQ) (asq@1.0).")
    assert "en: original" in label and "kk: not validated" in label and "Licence" not in label
