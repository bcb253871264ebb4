"""Text statuses (issue 8, item 9): a closed list, official texts cited and kept word for word, a plain
sentence for the pupil and the full status for the psychologist (instrument page, results, alert inbox)."""

from __future__ import annotations

import copy
import re
from functools import cache
from typing import Any

import pytest
import yaml
from flask_babel import force_locale

from app.extensions import db
from app.screening import labels, services, text_status
from app.screening.instrument_model import TEXT_STATUSES
from app.screening.instrument_validation import validate_instrument
from app.screening.instruments import DEFAULT_ROOT, InstrumentRegistry, load_registry
from app.screening.text_status import VALIDATION_POPULATIONS
from tests.factories import login, post
from tests.screening.test_instruments import _schema
from tests.screening.workflow_support import campaign, consent, session_with_code

OFFICIAL = {"official", "adapted_official"}
#: The Russian texts that are (or are adapted from) an official translation; every other one is a draft.
RUSSIAN = {"phq-a@1.1": "adapted_official", "gad-7@1.1": "official", "who-5@1.1": "official"}
PHQ_A = "phq-a@1.1"
NO_SAFETY_ITEM = {"down": 1, "interest": 1, "sleep": 0, "appetite": 0, "tired": 1, "failure": 0,
                  "concentration": 0, "psychomotor": 0, "self_harm": 1, "past_year": 0, "difficulty": 1}


@cache
def registry() -> InstrumentRegistry:
    return load_registry(DEFAULT_ROOT)


def _texts() -> list[Any]:
    return [texts for instrument in registry() for texts in instrument.texts.values()]


# --- the data ---------------------------------------------------------------------------------


def test_statuses_come_from_the_closed_list() -> None:
    defs = _schema("texts.schema.json")["$defs"]
    assert tuple(defs["status"]["enum"]) == TEXT_STATUSES
    assert set(defs["part_status"]["enum"]) == set(TEXT_STATUSES) - {"not_available"}
    for texts in _texts():
        assert texts.statuses <= set(TEXT_STATUSES), (texts.language, texts.statuses)


def test_every_official_text_is_cited_with_named_populations() -> None:
    for texts in _texts():
        if texts.statuses & OFFICIAL:
            assert texts.citation and texts.validated_in, texts.source
            assert set(texts.validated_in) <= set(VALIDATION_POPULATIONS), texts.validated_in
        if texts.status == "adapted_official":
            assert texts.adaptation
        for part, status in texts.part_status.items():
            assert status.status != "adapted_official" or status.note, part


def test_statuses_are_honest() -> None:
    for instrument in registry():
        assert instrument.text("en").status == "official", instrument.ref
        kazakh = instrument.text("kk")  # machine-assisted drafts, all of them: nobody has reviewed one yet
        assert kazakh.status == "draft_machine" and not kazakh.part_status, instrument.ref
        assert "machine-assisted" in kazakh.translator and "not reviewed" in kazakh.translator
        russian = instrument.text("ru")
        assert russian.status == RUSSIAN.get(instrument.ref, "draft_machine"), instrument.ref
        if russian.has_draft:
            assert "not reviewed" in russian.translator, instrument.ref
    assert not any(t.status == "draft_reviewed" for t in _texts())  # no person has reviewed a draft yet


def test_official_russian_wording_is_kept_word_for_word() -> None:
    phq, gad, who = (registry().get(i, "1.1").text("ru") for i in ("phq-a", "gad-7", "who-5"))
    # The PHQ-A questions it shares with the PHQ-9: the official Russian PHQ-9, as printed.
    assert phq.items["interest"] == "Вам не хотелось ничего делать"
    assert phq.items["self_harm"] == ("Вас посещали мысли о том, что Вам лучше было бы умереть, или о том, чтобы "
                                      "причинить себе какой-нибудь вред")
    assert list(phq.options["frequency"].values()) == ["Ни разу", "Несколько дней", "Более недели",
                                                       "Почти каждый день"]
    shared = ("interest", "sleep", "tired", "failure", "psychomotor", "self_harm", "difficulty")
    assert all(phq.status_of(f"items.{i}") == "official" for i in shared)
    # Where the PHQ-A adds to a question, the item says it was adapted, and what was changed.
    for item in ("down", "appetite", "concentration"):
        assert phq.status_of(f"items.{item}") == "adapted_official" and phq.part_status[f"items.{item}"].note
    assert phq.status_of("items.past_year") == "draft_machine"  # no official Russian text exists
    assert gad.items["afraid"] == "Вы испытывали страх, словно должно произойти нечто ужасное"
    assert gad.status_of("items.afraid") == "official" and gad.status_of("items.difficulty") == "adapted_official"
    assert who.items["cheerful"] == "Я чувствую себя бодрой(-ым) и в хорошем настроении"
    assert who.status_of("instructions") == "adapted_official"


def test_older_versions_keep_their_wording() -> None:
    # Results taken with 1.0 read with the texts they were taken with: only the status was added there.
    assert registry().get("phq-a", "1.0").text("ru").status == "draft_machine"
    assert registry().get("phq-a", "1.0").text("ru").items["interest"] != registry().get(
        "phq-a", "1.1").text("ru").items["interest"]


# --- the schema and the cross-checks refuse what is not honest ----------------------------------


def _folder(name: str = "phq-a", version: str = "1.1") -> tuple[dict[str, Any], dict[str, dict[str, Any]]]:
    folder = DEFAULT_ROOT / name / version
    structure = yaml.safe_load((folder / "instrument.yaml").read_text(encoding="utf-8"))
    texts = {lang: yaml.safe_load((folder / f"texts.{lang}.yaml").read_text(encoding="utf-8"))
             for lang in ("kk", "ru", "en")}
    return structure, texts


def _errors_with(lang: str, change: Any) -> list[str]:
    structure, texts = _folder()
    texts = copy.deepcopy(texts)
    change(texts[lang])
    return validate_instrument(structure, texts)


@pytest.mark.parametrize(("lang", "change", "error"), [
    ("ru", lambda t: t.update(status="validated"), "is not one of"),
    ("ru", lambda t: t.pop("citation"), "'citation' is a required property"),
    ("ru", lambda t: t.pop("validated_in"), "'validated_in' is a required property"),
    ("ru", lambda t: t.pop("adaptation"), "'adaptation' is a required property"),
    ("ru", lambda t: t["part_status"]["items.down"].pop("note"), "'note' is a required property"),
    ("ru", lambda t: t["part_status"].update({"items.nope": {"status": "official"}}), "'items.nope'"),
    ("ru", lambda t: t["part_status"].update({"items.down": {"status": "not_available"}}), "is not one of"),
    ("kk", lambda t: t.update(part_status={"items.down": {"status": "official"}}), "citation is required"),
])
def test_dishonest_texts_are_refused(lang: str, change: Any, error: str) -> None:
    assert any(error in e for e in _errors_with(lang, change)), _errors_with(lang, change)


def test_the_shipped_folder_passes() -> None:
    assert validate_instrument(*_folder()) == []


# --- what a pupil reads -----------------------------------------------------------------------


def _staff_wording(locale: str) -> list[str]:
    """Everything the psychologist reads about text statuses, in one interface language."""
    with force_locale(locale):
        return [str(v) for v in labels.TEXT_STATUS_LABELS.values()] + [
            str(v) for v in VALIDATION_POPULATIONS.values()]


def test_pupil_note_is_plain_and_per_language(app_ctx) -> None:
    phq = registry().get("phq-a", "1.1")
    with force_locale("kk"):
        kazakh = text_status.pupil_note(phq.text("kk"))
    with force_locale("ru"):
        russian = text_status.pupil_note(phq.text("ru"))
    with force_locale("en"):
        assert text_status.pupil_note(phq.text("kk")) == ("This questionnaire was translated into Kazakh by our "
                                                          "team. If a question is unclear, ask the adult with you.")
        assert text_status.pupil_note(phq.text("ru")).startswith("Our team adjusted the wording")
        assert text_status.pupil_note(phq.text("en")) is None
        assert text_status.pupil_note(registry().get("gad-7", "1.1").text("ru")) is not None  # one adapted part
    assert kazakh and russian and kazakh != russian
    for note, locale in ((kazakh, "kk"), (russian, "ru")):
        assert not any(word in note for word in _staff_wording(locale))


@pytest.mark.parametrize(("language", "has_note"), [("kk", True), ("ru", True), ("en", False)])
def test_pupil_pages_never_show_the_psychologists_wording(client, world, language, has_note) -> None:
    consent(world.p1)
    session_with_code(campaign(world.psy1, world.s1, [world.c7a], refs=(PHQ_A,)), world.p1, code="WXYZ-2345",
                      ref=PHQ_A)
    post(client, "/s", {"code": "wxyz2345"})
    choice = client.get("/s/language").get_data(as_text=True)
    assert post(client, "/s/language", {"language": language}).status_code == 302
    page = client.get("/s/q").get_data(as_text=True)
    texts = registry().get("phq-a", "1.1").text(language)
    for shown in (re.sub(r"<[^>]+>", " ", choice), re.sub(r"<[^>]+>", " ", page)):  # what is read, not markup
        assert not any(word in shown for word in _staff_wording(language)), language
        assert texts.citation is None or texts.citation not in shown
        assert "validat" not in shown.lower() and "draft" not in shown.lower()
    with force_locale(language):
        note = text_status.pupil_note(texts)
    assert (note is not None) == has_note and (note is None or note in page)


# --- what the psychologist reads, in kk, ru and en ---------------------------------------------------


def _with_locale(world: Any, locale: str) -> None:
    world.psy1.preferred_language = locale
    db.session.commit()


@pytest.mark.parametrize("locale", ["kk", "ru", "en"])
def test_instrument_page_shows_the_full_status(client, world, locale) -> None:
    _with_locale(world, locale)
    login(client, world.psy1)
    body = client.get("/screening/instruments/phq-a/1.1?lang=ru").get_data(as_text=True)
    texts = registry().get("phq-a", "1.1").text("ru")
    with force_locale(locale):
        adapted, official, draft = (str(labels.TEXT_STATUS_LABELS[s])
                                    for s in ("adapted_official", "official", "draft_machine"))
        population = str(VALIDATION_POPULATIONS["none_known"])
    assert adapted in body and population in body and texts.citation.split(" (")[0] in body
    assert official in body and draft in body  # the parts whose status differs say so by their question
    assert "adapted_official" not in body and "draft_machine" not in body  # words, never codes
    kazakh = client.get("/screening/instruments/phq-a/1.1?lang=kk").get_data(as_text=True)
    with force_locale(locale):
        assert str(labels.TEXT_STATUS_LABELS["draft_machine"]) in kazakh


@pytest.mark.parametrize("names", [labels.TEXT_STATUS_LABELS, labels.TEXT_STATUS_SHORT_LABELS,
                                   VALIDATION_POPULATIONS])
def test_status_labels_are_translated(app_ctx, names) -> None:
    assert set(TEXT_STATUSES) <= set(names) or names is VALIDATION_POPULATIONS
    for key, name in names.items():
        in_each = set()
        for locale in ("kk", "ru", "en"):
            with force_locale(locale):
                in_each.add(str(name))
        assert len(in_each) == 3, key


@pytest.mark.parametrize("locale", ["kk", "ru", "en"])
def test_results_and_alert_inbox_show_the_status_of_the_text_read(client, world, locale) -> None:
    camp = campaign(world.psy1, world.s1, [world.c7a], refs=(PHQ_A,))
    services.submit_result(actor=None, session=session_with_code(camp, world.p1, ref=PHQ_A, language="ru"),
                           answers=NO_SAFETY_ITEM)
    _with_locale(world, locale)
    login(client, world.psy1)
    with force_locale(locale):
        adapted = str(labels.TEXT_STATUS_LABELS["adapted_official"])
        population = str(VALIDATION_POPULATIONS["none_known"])
    results = client.get(f"/screening/pupils/{world.p1.uuid}/results").get_data(as_text=True)
    inbox = client.get("/screening/alerts").get_data(as_text=True)
    for page in (results, inbox):
        assert adapted in page and population in page and "Pfizer" in page and "Русский" in page


def test_a_result_taken_with_a_replaced_text_shows_only_what_was_recorded(app_ctx) -> None:
    with force_locale("en"):
        old = text_status.describe_recorded(PHQ_A, "ru", "unvalidated_translation", "1.0")
        current = text_status.describe_recorded(PHQ_A, "ru", "adapted_official", "1.1")
    assert old.replaced and old.citation is None and old.label == "draft translation, not validated"
    assert not current.replaced and current.citation and current.other_parts


def test_alert_raised_before_a_result_uses_the_sittings_language(app_ctx, world) -> None:
    camp = campaign(world.psy1, world.s1, [world.c7a], refs=(PHQ_A,))
    sitting = session_with_code(camp, world.p1, ref=PHQ_A, language="kk")
    services.submit_result(actor=None, session=sitting, answers=NO_SAFETY_ITEM)
    (alert,) = services.open_alerts_of_pupil(world.p1.id)
    details = alert.details
    alert.details = type(details)(**{**details.__dict__, "result_id": None})
    with force_locale("en"):
        view = text_status.for_alert(alert)
    assert view is not None and view.status == "draft_machine" and view.language_name == "Қазақша"

