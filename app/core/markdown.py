"""Markdown for texts people write in Senim: guidance articles, Street Law pages, seminar descriptions.

One renderer for the whole app, sanitised twice as the issue asks:
- on save, ``clean_source`` strips raw HTML and control characters from the Markdown source, so what is
  stored is plain Markdown;
- on render, ``render`` turns Markdown into HTML with raw HTML disabled and passes the result through nh3 with
  a short allow-list (no scripts, styles, images, iframes, event handlers or ``javascript:`` links).

Templates use the ``markdown`` filter: ``{{ article.body | markdown }}``.
"""

from __future__ import annotations

import html
import re

import nh3
from markdown_it import MarkdownIt
from markupsafe import Markup

ALLOWED_TAGS = frozenset(
    {
        "p", "br", "hr", "h2", "h3", "h4", "strong", "em", "blockquote",
        "ul", "ol", "li", "a", "code", "pre",
        "table", "thead", "tbody", "tr", "th", "td",
    }
)  # fmt: skip
ALLOWED_ATTRIBUTES = {"a": {"href", "title"}, "ol": {"start"}, "th": {"align"}, "td": {"align"}}
URL_SCHEMES = frozenset({"https", "http", "mailto", "tel"})

# Control characters other than tab and newline never belong in a text a person typed.
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
# Markdown headings of level 1 become level 2: the page already has its own <h1>.
_H1 = re.compile(r"<(/?)h1>")

_parser = MarkdownIt("commonmark", {"html": False, "linkify": False, "typographer": False}).enable("table")


def clean_source(text: str) -> str:
    """The Markdown source as it may be stored: newlines normalised, no control characters, no raw HTML."""
    text = _CONTROL.sub("", text.replace("\r\n", "\n").replace("\r", "\n"))
    # nh3 removes every tag (and the content of script/style); unescaping gives the plain text back, so
    # "a & b" stays "a & b" and a Markdown "> quote" keeps its marker.
    stripped = html.unescape(nh3.clean(text, tags=set(), attributes={}))
    return stripped.strip()


def render(text: str) -> Markup:
    """Safe HTML for a Markdown text (already cleaned or not: render never trusts its input)."""
    raw = _H1.sub(r"<\1h2>", _parser.render(text or ""))
    safe = nh3.clean(
        raw,
        tags=set(ALLOWED_TAGS),
        attributes={tag: set(attrs) for tag, attrs in ALLOWED_ATTRIBUTES.items()},
        url_schemes=set(URL_SCHEMES),
        link_rel="noopener noreferrer nofollow",
    )
    return Markup(safe)  # noqa: S704 - nh3 output with the allow-list above


def plain_text(text: str) -> str:
    """The words of a Markdown text without markup, for search snippets and summaries."""
    rendered = _parser.render(clean_source(text or ""))
    return " ".join(html.unescape(nh3.clean(rendered, tags=set(), attributes={})).split())
