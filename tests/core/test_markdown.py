"""The one Markdown renderer: stored XSS attempts render inert, ordinary Markdown survives both passes."""

from __future__ import annotations

from html.parser import HTMLParser

import pytest

from app.core import markdown

ATTACKS = [
    "<script>alert(1)</script>",
    '<img src=x onerror="alert(1)">',
    "[click](javascript:alert(1))",
    "[click](JaVaScRiPt:alert(1))",
    "[x](data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==)",
    '<a href="https://example.org" onclick="alert(1)">x</a>',
    "<iframe src=https://example.org></iframe>",
    "<svg><script>alert(1)</script></svg>",
    "&lt;script&gt;alert(1)&lt;/script&gt;",
    "<style>body{display:none}</style>",
    "![x](https://example.org/x.png)",
]


class _Elements(HTMLParser):
    """Every element and attribute a browser would build from the HTML (escaped text is not one)."""

    def __init__(self) -> None:
        super().__init__()
        self.found: list[tuple[str, list[tuple[str, str | None]]]] = []

    def handle_starttag(self, tag, attrs):
        self.found.append((tag, attrs))


def _elements(html: str):
    parser = _Elements()
    parser.feed(html)
    return parser.found


@pytest.mark.parametrize("attack", ATTACKS)
def test_attacks_render_inert_raw_and_after_cleaning(attack):
    for text in (attack, markdown.clean_source(attack)):
        for tag, attrs in _elements(str(markdown.render(text))):
            assert tag in markdown.ALLOWED_TAGS, (attack, tag)
            for name, value in attrs:
                assert not name.startswith("on"), (attack, name)
                if name == "href":
                    assert (value or "").split(":", 1)[0].lower() in markdown.URL_SCHEMES, (attack, value)


def test_clean_source_strips_tags_keeps_markdown():
    source = "# Title\r\n\r\n> a quote & more\n\n<b>bold</b> *ok*\x00\n\n- one\n- two"
    cleaned = markdown.clean_source(source)
    assert "<b>" not in cleaned and "\x00" not in cleaned and "\r" not in cleaned
    assert "> a quote & more" in cleaned
    html = str(markdown.render(cleaned))
    assert "<blockquote>" in html and "a quote &amp; more" in html
    assert "<em>ok</em>" in html and "<li>one</li>" in html
    assert "<h2>Title</h2>" in html  # level 1 demoted: the page has its own h1


def test_links_allowed_schemes_get_rel():
    html = str(markdown.render("[150](tel:150) [site](https://example.org) [mail](mailto:a@example.org)"))
    assert 'href="tel:150"' in html and 'href="https://example.org"' in html and 'href="mailto:a@example.org"' in html
    assert 'rel="noopener noreferrer nofollow"' in html


def test_plain_text_for_snippets():
    assert markdown.plain_text("**Call** [150](tel:150) <b>now</b>") == "Call 150 now"


def test_template_filter(app):
    with app.test_request_context():
        out = app.jinja_env.from_string("{{ text | markdown }}").render(text="*hi* <script>x</script>")
    assert "<em>hi</em>" in out and "<script" not in out


def test_content_files_front_matter_errors_name_the_file():
    from app.core.content_files import ContentError, split_front_matter

    assert split_front_matter("---\ntitle: T\nsummary: S\n---\nBody", "x/en.md") == (
        {"title": "T", "summary": "S"},
        "Body",
    )
    for broken, says in [
        ("title: T\n", "must start"),
        ("---\ntitle: T\n", "not closed"),
        ("---\n- a list\n---\nBody", "mapping"),
        ("---\ntitle: [unclosed\n---\nBody", "not YAML"),
    ]:
        with pytest.raises(ContentError, match=says) as raised:
            split_front_matter(broken, "x/en.md")
        assert "x/en.md" in str(raised.value)
