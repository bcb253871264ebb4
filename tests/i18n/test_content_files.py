"""Content files written by the team (guidance articles, Street Law pages) follow docs of the one format.

Every folder ``app/<module>/content/<slug>/`` holds ``meta.yaml`` and ``kk.md``, ``ru.md``, ``en.md``; each
text starts with front matter (title, summary) and is plain Markdown without raw HTML or images. A text that
discusses distress ends with where to get help (the school psychologist, 150, 111, 112), as safe-messaging
practice asks. Kazakh and Russian texts are checked with the same alphabet rules and hunspell dictionaries
(and allow-list) as the interface catalogues.
"""

from __future__ import annotations

import re
from collections import Counter
from pathlib import Path
from typing import Any

import pytest
import yaml

from app.core.markdown import clean_source
from tests.i18n.catalogues import ROOT
from tests.i18n.test_scripts import ALPHABET, CYRILLIC, KAZAKH_ONLY, LATIN, QUOTED, RUSSIAN_ONLY_WORDS
from tests.i18n.test_scripts import WORD as LETTER_WORD
from tests.i18n.test_spelling import WORD as SPELLING_WORD
from tests.i18n.test_spelling import hunspell_ready, misspelled

LANGUAGES = ("kk", "ru", "en")
FILES = {"meta.yaml", *(f"{language}.md" for language in LANGUAGES)}
AUDIENCES = {"parents", "teachers", "pupils"}
#: Topic keys per module; a module not listed (Street Law) uses its own kebab-case keys.
TOPICS = {
    "guidance": {"signs-of-distress", "talking-with-a-teenager", "bullying", "online-safety", "family",
                 "exam-stress", "grief", "school-psychologist"},
}
META_KEYS = {"audience", "topic", "distress", "order", "sources", "translation"}
TRANSLATION_STATES = {"written", "reviewed", "machine"}
KEBAB = re.compile(r"^[a-z0-9]+(?:-[a-z0-9]+)*$")
HTTPS_URL = re.compile(r"^https://\S+$")
HELPLINES = ("150", "111", "112")
PSYCHOLOGIST = {"kk": "психолог", "ru": "психолог", "en": "psychologist"}
#: Safe messaging: distress is never framed as an epidemic.
EPIDEMIC = {"kk": ("эпидеми", "індет"), "ru": ("эпидеми",), "en": ("epidemic",)}
RAW_HTML = re.compile(r"<\s*/?\s*[A-Za-z!?]|&#?\w+;")
IMAGE = re.compile(r"!\[")
LINK_TARGET = re.compile(r"\]\([^)]*\)|https?://\S+")
#: A long Kazakh line (paragraph or list item) without a Kazakh letter is likely Russian pasted in.
LONG_LINE_WORDS = 6


def content_dirs() -> list[Path]:
    """Every ``app/<module>/content/<slug>/`` folder."""
    return sorted(path for path in ROOT.glob("app/*/content/*") if path.is_dir())


def dir_id(path: Path) -> str:
    return f"{path.parent.parent.name}/{path.name}"


def split_front_matter(source: str) -> tuple[dict[str, Any] | None, str]:
    """(front matter mapping or None when missing or broken, Markdown body)."""
    match = re.match(r"^---\n(.*?)\n---\n(.*)$", source, re.DOTALL)
    if not match:
        return None, source
    try:
        front = yaml.safe_load(match.group(1))
    except yaml.YAMLError:
        return None, match.group(2)
    return (front if isinstance(front, dict) else None), match.group(2)


def read_text(directory: Path, language: str) -> tuple[dict[str, Any], str]:
    front, body = split_front_matter((directory / f"{language}.md").read_text(encoding="utf-8"))
    return front or {}, body


def file_problems(directory: Path) -> list[str]:
    names = {path.name for path in directory.iterdir()}
    problems = [f"missing {name}" for name in sorted(FILES - names)]
    problems += [f"unexpected file {name}" for name in sorted(names - FILES)]
    if not KEBAB.match(directory.name):
        problems.append(f"slug {directory.name!r} is not kebab-case")
    return problems


def front_matter_problems(source: str) -> list[str]:
    front, body = split_front_matter(source)
    if front is None:
        return ["no YAML front matter between --- lines at the top"]
    problems = [f"front matter key {key!r} is unknown" for key in sorted(set(front) - {"title", "summary"})]
    problems += [f"front matter has no {key}" for key in ("title", "summary")
                 if not isinstance(front.get(key), str) or not front[key].strip()]
    if not body.strip():
        problems.append("the body is empty")
    return problems


def meta_problems(meta: Any, module: str) -> list[str]:
    if not isinstance(meta, dict):
        return ["meta.yaml is not a mapping"]
    problems = [f"missing key {key}" for key in sorted(META_KEYS - set(meta))]
    problems += [f"unknown key {key}" for key in sorted(set(meta) - META_KEYS)]
    audience = meta.get("audience")
    if not isinstance(audience, list) or not audience or not set(audience) <= AUDIENCES:
        problems.append(f"audience {audience!r} is not a non-empty list of {sorted(AUDIENCES)}")
    topic = meta.get("topic")
    allowed_topics = TOPICS.get(module)
    if not isinstance(topic, str) or not KEBAB.match(topic) or (allowed_topics and topic not in allowed_topics):
        problems.append(f"topic {topic!r} is not one of {sorted(allowed_topics or ['<kebab-case key>'])}")
    if not isinstance(meta.get("distress"), bool):
        problems.append("distress is not true or false")
    if not isinstance(meta.get("order"), int) or isinstance(meta.get("order"), bool):
        problems.append("order is not a whole number")
    sources = meta.get("sources")
    if not isinstance(sources, list) or not sources:
        problems.append("sources is not a non-empty list")
    else:
        # Street Law cites each source in the pupil's language too (kk, ru); guidance sources are one language.
        keys = {"text", "url", "kk", "ru"} if module == "streetlaw" else {"text", "url"}
        for number, source in enumerate(sources, 1):
            if not isinstance(source, dict) or set(source) != keys:
                problems.append(f"source {number} does not have exactly {', '.join(sorted(keys))}")
            elif not isinstance(source["text"], str) or not source["text"].strip():
                problems.append(f"source {number} has no text")
            elif not isinstance(source["url"], str) or not HTTPS_URL.match(source["url"]):
                problems.append(f"source {number} url {source['url']!r} is not an https:// address")
    translation = meta.get("translation")
    if not isinstance(translation, dict) or set(translation) != set(LANGUAGES) \
            or not set(translation.values()) <= TRANSLATION_STATES:
        problems.append(f"translation is not {{kk, ru, en: {' | '.join(sorted(TRANSLATION_STATES))}}}")
    return problems


def last_section(body: str) -> str:
    """The text after the last ``##`` heading (the whole body when there is none)."""
    return re.split(r"^##\s", body, flags=re.MULTILINE)[-1]


def distress_problems(body: str, language: str) -> list[str]:
    """A distress text ends with where to get help and never speaks of an epidemic."""
    ending = last_section(body)
    problems = [f"the last section does not name {number}" for number in HELPLINES
                if not re.search(rf"(?<!\d){number}(?!\d)", ending)]
    if PSYCHOLOGIST[language] not in ending.lower():
        problems.append("the last section does not name the school psychologist")
    problems += [f"epidemic framing: {word!r}" for word in EPIDEMIC[language]
                 if re.search(rf"\b{word}", body, re.IGNORECASE)]
    return problems


def markup_problems(body: str) -> list[str]:
    problems = []
    if RAW_HTML.search(body):
        problems.append(f"raw HTML or an entity: {RAW_HTML.search(body).group(0)!r}")  # type: ignore[union-attr]
    if IMAGE.search(body):
        problems.append("an image")
    if re.search(r"^#(?!#)", body, re.MULTILINE):
        problems.append("a level-1 heading (the page has its own title): use ##")
    if clean_source(body) != body.strip():
        problems.append("the source changes when cleaned for storage")
    return problems


def letter_problems(text: str, language: str) -> list[str]:
    """Cyrillic texts use only their language's letters; Kazakh is not Russian; English has no Cyrillic."""
    text = QUOTED.sub(" ", LINK_TARGET.sub(" ", text))
    if language == "en":
        return [f"Cyrillic letters in English: {word!r}" for word in LETTER_WORD.findall(text)
                if CYRILLIC.search(word)]
    problems = [f"word mixing Latin and Cyrillic letters: {word!r}" for word in LETTER_WORD.findall(text)
                if CYRILLIC.search(word) and LATIN.search(word)]
    problems += [f"lone Latin letter {word!r} (a look-alike of a Cyrillic one)" for word in LETTER_WORD.findall(text)
                 if len(word) == 1 and LATIN.search(word)]
    problems += [f"letter not of the alphabet: {char!r} (U+{ord(char):04X})"
                 for char in sorted(set(CYRILLIC.findall(text)) - ALPHABET[language])]
    if language == "kk":
        kazakh = set(KAZAKH_ONLY + KAZAKH_ONLY.upper())
        for line in text.splitlines():
            words = [word for word in LETTER_WORD.findall(line) if CYRILLIC.search(word)]
            if len(words) >= LONG_LINE_WORDS and not kazakh & set(line):
                problems.append(f"line without a Kazakh letter: {line.strip()!r}")
            problems += [f"Russian word {word!r} in: {line.strip()!r}"
                         for word in sorted(RUSSIAN_ONLY_WORDS & {w.lower() for w in words})]
    return problems


def full_text(directory: Path, language: str) -> str:
    front, body = read_text(directory, language)
    return "\n".join([str(front.get("title", "")), str(front.get("summary", "")), body])


DIRS = content_dirs()
DIR_IDS = [dir_id(path) for path in DIRS]


def test_the_guidance_starter_set_covers_every_topic_and_audience():
    guidance = [path for path in DIRS if path.parent.parent.name == "guidance"]
    assert len(guidance) >= 14, f"only {len(guidance)} guidance articles"
    metas = [yaml.safe_load((path / "meta.yaml").read_text(encoding="utf-8")) for path in guidance]
    assert {meta["topic"] for meta in metas} == TOPICS["guidance"]
    audiences = Counter(audience for meta in metas for audience in meta["audience"])
    assert all(audiences[audience] >= 3 for audience in AUDIENCES), audiences


@pytest.mark.parametrize("directory", [path for path in DIRS if path.parent.parent.name == "guidance"],
                         ids=[dir_id(path) for path in DIRS if path.parent.parent.name == "guidance"])
def test_guidance_articles_are_practical_length(directory):
    """250 to 500 words: long enough to be useful, short enough to be read on a phone."""
    lengths = {language: len(read_text(directory, language)[1].split()) for language in LANGUAGES}
    assert all(250 <= length <= 500 for length in lengths.values()), lengths


def test_order_is_unique_within_a_module():
    orders = Counter((path.parent.parent.name, yaml.safe_load((path / "meta.yaml").read_text("utf-8"))["order"])
                     for path in DIRS)
    assert not [key for key, count in orders.items() if count > 1], orders


@pytest.mark.parametrize("directory", DIRS, ids=DIR_IDS)
def test_files_and_front_matter(directory):
    problems = file_problems(directory)
    for language in LANGUAGES:
        if (directory / f"{language}.md").exists():
            source = (directory / f"{language}.md").read_text(encoding="utf-8")
            problems += [f"{language}.md: {p}" for p in front_matter_problems(source)]
    assert not problems, "\n".join(problems)


@pytest.mark.parametrize("directory", DIRS, ids=DIR_IDS)
def test_meta(directory):
    meta = yaml.safe_load((directory / "meta.yaml").read_text(encoding="utf-8"))
    problems = meta_problems(meta, directory.parent.parent.name)
    assert not problems, "\n".join(problems)


@pytest.mark.parametrize("directory", DIRS, ids=DIR_IDS)
def test_distress_texts_end_with_where_to_get_help(directory):
    meta = yaml.safe_load((directory / "meta.yaml").read_text(encoding="utf-8"))
    if not meta.get("distress"):
        pytest.skip("does not discuss distress")
    problems = [f"{language}.md: {p}" for language in LANGUAGES
                for p in distress_problems(read_text(directory, language)[1], language)]
    assert not problems, "\n".join(problems)


@pytest.mark.parametrize("directory", DIRS, ids=DIR_IDS)
def test_markdown_is_plain(directory):
    problems = [f"{language}.md: {p}" for language in LANGUAGES
                for p in markup_problems(read_text(directory, language)[1])]
    assert not problems, "\n".join(problems)


@pytest.mark.parametrize("directory", DIRS, ids=DIR_IDS)
def test_letters_belong_to_the_language(directory):
    problems = [f"{language}.md: {p}" for language in LANGUAGES
                for p in letter_problems(full_text(directory, language), language)]
    assert not problems, "\n".join(problems)


@pytest.mark.skipif(not hunspell_ready(), reason="hunspell with the kk_KZ and ru_RU dictionaries is not installed "
                                                 "(apt-get install hunspell hunspell-kk hunspell-ru; CI installs them)")
@pytest.mark.parametrize("language", ["kk", "ru"])
def test_content_is_spelled_correctly(language):
    words_in: dict[str, set[str]] = {}
    for directory in DIRS:
        text = LINK_TARGET.sub(" ", full_text(directory, language))
        for word in SPELLING_WORD.findall(text):
            words_in.setdefault(word, set()).add(dir_id(directory))
    wrong = misspelled(set(words_in), language)

    def where(word: str) -> str:  # hunspell splits hyphenated words: БҰҰ-ның -> БҰҰ
        return ", ".join(sorted({d for text_word, dirs in words_in.items() if word in text_word for d in dirs}))

    assert not wrong, (f"{language}: words hunspell does not know. Fix the spelling, or add a word that is right "
                       "to spelling_allowlist.txt:\n" + "\n".join(f"{word} ({where(word)})" for word in wrong))


# The checkers catch what they are for.

def test_front_matter_checker():
    assert front_matter_problems("---\ntitle: A\nsummary: B\n---\nBody\n") == []
    assert front_matter_problems("# A\nBody") == ["no YAML front matter between --- lines at the top"]
    assert front_matter_problems("---\ntitle: A\n---\nBody\n") == ["front matter has no summary"]


def test_meta_checker():
    good = {"audience": ["parents"], "topic": "grief", "distress": True, "order": 1,
            "sources": [{"text": "WHO", "url": "https://www.who.int/"}],
            "translation": {"kk": "written", "ru": "reviewed", "en": "machine"}}
    assert meta_problems(good, "guidance") == []
    assert meta_problems({**good, "topic": "rights"}, "guidance")
    cited = [{"text": "WHO", "url": "https://www.who.int/", "kk": "ДДСҰ", "ru": "ВОЗ"}]
    assert meta_problems({**good, "topic": "rights", "sources": cited}, "streetlaw") == []
    assert meta_problems({**good, "topic": "rights"}, "streetlaw")  # a Street Law source without kk and ru
    assert meta_problems({**good, "audience": ["students"]}, "guidance")
    assert meta_problems({**good, "sources": [{"text": "WHO"}]}, "guidance")
    assert meta_problems({**good, "sources": [{"text": "WHO", "url": "www.who.int"}]}, "guidance")
    assert meta_problems({**good, "translation": {"kk": "written"}}, "guidance")


def test_distress_checker():
    helped = "## Where to get help\nThe school psychologist, 150, 111 or 112."
    assert distress_problems("Text.\n" + helped, "en") == []
    assert distress_problems(helped + "\n## More\nText.", "en")
    assert distress_problems("## Help\nCall 1500 or 111 or 112, or the psychologist.", "en") == [
        "the last section does not name 150"]
    assert distress_problems("An epidemic of sadness.\n" + helped, "en") == ["epidemic framing: 'epidemic'"]
    assert distress_problems("Мектеп міндетті.\n## Help\nМектеп психологы, 150, 111, 112.", "kk") == []


def test_markup_checker():
    assert markup_problems("## Heading\n\n- **bold** [link](https://www.who.int/)") == []
    assert markup_problems("<script>alert(1)</script>")
    assert markup_problems("![x](https://example.org/x.png)") == ["an image"]
    assert markup_problems("# Title") == ["a level-1 heading (the page has its own title): use ##"]


def test_letter_checker():
    assert letter_problems("Мектеп психологы сені тыңдайды және көмектеседі, бұл тегін және құпия.", "kk") == []
    assert letter_problems("Мектеп психологы с\u0435н\u0456 тыңдайды", "kk") == []
    assert letter_problems("Мектеп пcихологы", "kk")  # Latin c
    assert letter_problems("Школьный психолог выслушает тебя и поможет тебе, это бесплатно.", "kk")
    assert letter_problems("Мектеп психологы i тыңдайды", "kk")  # Latin i for Kazakh і
    assert letter_problems("Психолог көмектеседі", "ru")
    assert letter_problems("Ask the психолог", "en")
