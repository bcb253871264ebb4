"""FHIR R4 export: Questionnaire and QuestionnaireResponse built from instrument data (generated, never hand-written).

Mapping (reference §9.6): item id → ``linkId``; option → ``answerOption.valueCoding`` (code = the
option's value) with its score in the ``itemWeight`` extension; skip logic → ``enableWhen`` +
``enableBehavior``; other languages → the ``translation`` extension on ``_text``; LOINC codes only
where the instrument data carries them; sum and linear scales → hidden read-only items with an SDC
``calculatedExpression``.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import datetime
from typing import Any

from app.screening.instruments import Instrument, Item, Option
from app.screening.rules import AllOf, AnyOf, Condition, EvalContext, ItemCondition, StateCondition, evaluate
from app.screening.scoring import check_answers, visible_items

__all__ = ["BASE_URL", "questionnaire", "questionnaire_response"]

BASE_URL = "https://senim.example.kz/fhir"  # placeholder canonical base until the project has a domain
ITEM_WEIGHT = "http://hl7.org/fhir/StructureDefinition/itemWeight"
TRANSLATION = "http://hl7.org/fhir/StructureDefinition/translation"
HIDDEN = "http://hl7.org/fhir/StructureDefinition/questionnaire-hidden"
CALCULATED = "http://hl7.org/fhir/uv/sdc/StructureDefinition/sdc-questionnaire-calculatedExpression"
TEXT_STATUS = f"{BASE_URL}/StructureDefinition/text-status"
TEXT_VERSION = f"{BASE_URL}/StructureDefinition/text-version"
_FHIR_STATUS = {"draft": "draft", "active": "active", "retired": "retired"}


def _url(instrument: Instrument) -> str:
    return instrument.canonical_url or f"{BASE_URL}/Questionnaire/{instrument.id}"


def _option_coding(instrument: Instrument, item: Item, option: Option, lang: str) -> dict[str, Any]:
    display = instrument.text(lang).options[item.option_set][option.id]
    if option.code is not None:
        return {"system": option.code.system, "code": option.code.code, "display": display}
    return {"system": f"{BASE_URL}/CodeSystem/{instrument.id}-{item.option_set}",
            "code": str(option.value), "display": display}


def _translations(instrument: Instrument, lang: str, pick: Any) -> dict[str, Any]:
    exts = [{"url": TRANSLATION, "extension": [{"url": "lang", "valueCode": other},
                                                {"url": "content", "valueString": pick(texts)}]}
            for other, texts in sorted(instrument.texts.items()) if other != lang]
    return {"extension": exts} if exts else {}


def _weight(instrument: Instrument, item: Item, option: Option) -> int:
    low, high = item.scored_range
    reversed_ = any(item.id in scale.reverse for scale in instrument.scales)
    return low + high - option.value if reversed_ else option.value


def _enable_when(instrument: Instrument, item: Item, cond: Condition, lang: str) -> dict[str, Any]:
    parts = cond.conditions if isinstance(cond, AnyOf | AllOf) else (cond,)
    entries: list[dict[str, Any]] = []
    for part in parts:
        if isinstance(part, StateCondition):
            entries.append({"question": part.item, "operator": "exists",
                            "answerBoolean": part.state == "answered"})
        elif isinstance(part, ItemCondition):
            source = instrument.item(part.item)
            for option in source.options:
                if evaluate(part, EvalContext({part.item: option.value}, {}, {}, {}, {})):
                    entries.append({"question": part.item, "operator": "=",
                                    "answerCoding": _option_coding(instrument, source, option, lang)})
        else:  # the validator allows nothing else in skip logic
            raise ValueError(f"{instrument.ref} item {item.id!r}: skip logic cannot be exported")
    result: dict[str, Any] = {"enableWhen": entries}
    if len(entries) > 1:
        result["enableBehavior"] = "all" if isinstance(cond, AllOf) else "any"
    return result


def _scale_items(instrument: Instrument) -> list[dict[str, Any]]:
    out = []
    for scale in instrument.scales:
        if scale.method == "linear":
            expr = f"%resource.item.where(linkId='scale-{scale.of}').answer.value"
        elif scale.method == "sum" and scale.missing.policy != "prorate":
            ids = " | ".join(f"'{i}'" for i in scale.items)
            expr = f"%resource.item.where(linkId in ({ids})).answer.value.weight().sum()"
        else:
            continue  # means and prorated sums are left to the server-side scorer
        if scale.multiply != 1:
            expr = f"({expr}) * {scale.multiply:g}"
        if scale.add:
            expr = f"({expr}) + {scale.add:g}"
        entry: dict[str, Any] = {
            "linkId": f"scale-{scale.id}", "text": scale.id, "type": "decimal", "readOnly": True,
            "extension": [{"url": HIDDEN, "valueBoolean": True},
                          {"url": CALCULATED, "valueExpression": {"language": "text/fhirpath",
                                                                  "expression": expr}}],
        }
        if scale.code is not None:
            entry["code"] = [{"system": scale.code.system, "code": scale.code.code}]
        out.append(entry)
    return out


def questionnaire(instrument: Instrument, lang: str) -> dict[str, Any]:
    """FHIR R4 Questionnaire for ``instrument`` with texts in ``lang`` (others as translations)."""
    texts = instrument.text(lang)
    items: list[dict[str, Any]] = [{
        "linkId": "instructions", "type": "display", "text": texts.instructions,
        "_text": _translations(instrument, lang, lambda t: t.instructions),
    }]
    for item in instrument.items:
        entry: dict[str, Any] = {
            "linkId": item.id, "text": texts.items[item.id],
            "_text": _translations(instrument, lang, lambda t, i=item.id: t.items[i]),
            "type": "choice", "required": item.required,
        }
        if item.code is not None:
            entry["code"] = [{"system": item.code.system, "code": item.code.code}]
        entry["answerOption"] = []
        for option in item.options:
            answer: dict[str, Any] = {"valueCoding": _option_coding(instrument, item, option, lang)}
            if not option.refusal:
                answer["extension"] = [{"url": ITEM_WEIGHT, "valueDecimal": _weight(instrument, item, option)}]
            entry["answerOption"].append(answer)
        if item.enable_when is not None:
            entry |= _enable_when(instrument, item, item.enable_when, lang)
        items.append({k: v for k, v in entry.items() if v != {}})
    items += _scale_items(instrument)
    resource: dict[str, Any] = {
        "resourceType": "Questionnaire",
        "id": f"{instrument.id}-{instrument.version}",
        "extension": [{"url": TEXT_STATUS, "valueCode": texts.status},
                      {"url": TEXT_VERSION, "valueString": texts.text_version}],
        "url": _url(instrument),
        "version": instrument.version,
        "name": re.sub(r"[^A-Za-z0-9]", "_", instrument.id).upper(),
        "title": texts.title,
        "status": _FHIR_STATUS[instrument.status],
        "language": lang,
        "subjectType": ["Patient"],
        "copyright": f"{instrument.licence.statement} {instrument.licence.citation}",
        "item": [{k: v for k, v in i.items() if v != {}} for i in items],
    }
    if instrument.codes:
        resource["code"] = [{"system": c.system, "code": c.code, **({"display": c.display} if c.display else {})}
                            for c in instrument.codes]
    return resource


def questionnaire_response(instrument: Instrument, answers: Mapping[str, int | None], *, lang: str,
                           authored: datetime, subject_ref: str | None) -> dict[str, Any]:
    """FHIR R4 QuestionnaireResponse holding the answers to the items that were shown."""
    if authored.tzinfo is None:
        raise ValueError("authored must be timezone-aware (FHIR dateTime with a time needs an offset)")
    texts = instrument.text(lang)
    raw = check_answers(instrument, answers)
    shown = visible_items(instrument, raw)
    response_items = []
    for item_id in shown:
        item, value = instrument.item(item_id), raw[item_id]
        if value is None:
            continue
        coding = _option_coding(instrument, item, item.option_for(value), lang)
        response_items.append({"linkId": item_id, "text": texts.items[item_id],
                               "answer": [{"valueCoding": coding}]})
    complete = all(raw[i] is not None for i in shown if instrument.item(i).required)
    resource: dict[str, Any] = {
        "resourceType": "QuestionnaireResponse",
        "extension": [{"url": TEXT_STATUS, "valueCode": texts.status},
                      {"url": TEXT_VERSION, "valueString": texts.text_version}],
        "questionnaire": f"{_url(instrument)}|{instrument.version}",
        "status": "completed" if complete else "in-progress",
        "authored": authored.isoformat(),
        "language": lang,
        "item": response_items,
    }
    if subject_ref is not None:
        resource["subject"] = {"reference": subject_ref}
    return resource
