"""What the status of an instrument's texts means: in full for the psychologist, in plain words for a pupil.

Each ``texts.<lang>.yaml`` carries a status from a closed list (``instrument_model.TEXT_STATUSES``): the
official text, adapted from an official translation, or the team's draft (reviewed or machine-assisted),
with the citation of the official text, the populations its wording was validated in and what was changed.
Staff read all of it on the instrument page, the results page and in the alert inbox; a pupil reads at
most one sentence that says the team translated or reworded the questions and whom to ask.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass

from flask_babel import LazyString
from flask_babel import lazy_gettext as _l

from app.core.i18n import LANGUAGE_NAMES
from app.extensions import db
from app.screening import labels
from app.screening.instrument_model import DRAFT_STATUSES, Texts
from app.screening.models import Alert, ScreeningResult, ScreeningSession

#: The populations an official wording was validated in (the ids ``validated_in`` may use). A test fails
#: for an id a shipped text uses that has no name here.
VALIDATION_POPULATIONS: dict[str, LazyString] = {
    "none_known": _l("no validation study of this wording is known to us"),
    "youth_10_21_us_emergency": _l("young people aged 10 to 21 in paediatric emergency departments (USA)"),
    "adults_us_primary_care": _l("adults in primary care (USA)"),
    "adolescents_us_anxiety_clinic": _l("adolescents with an anxiety disorder, a clinical sample (USA)"),
    "adults_us_surveys": _l("adults in national health surveys (USA)"),
    "adolescents_us_survey": _l("adolescents in a national survey (USA)"),
    "adolescents_us_primary_care": _l("adolescents in primary care (USA)"),
    "parents_us_primary_care": _l("parents of children aged 4 to 16 in primary care (USA)"),
    "us_high_school_1965": _l("high-school pupils in New York State, 1965"),
    "adults_topp_2015_review": _l("adults, in the studies reviewed by Topp et al. 2015"),
}

#: What a pupil reads above a questionnaire that is the team's draft translation, by language of the text.
_PUPIL_DRAFT = {
    "kk": _l("This questionnaire was translated into Kazakh by our team. If a question is unclear, ask the "
             "adult with you."),
    "ru": _l("This questionnaire was translated into Russian by our team. If a question is unclear, ask the "
             "adult with you."),
}
_PUPIL_DRAFT_OTHER = _l("This questionnaire was translated by our team. If a question is unclear, ask the adult "
                        "with you.")
_PUPIL_ADAPTED = _l("Our team adjusted the wording of some questions. If a question is unclear, ask the adult "
                    "with you.")


@dataclass(frozen=True)
class TextStatusView:
    """A text's status as staff read it (every string already in the interface language)."""

    language: str
    status: str
    label: str
    text_version: str
    citation: str | None = None
    populations: tuple[str, ...] = ()
    validation_citation: str | None = None
    adaptation: str | None = None
    #: Parts with another status: (status label, how many parts).
    other_parts: tuple[tuple[str, int], ...] = ()
    #: The recorded text version is no longer the shipped one: what the pupil read is not described here.
    replaced: bool = False

    @property
    def language_name(self) -> str:
        """The language's own name ("Русский"), never its code."""
        return LANGUAGE_NAMES.get(self.language, self.language)


def population_name(population: str) -> str:
    """The name of a validation population id, for people."""
    label = VALIDATION_POPULATIONS.get(population)
    return str(label) if label is not None else population.replace("_", " ")


def describe(texts: Texts, *, status: str | None = None) -> TextStatusView:
    """The full status of ``texts`` (``status``: the one recorded with a result, when it differs)."""
    status = status or texts.status
    others = Counter(p.status for p in texts.part_status.values() if p.status != texts.status)
    return TextStatusView(
        language=texts.language, status=status, label=labels.text_status_label(status),
        text_version=texts.text_version, citation=texts.citation,
        populations=tuple(population_name(p) for p in texts.validated_in),
        validation_citation=texts.validation_citation, adaptation=texts.adaptation,
        other_parts=tuple((labels.text_status_label(s), n) for s, n in sorted(others.items())))


def describe_recorded(instrument_ref: str, language: str, status: str, text_version: str) -> TextStatusView:
    """The status recorded with a result; its citation only while that text version is still the shipped one."""
    instrument = labels.instrument_or_none(instrument_ref)
    texts = instrument.texts.get(language) if instrument is not None else None
    if texts is not None and texts.text_version == text_version:
        return describe(texts, status=status)
    return TextStatusView(language=language, status=status, label=labels.text_status_label(status),
                          text_version=text_version, replaced=texts is not None)


def for_result(result: ScreeningResult) -> TextStatusView:
    """The status of the texts a result was taken with."""
    return describe_recorded(result.instrument_ref, result.language, result.text_status, result.text_version)


def for_alert(alert: Alert) -> TextStatusView | None:
    """The status of the texts the pupil read when the alert was raised (None before a language was chosen)."""
    if alert.result_id is not None:
        result = db.session.get(ScreeningResult, alert.result_id)
        if result is not None:
            return for_result(result)
    sitting = db.session.get(ScreeningSession, alert.session_id) if alert.session_id is not None else None
    if sitting is None or not sitting.language:
        return None
    instrument = labels.instrument_or_none(sitting.instrument_ref)
    texts = instrument.texts.get(sitting.language) if instrument is not None else None
    return describe(texts) if texts is not None else None


def pupil_note(texts: Texts) -> str | None:
    """The one plain sentence a pupil reads about a text that is not wholly the official one, else None."""
    if texts.status in DRAFT_STATUSES:
        return str(_PUPIL_DRAFT.get(texts.language, _PUPIL_DRAFT_OTHER))
    if texts.statuses & ({"adapted_official"} | DRAFT_STATUSES):
        return str(_PUPIL_ADAPTED)
    return None
