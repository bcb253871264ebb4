"""No double full stops in any message (issue 8 item 13): "..", ".»." and the like, in the kk/ru/en catalogues
and in the shipped instruments' texts. An ellipsis ("...", "…") is fine.

A rendered page can still join two full stops (a placeholder whose value ends with one, such as a CLDR "medium"
date "31 мая 2026 г."): tests/screening/test_words_not_codes.py checks the pages too.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import yaml

from tests.i18n.catalogues import LANGUAGES, entries, forms, label

ROOT = Path(__file__).resolve().parents[2]
#: Two full stops in a row (not an ellipsis), or a full stop on both sides of a closing quote or bracket.
DOUBLE_STOP = re.compile(r"(?<!\.)\.\.(?!\.)|\.[»\"”’)]\s*\.")


def double_stops(text: str) -> list[str]:
    """The places in ``text`` with a double full stop, with a little context."""
    return [text[max(0, m.start() - 20):m.end() + 5] for m in DOUBLE_STOP.finditer(text)]


@pytest.mark.parametrize(("text", "found"), [
    ("Сохранено..", True), ("«Да».", False), ("сказал «да.».", True), ("(см. выше.).", True),
    ("Подождите...", False), ("Подождите…", False), ("до 31.05.2026.", False),
])
def test_the_check_finds_double_stops(text, found):
    assert bool(double_stops(text)) is found


@pytest.mark.parametrize("language", LANGUAGES)
def test_no_double_full_stops_in_the_catalogues(language, catalogs):
    bad = [f"{label(m)!r}: {places}" for m in entries(catalogs[language])
           for text in (*forms(m), *(m.id if isinstance(m.id, tuple) else (m.id,)))
           if (places := double_stops(text))]
    assert not bad, "\n".join(bad)


def _strings(value: object) -> list[str]:
    if isinstance(value, str):
        return [value]
    if isinstance(value, dict):
        return [s for v in value.values() for s in _strings(v)]
    if isinstance(value, list):
        return [s for v in value for s in _strings(v)]
    return []


def test_no_double_full_stops_in_the_instruments_texts():
    bad = [f"{path.relative_to(ROOT)}: {places}" for path in sorted((ROOT / "instruments").glob("*/*/texts.*.yaml"))
           for text in _strings(yaml.safe_load(path.read_text("utf-8")))
           if (places := double_stops(text))]
    assert not bad, "\n".join(bad)
