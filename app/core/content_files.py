"""Content files written by the team (guidance articles, Street Law pages): the parts every folder shares.

A content folder holds ``meta.yaml`` and one ``<lang>.md`` per language; each ``<lang>.md`` starts with YAML
front matter (``title``, ``summary`` between ``---`` lines) followed by the Markdown body. The guidance library
imports its folders into the database (app/guidance/importer.py); Street Law reads its own at start-up
(app/streetlaw/content.py).
"""

from __future__ import annotations

from typing import Any

import yaml


class ContentError(ValueError):
    """A content file is missing or malformed (the message names the file and what is wrong)."""


def split_front_matter(text: str, where: str) -> tuple[dict[str, Any], str]:
    """(front matter, Markdown body) of one ``<lang>.md``; ContentError naming ``where`` when it is malformed."""
    lines = text.replace("\r\n", "\n").split("\n")
    if not lines or lines[0].strip() != "---":
        raise ContentError(f"{where}: must start with '---' front matter")
    try:
        end = next(i for i in range(1, len(lines)) if lines[i].strip() == "---")
    except StopIteration:
        raise ContentError(f"{where}: front matter is not closed with '---'") from None
    try:
        meta = yaml.safe_load("\n".join(lines[1:end])) or {}
    except yaml.YAMLError as error:
        raise ContentError(f"{where}: front matter is not YAML ({error})") from None
    if not isinstance(meta, dict):
        raise ContentError(f"{where}: front matter must be a mapping")
    return meta, "\n".join(lines[end + 1:])
