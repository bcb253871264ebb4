"""Kazakh and Russian translations are written in the right alphabet, with no look-alike letters mixed in.

A Latin "a", "e", "o", "p", "c", "x", "y" or "i" inside a Cyrillic word looks right on screen but breaks
search, sorting and screen readers; a Russian text pasted into the Kazakh catalogue lacks the Kazakh
letters ә ғ қ ң ө ұ ү һ і (Kazakh і is U+0456).
"""

from __future__ import annotations

import re

import pytest

from tests.i18n.catalogues import entries, forms, label

PLACEHOLDER = re.compile(r"%(?:\(\w+\))?[-#0 +]*\d*(?:\.\d+)?[a-zA-Z%]")
RUSSIAN = "абвгдеёжзийклмнопрстуфхцчшщъыьэюя"
KAZAKH_ONLY = "әғқңөұүһі"
ALPHABET = {"ru": set(RUSSIAN + RUSSIAN.upper()),
            "kk": set(RUSSIAN + KAZAKH_ONLY + (RUSSIAN + KAZAKH_ONLY).upper())}
CYRILLIC = re.compile(r"[\u0400-\u04FF\u0500-\u052F]")
LATIN = re.compile(r"[A-Za-z\u00C0-\u024F]")
WORD = re.compile(r"[^\W\d_]+")
CYRILLIC_WORD = re.compile(r"[\u0400-\u04FF]{2,}")
#: Russian prepositions and conjunctions that are not Kazakh words ("от", "из" and "не" are).
RUSSIAN_ONLY_WORDS = {"и", "в", "во", "для", "что", "или", "это", "с", "со", "к", "ко", "по", "на", "но"}
#: Titles of cited publications stay in their original language.
QUOTED = re.compile(r"[«“][^»”]*[»”]")


def texts(catalog):
    """(msgid, msgstr form without placeholders) for every translated form."""
    for message in entries(catalog):
        for form in forms(message):
            if form:
                yield label(message), PLACEHOLDER.sub(" ", form)


@pytest.mark.parametrize("language", ["kk", "ru"])
def test_no_latin_letters_inside_cyrillic_words(language, catalogs):
    mixed = [f"{msgid!r}: {word!r}" for msgid, text in texts(catalogs[language]) for word in WORD.findall(text)
             if CYRILLIC.search(word) and LATIN.search(word)]
    assert not mixed, f"{language}: words mixing Latin and Cyrillic letters:\n" + "\n".join(mixed)


@pytest.mark.parametrize("language", ["kk", "ru"])
def test_only_letters_of_the_language(language, catalogs):
    allowed = ALPHABET[language]
    foreign = [f"{msgid!r}: {char!r} (U+{ord(char):04X})" for msgid, text in texts(catalogs[language])
               for char in sorted(set(CYRILLIC.findall(text)) - allowed)]
    assert not foreign, f"{language}: Cyrillic letters that do not belong to the alphabet:\n" + "\n".join(foreign)


def test_kazakh_translations_are_not_russian(catalogs):
    """A long Kazakh text has one of ә ғ қ ң ө ұ ү һ і, and none has a Russian-only little word."""
    kazakh = set(KAZAKH_ONLY + KAZAKH_ONLY.upper())
    suspicious = []
    for msgid, text in texts(catalogs["kk"]):
        words = [w for w in WORD.findall(text) if CYRILLIC.search(w)]
        if (len(words) >= 6 and not kazakh & set(text)) or RUSSIAN_ONLY_WORDS & {w.lower() for w in words}:
            suspicious.append(f"{msgid!r} -> {text.strip()!r}")
    assert not suspicious, "kk: translations that look Russian, not Kazakh:\n" + "\n".join(suspicious)


def test_kazakh_and_russian_differ(catalogs):
    """A long text that is identical in both catalogues was pasted into the wrong one."""
    russian = {label(m): forms(m) for m in entries(catalogs["ru"])}
    same = [label(m) for m in entries(catalogs["kk"])
            if len(CYRILLIC_WORD.findall(forms(m)[0])) >= 3 and forms(m)[0] in russian.get(label(m), ())]
    assert not same, "kk and ru translations are identical:\n" + "\n".join(same)


@pytest.mark.parametrize("language", ["kk", "ru"])
def test_english_texts_are_translated(language, catalogs):
    """A msgstr without a single Cyrillic letter for an English phrase is an untranslated copy."""
    untranslated = [f"{msgid!r} -> {text!r}" for msgid, text in texts(catalogs[language])
                    if re.search(r"\b[a-z]{3,}\b", QUOTED.sub(" ", PLACEHOLDER.sub(" ", msgid)))
                    and not CYRILLIC.search(QUOTED.sub(" ", text))]
    assert not untranslated, f"{language}: translations with no Cyrillic text:\n" + "\n".join(untranslated)
