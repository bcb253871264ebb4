"""The Street Law texts: every page in kk/ru/en with sources, law facts with their article, spelled right, in the
right alphabet, and safe to show a child (help lines, no raw HTML)."""

from __future__ import annotations

import re

import pytest

from app.streetlaw import content
from tests.i18n.test_scripts import ALPHABET, CYRILLIC, KAZAKH_ONLY, LATIN
from tests.i18n.test_spelling import WORD, hunspell_ready, misspelled

PAGES = content.load_pages()
TOPICS = {"rights", "bullied", "cyberbullied", "hurt-at-home", "pressured-online", "ask-for-help"}
#: An article reference in the reader's language: "art. 19", "ст. 19", "19-бап".
ARTICLE = {"en": re.compile(r"\bart\. \d+"), "ru": re.compile(r"\bст\. \d+"), "kk": re.compile(r"\d+-бап")}


def test_every_topic_is_there_in_three_languages():
    assert {p.topic for p in PAGES} == TOPICS
    for page in PAGES:
        assert set(page.texts) == {"kk", "ru", "en"}
        assert page.sources, page.slug
        for text in page.texts.values():
            assert text.title and text.summary and len(text.body) > 200


def test_law_facts_cite_an_article_in_every_language():
    for page in PAGES:
        if not any("Law" in s.text or "Code" in s.text or "Convention" in s.text for s in page.sources):
            continue
        for language, text in page.texts.items():
            assert ARTICLE[language].search(text.body), (page.slug, language)


def test_sources_point_at_the_official_texts():
    urls = {s.url for p in PAGES for s in p.sources}
    assert "https://adilet.zan.kz/rus/docs/Z020000345_" in urls  # the Law on the rights of the child
    assert any(u and "ohchr.org" in u for u in urls)  # the Convention
    assert all(u is None or u.startswith("https://") for u in urls)


def test_texts_about_distress_end_with_where_to_get_help():
    for page in PAGES:
        if not page.distress:
            continue
        for language, text in page.texts.items():
            ending = text.body[-600:]
            assert "150" in ending and "111" in ending and "112" in ending, (page.slug, language)


def test_no_raw_html_or_images():
    for page in PAGES:
        for text in page.texts.values():
            assert "<" not in text.body and "![" not in text.body, page.slug


def _citations(page: content.Page, language: str) -> str:
    return " ".join(s.in_language(language) for s in page.sources)


def _words(language: str) -> set[str]:
    return {w for p in PAGES for t in [p.text(language)]
            for w in WORD.findall(f"{t.title} {t.summary} {t.body} {_citations(p, language)}")}


@pytest.mark.parametrize("language", ["kk", "ru"])
def test_sources_are_cited_in_the_readers_language(client, language):
    """A pupil reading Kazakh or Russian gets the law titles in that language, not English (found by the walk)."""
    for page in PAGES:
        assert all(s.in_language(language) != s.text for s in page.sources), page.slug
        body = client.get(f"/street-law/{language}/{page.slug}").get_data(as_text=True)
        assert "Republic of Kazakhstan" not in body and "Convention on the Rights" not in body, page.slug
        assert page.sources[0].in_language(language).replace('"', "&#34;") in body.replace("&#39;", "'"), page.slug


@pytest.mark.parametrize("language", ["kk", "ru"])
def test_only_letters_of_the_language(language):
    for page in PAGES:
        text = page.text(language)
        whole = f"{text.title} {text.summary} {text.body} {_citations(page, language)}"
        mixed = [w for w in re.findall(r"[^\W\d_]+", whole) if CYRILLIC.search(w) and LATIN.search(w)]
        foreign = set(CYRILLIC.findall(whole)) - ALPHABET[language]
        assert not mixed and not foreign, (page.slug, mixed, foreign)
        if language == "kk":
            assert set(KAZAKH_ONLY) & set(whole.lower()), page.slug
        else:
            assert "ё" in whole.lower() or len(whole) < 400, page.slug  # Russian uses ё where due


@pytest.mark.skipif(not hunspell_ready(), reason="hunspell with kk_KZ and ru_RU is not installed")
@pytest.mark.parametrize("language", ["kk", "ru"])
def test_spelling(language):
    wrong = misspelled(_words(language), language)
    assert not wrong, f"{language}: fix or add to tests/i18n/spelling_allowlist.txt:\n" + "\n".join(wrong)
