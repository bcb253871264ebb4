"""Human labels for the instrument ids shown to staff, in the interface language.

Titles and alert messages come from the instrument's own texts (interface language, then Russian, then
English). The texts carry no names for scales and bands, so those come from the message catalogue here;
an id missing below is shown as is (underscores as spaces) rather than hidden.
"""

from __future__ import annotations

from flask_babel import get_locale
from flask_babel import lazy_gettext as _l

from app.screening.instrument_model import Instrument, Texts
from app.screening.services import instrument_for

FALLBACK_LANGUAGES = ("ru", "en")

SCALE_LABELS = {
    "total": _l("Total score"),
    "raw": _l("Raw score"),
    "percent": _l("Percentage score"),
    "internalizing": _l("Internalising"),
    "attention": _l("Attention"),
    "externalizing": _l("Externalising"),
    # Band sets and categorical outcomes that are not named after a scale.
    "total_screen": _l("Screening cut-off"),
    "result": _l("Result"),
}

BAND_LABELS = {
    "minimal": _l("minimal"),
    "mild": _l("mild"),
    "moderate": _l("moderate"),
    "moderately_severe": _l("moderately severe"),
    "severe": _l("severe"),
    "low": _l("low"),
    "typical": _l("typical"),
    "high": _l("high"),
    "negative": _l("negative"),
    "positive": _l("positive"),
    "likely_depression": _l("likely depression"),
    "poor_wellbeing": _l("poor well-being"),
    "adequate_wellbeing": _l("adequate well-being"),
    "acute_positive": _l("acute positive"),
    "non_acute_positive": _l("non-acute positive"),
    "positive_acuity_unknown": _l("positive, acuity unknown"),
    "incomplete": _l("incomplete"),
}

#: Validation status of an instrument's texts in one language, short enough for a phone.
TEXT_STATUS_LABELS = {
    "official": _l("original"),
    "validated": _l("validated"),
    "unvalidated_translation": _l("not validated"),
    "not_available": _l("no text"),
}


def interface_language() -> str:
    """The language of the current page ("kk", "ru" or "en")."""
    locale = get_locale()
    return locale.language if locale is not None else FALLBACK_LANGUAGES[0]


def texts_for(instrument: Instrument, lang: str | None = None) -> Texts | None:
    """The instrument's texts in ``lang`` (default: the interface language), else Russian, else English."""
    for candidate in (lang or interface_language(), *FALLBACK_LANGUAGES):
        texts = instrument.texts.get(candidate)
        if texts is not None and texts.status != "not_available":
            return texts
    return None


def instrument_or_none(ref: str) -> Instrument | None:
    """The instrument of a stored reference, or None when it no longer resolves (shown by its raw ref)."""
    try:
        return instrument_for(ref)
    except LookupError:
        return None


def instrument_title(ref: str) -> str:
    """The instrument's title in the interface language, else the raw reference."""
    instrument = instrument_or_none(ref)
    texts = texts_for(instrument) if instrument is not None else None
    return texts.title if texts is not None else ref


def alert_message(ref: str, rule_id: str) -> str | None:
    """The message the instrument's texts give for alert rule ``rule_id``, if any."""
    instrument = instrument_or_none(ref)
    if instrument is None:
        return None
    rule = next((r for r in instrument.alerts if r.id == rule_id), None)
    texts = texts_for(instrument)
    if rule is None or texts is None:
        return None
    return texts.messages.get(rule.message_key)


def _humanize(value: str) -> str:
    return value.replace("_", " ")


def scale_label(scale_id: str) -> str:
    """A scale's (or band set's) name for people."""
    label = SCALE_LABELS.get(scale_id)
    return str(label) if label is not None else _humanize(scale_id)


def band_label(code: str) -> str:
    """A band code's name for people."""
    label = BAND_LABELS.get(code)
    return str(label) if label is not None else _humanize(code)


def text_status_label(status: str) -> str:
    """The short name of a texts validation status."""
    label = TEXT_STATUS_LABELS.get(status)
    return str(label) if label is not None else _humanize(status)
