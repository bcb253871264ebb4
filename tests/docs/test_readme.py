"""The README's role matrix is the code's role matrix."""

from __future__ import annotations

from pathlib import Path

from app.auth.matrix import BEGIN, END, markdown_table

README = Path(__file__).resolve().parents[2] / "README.md"


def test_readme_role_matrix_matches_the_code():
    text = README.read_text(encoding="utf-8")
    start, end = text.index(BEGIN) + len(BEGIN), text.index(END)
    assert text[start:end].strip() == markdown_table().strip(), (
        "README role matrix is stale: run `python -m app.auth.matrix` and paste it between the markers"
    )


def test_readme_names_the_two_commands():
    text = README.read_text(encoding="utf-8")
    assert "make run" in text and "make test" in text
