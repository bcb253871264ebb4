"""Human labels for the instrument ids shown to staff, in the interface language.

Titles and alert messages come from the instrument's own texts (interface language, then Russian, then
English). The texts carry no names for scales and bands, so those come from the message catalogue here.
A band is named per instrument (INSTRUMENT_BAND_LABELS), because the same code means different things on
different instruments; a local method's own codes get the generic name of BAND_LABELS, and an id missing
everywhere is shown as is (underscores as spaces) rather than hidden.
"""

from __future__ import annotations

from flask_babel import LazyString, get_locale, ngettext
from flask_babel import lazy_gettext as _l

from app.core.i18n import LANGUAGE_NAMES
from app.screening.instrument_model import Instrument, Texts
from app.screening.models import HELP_REQUEST_REF, HELP_REQUEST_RULE
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
    "total_screen_adolescent": _l("Adolescent screening cut-off"),
    "result": _l("Result"),
}

#: Generic band names: the fallback for local methods, whose codes are their own.
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

#: The band names of each shipped instrument, after its manual: (instrument id, band set or outcome id, band
#: code) -> name. Each name stands on its own (it names what is measured), since "low" is good news on the
#: K6 (low distress) and a concern on the RSES (low self-esteem). A test fails for any band of a shipped
#: instrument that has no name here, so a new instrument comes with its names.
INSTRUMENT_BAND_LABELS: dict[tuple[str, str, str], LazyString] = {
    # PHQ-A: severity bands of Kroenke, Spitzer & Williams 2001; screening cut-off of Richardson 2010 / Luitel 2024.
    ("phq-a", "total", "minimal"): _l("minimal depressive symptoms"),
    ("phq-a", "total", "mild"): _l("mild depressive symptoms"),
    ("phq-a", "total", "moderate"): _l("moderate depressive symptoms"),
    ("phq-a", "total", "moderately_severe"): _l("moderately severe depressive symptoms"),
    ("phq-a", "total", "severe"): _l("severe depressive symptoms"),
    ("phq-a", "total_screen", "negative"): _l("depression screen negative (below the cut-off)"),
    ("phq-a", "total_screen", "positive"): _l("depression screen positive (at or above the cut-off)"),
    # GAD-7: Spitzer et al. 2006; adolescents (Mossman 2017) have no band below "moderate".
    ("gad-7", "total", "minimal"): _l("minimal anxiety symptoms"),
    ("gad-7", "total", "mild"): _l("mild anxiety symptoms"),
    ("gad-7", "total", "minimal_or_mild"): _l("minimal or mild anxiety symptoms"),
    ("gad-7", "total", "moderate"): _l("moderate anxiety symptoms"),
    ("gad-7", "total", "severe"): _l("severe anxiety symptoms"),
    ("gad-7", "total_screen_adolescent", "negative"): _l("below the adolescent anxiety screening cut-off (11)"),
    ("gad-7", "total_screen_adolescent", "positive"): _l("at or above the adolescent anxiety screening cut-off (11)"),
    # K6: Kessler 2003 (13 or more: probable serious distress); INSPQ (8 to 12: moderate distress).
    ("k6", "total", "low"): _l("low distress (no probable serious distress)"),
    ("k6", "total", "moderate"): _l("moderate distress (no probable serious distress)"),
    ("k6", "total", "high"): _l("probable serious psychological distress"),
    # Rosenberg: "There are no discrete cut-off points" (UMD): the ranges describe the score and are not a finding.
    ("rses", "total", "low"): _l("score below 15 (a descriptive range, not a finding)"),
    ("rses", "total", "typical"): _l("score from 15 to 25 (a descriptive range, not a finding)"),
    ("rses", "total", "high"): _l("score of 26 or more (a descriptive range, not a finding)"),
    # WHO-5 percentage score: 50 or less poor well-being; 28 or less likely depression.
    ("who-5", "percent", "likely_depression"): _l("poor well-being, likely depression (28 or below)"),
    ("who-5", "percent", "poor_wellbeing"): _l("poor well-being (below 50)"),
    ("who-5", "percent", "adequate_wellbeing"): _l("adequate well-being (50 or above)"),
    # ASQ (NIMH): negative, non-acute or acute positive; the two others are the project's fail-safe outcomes.
    ("asq", "result", "negative"): _l("negative suicide risk screen"),
    ("asq", "result", "non_acute_positive"): _l("non-acute positive: brief suicide safety assessment needed"),
    ("asq", "result", "acute_positive"): _l("acute positive: imminent risk, full safety evaluation now"),
    ("asq", "result", "positive_acuity_unknown"): _l("positive, acuity unknown (question 5 not answered)"),
    ("asq", "result", "incomplete"): _l("incomplete: not all of questions 1 to 4 answered"),
}
#: PSC-17 (Gardner 1999): the parent form's cut-offs, applied to the youth form too.
_PSC17_BAND_LABELS = {
    ("total", "negative"): _l("no overall psychosocial concern (below the cut-off)"),
    ("total", "positive"): _l("overall psychosocial concern (at or above the cut-off)"),
    ("internalizing", "negative"): _l("no internalising (anxiety, mood) problems indicated"),
    ("internalizing", "positive"): _l("internalising (anxiety, mood) problems likely"),
    ("attention", "negative"): _l("no attention problems indicated"),
    ("attention", "positive"): _l("attention problems likely"),
    ("externalizing", "negative"): _l("no externalising (conduct) problems indicated"),
    ("externalizing", "positive"): _l("externalising (conduct) problems likely"),
}
INSTRUMENT_BAND_LABELS.update({(instrument_id, band_set, code): label
                               for instrument_id in ("psc-17-p", "psc-17-y")
                               for (band_set, code), label in _PSC17_BAND_LABELS.items()})

#: Who a band set's cut-offs were derived from (instrument.yaml: ``population`` of a band set, age group or
#: outcome). A test fails for a population id of a shipped instrument that has no name here.
POPULATION_LABELS: dict[str, LazyString] = {
    "peds_ed_10_21": _l("patients aged 10 to 21 in paediatric emergency departments (USA)"),
    "adults_primary_care": _l("adults in primary care (USA)"),
    "us_adolescents_13_17": _l("adolescents aged 13 to 17 in primary care (USA)"),
    "nepal_adolescents_12_14": _l("adolescents aged 12 to 14 in Nepal"),
    "nepal_adolescents_15_19": _l("adolescents aged 15 to 19 in Nepal"),
    "adolescents_gad_clinic": _l("a clinical sample of 40 adolescents with an anxiety disorder (USA)"),
    "adults_us_survey": _l("adults in national health surveys (USA); no cut-off established for adolescents"),
    "adults_mixed": _l("adults, in studies reviewed by Topp et al. 2015; no cut-off established for adolescents"),
    "us_high_school_1965": _l("high-school pupils in New York State, 1965 (descriptive only)"),
    "us_parents_primary_care": _l("parents of children aged 4 to 16 in primary care (USA)"),
    "parent_cutoffs_on_youth_form": _l("the parent form's cut-offs, applied to the youth form (no youth cut-offs "
                                       "are established)"),
}

#: Status of an instrument's texts in one language (the closed list of instrument_model.TEXT_STATUSES), for
#: staff; a pupil reads text_status.pupil_note instead.
TEXT_STATUS_LABELS = {
    "official": _l("official text"),
    "adapted_official": _l("adapted from the official translation"),
    "draft_reviewed": _l("draft translation, reviewed, not validated"),
    "draft_machine": _l("draft translation, machine-assisted, not reviewed"),
    "not_available": _l("no text"),
    "local_not_validated": _l("the school's own method, not validated"),
    # Recorded with results taken before the closed list (issue 8): what those texts were.
    "unvalidated_translation": _l("draft translation, not validated"),
    "validated": _l("validated translation"),
}

#: The same, short enough for a phone's list of choices (the full words are on the instrument page).
TEXT_STATUS_SHORT_LABELS = {
    "official": _l("official"),
    "adapted_official": _l("adapted"),
    "draft_reviewed": _l("reviewed draft"),
    "draft_machine": _l("machine draft"),
    "not_available": _l("no text"),
    "local_not_validated": _l("local method"),
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
    if ref == HELP_REQUEST_REF:  # a pupil's request for help has no instrument
        return str(_l("Pupil request for help"))
    instrument = instrument_or_none(ref)
    texts = texts_for(instrument) if instrument is not None else None
    return texts.title if texts is not None else ref


def instrument_version(ref: str) -> str:
    """The version part of a stored reference ("1.0" of "phq-a@1.0"), shown in small print by the title."""
    return ref.rpartition("@")[2]


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


def band_label(instrument_id: str, band_set: str, code: str, *, qualified: bool = False) -> str:
    """The name of band ``code`` of ``band_set`` (or outcome) of an instrument, for people.

    A shipped instrument's own name where there is one, else the generic name of the code (a local
    method); ``qualified`` puts the band set's name before a generic name, which does not say what it
    measures ("Attention: positive").
    """
    label = INSTRUMENT_BAND_LABELS.get((instrument_id, band_set, code))
    if label is not None:
        return str(label)
    generic = BAND_LABELS.get(code)
    name = str(generic) if generic is not None else _humanize(code)
    return f"{scale_label(band_set)}: {name}" if qualified else name


def population_name(population: str) -> str:
    """The name of a population id, for people."""
    label = POPULATION_LABELS.get(population)
    return str(label) if label is not None else _humanize(population)


#: Alert severities in words.
SEVERITY_LABELS = {"acute": _l("Acute"), "urgent": _l("Urgent"), "routine": _l("Routine")}
#: The badge colour of each severity (app/templates/_macros/ui.html badge kinds).
SEVERITY_KINDS = {"acute": "danger", "urgent": "warning", "routine": "info"}


def severity_label(severity: str) -> str:
    """An alert severity in words."""
    label = SEVERITY_LABELS.get(str(severity))
    return str(label) if label is not None else _humanize(str(severity))


def severity_kind(severity: str) -> str:
    """The badge colour of an alert severity."""
    return SEVERITY_KINDS.get(str(severity), "neutral")


def severity_count(severity: str, count: int) -> str:
    """"2 acute alerts", in the interface language (the menu and the home page)."""
    if severity == "acute":
        return ngettext("%(num)d acute alert", "%(num)d acute alerts", count)
    if severity == "urgent":
        return ngettext("%(num)d urgent alert", "%(num)d urgent alerts", count)
    return ngettext("%(num)d routine alert", "%(num)d routine alerts", count)


#: What each alert rule of the shipped instruments found, in words (the rule ids are the instruments' own codes,
#: e.g. ``asq.acute``). A test fails for a rule of a shipped instrument that has no words here; a local method's
#: rules are named by their message, else by their id with the punctuation as spaces.
RULE_LABELS: dict[str, LazyString] = {
    "asq.acute": _l("ASQ: question 5 answered \u201cyes\u201d (acute positive)"),
    "asq.positive_acuity_unknown": _l("ASQ: a \u201cyes\u201d or a refusal on questions 1\u20134, question 5 not "
                                      "answered"),
    "asq.non_acute": _l("ASQ: a \u201cyes\u201d or a refusal to answer on questions 1\u20134 (non-acute positive)"),
    "asq.incomplete": _l("ASQ: not all of questions 1\u20134 answered"),
    "phq-a.self_harm": _l("PHQ-A question 9 (thoughts of self-harm) answered above \u201cnot at all\u201d"),
    "phq-a.self_harm_missing": _l("PHQ-A question 9 (thoughts of self-harm) left unanswered"),
    "phq-a.total_high": _l("PHQ-A total of 15 or more"),
    "gad-7.severe": _l("GAD-7 in the severe range"),
    "k6.serious_distress": _l("K6 total of 13 or more (probable serious distress)"),
    "who-5.low": _l("WHO-5 percentage score of 28 or less"),
    "who-5.poor_wellbeing": _l("WHO-5 raw score below 13 (poor well-being)"),
    "who-5.item_low": _l("A WHO-5 question answered 0 or 1"),
}


#: The "rule" of a pupil's request for help (app.help): not an instrument's rule, so not in RULE_LABELS.
HELP_REQUEST_LABEL = _l("The pupil wrote to the school psychologist")


def rule_label(rule_id: str) -> str:
    """What an alert rule found, in words."""
    label = RULE_LABELS.get(rule_id) if rule_id != HELP_REQUEST_RULE else HELP_REQUEST_LABEL
    return str(label) if label is not None else _humanize(rule_id.replace(".", " "))


#: How a result was collected (ScreeningResult.mode, Campaign.mode).
MODE_LABELS = {"online": _l("online"), "paper": _l("on paper")}


def mode_label(mode: str) -> str:
    """A result's or a campaign's mode in words."""
    label = MODE_LABELS.get(mode)
    return str(label) if label is not None else _humanize(mode)


#: Languages of the texts a pupil answered in, named in the interface language.
LANGUAGE_LABELS = {"kk": _l("Kazakh"), "ru": _l("Russian"), "en": _l("English")}


def language_name(code: str) -> str:
    """A language code of the texts ("kk") as the language's name in the interface language ("Kazakh")."""
    label = LANGUAGE_LABELS.get(code)
    return str(label) if label is not None else LANGUAGE_NAMES.get(code, code)


def population_label(instrument_ref: str, band_set: str, age: int | None) -> str | None:
    """Who the cut-offs of ``band_set`` (or an outcome) that applied at ``age`` were derived from, for people."""
    instrument = instrument_or_none(instrument_ref)
    if instrument is None:
        return None
    band = next((b for b in instrument.bands if b.id == band_set), None)
    outcome = next((o for o in instrument.outcomes if o.id == band_set), None)
    population = band.population_for(age) if band is not None else (outcome.population if outcome else None)
    return population_name(population) if population is not None else None


def text_status_label(status: str) -> str:
    """The name of a text's status, for staff."""
    label = TEXT_STATUS_LABELS.get(status)
    return str(label) if label is not None else _humanize(status)


def text_status_short(status: str) -> str:
    """The short name of a text's status, for a list of choices."""
    label = TEXT_STATUS_SHORT_LABELS.get(status)
    return str(label) if label is not None else text_status_label(status)
