"""Every string of the code and templates is translated into Kazakh and Russian, with the same placeholders.

When one of these fails after you added or changed a string: run ``make extract-messages``, translate the
new entries in ``app/translations/kk`` and ``ru`` (English is the source language and stays empty), and
run these tests again.
"""

from __future__ import annotations

import re

import pytest
from babel.support import Translations

from tests.i18n.catalogues import (
    LANGUAGES,
    PLURAL_FORMS,
    TRANSLATED,
    TRANSLATIONS,
    entries,
    forms,
    label,
    makefile_keywords,
)

HINT = "run `make extract-messages` and translate the new entries"
#: A printf-style conversion: %(name)s, %d, %%.
PLACEHOLDER = re.compile(r"%(?:\(\w+\))?[-#0 +]*(?:\d+|\*)?(?:\.\d+)?[a-zA-Z%]")


def placeholders(text: str) -> list[str]:
    return sorted(PLACEHOLDER.findall(text))


def test_extraction_finds_the_application_strings(extracted):
    ids = {label(m) for m in entries(extracted)}
    assert "Sign in" in ids  # a template string
    assert "Home" in ids  # a lazy_gettext string in Python
    assert "Information:" in ids and "Emergency" in ids  # templates/_macros/, which Babel skips by default


def test_makefile_extracts_flask_babels_lazy_helpers():
    keywords = {k.split(":")[0] for k in makefile_keywords()}
    assert {"_l", "lazy_gettext", "lazy_ngettext", "lazy_pgettext"} <= keywords


@pytest.mark.parametrize("language", LANGUAGES)
def test_catalogue_holds_every_extracted_string(language, extracted, catalogs):
    catalog = catalogs[language]
    missing = [label(m) for m in entries(extracted) if catalog.get(m.id, context=m.context) is None]
    assert not missing, f"{language}: {len(missing)} strings not in the catalogue ({HINT}):\n" + "\n".join(missing)


@pytest.mark.parametrize("language", TRANSLATED)
def test_every_string_is_translated(language, extracted, catalogs):
    catalog = catalogs[language]
    untranslated = []
    for source in entries(extracted):
        message = catalog.get(source.id, context=source.context)
        if message is None or message.fuzzy or not all(forms(message)):
            untranslated.append(label(source))
    assert not untranslated, (f"{language}: {len(untranslated)} strings untranslated or fuzzy ({HINT}):\n"
                              + "\n".join(untranslated))


@pytest.mark.parametrize("language", LANGUAGES)
def test_no_fuzzy_entries(language, catalogs):
    catalog = catalogs[language]
    assert not catalog.fuzzy, f"{language}: the header is marked fuzzy, so the catalogue would not compile"
    fuzzy = [label(m) for m in entries(catalog) if m.fuzzy]
    assert not fuzzy, f"{language}: fuzzy entries (check and translate them, then drop the flag):\n" + "\n".join(fuzzy)


@pytest.mark.parametrize("language", LANGUAGES)
def test_plural_forms_header_and_entries(language, catalogs):
    catalog = catalogs[language]
    assert catalog.num_plurals == PLURAL_FORMS[language]
    wrong = [label(m) for m in entries(catalog) if m.pluralizable and len(forms(m)) != catalog.num_plurals]
    assert not wrong, f"{language}: plural entries without {catalog.num_plurals} forms:\n" + "\n".join(wrong)


def test_russian_plural_rule_picks_the_three_forms():
    rule = Translations.load(str(TRANSLATIONS), ["ru"]).plural  # from the compiled header
    assert [rule(n) for n in (1, 2, 5, 11, 21, 22, 25, 111, 0)] == [0, 1, 2, 2, 0, 1, 2, 2, 2]


def test_kazakh_plural_rule_has_two_forms():
    rule = Translations.load(str(TRANSLATIONS), ["kk"]).plural
    assert [rule(n) for n in (1, 2, 5, 21)] == [0, 1, 1, 1]


def test_english_is_the_source_language(catalogs):
    """English msgstrs stay empty (gettext shows the msgid); a filled one is a copy-edit and keeps the placeholders."""
    wrong = []
    for message in entries(catalogs["en"]):
        sources = message.id if message.pluralizable else (message.id,)
        for index, form in enumerate(forms(message)):
            if form and placeholders(form) != placeholders(sources[min(index, len(sources) - 1)]):
                wrong.append(f"{label(message)!r} -> {form!r}")
    assert not wrong, "en: placeholders differ from the msgid:\n" + "\n".join(wrong)


@pytest.mark.parametrize("language", TRANSLATED)
def test_placeholders_match_the_source(language, catalogs):
    wrong = []
    for message in entries(catalogs[language]):
        # Every plural form needs the count: Russian's "one" form also serves 21, 31...
        expected = placeholders(message.id[1] if message.pluralizable else message.id)
        for form in forms(message):
            if form and (placeholders(form) != expected or form.count("%") != "".join(expected).count("%")):
                wrong.append(f"{label(message)!r} -> {form!r}")
    assert not wrong, f"{language}: placeholders differ from the msgid:\n" + "\n".join(wrong)


@pytest.mark.parametrize("language", TRANSLATED)
def test_no_english_left_in_translations(language, catalogs):
    """A msgstr with an English sentence in it was copied, not translated (quoted titles aside)."""
    english_word = re.compile(r"\b(?:the|and|or|to|of|your|you|is|are|not|for|with)\b", re.IGNORECASE)
    quoted_title = re.compile(r"«[^»]*»")  # a cited publication keeps its original title
    left = [f"{label(m)!r} -> {form!r}" for m in entries(catalogs[language]) for form in forms(m)
            if english_word.search(quoted_title.sub(" ", PLACEHOLDER.sub(" ", form)))]
    assert not left, f"{language}: English words in translations:\n" + "\n".join(left)
