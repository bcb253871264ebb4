"""Catalogue helpers: the kk/ru/en ``.po`` files and a fresh extraction of the code and templates.

The extraction uses the keywords of the Makefile's ``extract-messages`` target and the mapping in
``babel.cfg``, so these tests see exactly what ``make extract-messages`` would write.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

from babel.messages.catalog import Catalog, Message
from babel.messages.extract import DEFAULT_KEYWORDS, extract_from_dir
from babel.messages.frontend import parse_keywords, parse_mapping_cfg
from babel.messages.pofile import read_po

ROOT = Path(__file__).resolve().parents[2]
TRANSLATIONS = ROOT / "app" / "translations"
#: Interface languages that must be translated; English is the source language (empty msgstr = msgid).
TRANSLATED = ("kk", "ru")
LANGUAGES = (*TRANSLATED, "en")
PLURAL_FORMS = {"kk": 2, "ru": 3, "en": 2}


def makefile_keywords() -> list[str]:
    """The ``-k`` arguments of the Makefile's ``BABEL_KEYWORDS``."""
    text = (ROOT / "Makefile").read_text(encoding="utf-8")
    match = re.search(r"^BABEL_KEYWORDS\s*:?=(.*)$", text, re.MULTILINE)
    assert match, "the Makefile defines no BABEL_KEYWORDS for extract-messages"
    return re.findall(r"-k\s+(\S+)", match.group(1))


def _not_hidden(path: str) -> bool:
    """Like the Makefile's ``--ignore-dirs=".*"``: Babel's default would also skip ``_macros/``."""
    return not Path(path).name.startswith(".")


def extract_catalog() -> Catalog:
    """What ``make extract-messages`` would put into messages.pot, built in memory."""
    keywords = dict(DEFAULT_KEYWORDS)
    keywords.update(parse_keywords(makefile_keywords()))
    with (ROOT / "babel.cfg").open(encoding="utf-8") as cfg:
        method_map, options_map = parse_mapping_cfg(cfg)
    catalog = Catalog(project="Senim")
    for filename, lineno, message, comments, context in extract_from_dir(
            str(ROOT), method_map, options_map, keywords=keywords, comment_tags=("TRANSLATORS:",),
            strip_comment_tags=True, directory_filter=_not_hidden):
        catalog.add(message, None, [(filename, lineno)], auto_comments=comments, context=context)
    return catalog


def load_catalog(language: str) -> Catalog:
    """The committed ``.po`` catalogue of ``language``."""
    with (TRANSLATIONS / language / "LC_MESSAGES" / "messages.po").open("rb") as po:
        return read_po(po, locale=language)


def entries(catalog: Catalog) -> Iterator[Message]:
    """Every message except the header."""
    return (message for message in catalog if message.id)


def forms(message: Message) -> tuple[str, ...]:
    """The msgstr forms of ``message`` (one for a singular message)."""
    return tuple(message.string) if isinstance(message.string, (tuple, list)) else (message.string or "",)


def label(message: Message) -> str:
    """The msgid (singular) to name in a failure message."""
    return message.id[0] if isinstance(message.id, (tuple, list)) else message.id
