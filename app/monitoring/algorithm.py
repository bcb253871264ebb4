"""The inter-agency algorithm as data: which steps a case gets, who does them and by when, once its risk is high
or acute.

The steps live in a YAML file (``data/algorithm.yaml``, or the file named by ``MONITORING_ALGORITHM_FILE``), each
with its texts in Kazakh, Russian and English. :func:`load` validates the file and is called when the monitoring
pages are registered, so a broken file stops the application from starting instead of showing half a checklist.
Pure Python: no Flask, no database.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

import yaml

#: The file shipped with the application.
DEFAULT_FILE = Path(__file__).parent / "data" / "algorithm.yaml"
LANGUAGES = ("kk", "ru", "en")
#: Risk levels that start the algorithm (values of app.monitoring.models.RiskLevel).
LEVELS = ("high", "acute")
_KEY = re.compile(r"^[a-z][a-z0-9_]{0,39}$")
#: Longest deadline a step may have (30 days): a step is about the first days after the risk was seen.
MAX_MINUTES = 30 * 24 * 60


class AlgorithmError(ValueError):
    """The algorithm file is not valid (the message says where)."""


@dataclass(frozen=True)
class Step:
    """One step: a stable key, its deadline in minutes from when the risk was set, and its texts."""

    key: str
    due_minutes: int
    confirmed: bool
    who: dict[str, str]
    action: dict[str, str]

    def text(self, field: str, language: str) -> str:
        """The step's ``who`` or ``action`` in ``language`` (English if the language is not one of ours)."""
        texts: dict[str, str] = getattr(self, field)
        return texts.get(language) or texts["en"]


@dataclass(frozen=True)
class Source:
    title: str
    url: str | None


@dataclass(frozen=True)
class Algorithm:
    version: int
    sources: tuple[Source, ...]
    levels: dict[str, tuple[Step, ...]]

    def steps_for(self, level: str) -> tuple[Step, ...]:
        """The steps a case gets when its risk is set to ``level`` (none for low and moderate)."""
        return self.levels.get(level, ())

    def step(self, level: str, key: str) -> Step | None:
        return next((s for s in self.steps_for(level) if s.key == key), None)


def _texts(raw: Any, where: str) -> dict[str, str]:
    if not isinstance(raw, dict) or set(raw) != set(LANGUAGES):
        raise AlgorithmError(f"{where}: needs exactly the languages {', '.join(LANGUAGES)}")
    for language, value in raw.items():
        if not isinstance(value, str) or not value.strip():
            raise AlgorithmError(f"{where}.{language}: empty")
    return {language: value.strip() for language, value in raw.items()}


def _step(raw: Any, where: str) -> Step:
    if not isinstance(raw, dict):
        raise AlgorithmError(f"{where}: not a mapping")
    unknown = set(raw) - {"key", "due_minutes", "confirmed", "who", "action"}
    if unknown:
        raise AlgorithmError(f"{where}: unknown field(s) {sorted(unknown)}")
    key = raw.get("key")
    if not isinstance(key, str) or not _KEY.match(key):
        raise AlgorithmError(f"{where}.key: lower-case letters, digits and _ only")
    minutes = raw.get("due_minutes")
    if not isinstance(minutes, int) or isinstance(minutes, bool) or not 0 <= minutes <= MAX_MINUTES:
        raise AlgorithmError(f"{where}.due_minutes: a whole number from 0 to {MAX_MINUTES}")
    confirmed = raw.get("confirmed")
    if not isinstance(confirmed, bool):
        raise AlgorithmError(f"{where}.confirmed: true or false")
    return Step(key=key, due_minutes=minutes, confirmed=confirmed, who=_texts(raw.get("who"), f"{where}.who"),
                action=_texts(raw.get("action"), f"{where}.action"))


def parse(data: Any) -> Algorithm:
    """Validate the algorithm's data (as read from YAML) and build it; :class:`AlgorithmError` says what is wrong."""
    if not isinstance(data, dict):
        raise AlgorithmError("the file must be a mapping")
    version = data.get("version")
    if not isinstance(version, int) or isinstance(version, bool) or version < 1:
        raise AlgorithmError("version: a whole number from 1")
    sources = data.get("sources")
    if not isinstance(sources, list) or not sources:
        raise AlgorithmError("sources: name at least one source the steps are based on")
    parsed_sources = []
    for n, source in enumerate(sources):
        if not isinstance(source, dict) or not isinstance(source.get("title"), str) or not source["title"].strip():
            raise AlgorithmError(f"sources[{n}].title: missing")
        url = source.get("url")
        if url is not None and (not isinstance(url, str) or not url.startswith("https://")):
            raise AlgorithmError(f"sources[{n}].url: an https:// address")
        parsed_sources.append(Source(title=source["title"].strip(), url=url))
    levels = data.get("levels")
    if not isinstance(levels, dict) or set(levels) - set(LEVELS) or not levels:
        raise AlgorithmError(f"levels: a mapping with the levels {', '.join(LEVELS)} only")
    parsed: dict[str, tuple[Step, ...]] = {}
    for level, steps in levels.items():
        if not isinstance(steps, list) or not steps:
            raise AlgorithmError(f"levels.{level}: a list of steps")
        built = tuple(_step(raw, f"levels.{level}[{n}]") for n, raw in enumerate(steps))
        keys = [s.key for s in built]
        if len(keys) != len(set(keys)):
            raise AlgorithmError(f"levels.{level}: a step key is used twice")
        parsed[level] = built
    return Algorithm(version=version, sources=tuple(parsed_sources), levels=parsed)


@cache
def load(path: str | None = None) -> Algorithm:
    """Read and validate the algorithm file (``path``, or the shipped one); cached per path."""
    file = Path(path) if path else DEFAULT_FILE
    try:
        data = yaml.safe_load(file.read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError) as error:
        raise AlgorithmError(f"{file.name}: cannot be read ({type(error).__name__})") from None
    return parse(data)
