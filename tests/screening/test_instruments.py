"""Instrument data: schemas, cross-checks, texts in every language, immutability, FHIR export."""

from __future__ import annotations

import dataclasses
import json
import re
import shutil
from datetime import UTC, datetime
from functools import cache
from pathlib import Path
from typing import Any

import jsonschema
import pytest
import yaml

from app.screening.fhir import ITEM_WEIGHT, TRANSLATION, questionnaire, questionnaire_response
from app.screening.instrument_validation import SCHEMA_DIR
from app.screening.instruments import (
    DEFAULT_ROOT,
    MANIFEST_NAME,
    InstrumentRegistry,
    InstrumentValidationError,
    UnknownInstrumentError,
    folder_digest,
    load_instrument_folder,
    load_registry,
    read_manifest,
    validate_instrument,
    version_folders,
)

SHIPPED = {"asq", "phq-a", "gad-7", "who-5", "psc-17-p", "psc-17-y", "rses", "k6"}
LANGS = ("kk", "ru", "en")


@cache
def registry() -> InstrumentRegistry:
    return load_registry(DEFAULT_ROOT)


def _yaml(path: Path) -> Any:
    return yaml.safe_load(path.read_text(encoding="utf-8"))


def _schema(name: str) -> dict[str, Any]:
    return json.loads((SCHEMA_DIR / name).read_text(encoding="utf-8"))


FILES = sorted(DEFAULT_ROOT.glob("*/*/instrument.yaml")) + sorted(DEFAULT_ROOT.glob("*/*/texts.*.yaml"))


def test_registry_holds_the_seven_instruments_in_eight_forms() -> None:
    assert set(registry().ids()) == SHIPPED
    for instrument in registry():
        assert instrument.licence.electronic_use_allowed, instrument.ref
        assert set(instrument.texts) == set(LANGS), instrument.ref


@pytest.mark.parametrize("path", FILES, ids=lambda p: str(p.relative_to(DEFAULT_ROOT)))
def test_every_file_matches_its_schema(path: Path) -> None:
    schema = _schema("instrument.schema.json" if path.name == "instrument.yaml" else "texts.schema.json")
    jsonschema.Draft202012Validator.check_schema(schema)
    jsonschema.validate(_yaml(path), schema, cls=jsonschema.Draft202012Validator)


# Text statuses (official, adapted, drafts) are tested in test_text_status.py.


CYRILLIC = "А-Яа-яЁёӘәҒғҚқҢңӨөҰұҮүҺһІі"
MIXED_WORD = re.compile(rf"\b(?=\w*[{CYRILLIC}])(?=\w*[A-Za-z])\w+\b")


def _strings(texts: Any) -> list[str]:
    out = [texts.title, texts.instructions, texts.end_message, *texts.items.values(), *texts.messages.values()]
    return out + [t for opts in texts.options.values() for t in opts.values()]


@pytest.mark.parametrize("lang", ["kk", "ru"])
def test_no_mixed_script_words(lang: str) -> None:
    for instrument in registry():
        for text in _strings(instrument.text(lang)):
            assert not MIXED_WORD.search(text), (instrument.ref, lang, MIXED_WORD.search(text))


def test_kazakh_texts_use_kazakh_letters() -> None:
    for instrument in registry():
        items = " ".join(instrument.text("kk").items.values())
        assert set(items) & set("әғқңөұүһі"), instrument.ref


def test_registry_lookup() -> None:
    phq = registry().get("phq-a")
    assert phq.ref == "phq-a@1.1"  # the newest active version
    assert registry().get("phq-a", "1.1") is phq
    assert registry().get("phq-a", "1.0").ref == "phq-a@1.0"  # older versions stay loaded for their results
    assert "phq-a" in registry() and "sdq" not in registry()
    with pytest.raises(UnknownInstrumentError, match="unknown instrument 'sdq'"):
        registry().get("sdq")
    with pytest.raises(UnknownInstrumentError, match=r"has no version '9\.9'"):
        registry().get("phq-a", "9.9")
    with pytest.raises(UnknownInstrumentError, match="no texts in 'de'"):
        phq.text("de")


def test_latest_version_is_default(tmp_path: Path) -> None:
    shutil.copytree(DEFAULT_ROOT / "k6" / "1.0", tmp_path / "k6" / "1.0")
    shutil.copytree(DEFAULT_ROOT / "k6" / "1.0", tmp_path / "k6" / "1.10")
    for path in (tmp_path / "k6" / "1.10").glob("*.yaml"):
        path.write_text(path.read_text(encoding="utf-8").replace('"1.0"', '"1.10"'), encoding="utf-8")
    reg = load_registry(tmp_path)
    assert reg.versions("k6") == ["1.0", "1.10"]
    assert reg.get("k6").version == "1.10"


def test_instruments_are_immutable() -> None:
    instrument = registry().get("asq")
    with pytest.raises(dataclasses.FrozenInstanceError):
        instrument.version = "2.0"  # type: ignore[misc]
    with pytest.raises(TypeError):
        instrument.texts["en"].items["q1"] = "changed"  # type: ignore[index]


def test_loinc_codes_only_where_the_reference_confirms_them() -> None:
    for instrument in registry():
        dumped = json.dumps(questionnaire(instrument, "en"))
        assert ("loinc.org" in dumped) == (instrument.id == "gad-7"), instrument.ref
    gad = registry().get("gad-7")
    assert [c.code for c in gad.codes] == ["69737-5"]
    assert gad.item("afraid").code is not None and gad.item("afraid").code.code == "69736-7"


# --- validation errors ------------------------------------------------------------------------


def _copy(tmp_path: Path, instrument_id: str = "phq-a") -> Path:
    folder = tmp_path / instrument_id / "1.0"
    shutil.copytree(DEFAULT_ROOT / instrument_id / "1.0", folder)
    return folder


def _edit(path: Path, change: Any) -> None:
    data = _yaml(path)
    change(data)
    path.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")


def test_missing_item_text_is_named(tmp_path: Path) -> None:
    folder = _copy(tmp_path)
    _edit(folder / "texts.kk.yaml", lambda d: d["strings"]["items"].pop("self_harm"))
    with pytest.raises(InstrumentValidationError) as info:
        load_instrument_folder(folder)
    assert info.value.errors == ["phq-a/1.0: texts.kk.yaml: missing text for item 'self_harm'"]


def test_missing_option_text_and_language_are_named(tmp_path: Path) -> None:
    folder = _copy(tmp_path)
    _edit(folder / "texts.ru.yaml", lambda d: d["strings"]["options"]["frequency"].pop("several_days"))
    (folder / "texts.en.yaml").unlink()
    with pytest.raises(InstrumentValidationError) as info:
        load_registry(tmp_path)
    assert "phq-a/1.0: texts.en.yaml: missing (every instrument needs texts in kk, ru, en)" in info.value.errors
    assert ("phq-a/1.0: texts.ru.yaml: missing text for option 'several_days' of option set 'frequency'"
            in info.value.errors)


def _structure(instrument_id: str = "phq-a") -> dict[str, Any]:
    return _yaml(DEFAULT_ROOT / instrument_id / "1.0" / "instrument.yaml")


def _texts(instrument_id: str = "phq-a") -> dict[str, Any]:
    return {lang: _yaml(DEFAULT_ROOT / instrument_id / "1.0" / f"texts.{lang}.yaml") for lang in LANGS}


def _break(change: Any, instrument_id: str = "phq-a") -> list[str]:
    structure = _structure(instrument_id)
    change(structure)
    return validate_instrument(structure, _texts(instrument_id))


@pytest.mark.parametrize(("change", "error"), [
    (lambda s: s["scoring"]["scales"][0]["items"].append("i10"), "scoring.scales[0].items: unknown item 'i10'"),
    (lambda s: s["items"][0].update(option_set="likert"), "items[0].option_set: unknown option set 'likert'"),
    (lambda s: s["alerts"][0]["when"].update(item="i9"), "alerts[0].when: unknown item 'i9'"),
    (lambda s: s["alerts"][0]["when"].update(op="eq", value=7), "alerts[0].when: 7 is not an option value of item"),
    (lambda s: s["alerts"][2]["when"].update(scale="sum"), "alerts[2].when: unknown scale 'sum'"),
    (lambda s: s["scoring"]["bands"][0]["ranges"][0].update(min=1), "every score needs a band"),
    (lambda s: s["scoring"]["bands"][0]["ranges"][2].update(min=4), "strictly increasing"),
    (lambda s: s["items"].append(dict(s["items"][0])), "duplicate item id 'down'"),
    (lambda s: s["scoring"]["scales"][0].update(reverse=["past_year"]), "'past_year' is not one of the scale's items"),
    (lambda s: s["alerts"].append(dict(s["alerts"][0])), "alerts[3].id: duplicate id 'phq-a.self_harm'"),
    (lambda s: s["alerts"][0].update(when={"ref": "nothing"}), "unknown definition 'nothing'"),
    (lambda s: s["alerts"][0].update(when={"item": "down", "op": "between", "value": 1}), "'between' is not allowed"),
    (lambda s: s["alerts"][0].update(when={"item": "Down!", "op": "eq", "value": 1}),
     "alerts[0].when.item: 'Down!' does not match"),
    (lambda s: s["alerts"][0].update(when={"any": [{"scale": "total"}]}), "when.any[0]: unknown condition keys"),
    (lambda s: s.update(version=1.0), "instrument.yaml: version: 1.0 is not of type 'string'"),
    (lambda s: s["licence"].pop("citation"), "instrument.yaml: licence: 'citation' is a required property"),
    (lambda s: s["items"][10]["enable_when"].update(any=[{"scale": "total", "op": "gte", "value": 1}]),
     "skip logic may only use item"),
])
def test_structure_errors_are_clear(change: Any, error: str) -> None:
    errors = _break(change)
    assert any(error in e for e in errors), errors


def test_alert_message_must_exist_in_every_language() -> None:
    texts = _texts()
    del texts["kk"]["strings"]["messages"]["alert_total_high"]
    assert validate_instrument(_structure(), texts) == [
        "texts.kk.yaml: missing message 'alert_total_high' for alert 'phq-a.total_high'"]


def test_texts_must_match_the_structure_version() -> None:
    texts = _texts()
    texts["ru"]["instrument_version"] = "2.0"
    texts["en"]["strings"]["items"]["extra"] = "Extra"
    assert validate_instrument(_structure(), texts) == [
        "texts.ru.yaml: instrument_version is '2.0', expected '1.0'",
        "texts.en.yaml: text for unknown item 'extra'"]


def test_valid_instrument_has_no_errors_and_local_methods_may_skip_languages() -> None:
    assert validate_instrument(_structure(), _texts()) == []
    assert validate_instrument(_structure(), {"ru": _texts()["ru"]}, required_languages=("ru",)) == []


def test_folder_must_be_named_after_id_and_version(tmp_path: Path) -> None:
    shutil.copytree(DEFAULT_ROOT / "k6" / "1.0", tmp_path / "k6" / "2.0")
    with pytest.raises(InstrumentValidationError, match=r"folder must be named k6/1\.0/"):
        load_instrument_folder(tmp_path / "k6" / "2.0")


def test_registry_refuses_instruments_without_electronic_licence(tmp_path: Path) -> None:
    folder = _copy(tmp_path, "k6")
    _edit(folder / "instrument.yaml", lambda d: d["licence"].update(electronic_use="needs_permission"))
    with pytest.raises(InstrumentValidationError, match="only instruments whose licence allows electronic use"):
        load_registry(tmp_path)


# --- published versions never change ----------------------------------------------------------


def test_published_versions_are_unchanged() -> None:
    manifest = read_manifest(DEFAULT_ROOT / MANIFEST_NAME)
    published = set()
    for folder in version_folders(DEFAULT_ROOT):
        if _yaml(folder / "instrument.yaml")["status"] == "draft":
            continue
        key = f"{folder.parent.name}/{folder.name}"
        published.add(key)
        assert key in manifest, (f"{key} is published but missing from {MANIFEST_NAME}: review it, then add "
                                 "the line printed by `flask instruments manifest`")
        assert folder_digest(folder) == manifest[key], (
            f"{key} changed after publication. Published versions are immutable: restore it and put the "
            "change in a new version folder (a text typo needs only a new text_version in a new folder).")
    assert set(manifest) == published, f"published versions removed: {sorted(set(manifest) - published)}"


def test_digest_sees_content_and_name_changes(tmp_path: Path) -> None:
    folder = _copy(tmp_path, "k6")
    before = folder_digest(folder)
    path = folder / "texts.en.yaml"
    path.write_text(path.read_text(encoding="utf-8").replace("nervous?", "nervous ?"), encoding="utf-8")
    assert folder_digest(folder) != before
    path.rename(folder / "texts.en2.yaml")
    assert len({before, folder_digest(folder)}) == 2


# --- FHIR ---------------------------------------------------------------------------------------


@pytest.mark.parametrize("lang", LANGS)
def test_questionnaire_for_every_instrument(lang: str) -> None:
    for instrument in registry():
        resource = json.loads(json.dumps(questionnaire(instrument, lang), ensure_ascii=False))
        assert resource["resourceType"] == "Questionnaire"
        assert resource["version"] == instrument.version and resource["language"] == lang
        questions = [i for i in resource["item"] if i["type"] == "choice"]
        assert [q["linkId"] for q in questions] == list(instrument.item_ids)
        for question in questions:
            item = instrument.item(question["linkId"])
            assert [o["valueCoding"]["code"] for o in question["answerOption"]] == [str(o.value) for o in item.options]
            assert question["text"] == instrument.text(lang).items[item.id]
            langs = {e["extension"][0]["valueCode"] for e in question["_text"]["extension"] if e["url"] == TRANSLATION}
            assert langs == set(LANGS) - {lang}


def test_questionnaire_skip_logic_and_weights() -> None:
    asq = questionnaire(registry().get("asq"), "en")
    q5 = next(i for i in asq["item"] if i["linkId"] == "q5")
    assert q5["enableBehavior"] == "any"
    assert {(e["question"], e["operator"], e["answerCoding"]["code"]) for e in q5["enableWhen"]} == {
        (q, "=", code) for q in ("q1", "q2", "q3", "q4") for code in ("1", "9")}
    declined = next(o for o in q5["answerOption"] if o["valueCoding"]["code"] == "9")
    assert "extension" not in declined  # a refusal carries no score
    rses = questionnaire(registry().get("rses"), "en")
    no_good = next(i for i in rses["item"] if i["linkId"] == "no_good")
    weights = {o["valueCoding"]["display"]: o["extension"][0]["valueDecimal"] for o in no_good["answerOption"]
               if o["extension"][0]["url"] == ITEM_WEIGHT}
    assert weights == {"Strongly agree": 0, "Agree": 1, "Disagree": 2, "Strongly disagree": 3}
    who = questionnaire(registry().get("who-5"), "en")
    percent = next(i for i in who["item"] if i["linkId"] == "scale-percent")
    assert percent["readOnly"] is True
    assert percent["extension"][1]["valueExpression"]["expression"].endswith("* 4")


def test_questionnaire_response() -> None:
    asq = registry().get("asq")
    when = datetime(2026, 3, 1, 9, 30, tzinfo=UTC)
    negative = questionnaire_response(asq, {"q1": 0, "q2": 0, "q3": 0, "q4": 0, "q5": 1}, lang="kk",
                                      authored=when, subject_ref="Patient/p-1")
    assert negative["status"] == "completed"
    assert negative["questionnaire"] == "https://senim.example.kz/fhir/Questionnaire/asq|1.1"
    assert [i["linkId"] for i in negative["item"]] == ["q1", "q2", "q3", "q4"]  # hidden q5 is not exported
    assert negative["item"][0]["answer"][0]["valueCoding"]["display"] == "Жоқ"
    assert negative["subject"] == {"reference": "Patient/p-1"} and negative["authored"] == "2026-03-01T09:30:00+00:00"
    partial = questionnaire_response(asq, {"q1": 1}, lang="en", authored=when, subject_ref=None)
    assert partial["status"] == "in-progress" and "subject" not in partial
    with pytest.raises(ValueError, match="timezone-aware"):
        questionnaire_response(asq, {}, lang="en", authored=datetime(2026, 3, 1), subject_ref=None)
