"""The Street Law texts: Markdown files in ``app/streetlaw/content/<slug>/`` (meta.yaml, kk.md, ru.md, en.md).

The format is the one every content folder of Senim uses: ``meta.yaml`` holds what does not depend on the
language (topic, order, whether the text discusses distress, its sources, each translation's status), each
``<lang>.md`` starts with YAML front matter (title, summary) followed by the Markdown body. The files ship with
the code, so a malformed file fails at once (:class:`ContentError`) rather than showing a half page.
"""

from __future__ import annotations

import functools
import hashlib
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

import yaml

from app.core.content_files import ContentError, split_front_matter
from app.core.markdown import clean_source

CONTENT_DIR = Path(__file__).resolve().parent / "content"
LANGUAGES = ("kk", "ru", "en")
TRANSLATION_STATES = frozenset({"written", "reviewed", "machine"})


@dataclass(frozen=True)
class Source:
    #: The citation in English; ``translations`` holds it in Kazakh and Russian (meta.yaml ``kk:`` and ``ru:``).
    text: str
    url: str | None = None
    translations: Mapping[str, str] = field(default_factory=dict)

    def in_language(self, language: str) -> str:
        """The citation in the reader's language: a pupil reading Kazakh gets no English law titles."""
        return self.translations.get(language, self.text)


@dataclass(frozen=True)
class Text:
    """One language of a page."""

    title: str
    summary: str
    #: Markdown, already passed through :func:`app.core.markdown.clean_source`.
    body: str
    #: written | reviewed | machine: what the reader is told about this translation.
    translation: str


@dataclass(frozen=True)
class Page:
    slug: str
    topic: str
    order: int
    #: The text discusses distress or risk: the page shows the help lines after it.
    distress: bool
    sources: tuple[Source, ...]
    texts: dict[str, Text]

    def text(self, language: str) -> Text:
        """The page in ``language`` (every page exists in every language)."""
        return self.texts[language]


def _load_page(folder: Path) -> Page:
    meta = yaml.safe_load((folder / "meta.yaml").read_text("utf-8")) or {}
    if not isinstance(meta, dict):
        raise ContentError(f"{folder.name}/meta.yaml is not a mapping")
    sources = tuple(Source(text=str(s["text"]), url=s.get("url"),
                           translations={lang: str(s[lang]) for lang in LANGUAGES if lang != "en" and s.get(lang)})
                    for s in meta.get("sources") or ())
    if not sources:
        raise ContentError(f"{folder.name}: no sources")
    for source in sources:
        if set(source.translations) != set(LANGUAGES) - {"en"}:
            raise ContentError(f"{folder.name}: a source without its kk and ru citation: {source.text[:40]}")
    states = meta.get("translation") or {}
    texts = {}
    for language in LANGUAGES:
        path = folder / f"{language}.md"
        if not path.is_file():
            raise ContentError(f"{folder.name}: {language}.md missing")
        front, body = split_front_matter(path.read_text("utf-8"), f"{folder.name}/{path.name}")
        state = states.get(language, "written")
        if state not in TRANSLATION_STATES:
            raise ContentError(f"{folder.name}: unknown translation state {state!r}")
        if not front.get("title") or not front.get("summary"):
            raise ContentError(f"{folder.name}/{language}.md: title and summary are required")
        texts[language] = Text(title=str(front["title"]), summary=str(front["summary"]),
                               body=clean_source(body), translation=state)
    return Page(slug=folder.name, topic=str(meta.get("topic") or folder.name), order=int(meta.get("order", 100)),
                distress=bool(meta.get("distress", False)), sources=sources, texts=texts)


@functools.cache
def load_pages(directory: Path = CONTENT_DIR) -> tuple[Page, ...]:
    """Every page of ``directory``, in their ``order``."""
    folders = sorted(p for p in directory.iterdir() if p.is_dir() and (p / "meta.yaml").is_file())
    return tuple(sorted((_load_page(f) for f in folders), key=lambda p: (p.order, p.slug)))


def page(slug: str) -> Page | None:
    """The page called ``slug``, if there is one."""
    return next((p for p in load_pages() if p.slug == slug), None)


@functools.cache
def fingerprint(*extra_files: Path) -> str:
    """A short hash of every content file and of ``extra_files``: names the offline cache, so any change to the
    texts or the assets makes browsers fetch everything again and drop the old copy."""
    digest = hashlib.sha256()
    for path in sorted([*CONTENT_DIR.rglob("*"), *extra_files]):
        if path.is_file():
            digest.update(path.name.encode())
            digest.update(path.read_bytes())
    return digest.hexdigest()[:12]
